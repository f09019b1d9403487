// EngineServer: request checks in the reference's order, the sid registry, polling requests, handshakes.
#include "server/engineio/engine_server.h"

#include <boost/beast/core/string.hpp>
#include <spdlog/spdlog.h>

#include "server/engineio/engine_session.h"
#include "server/engineio/packet.h"

namespace posestream::server::engineio {
namespace {

// 15 random bytes: 20 base64url characters, 120 bits, as the reference's ids.
constexpr std::size_t kSidBytes = 15;

std::optional<std::string_view> origin_of(const Request& request) {
  const auto found = request.find(http::field::origin);
  if (found == request.end()) return std::nullopt;
  return std::string_view(found->value());
}

}  // namespace

std::shared_ptr<EngineServer> EngineServer::create(net::io_context& io, Options options, HandlerFactory factory) {
  return std::make_shared<EngineServer>(Private{}, io, std::move(options), std::move(factory));
}

EngineServer::EngineServer(Private, net::io_context& io, Options options, HandlerFactory factory)
    : io_(io), options_(std::make_shared<const Options>(std::move(options))), factory_(std::move(factory)) {}

bool EngineServer::serves(std::string_view target) const {
  const std::string_view path = target.substr(0, target.find('?'));
  std::string_view base = options_->path;
  if (path.starts_with(base)) return true;
  // "/engine.io" without its slash is the same path to the reference (it normalises).
  if (base.ends_with('/')) base.remove_suffix(1);
  return path == base;
}

EngineServer::Query EngineServer::parse_query(std::string_view target) {
  Query query;
  const std::size_t mark = target.find('?');
  if (mark == std::string_view::npos) return query;
  query.raw = std::string(target.substr(mark + 1));
  std::string_view rest = query.raw;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    const std::size_t equals = pair.find('=');
    const std::string_view name = pair.substr(0, equals);
    const std::string value(equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1));
    // The first occurrence counts.
    if (name == "EIO" && !query.eio) query.eio = value;
    if (name == "transport" && !query.transport) query.transport = value;
    if (name == "sid" && !query.sid) query.sid = value;
  }
  return query;
}

std::optional<ErrorCode> EngineServer::verify(const Query& query, bool get, bool websocket) const {
  if (!query.transport || (*query.transport != "polling" && *query.transport != "websocket")) {
    return ErrorCode::unknown_transport;
  }
  // A WebSocket upgrade for polling, or a polling request for WebSocket without the Upgrade header.
  if ((*query.transport == "websocket") != websocket) return ErrorCode::bad_request;
  if (query.sid) {
    const std::shared_ptr<EngineSession> session = find(*query.sid);
    if (!session) return ErrorCode::unknown_sid;
    if (!websocket && session->on_websocket()) return ErrorCode::bad_request;  // Transport mismatch.
    return std::nullopt;
  }
  if (!get) return ErrorCode::bad_handshake_method;
  if (query.eio != "4") return ErrorCode::unsupported_protocol_version;
  return std::nullopt;
}

EngineServer::PollAbort EngineServer::handle_http(const Request& request, const std::string& peer, Respond respond) {
  const std::optional<std::string_view> origin = origin_of(request);
  ReplyTo to{request.version(), request.keep_alive(), {}};
  if (!origin_allowed(origin, request[http::field::host], options_->allowed_origins)) {
    respond(coded_error(to, ErrorCode::forbidden));
    return {};
  }
  to.cors = cors_headers(origin);
  if (request.method() == http::verb::options) {
    respond(preflight_answer(to, request[http::field::access_control_request_headers]));
    return {};
  }
  const Query query = parse_query(request.target());
  const bool get = request.method() == http::verb::get;
  if (const std::optional<ErrorCode> error = verify(query, get, /*websocket=*/false)) {
    respond(coded_error(to, *error));
    return {};
  }
  if (!query.sid) {
    handshake(query, request, peer, std::move(to), std::move(respond));
    return {};
  }
  const std::shared_ptr<EngineSession> session = find(*query.sid);
  if (!session) {
    respond(coded_error(to, ErrorCode::unknown_sid));
  } else if (get) {
    const std::uint64_t poll_id = next_poll_id_++;
    session->handle_get(poll_id, std::move(to), std::move(respond));
    return [weak = std::weak_ptr<EngineSession>(session), poll_id] {
      if (const auto held = weak.lock()) held->abort_get(poll_id);
    };
  } else if (request.method() == http::verb::post) {
    if (request.body().size() > options_->max_payload) {
      respond(empty_answer(to, http::status::payload_too_large));
      return {};
    }
    const bool octet_stream = boost::beast::iequals(request[http::field::content_type], "application/octet-stream");
    session->handle_post(std::move(to), request.body(), octet_stream, std::move(respond));
  } else {
    respond(empty_answer(to, http::status::internal_server_error));  // The reference's answer.
  }
  return {};
}

