// `serve`'s flags for the Socket.IO endpoint (server/socketio_options.h) and browser origins.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "server/server.h"

namespace posestream::app {

// In plain units on the command line; apply() converts them into ServerOptions.
struct SocketIoFlags {
  std::string socketio = "on";  // on | off
  std::string result_event = server::SocketIoSettings{}.result_event;
  std::int64_t ping_interval_ms = server::SocketIoSettings{}.ping_interval.count();
  std::int64_t ping_timeout_ms = server::SocketIoSettings{}.ping_timeout.count();
  std::vector<std::string> allowed_origins;  // Each may be a comma-separated list.

  void apply(server::ServerOptions& options) const;
};

// Adds --socketio, --socketio-result-event, --socketio-ping-interval-ms, --socketio-ping-timeout-ms
// and --allowed-origins (group "Socket.IO and origins").
void add_socketio_flags(CLI::App& command, SocketIoFlags& flags);

}  // namespace posestream::app
