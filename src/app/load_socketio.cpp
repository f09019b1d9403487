// Socket.IO v5 over Engine.IO v4's WebSocket transport for `posestream load`: frames out, answers in.
#include "app/load_socketio.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

namespace posestream::app {
namespace {

using nlohmann::json;

// The image as a JPEG/PNG data URL, base64 by OpenSSL (already linked for wss://).
std::string data_url(const std::string& image) {
  const bool png = image.size() >= 4 && image.compare(0, 4, "\x89PNG") == 0;
  std::string url = png ? "data:image/png;base64," : "data:image/jpeg;base64,";
  const std::size_t prefix = url.size();
  url.resize(prefix + 4 * ((image.size() + 2) / 3) + 1);
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(url.data() + prefix),
                                      reinterpret_cast<const unsigned char*>(image.data()), static_cast<int>(image.size()));
  url.resize(prefix + static_cast<std::size_t>(written));
  return url;
}

// An EVENT packet's array ["name", body] -> the body as /ws would have sent it.
std::optional<std::string> event_body(std::string_view packet) {
  const json event = json::parse(packet, nullptr, false);
  if (!event.is_array() || event.size() < 2 || !event[0].is_string()) return std::nullopt;
  json body = event[1];
  if (body.is_object() && !body.contains("type")) body["type"] = event[0];
  return body.dump();
}

}  // namespace

std::optional<LoadProtocol> parse_load_protocol(std::string_view name) {
  for (LoadProtocol protocol : {LoadProtocol::ws, LoadProtocol::socketio_binary, LoadProtocol::socketio_dataurl}) {
    if (name == protocol_name(protocol)) return protocol;
  }
  return std::nullopt;
}

const char* protocol_name(LoadProtocol protocol) {
  switch (protocol) {
    case LoadProtocol::ws: return "ws";
    case LoadProtocol::socketio_binary: return "socketio-binary";
    case LoadProtocol::socketio_dataurl: return "socketio-dataurl";
  }
  return "?";
}

std::string socketio_websocket_path(std::string_view base) {
  std::string path = (base.empty() || base == "/" || base == "/ws") ? "/socket.io/" : std::string(base);
  if (path.back() != '/') path += '/';
  return path + "?EIO=4&transport=websocket";
}

std::vector<LoadMessage> socketio_frame(LoadProtocol protocol, std::uint64_t sequence, std::int64_t timestamp_us,
                                        const std::string& image) {
  json frame = {{"sequence", sequence}, {"timestamp", static_cast<double>(timestamp_us) / 1000.0}};
  if (protocol == LoadProtocol::socketio_dataurl) {
    frame["image"] = data_url(image);
    return {{"42" + json::array({"frame", frame}).dump(), false}};
  }
  // Engine.IO v4 sends an attachment as its own binary WebSocket message, after the packet naming it.
  frame["image"] = {{"_placeholder", true}, {"num", 0}};
  return {{"451-" + json::array({"frame", frame}).dump(), false}, {image, true}};
}

std::string socketio_control(const std::string& ws_json) {
  json body = json::parse(ws_json);
  const std::string type = body.value("type", "");
  body.erase("type");
  return "42" + json::array({type, body}).dump();
}

// Engine.IO packet types: 0 open, 1 close, 2 ping, 3 pong, 4 message, 6 noop; inside a message,
// Socket.IO's: 0 CONNECT, 1 DISCONNECT, 2 EVENT, 4 CONNECT_ERROR.
SocketIoReading read_socketio_message(std::string_view text) {
  SocketIoReading reading;
  if (text.empty()) return reading;
  switch (text[0]) {
    case '0': reading.reply = "40"; break;  // Join namespace "/".
    case '2': reading.reply = "3"; break;
    case '1': reading.failure = "engine.io close"; break;
    case '4': {
      const std::string_view packet = text.substr(1);
      if (packet.starts_with('2')) {
        if (!(reading.answer_json = event_body(packet.substr(1)))) reading.failure = "bad event: " + std::string(packet);
      } else if (packet.starts_with('4')) {
        reading.failure = "connect_error " + std::string(packet.substr(1));
      } else if (packet.starts_with('1')) {
        reading.failure = "server disconnect";
      }
      break;
    }
    default: break;
  }
  return reading;
}

}  // namespace posestream::app