void EngineServer::handshake(const Query& query, const Request& request, const std::string& peer, ReplyTo to,
                             Respond respond) {
  const std::shared_ptr<EngineSession> session = create_session();
  if (!session) {
    respond(empty_answer(to, http::status::service_unavailable));
    return;
  }
  const std::optional<std::string_view> origin = origin_of(request);
  Handshake handshake{session->sid(), "polling", query.raw, peer,
                      origin ? std::optional<std::string>(*origin) : std::nullopt};
  session->open_polling(std::move(handshake), factory_, std::move(to), std::move(respond));
}

std::optional<Response> EngineServer::check_upgrade(const Request& request) const {
  const std::optional<std::string_view> origin = origin_of(request);
  ReplyTo to{request.version(), false, {}};
  if (!origin_allowed(origin, request[http::field::host], options_->allowed_origins)) {
    return coded_error(to, ErrorCode::forbidden);
  }
  const Query query = parse_query(request.target());
  if (const std::optional<ErrorCode> error = verify(query, request.method() == http::verb::get, /*websocket=*/true)) {
    return coded_error(to, *error);
  }
  if (!query.sid && session_count() >= options_->max_sessions) {
    return empty_answer(to, http::status::service_unavailable);
  }
  return std::nullopt;
}

void EngineServer::on_websocket_accepted(const std::shared_ptr<WsTransport>& transport, const Query& query,
                                         const Handshake& handshake) {
  if (verify(query, /*get=*/true, /*websocket=*/true)) {  // Checked before the 101; gone since.
    transport->close();
    return;
  }
  if (query.sid) {
    if (const std::shared_ptr<EngineSession> session = find(*query.sid)) {
      session->attach_probe(transport);
    } else {
      transport->close();
    }
    return;
  }
  const std::shared_ptr<EngineSession> session = create_session();
  if (!session) {
    transport->close();
    return;
  }
  Handshake opened = handshake;
  opened.sid = session->sid();
  session->open_websocket(std::move(opened), factory_, transport);
}

std::shared_ptr<EngineSession> EngineServer::find(const std::string& sid) const {
  const std::lock_guard lock(mutex_);
  const auto found = sessions_.find(sid);
  return found == sessions_.end() ? nullptr : found->second;
}

std::shared_ptr<EngineSession> EngineServer::create_session() {
  const std::lock_guard lock(mutex_);
  if (sessions_.size() >= options_->max_sessions) return nullptr;
  std::string sid;
  do {
    sid = random_base64url(kSidBytes);
  } while (sessions_.contains(sid));
  auto session = std::make_shared<EngineSession>(io_, sid, options_, [weak = weak_from_this()](const std::string& gone) {
    if (const auto server = weak.lock()) server->forget(gone);
  });
  sessions_.emplace(std::move(sid), session);
  return session;
}

void EngineServer::forget(const std::string& sid) {
  const std::lock_guard lock(mutex_);
  sessions_.erase(sid);
}

void EngineServer::close_all(const std::string& reason) {
  std::vector<std::shared_ptr<EngineSession>> open;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [sid, session] : sessions_) open.push_back(session);
  }
  for (const auto& session : open) session->close(reason);
}

void EngineServer::clear_sessions() {
  std::map<std::string, std::shared_ptr<EngineSession>, std::less<>> sessions;
  {
    const std::lock_guard lock(mutex_);
    sessions.swap(sessions_);
  }
}

std::size_t EngineServer::session_count() const {
  const std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace posestream::server::engineio
