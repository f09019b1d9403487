// The Socket.IO side of `posestream load --protocol socketio-*`: what one stream sends and reads when
// it speaks Socket.IO v5 over Engine.IO v4's WebSocket transport instead of /ws's PSF1 frames.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace posestream::app {

// How `load` carries a frame: /ws PSF1 binary messages, or Socket.IO `frame` events with the image as a
// binary attachment (what socket.io-client sends for an ArrayBuffer) or as a JPEG data URL (what the
// original frontend sends: canvas.toDataURL()).
enum class LoadProtocol { ws, socketio_binary, socketio_dataurl };

std::optional<LoadProtocol> parse_load_protocol(std::string_view name);
const char* protocol_name(LoadProtocol protocol);

// The WebSocket path of the Engine.IO transport under `base` (the URL's path: "/" or "/ws" mean the
// default "/socket.io/"), e.g. "/socket.io/?EIO=4&transport=websocket".
std::string socketio_websocket_path(std::string_view base);

struct LoadMessage {
  std::string bytes;
  bool binary = false;
};

// One `frame` event: a text packet, then the image as its attachment (binary) or inside it (data URL).
// `timestamp_us` goes out as `timestamp` in milliseconds, the capture time the server orders by.
std::vector<LoadMessage> socketio_frame(LoadProtocol protocol, std::uint64_t sequence, std::int64_t timestamp_us,
                                        const std::string& image);

// A posestream control message (a /ws JSON text such as {"type":"config",...}) as the Socket.IO event
// of its type, the rest of the object as the event's body.
std::string socketio_control(const std::string& ws_json);

// One text message from the server, read. Exactly one of the fields is set, or none (a packet `load`
// has no use for: the namespace's CONNECT answer, a noop).
struct SocketIoReading {
  std::optional<std::string> reply;        // Send this back: "40" to the Engine.IO open, "3" to a ping.
  std::optional<std::string> answer_json;  // An event's body, the JSON /ws would have sent.
  std::optional<std::string> failure;      // The session is refused or over (CONNECT_ERROR, close, ...).
};
SocketIoReading read_socketio_message(std::string_view text);

}  // namespace posestream::app
