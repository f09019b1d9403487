// Session streams: the two transports HTTP and WebSocket sessions are templated on (plain TCP, TLS over TCP).
#pragma once

#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>  // WebSocket teardown over TLS: the close ends with an SSL shutdown.

#include <type_traits>

namespace posestream::server {

namespace beast = boost::beast;

// As in Beast's advanced_server_flex: the sessions' code is one template, and these two are its only
// instantiations (explicit, at the end of each session .cpp). The Listener picks one per server: with
// --tls-cert and --tls-key every connection is a TlsStream, otherwise a PlainStream.
using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <typename Stream>
inline constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

}  // namespace posestream::server
