// Origin checks and CORS headers for browser requests: pure functions on header values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace posestream::server::engineio {

// The `allowed_origins` setting (issue 13 item 4; ServerOptions::allowed_origins and Options::
// allowed_origins), checked on Engine.IO polling requests, Engine.IO WebSocket upgrades and /ws
// upgrades:
//   - empty (the default): same origin only: the Origin's host and port equal the request's Host (a port
//     left out is the scheme's default, 80 or 443), as Flask-SocketIO's default;
//   - "*" among the entries: any origin;
//   - otherwise the exact origins listed, "scheme://host[:port]" (case-insensitive, default ports
//     implied, a trailing slash ignored), e.g. "https://app.example.com" or "http://localhost:5173".
// A request without an Origin header (a non-browser client: Node, Python, curl) is always allowed:
// browsers always send one on cross-origin requests and WebSocket upgrades, so the check still holds
// for pages.

// Whether a request with this Origin header (nullopt: none) and Host header may proceed.
bool origin_allowed(std::optional<std::string_view> origin, std::string_view host,
                    const std::vector<std::string>& allowed_origins);

// Empty if every entry is "*" or a well-formed origin, else a message naming the bad entry.
std::optional<std::string> validate_allowed_origins(const std::vector<std::string>& allowed_origins);

// The CORS headers for an allowed request that carried an Origin: Access-Control-Allow-Origin echoing
// it (not "*": the JS client may send credentials), Access-Control-Allow-Credentials: true, Vary: Origin.
// None without an Origin.
using HeaderList = std::vector<std::pair<std::string, std::string>>;
HeaderList cors_headers(std::optional<std::string_view> origin);

}  // namespace posestream::server::engineio
