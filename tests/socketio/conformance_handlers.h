// The handlers the official Socket.IO v5 test suite expects of a server (SOCKETIO_FACTS 3, 3.2).
#pragma once

#include <memory>

#include "server/socketio/socketio.h"

namespace posestream::server::socketio::conformance {

// The suite's server (its README): namespace "/" emits "auth" with the CONNECT payload on connect,
// answers "message" by emitting "message-back" with the same arguments (binaries included), and
// "message-with-ack" by acknowledging with its arguments; "/custom" emits "auth" only; every other
// namespace is refused (not in the table).
std::shared_ptr<const Namespaces> make_namespaces();

// The suite's Socket.IO settings: connectTimeout 1000 ms (its Engine.IO ones, ping 300 / 200 ms and
// max payload 1000000, belong to engineio::Options).
Options suite_options();

}  // namespace posestream::server::socketio::conformance
