// Public API of the server layer: posestream's HTTP + WebSocket server on one port (Boost.Beast).
#pragma once

#include <cstddef>
#include <cstdint>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"

#include "server/engineio/engineio.h"
#include "server/limits.h"
#include "server/protocol.h"
#include "server/socketio_options.h"
#include "stream/stream.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace posestream::server {

// Routes (docs/PROTOCOL.md has the details):
//   GET  /ws          WebSocket: frames in, answers out, in order, each frame answered exactly once
//   POST /v1/detect   an image body (JPEG or PNG) -> one result JSON, static-image mode
//   GET  /healthz     liveness: {"status":"ok"|"draining",...}, 200 while the process serves
//   GET  /readyz      readiness: 200 while new sessions are admitted; 503 draining or at max_sessions
//   GET  /metrics     Prometheus text format
//   /socket.io/       Socket.IO v5 (polling and WebSocket): the /ws stream as events (ServerOptions::socketio)
// With auth_token_file, /ws and /v1/detect answer 401 without one of its tokens (server/access_tokens.h);
// with metrics_token_file, so does /metrics without one of those.
//   GET  /, /<file>   the web client, from web_dir
// With tls_cert_file and tls_key_file, the port speaks TLS only: the same routes over HTTPS and WSS.
struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see Server::port()).
  std::filesystem::path models_dir = "models";
  // The models' arithmetic (stream::ModelLibrary): int8 runs each model that keeps MediaPipe's accuracy
  // in int8 (pose::set_precision, hands::set_precision), the others float32.
  engine::Precision precision = engine::Precision::kFloat32;
  std::filesystem::path web_dir;  // Empty: default_web_dir().
  // Worker threads, each running one frame at a time; 0: the CPUs this process may use (affinity mask,
  // cgroup CPU quota: stream::read_cpu_budget). The server logs what it chose at start-up.
  std::size_t workers = 0;
  // The one inference pool the workers share (stream::SchedulerOptions::inference_threads): 1 = none,
  // each worker infers on its own thread; 0 = the CPUs this process may use, as for workers.
  // `posestream serve` defaults to 0.
  std::size_t inference_threads = 1;
  // When a lone stream may use that pool (stream::ParallelismOptions): by default only while no other
  // process takes the CPUs it needs.
  stream::ParallelismOptions parallelism;
  std::size_t io_threads = 1;     // Network threads (parsing, encoding, sockets); inference never runs here.
  bool log_frames = false;        // One log line per answered frame.
  Limits limits;
  // Bearer tokens, one per line (AccessTokens::load). Empty path: no token needed. auth_token_file
  // guards /ws and /v1/detect; metrics_token_file guards /metrics (open without it).
  std::filesystem::path auth_token_file;
  std::filesystem::path metrics_token_file;
  // TLS (server/tls_context.h): both set, the port speaks only HTTPS and WSS; both empty, plain HTTP and
  // WebSocket; one alone is a start-up error. PEM files: the certificate chain and its unencrypted key.
  std::filesystem::path tls_cert_file;
  std::filesystem::path tls_key_file;
  // Browser origins admitted on /ws upgrades and on every Engine.IO path's requests (issue 13 item 4;
  // the rules are in server/engineio/origin.h): empty = same origin only (the Origin's host:port is the
  // request's Host), "*" = any, else the listed origins "scheme://host[:port]". A request without an
  // Origin header (non-browser clients) is admitted. Refused: 403 (/ws: an error JSON "forbidden";
  // Engine.IO: {"code":4,"message":"Forbidden"}). Engine.IO polling answers to an admitted Origin carry
  // CORS headers. The integration step adds the `serve` flag (--allowed-origins).
  std::vector<std::string> allowed_origins;
  // Socket.IO v5 streams at /socket.io/, one posestream stream per client (docs/SOCKETIO.md).
  SocketIoSettings socketio;
  // How long a shutdown (stop() or drain()) may take: running frames finishing, answers written,
  // WebSocket close handshakes. Then the connections left are abandoned and run() returns.
  std::chrono::milliseconds drain_timeout{10'000};
  // The settings every stream starts with, as its hello reports them, until its first config changes them
  // (`serve --num-poses`, `--detector-interval-ms`). Checked at start-up as a config would be.
  StreamSettings stream_defaults;
  // The models each worker creates runtimes for before the first frame (nullopt: on first use).
  std::optional<stream::StreamConfig> prewarm = stream::StreamConfig{};
};

// ./web if it exists, else the source tree's web/ (compiled in).
std::filesystem::path default_web_dir();

struct ServerContext;
class Listener;
namespace engineio {
class EngineServer;
}  // namespace engineio

// Thread model (docs/ARCHITECTURE.md "Threads"): io_threads run every socket, parse and encode; each
// connection runs on its own strand. The Scheduler's workers run frames and hand answers back only by
// posting them to the connection's strand.
class Server {
 public:
  // Validates the options and limits, loads the models the prewarm config needs, starts the workers and
  // binds host:port (listening, but not accepting until run()). Throws std::invalid_argument for bad
  // options (among them TLS files that cannot be used, before any model loads), engine::ModelError for
  // missing models, std::system_error when the port cannot be bound.
  explicit Server(ServerOptions options);
  ~Server();  // stop() and waits for run() to return.
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  bool tls() const noexcept { return tls_ != nullptr; }  // https:// and wss:// rather than http:// and ws://.
  const ServerOptions& options() const;
  // Installs an Engine.IO endpoint at options.path (ServerContext::add_engine_server: routed before
  // every other path, origins from ServerOptions::allowed_origins). Call before run().
  std::shared_ptr<engineio::EngineServer> add_engine_server(engineio::Options options, engineio::HandlerFactory factory);

  // Serves until stop() or drain() (with handle_signals: SIGINT stops, SIGTERM drains). Then, within
  // options.drain_timeout: no new WebSocket or /v1/detect is admitted (503; /readyz 503) while plain HTTP
  // is still answered; in-flight frames finish and every answer owed is written; WebSockets close (stop:
  // 1001 "server shutting down"; drain: 1012 "server restarting", so clients reconnect elsewhere); then
  // the port closes, HTTP connections close, and run() returns. Call once.
  void run(bool handle_signals = false);
  // Asks run() to shut down and return. Thread-safe, idempotent, non-blocking; callable before run().
  // Readiness goes 503 before it returns.
  void stop();
  // As stop(), for a restart behind a load balancer: WebSockets close with 1012 instead of 1001.
  void drain();

 private:
  void request_shutdown(bool restart);
  void shut_down();

  // Before context_, so that it outlives the io_context and the TLS streams its handlers hold.
  std::unique_ptr<boost::asio::ssl::context> tls_;
  std::unique_ptr<ServerContext> context_;
  std::shared_ptr<Listener> listener_;
  std::uint16_t port_ = 0;
  std::mutex state_mutex_;
  std::condition_variable state_changed_;
  bool stop_requested_ = false;  // Guarded by state_mutex_, as is running_.
  bool running_ = false;
};

}  // namespace posestream::server
