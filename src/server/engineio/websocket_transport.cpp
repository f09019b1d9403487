// WebSocketTransport: accept, the read loop, one write in flight with a bounded queue, the close.
#include "server/engineio/websocket_transport.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>

namespace posestream::server::engineio {

template <typename Stream>
WebSocketTransport<Stream>::WebSocketTransport(Stream&& stream, std::uint64_t id, const Options& options)
    : ws_(std::move(stream)), id_(id), max_queued_bytes_(options.max_buffered_bytes) {
  // Engine.IO has its own heartbeat: no WebSocket pings and no idle timeout; the handshake and the close
  // handshake get the suggested server timeouts (30 s).
  beast::get_lowest_layer(ws_).expires_never();
  websocket::stream_base::timeout timeout = websocket::stream_base::timeout::suggested(beast::role_type::server);
  timeout.idle_timeout = websocket::stream_base::none();
  timeout.keep_alive_pings = false;
  ws_.set_option(timeout);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& response) { response.set(beast::http::field::server, "posestream"); }));
  ws_.read_message_max(options.max_payload);  // Over it Beast closes with 1009 and the read fails.
}

template <typename Stream>
void WebSocketTransport<Stream>::accept(Request request, std::function<void(bool)> on_accepted) {
  net::dispatch(ws_.get_executor(), [self = this->shared_from_this(), request = std::move(request),
                                     on_accepted = std::move(on_accepted)]() mutable {
    self->request_ = std::move(request);
    self->on_accepted_ = std::move(on_accepted);
    self->ws_.async_accept(self->request_, beast::bind_front_handler(&WebSocketTransport::on_accept, self));
  });
}

template <typename Stream>
void WebSocketTransport<Stream>::on_accept(beast::error_code error) {
  request_ = {};
  // Called once and released: the callback holds this transport.
  std::function<void(bool)> on_accepted = std::exchange(on_accepted_, nullptr);
  if (on_accepted) on_accepted(!error);
}

template <typename Stream>
void WebSocketTransport<Stream>::start(std::weak_ptr<TransportSink> sink) {
  net::dispatch(ws_.get_executor(), [self = this->shared_from_this(), sink = std::move(sink)]() mutable {
    self->sink_ = std::move(sink);
    self->do_read();
  });
}

template <typename Stream>
void WebSocketTransport<Stream>::read_next() {
  net::post(ws_.get_executor(), [self = this->shared_from_this()] {
    if (self->sink_.expired() || self->reported_) return;  // Not started, or the socket is gone.
    self->do_read();
  });
}

template <typename Stream>
void WebSocketTransport<Stream>::do_read() {
  if (reading_) return;
  reading_ = true;
  ws_.async_read(buffer_, beast::bind_front_handler(&WebSocketTransport::on_read, this->shared_from_this()));
}

// No next read here: the session asks for it (read_next) once it has handed this message on and is not
// pausing its reads.
template <typename Stream>
void WebSocketTransport<Stream>::on_read(beast::error_code error, std::size_t) {
  reading_ = false;
  if (error) {
    const bool closed = error == websocket::error::closed || error == net::error::operation_aborted;
    report_closed(closed && !overflowed_ ? "transport close" : "transport error");
    return;
  }
  std::string data = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  std::optional<Packet> packet = ws_.got_binary() ? std::optional<Packet>(binary_message(std::move(data)))
                                                  : decode_packet(data);
  std::shared_ptr<TransportSink> sink = sink_.lock();
  if (!sink) {
    close();  // The session is gone.
    return;
  }
  sink->on_transport_packet(id_, std::move(packet));
}

template <typename Stream>
void WebSocketTransport<Stream>::send(Packet packet) {
  net::post(ws_.get_executor(), [self = this->shared_from_this(), packet = std::move(packet)]() mutable {
    self->enqueue(std::move(packet));
  });
}

// A client that stops reading: its queue grows to max_buffered_bytes, then the socket is closed
// outright (a close frame would wait behind the same unread data) and the read reports the error.
template <typename Stream>
void WebSocketTransport<Stream>::enqueue(Packet packet) {
  if (close_requested_ || overflowed_) return;
  queued_bytes_ += packet.data.size();
  queue_.push_back(std::move(packet));
  if (queued_bytes_ > max_queued_bytes_) {
    overflowed_ = true;
    queue_.clear();
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().close(ignored);
    return;
  }
  do_write();
}

template <typename Stream>
void WebSocketTransport<Stream>::do_write() {
  if (writing_ || closing_) return;
  if (queue_.empty()) {
    if (close_requested_) do_close();
    return;
  }
  Packet packet = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= packet.data.size();
  frame_ = packet.binary ? std::move(packet.data) : encode_packet(packet);
  writing_ = true;
  ws_.binary(packet.binary);
  ws_.async_write(net::buffer(frame_), beast::bind_front_handler(&WebSocketTransport::on_write, this->shared_from_this()));
}

template <typename Stream>
void WebSocketTransport<Stream>::on_write(beast::error_code error, std::size_t) {
  writing_ = false;
  frame_.clear();
  if (error) {
    queue_.clear();
    queued_bytes_ = 0;
    return;  // The read fails too and reports it.
  }
  do_write();
}

template <typename Stream>
void WebSocketTransport<Stream>::close() {
  net::post(ws_.get_executor(), [self = this->shared_from_this()] {
    self->close_requested_ = true;
    self->do_write();
  });
}

template <typename Stream>
void WebSocketTransport<Stream>::do_close() {
  if (closing_ || !ws_.is_open()) return;
  closing_ = true;
  ws_.async_close(websocket::close_code::normal, [self = this->shared_from_this()](beast::error_code) {
    // The read loop sees the close completing and reports it.
  });
}

template <typename Stream>
void WebSocketTransport<Stream>::report_closed(std::string reason) {
  if (std::exchange(reported_, true)) return;
  if (std::shared_ptr<TransportSink> sink = sink_.lock()) sink->on_transport_closed(id_, std::move(reason));
}

template class WebSocketTransport<PlainStream>;
template class WebSocketTransport<TlsStream>;

}  // namespace posestream::server::engineio
