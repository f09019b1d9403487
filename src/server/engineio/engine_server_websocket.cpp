// EngineServer::accept_websocket for both stream types: the 101, then a new session or an upgrade probe.
#include <boost/beast/core/string.hpp>

#include "server/engineio/engine_server.h"
#include "server/engineio/engine_session.h"
#include "server/engineio/websocket_transport.h"

namespace posestream::server::engineio {

template <typename Stream>
void EngineServer::accept_websocket(Stream&& stream, Request request, std::string peer) {
  const auto found = request.find(http::field::origin);
  Query query = parse_query(request.target());
  Handshake handshake{{}, "websocket", query.raw, std::move(peer),
                      found == request.end() ? std::nullopt : std::optional<std::string>(found->value())};
  auto transport = std::make_shared<WebSocketTransport<Stream>>(std::move(stream), next_transport_id_++, *options_);
  open_websockets_->fetch_add(1);
  transport->keep_until_gone(std::shared_ptr<void>(nullptr, [count = open_websockets_](void*) { count->fetch_sub(1); }));
  // The callback is kept by the transport until the accept completes: a weak_ptr, not a cycle.
  std::weak_ptr<WsTransport> weak = transport;
  transport->accept(std::move(request), [self = shared_from_this(), weak, query = std::move(query),
                                         handshake = std::move(handshake)](bool accepted) {
    const std::shared_ptr<WsTransport> accepted_transport = weak.lock();
    if (accepted && accepted_transport) self->on_websocket_accepted(accepted_transport, query, handshake);
  });
}

template void EngineServer::accept_websocket<PlainStream>(PlainStream&&, Request, std::string);
template void EngineServer::accept_websocket<TlsStream>(TlsStream&&, Request, std::string);

}  // namespace posestream::server::engineio
