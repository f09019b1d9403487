// `serve`'s Socket.IO and origin flags: help texts, ranges, and conversion into ServerOptions.
#include "app/socketio_flags.h"

#include <chrono>

namespace posestream::app {

void SocketIoFlags::apply(server::ServerOptions& options) const {
  options.socketio.enabled = socketio == "on";
  options.socketio.result_event = result_event;
  options.socketio.ping_interval = std::chrono::milliseconds{ping_interval_ms};
  options.socketio.ping_timeout = std::chrono::milliseconds{ping_timeout_ms};
  // "a,b" and repeated flags alike; empty pieces (a trailing comma) are ignored.
  options.allowed_origins.clear();
  for (const std::string& value : allowed_origins) {
    std::size_t start = 0;
    while (start <= value.size()) {
      const std::size_t comma = std::min(value.find(',', start), value.size());
      if (comma > start) options.allowed_origins.push_back(value.substr(start, comma - start));
      start = comma + 1;
    }
  }
}

void add_socketio_flags(CLI::App& command, SocketIoFlags& flags) {
  const char* group = "Socket.IO and origins (docs/SOCKETIO.md)";
  command.add_option("--socketio", flags.socketio,
                     "on: Socket.IO v5 clients get posestream streams at /socket.io/ (events frame, config, reset); "
                     "off: not served")
      ->capture_default_str()->check(CLI::IsMember({"on", "off"}))->group(group);
  command.add_option("--socketio-result-event", flags.result_event,
                     "The event results are emitted as, to match an existing frontend's socket.on(...) listener")
      ->capture_default_str()->check([](const std::string& value) {
        return value.empty() || value.size() > 200 ? std::string("must be 1 to 200 characters") : std::string();
      })->group(group);
  command.add_option("--socketio-ping-interval-ms", flags.ping_interval_ms, "Engine.IO heartbeat: a ping this often")
      ->capture_default_str()->check(CLI::Range(std::int64_t{100}, std::int64_t{3'600'000}))->group(group);
  command.add_option("--socketio-ping-timeout-ms", flags.ping_timeout_ms,
                     "A client that has not answered a ping within this is disconnected (ping timeout)")
      ->capture_default_str()->check(CLI::Range(std::int64_t{100}, std::int64_t{3'600'000}))->group(group);
  command.add_option("--allowed-origins", flags.allowed_origins,
                     "Browser origins admitted at /ws and /socket.io/, comma-separated or repeated "
                     "(scheme://host[:port]; * = any; default: the server's own origin only). Requests without "
                     "an Origin header (non-browser clients) are always admitted")
      ->type_name("ORIGINS")->group(group);
}

}  // namespace posestream::app
