// Connection: namespace joins, packet dispatch, the reference's closing rules, the connect timeout.
#include "server/socketio/connection.h"

#include <atomic>
#include <exception>
#include <random>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

namespace posestream::server::socketio {

namespace net = boost::asio;

// The connect timeout, shared with its timer's handler so that it outlives the Connection. Its timer
// lives on a strand of its own (this layer cannot see the Engine.IO session's strand), so `settled`
// is the only thing both sides touch.
struct Connection::ConnectDeadline : std::enable_shared_from_this<ConnectDeadline> {
  explicit ConnectDeadline(net::any_io_executor executor)
      : strand(net::make_strand(std::move(executor))), timer(strand) {}

  void start(std::chrono::milliseconds timeout, std::weak_ptr<engineio::Socket> socket) {
    timer.expires_after(timeout);
    timer.async_wait([self = shared_from_this(), socket = std::move(socket)](boost::system::error_code ec) {
      if (ec || self->settled.exchange(true)) return;
      if (const auto session = socket.lock()) session->close("connect timeout");
    });
  }
  // A namespace was joined or the session closed: cancel, so the timer does not hold the executor.
  void settle() {
    if (settled.exchange(true)) return;
    net::post(strand, [self = shared_from_this()] { self->timer.cancel(); });
  }

