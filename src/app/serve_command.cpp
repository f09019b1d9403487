// `posestream serve`: the HTTP + WebSocket server, with every limit as a flag (defaults from server/limits.h).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>

#include "app/commands.h"
#include "app/parallelism_flags.h"
#include "app/pipeline_flags.h"
#include "app/precision_flag.h"
#include "app/socketio_flags.h"
#include "server/server.h"

namespace posestream::app {
namespace {

// Flags in plain integer units; converted into server::Limits' types when the command runs.
struct ServeFlags {
  std::string models_dir;
  std::string web_dir;
  server::ServerOptions options;
  std::int64_t gap_timeout_ms = 0;
  std::int64_t idle_timeout_ms = 0;
  std::int64_t handshake_timeout_ms = 0;
  std::int64_t drain_timeout_ms = 0;
  std::string auth_token_file;
  std::string metrics_token_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  ParallelismFlags parallelism;
  SocketIoFlags socketio;
  PeopleFlags people;  // The stream defaults: a stream's config may change them.
};

void add_limit_flags(CLI::App& command, ServeFlags& flags) {
  server::Limits& limits = flags.options.limits;
  flags.gap_timeout_ms = limits.gap_timeout.count();
  flags.idle_timeout_ms = limits.idle_timeout.count();
  flags.handshake_timeout_ms = limits.handshake_timeout.count();
  command.add_option("--max-message-bytes", limits.max_message_bytes,
                     "Largest WebSocket message / HTTP body; over it: answered invalid or error (16x: close 1009) / HTTP 413")
      ->capture_default_str()->group("Limits");
  command.add_option("--max-image-pixels", limits.max_image_pixels, "Largest image (width x height); over it: invalid")
      ->capture_default_str()->group("Limits");
  command.add_option("--max-sessions", limits.max_sessions, "Open WebSocket sessions; over it: HTTP 503")
      ->capture_default_str()->group("Limits");
  command.add_option("--max-detect-requests", limits.max_detect_requests, "Concurrent POST /v1/detect; over it: 503")
      ->capture_default_str()->group("Limits");
  command.add_option("--reorder-capacity", limits.reorder_capacity, "Frames held per stream waiting for a gap")
      ->capture_default_str()->group("Limits");
  command.add_option("--gap-timeout-ms", flags.gap_timeout_ms, "Longest wait for a missing sequence; then lost")
      ->capture_default_str()->group("Limits");
  command.add_option("--idle-timeout-ms", flags.idle_timeout_ms, "Close a WebSocket silent this long (1001)")
      ->capture_default_str()->group("Limits");
  command.add_option("--max-queued-frames", limits.max_queued_frames, "Frames waiting per stream under policy all")
      ->capture_default_str()->group("Limits");
  command.add_option("--max-write-queue-bytes", limits.max_write_queue_bytes,
                     "Answers queued for a slow reader; results give way first, then close 1008")
      ->capture_default_str()->group("Limits");
  command.add_option("--max-messages-per-second", limits.max_messages_per_second,
                     "Messages a WebSocket client may send per second (0: no limit); over it: reads pause (backpressure)")
      ->capture_default_str()->group("Limits");
  command.add_option("--message-burst", limits.message_burst, "Messages a client may send at once beyond that rate")
      ->capture_default_str()->group("Limits");
  command.add_option("--handshake-timeout-ms", flags.handshake_timeout_ms, "Upgrade, close and HTTP request timeout")
      ->capture_default_str()->group("Limits");
  command.add_option("--max-num-poses", limits.max_num_poses,
                     "People a stream may ask for (config num_poses; each is a pose landmark run per frame plus "
                     "its hands); over it: error bad_config")
      ->capture_default_str()->group("Limits")->check(CLI::Range(1, pose::kMaxNumPoses));
}

// Access control and shutdown: docs/PROTOCOL.md "Access" and "Closing". Tokens are read from files
// (never from the command line, where `ps` would show them).
void add_deployment_flags(CLI::App& command, ServeFlags& flags) {
  flags.drain_timeout_ms = flags.options.drain_timeout.count();
  command.add_option("--auth-token-file", flags.auth_token_file,
                     "Bearer tokens, one per line (# comments): /ws and /v1/detect then answer 401 without "
                     "\"Authorization: Bearer TOKEN\" or ?token=TOKEN (default: no token needed)")
      ->type_name("FILE")->group("Deployment");
  command.add_option("--metrics-token-file", flags.metrics_token_file,
                     "Bearer tokens for /metrics, as --auth-token-file (default: /metrics open)")
      ->type_name("FILE")->group("Deployment");
  command.add_option("--drain-timeout-ms", flags.drain_timeout_ms,
                     "Longest shutdown: SIGTERM (WebSockets close 1012, reconnect) or SIGINT (1001); /readyz is "
                     "503 from the signal on; running frames are answered first")
      ->capture_default_str()->group("Deployment")->check(CLI::Range(0, 600'000));
  // Both or neither: server::load_tls_context names the missing one, or the file it cannot use.
  command.add_option("--tls-cert", flags.tls_cert_file,
                     "PEM certificate chain (server certificate first): with --tls-key, the port speaks only HTTPS "
                     "and WSS (TLS 1.2+) (default: plain HTTP and WS)")
      ->type_name("FILE")->group("Deployment");
  command.add_option("--tls-key", flags.tls_key_file, "PEM private key of --tls-cert, unencrypted")
      ->type_name("FILE")->group("Deployment");
}

void serve(ServeFlags& flags) {
  server::ServerOptions& options = flags.options;
  options.limits.gap_timeout = std::chrono::milliseconds{flags.gap_timeout_ms};
  options.limits.idle_timeout = std::chrono::milliseconds{flags.idle_timeout_ms};
  options.limits.handshake_timeout = std::chrono::milliseconds{flags.handshake_timeout_ms};
  options.drain_timeout = std::chrono::milliseconds{flags.drain_timeout_ms};
  options.auth_token_file = flags.auth_token_file;
  options.metrics_token_file = flags.metrics_token_file;
  options.tls_cert_file = flags.tls_cert_file;
  options.tls_key_file = flags.tls_key_file;
  options.stream_defaults.num_poses = flags.people.num_poses;
  options.stream_defaults.detector_interval_ms = flags.people.detector_interval_ms;
  flags.parallelism.apply(options.parallelism);
  flags.socketio.apply(options);
  options.models_dir = resolve_models_dir(flags.models_dir);
  if (!flags.web_dir.empty()) options.web_dir = flags.web_dir;
  server::Server server(options);
  const std::string address = options.host + ":" + std::to_string(server.port());
  const std::string url = (server.tls() ? "https://" : "http://") + address + "/";
  spdlog::info("serving {} (WebSocket {}{}/ws), web client from {}", url, server.tls() ? "wss://" : "ws://", address,
               (options.web_dir.empty() ? server::default_web_dir() : options.web_dir).string());
  if (options.socketio.enabled) {
    spdlog::info("Socket.IO at {}{} (result event '{}')", url.substr(0, url.size() - 1), options.socketio.path,
                 options.socketio.result_event);
  }
  if (!options.auth_token_file.empty()) {
    spdlog::info("access: /ws and /v1/detect need a token from {}", options.auth_token_file.string());
  }
  if (!options.metrics_token_file.empty()) {
    spdlog::info("access: /metrics needs a token from {}", options.metrics_token_file.string());
  }
  if (server.tls()) {
    spdlog::info("TLS: certificate {}, key {}; plain HTTP is not served on this port", options.tls_cert_file.string(),
                 options.tls_key_file.string());
  }
  std::printf("posestream: open %s\n", url.c_str());
  std::fflush(stdout);
  server.run(/*handle_signals=*/true);
  spdlog::info("stopped");
}

}  // namespace

void add_serve(CLI::App& app) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App& command = *app.add_subcommand("serve", "Serve pose and hand tracking over HTTP and WebSocket");
  server::ServerOptions& options = flags->options;
  command.add_option("--host", options.host, "Address to listen on")->capture_default_str();
  command.add_option("--port", options.port, "Port (0: any free port)")->capture_default_str();
  add_models_flag(command, flags->models_dir);
  add_precision_flag(command, options.precision);
  command.add_option("--web", flags->web_dir, "Directory of the web client (else ./web, else the source tree's)")
      ->type_name("DIR");
  command.add_option("--workers", options.workers,
                     "Worker threads, each running one frame at a time (0: the CPUs this process may use "
                     "(affinity, cgroup quota))")
      ->capture_default_str();
  options.inference_threads = 0;
  command.add_option("--inference-threads", options.inference_threads,
                     "Threads a worker may use while it is the only one busy (0: the CPUs this process may use "
                     "(affinity, cgroup quota); 1: none): a lone stream's tracking frames run the pose beside the "
                     "tracked hands (two threads), its other model work runs each operator on a pool of this many")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  command.add_option("--io-threads", options.io_threads, "Network threads")->capture_default_str()->check(CLI::Range(1, 64));
  command.add_flag("--log-frames", options.log_frames, "Log one line per answered frame");
  // The stream defaults; checked against --max-num-poses at start-up (server::check_settings).
  add_people_flags(command, flags->people, /*interval=*/true);
  command.get_option("--num-poses")->description(
      "People per frame for streams that do not send num_poses in their config (1: the single-person output); "
      "at most --max-num-poses");
  add_limit_flags(command, *flags);
  add_deployment_flags(command, *flags);
  add_parallelism_flags(command, flags->parallelism);
  add_socketio_flags(command, flags->socketio);
  command.callback([flags] { serve(*flags); });
}

}  // namespace posestream::app
