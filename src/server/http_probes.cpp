// HttpSession probes: /healthz (liveness) and /readyz (readiness), for orchestrators and load balancers.
#include <nlohmann/json.hpp>

#include "server/http_session.h"

namespace posestream::server {
namespace {

constexpr std::string_view kJson = "application/json";

}  // namespace

// Liveness: 200 whenever the process answers, also while it drains (restarting a draining process
// would cut its drain short). The status says which.
template <typename Stream>
void HttpSession<Stream>::send_health(unsigned version, bool keep_alive) {
  const nlohmann::json health = {
      {"status", context_.draining ? "draining" : "ok"},
      {"sessions", context_.websocket_sessions.load()},
      {"max_sessions", context_.options.limits.max_sessions},
      {"workers", context_.scheduler->worker_count()},
      {"uptime_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - context_.started_at).count()}};
  send_text(version, keep_alive, http::status::ok, kJson, health.dump(), "healthz");
}

// Readiness: 200 while a new WebSocket session would be admitted. The models are loaded before the port
// is served (Server's constructor), so serving implies loaded. 503 "draining" from the moment a shutdown
// is asked for; 503 "full" at max_sessions (a load balancer then sends new clients elsewhere).
template <typename Stream>
void HttpSession<Stream>::send_readiness(unsigned version, bool keep_alive) {
  const std::size_t sessions = context_.websocket_sessions.load();
  const std::size_t max_sessions = context_.options.limits.max_sessions;
  const char* status = context_.draining ? "draining" : sessions >= max_sessions ? "full" : "ready";
  const nlohmann::json readiness = {{"status", status}, {"sessions", sessions}, {"max_sessions", max_sessions}};
  send_text(version, keep_alive, std::string_view(status) == "ready" ? http::status::ok : http::status::service_unavailable,
            kJson, readiness.dump(), "readyz");
}

// The members defined here, for both transports (the class itself is instantiated in http_session.cpp).
template void HttpSession<PlainStream>::send_health(unsigned, bool);
template void HttpSession<TlsStream>::send_health(unsigned, bool);
template void HttpSession<PlainStream>::send_readiness(unsigned, bool);
template void HttpSession<TlsStream>::send_readiness(unsigned, bool);

}  // namespace posestream::server