  net::strand<net::any_io_executor> strand;
  net::steady_timer timer;
  std::atomic<bool> settled{false};
};

std::string new_socket_id() {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  // One generator per thread, seeded once from the OS: no shared state between sessions.
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::string id;
  for (int group = 0; group < 5; ++group) {  // 5 groups of 24 bits = 15 bytes = 20 characters.
    const auto bits = static_cast<std::uint32_t>(generator() & 0xFFFFFF);
    for (int shift = 18; shift >= 0; shift -= 6) id += kAlphabet[(bits >> shift) & 63];
  }
  return id;
}

Connection::Connection(const std::shared_ptr<engineio::Socket>& socket, engineio::Handshake handshake,
                       std::shared_ptr<const Namespaces> namespaces, const Options& options,
                       net::any_io_executor executor)
    : handshake_(std::move(handshake)),
      namespaces_(std::move(namespaces)),
      options_(options),
      wire_(std::make_shared<Wire>(socket, options.max_pending_acks)),
      reconstructor_(options.max_attachment_bytes),
      deadline_(std::make_shared<ConnectDeadline>(std::move(executor))) {
  deadline_->start(options_.connect_timeout, socket);
}

Connection::~Connection() { deadline_->settle(); }

template <typename F>
void Connection::guarded(std::string_view what, F&& call) {
  try {
    call();
  } catch (const std::exception& error) {
    spdlog::error("socket.io session {}: {} handler threw: {}", handshake_.sid, what, error.what());
    fail("server error", error.what());
  }
}

void Connection::on_message(engineio::Message message) {
  if (closing_) return;
  if (message.binary) {
    on_attachment(message.data);
  } else {
    on_text(message.data);
  }
}

void Connection::on_text(std::string_view text) {
  if (reconstructor_.active()) return fail("parse error", "text packet while attachments are awaited");
  auto decoded = decode_packet(text, options_.decode);
  if (auto* error = std::get_if<DecodeError>(&decoded)) return fail("parse error", error->message);
  auto& packet = std::get<Packet>(decoded);
  if (is_binary_type(packet.type)) return reconstructor_.start(std::move(packet));
  dispatch(std::move(packet));
}

void Connection::on_attachment(std::string_view bytes) {
  auto result = reconstructor_.add(bytes);
  if (auto* error = std::get_if<DecodeError>(&result)) return fail("parse error", error->message);
  if (auto* packet = std::get_if<Packet>(&result)) dispatch(std::move(*packet));
}

void Connection::dispatch(Packet packet) {
  const auto joined = joined_.find(packet.nsp);
  if (joined == joined_.end()) {
    if (packet.type == PacketType::connect) return join(packet);
    return fail("invalid state", "packet type " + std::to_string(static_cast<int>(packet.type)) +
                                     " for namespace '" + packet.nsp + "' not joined");
  }
  // The application disconnected this socket (Socket::disconnect) and the close is on its way.
  if (!wire_->is_connected(*joined->second.state)) return;
  switch (packet.type) {
    case PacketType::event:
      return on_event(joined->second, std::move(packet));
    case PacketType::ack:
      return on_ack(joined->second, std::move(packet));
    case PacketType::disconnect:
      return leave(joined);
    default:  // CONNECT to a joined namespace, CONNECT_ERROR from a client (binary types are rebuilt).
      return fail("invalid state", "packet type " + std::to_string(static_cast<int>(packet.type)) +
                                       " for joined namespace '" + packet.nsp + "'");
  }
}

void Connection::join(const Packet& packet) {
  const auto entry = namespaces_->find(packet.nsp);
  if (entry == namespaces_->end()) return refuse(packet.nsp, "Invalid namespace");
  static const Json kNoAuth = Json::object();
  admit(packet.nsp, entry->second, packet.data ? *packet.data : kNoAuth);
}

void Connection::admit(const std::string& nsp, const SocketFactory& factory, const Json& auth) {
  auto state = std::make_shared<SocketState>();
  state->id = new_socket_id();
  state->nsp = nsp;
  state->wire = wire_;
  const Socket socket(state);
  ConnectResult result = Refusal{};
  guarded("connect", [&] { result = factory(ConnectRequest{socket, auth, handshake_}); });
  if (closing_) return;
  if (auto* refusal = std::get_if<Refusal>(&result)) return refuse(nsp, std::move(refusal->message));
  auto& handler = std::get<std::unique_ptr<socketio::SocketHandler>>(result);
  // No handler is a refusal without a reason (python-socketio's words for a rejecting handler).
  if (!handler) return refuse(nsp, "Connection rejected by server");
  if (!wire_->join(state)) return;
  deadline_->settle();
  auto& joined = joined_[nsp] = Joined{std::move(state), std::move(handler)};
  guarded("connect", [&] { joined.handler->on_connect(auth); });
}

void Connection::refuse(const std::string& nsp, std::string message) {
  Packet packet;
  packet.type = PacketType::connect_error;
  packet.nsp = nsp;
  packet.data = Json{{"message", std::move(message)}};
  wire_->send(packet);
}

void Connection::leave(std::map<std::string, Joined, std::less<>>::iterator joined) {
  Joined left = std::move(joined->second);
  joined_.erase(joined);
  wire_->leave(*left.state);
  guarded("disconnect", [&] { left.handler->on_disconnect("client namespace disconnect"); });
}

void Connection::on_event(Joined& joined, Packet packet) {
  // No payload: the reference emits nothing (an empty argument list has no event name).
  if (!packet.data) return;
  Json& data = *packet.data;
  const std::string name = data.front().is_string() ? data.front().get<std::string>() : dump_json(data.front());
  data.erase(data.begin());
  const Ack ack = packet.id ? Ack(joined.state, *packet.id) : Ack();
  guarded("event", [&] { joined.handler->on_event(name, std::move(data), ack); });
}

void Connection::on_ack(Joined& joined, Packet packet) {
  // An ack nobody waits for (unknown or already answered id, or none) is ignored, as the reference.
  if (!packet.id) return;
  auto callback = wire_->take_ack(*joined.state, *packet.id);
  if (!callback) return;
  Json args = packet.data ? std::move(*packet.data) : Json::array();
  guarded("ack", [&] { (*callback)(std::move(args)); });
}

void Connection::on_close(std::string_view reason) {
  closing_ = true;
  deadline_->settle();
  reconstructor_.reset();
  wire_->shut_down();
  auto joined = std::move(joined_);
  joined_.clear();
  for (auto& entry : joined) {
    guarded("disconnect", [&] { entry.second.handler->on_disconnect(reason); });
  }
}

void Connection::fail(std::string reason, std::string_view detail) {
  spdlog::debug("socket.io session {} ({}): closing, {}: {}", handshake_.sid, handshake_.peer, reason, detail);
  closing_ = true;
  reconstructor_.reset();
  wire_->close(std::move(reason));
}

engineio::HandlerFactory make_handler_factory(std::shared_ptr<const Namespaces> namespaces, Options options,
                                              net::any_io_executor executor) {
  return [namespaces = std::move(namespaces), options, executor](
             std::shared_ptr<engineio::Socket> socket,
             const engineio::Handshake& handshake) -> std::unique_ptr<engineio::SocketHandler> {
    return std::make_unique<Connection>(socket, handshake, namespaces, options, executor);
  };
}

}  // namespace posestream::server::socketio
