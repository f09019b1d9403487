// The Socket.IO endpoint: Engine.IO options from the server's, namespace "/" making SocketIoStreams.
#include "server/socketio_endpoint.h"

#include <spdlog/spdlog.h>

#include <map>
#include <stdexcept>
#include <string>

#include "server/server_context.h"
#include "server/socketio/socketio.h"
#include "server/socketio_stream.h"

namespace posestream::server {
namespace {

// The Engine.IO sessions' links, by sid, for namespace "/" to find the one under a joining client (the
// Socket.IO layer hands the factory the handshake, not the Engine.IO socket). Thread-safe.
class LinkRegistry {
 public:
  void add(const std::string& sid, const std::shared_ptr<TransportLink>& link) {
    const std::lock_guard lock(mutex_);
    links_[sid] = link;
  }
  void remove(const std::string& sid) {
    const std::lock_guard lock(mutex_);
    links_.erase(sid);
  }
  std::shared_ptr<TransportLink> find(const std::string& sid) const {
    const std::lock_guard lock(mutex_);
    const auto found = links_.find(sid);
    return found == links_.end() ? nullptr : found->second;
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<TransportLink>, std::less<>> links_;
};

// Wraps the Socket.IO connection of one Engine.IO session: sees its upgrade (which the Socket.IO API
// does not pass up) and keeps its link registered while it lives. Runs on the session's strand.
class LinkedHandler final : public engineio::SocketHandler {
 public:
  LinkedHandler(std::unique_ptr<engineio::SocketHandler> inner, std::shared_ptr<LinkRegistry> registry,
                std::string sid, std::shared_ptr<TransportLink> link)
      : inner_(std::move(inner)), registry_(std::move(registry)), sid_(std::move(sid)), link_(std::move(link)) {}
  ~LinkedHandler() override { registry_->remove(sid_); }

  void on_message(engineio::Message message) override { inner_->on_message(std::move(message)); }
  void on_upgrade() override {
    link_->upgraded();
    inner_->on_upgrade();
  }
  void on_close(std::string_view reason) override {
    registry_->remove(sid_);
    inner_->on_close(reason);
  }

 private:
  std::unique_ptr<engineio::SocketHandler> inner_;
  std::shared_ptr<LinkRegistry> registry_;
  std::string sid_;
  std::shared_ptr<TransportLink> link_;
};

// The largest Engine.IO message: a frame of max_message_bytes as a data URL (base64: 4/3) inside a
// Socket.IO event, plus room for the packet, the JSON around it and the data URL's prefix. A binary
// attachment of that size fits too (the image check applies the decoder's limits to it).
std::size_t max_payload_for(const Limits& limits) { return limits.max_message_bytes / 3 * 4 + 4 + 64 * 1024; }

}  // namespace

void TransportLink::stream_opened() {
  const std::lock_guard lock(mutex_);
  stream_open_ = true;
  metrics_.session_opened(transport());
}

void TransportLink::stream_closed() {
  const std::lock_guard lock(mutex_);
  if (!stream_open_) return;
  stream_open_ = false;
  metrics_.session_closed(transport());
}

void TransportLink::upgraded() {
  const std::lock_guard lock(mutex_);
  metrics_.socketio_upgraded();
  if (websocket_) return;
  websocket_ = true;
  if (stream_open_) metrics_.session_moved(SessionTransport::socketio_polling, SessionTransport::socketio_websocket);
}

std::size_t TransportLink::buffered_bytes() const {
  const auto socket = socket_.lock();
  return socket == nullptr ? 0 : socket->buffered_bytes();
}

void install_socketio_endpoint(ServerContext& context) {
  const SocketIoSettings& settings = context.options.socketio;
  if (!settings.enabled) return;
  if (context.engine_server_for(settings.path) != nullptr) {
    spdlog::info("Socket.IO streams not installed: {} is already served (add_engine_server)", settings.path);
    return;
  }
  if (settings.result_event.empty() || settings.path.size() < 2 || settings.path.front() != '/' ||
      settings.path.back() != '/') {
    throw std::invalid_argument("serve: socketio: result_event must not be empty and path must be /.../, got '" +
                                settings.result_event + "' and '" + settings.path + "'");
  }
  auto registry = std::make_shared<LinkRegistry>();
  auto namespaces = std::make_shared<socketio::Namespaces>();
  (*namespaces)["/"] = [&context, registry](const socketio::ConnectRequest& request) {
    return SocketIoStream::connect(context, request, registry->find(request.handshake.sid));
  };
  engineio::Options engine;
  engine.path = settings.path;
  engine.ping_interval = settings.ping_interval;
  engine.ping_timeout = settings.ping_timeout;
  engine.max_payload = max_payload_for(context.options.limits);
  socketio::Options options;
  options.connect_timeout = settings.connect_timeout;
  options.max_attachment_bytes = engine.max_payload;  // One image per frame.
  engineio::HandlerFactory inner =
      socketio::make_handler_factory(std::move(namespaces), options, context.io.get_executor());
  context.add_engine_server(
      std::move(engine), [&context, registry, inner = std::move(inner)](std::shared_ptr<engineio::Socket> socket,
                                                                        const engineio::Handshake& handshake) {
        auto link = std::make_shared<TransportLink>(socket, handshake.transport == "websocket", context.metrics);
        registry->add(handshake.sid, link);
        return std::make_unique<LinkedHandler>(inner(socket, handshake), registry, handshake.sid, std::move(link));
      });
}

}  // namespace posestream::server
