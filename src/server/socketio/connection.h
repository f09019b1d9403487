// Connection: the server side of one Socket.IO client over one Engine.IO session.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "server/engineio/engineio.h"
#include "server/socketio/binary.h"
#include "server/socketio/socketio.h"
#include "server/socketio/wire.h"

namespace posestream::server::socketio {

// The reference server's rules (socket.io client.ts / socket.ts; SOCKETIO_FACTS 2.2):
// - CONNECT to a namespace in the table: the factory decides; joined, the client gets
//   `40[<nsp>,]{"sid":"<fresh sid>"}`, then the handler's on_connect runs. Refused: CONNECT_ERROR with
//   the refusal's message. Not in the table: `44<nsp>,{"message":"Invalid namespace"}`.
// - DISCONNECT from a joined namespace: the socket leaves, nothing is sent, the session stays open.
// - EVENT / BINARY_EVENT go to the handler; ACK / BINARY_ACK to the callback of a server emit.
// - The session is closed (Engine.IO close) on: a packet that does not decode (parse error), text while
//   attachments are awaited, an attachment when none is, attachments over their byte limit, a
//   non-CONNECT packet for a namespace not joined, a CONNECT for one already joined, a CONNECT_ERROR
//   from the client, and no namespace joined within Options::connect_timeout.
// Messages after the Connection asked for the close are ignored.
class Connection final : public engineio::SocketHandler {
 public:
  // Keeps a weak_ptr to `socket` (the socket owns this handler) and a copy of `handshake`. `namespaces`
  // is shared read-only. The connect timeout starts now, on a strand of `executor`.
  Connection(const std::shared_ptr<engineio::Socket>& socket, engineio::Handshake handshake,
             std::shared_ptr<const Namespaces> namespaces, const Options& options,
             boost::asio::any_io_executor executor);
  ~Connection() override;

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void on_message(engineio::Message message) override;
  void on_close(std::string_view reason) override;

 private:
  struct Joined {
    std::shared_ptr<SocketState> state;
    std::unique_ptr<socketio::SocketHandler> handler;  // Qualified: the base is engineio::SocketHandler.
  };
  struct ConnectDeadline;

  void on_text(std::string_view text);
  void on_attachment(std::string_view bytes);
  void dispatch(Packet packet);
  void join(const Packet& packet);
  void admit(const std::string& nsp, const SocketFactory& factory, const Json& auth);
  void refuse(const std::string& nsp, std::string message);
  void leave(std::map<std::string, Joined, std::less<>>::iterator joined);
  void on_event(Joined& joined, Packet packet);
  void on_ack(Joined& joined, Packet packet);
  // Logs `detail` and closes the session with `reason`; later messages are ignored.
  void fail(std::string reason, std::string_view detail);
  // Runs an application handler; one that throws closes the session ("server error").
  template <typename F>
  void guarded(std::string_view what, F&& call);

  engineio::Handshake handshake_;
  std::shared_ptr<const Namespaces> namespaces_;
  Options options_;
  std::shared_ptr<Wire> wire_;
  Reconstructor reconstructor_;
  std::map<std::string, Joined, std::less<>> joined_;
  std::shared_ptr<ConnectDeadline> deadline_;
  bool closing_ = false;
};

// A fresh Socket.IO sid: 20 characters of base64url from 15 random bytes, like the reference's base64id.
std::string new_socket_id();

}  // namespace posestream::server::socketio
