// Server: start-up (limits, models, port), the network threads, and the graceful shutdown sequence.
#include "server/server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <opencv2/core.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>
#include <stdexcept>
#include <string>
#include <thread>

#include "server/engineio/origin.h"
#include "server/listener.h"
#include "server/server_context.h"
#include "server/socketio_endpoint.h"
#include "server/tls_context.h"

namespace posestream::server {
namespace {

constexpr std::size_t kMaxIoThreads = 64;
// Longest drain_timeout: beyond ten minutes an orchestrator has long since killed the process.
constexpr std::chrono::milliseconds kMaxDrainTimeout{600'000};
// After the WebSockets are gone (or drain_timeout), how long plain HTTP connections get to finish the
// answer they are writing before they are abandoned.
constexpr std::chrono::seconds kHttpCloseGrace{1};

// A Socket.IO stream is done once its DISCONNECT is queued; its Engine.IO session still has to write it,
// and the answers queued before it, and close (on polling, at the client's next GET). The io_context must
// run until then, or the client never hears them. Sessions that joined no stream are not waited for
// beyond `grace`.
void wait_for_engine_sessions(const ServerContext& context, std::chrono::steady_clock::time_point until) {
  const auto open_sessions = [&context] {
    std::size_t open = 0;
    for (const auto& engine : context.engine_servers) open += engine->session_count() + engine->open_websocket_count();
    return open;
  };
  while (open_sessions() > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

ServerOptions validated(ServerOptions options) {
  if (auto error = validate(options.limits)) throw std::invalid_argument("serve: " + *error);
  if (auto error = engineio::validate_allowed_origins(options.allowed_origins)) {
    throw std::invalid_argument("serve: " + *error);
  }
  if (auto error = check_settings(options.stream_defaults, options.limits)) throw std::invalid_argument("serve: " + *error);
  if (auto error = stream::validate(options.stream_defaults.stream_config())) {
    throw std::invalid_argument("serve: " + *error);
  }
  if (options.io_threads < 1 || options.io_threads > kMaxIoThreads) {
    throw std::invalid_argument("serve: io_threads " + std::to_string(options.io_threads) + " is outside [1, 64]");
  }
  if (options.drain_timeout.count() < 0 || options.drain_timeout > kMaxDrainTimeout) {
    throw std::invalid_argument("serve: drain_timeout_ms " + std::to_string(options.drain_timeout.count()) +
                                " is outside [0, 600000]");
  }
  return options;
}

net::ip::tcp::endpoint endpoint_of(const std::string& host, std::uint16_t port) {
  boost::system::error_code error;
  const net::ip::address address = net::ip::make_address(host, error);
  if (error) throw std::invalid_argument("serve: host '" + host + "' is not an IP address (" + error.message() + ")");
  return {address, port};
}

// A handler that throws (allocation failure; nothing else is expected to) is logged and the thread goes
// on serving the other connections, rather than taking the process down.
void run_network_thread(net::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& error) {
      spdlog::error("network thread: unexpected exception: {}", error.what());
    }
  }
}

std::string count_of(std::size_t count, const char* noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

// One start-up line: the CPUs this process may use and why, and the thread counts chosen from them
// ("(set)": given as an option, not chosen).
void log_thread_counts(const ServerContext& context) {
  const stream::Scheduler& scheduler = *context.scheduler;
  const std::size_t pool = scheduler.inference_threads();
  const std::string workers =
      count_of(scheduler.worker_count(), "worker") + (context.options.workers == 0 ? "" : " (set)");
  const std::string inference = (pool > 1 ? "inference pool of " + std::to_string(pool) : "no inference pool") +
                                (context.options.inference_threads == 0 ? "" : " (set)");
  spdlog::info("CPUs: {} -> {}, {}", scheduler.cpu_budget().describe(), workers, inference);
  if (pool > 1) {
    const stream::ParallelismOptions& rule = context.options.parallelism;
    spdlog::info("parallel path (a lone stream's pool and helper): {}{}", stream::to_string(rule.mode),
                 rule.mode == stream::ParallelismOptions::Mode::always
                     ? ""
                     : fmt::format(", off while other processes use over {:.2f} CPU of the ones it needs or a "
                                   "frame waits over {:.0f}% of its time for CPU; back {} ms after the last",
                                   rule.cpu_slack, rule.max_cpu_wait_share * 100, rule.hold.count()));
  }
}

}  // namespace

std::filesystem::path default_web_dir() {
  if (std::filesystem::is_regular_file("web/index.html")) return std::filesystem::absolute("web");
  return POSESTREAM_SOURCE_WEB_DIR;
}

Server::Server(ServerOptions options) {
  // OpenCV's own thread pool (used inside decoding and warps) would compete with the inference workers
  // for the same cores; parallelism comes from the workers.
  cv::setNumThreads(1);
  const net::ip::tcp::endpoint endpoint = endpoint_of(options.host, options.port);
  tls_ = load_tls_context(options.tls_cert_file, options.tls_key_file);  // Before the models: fails fast.
  context_ = std::make_unique<ServerContext>(validated(std::move(options)));
  log_thread_counts(*context_);
  listener_ = std::make_shared<Listener>(*context_, endpoint, tls_.get());
  port_ = listener_->port();
}

Server::~Server() {
  stop();
  std::unique_lock lock(state_mutex_);
  state_changed_.wait(lock, [this] { return !running_; });
}

const ServerOptions& Server::options() const { return context_->options; }

std::shared_ptr<engineio::EngineServer> Server::add_engine_server(engineio::Options options,
                                                                  engineio::HandlerFactory factory) {
  return context_->add_engine_server(std::move(options), std::move(factory));
}

void Server::stop() { request_shutdown(/*restart=*/false); }

void Server::drain() { request_shutdown(/*restart=*/true); }

// Readiness and admission change here, on the caller's thread, before the main thread wakes: a probe
// that follows the signal already sees 503. The first request decides the close code.
void Server::request_shutdown(bool restart) {
  {
    const std::lock_guard lock(state_mutex_);
    if (!stop_requested_) context_->restarting = restart;
    stop_requested_ = true;
  }
  context_->draining = true;
  state_changed_.notify_all();
}

void Server::run(bool handle_signals) {
  {
    const std::lock_guard lock(state_mutex_);
    running_ = true;
  }
  auto work = net::make_work_guard(context_->io);
  std::optional<net::signal_set> signals;
  if (handle_signals) {
    signals.emplace(context_->io, SIGINT, SIGTERM);
    // SIGINT (Ctrl-C at a terminal): the server is going away, 1001. SIGTERM (an orchestrator replacing
    // the process): a restart, 1012, so that clients reconnect through the load balancer.
    signals->async_wait([this](boost::system::error_code error, int signal) {
      if (error) return;
      const bool restart = signal == SIGTERM;
      spdlog::info("signal {}: {}", signal, restart ? "draining for a restart" : "shutting down");
      request_shutdown(restart);
    });
  }
  install_socketio_endpoint(*context_);  // Here, so that add_engine_server's endpoints come first.
  listener_->run();
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < context_->options.io_threads; ++i) {
    threads.emplace_back([this] { run_network_thread(context_->io); });
  }
  {
    std::unique_lock lock(state_mutex_);
    state_changed_.wait(lock, [this] { return stop_requested_; });
  }
  shut_down();
  work.reset();
  context_->io.stop();
  for (std::thread& thread : threads) thread.join();
  listener_->close_after_io_stopped();  // The port is closed when run() returns.
  {
    const std::lock_guard lock(state_mutex_);
    running_ = false;
  }
  state_changed_.notify_all();
}

// In order, within drain_timeout (context_->draining is already set: nothing new is admitted, /readyz
// is 503): running frames finish and every answer owed is posted to its connection's strand
// (Scheduler::stop); each connection is asked to close, which it does after those answers (posted earlier
// to the same strand) are written; meanwhile the port stays open, so that probes and plain HTTP are
// answered. Once the WebSockets are gone: the port closes, and the HTTP connections opened meanwhile
// close too.
void Server::shut_down() {
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + context_->options.drain_timeout;
  context_->scheduler->stop();
  // WebSockets only: HTTP connections (a probe just accepted, a keep-alive one) go on being answered.
  for (const auto& connection : context_->connections.snapshot()) {
    if (connection->is_stream()) connection->shut_down();
  }
  const bool streams_closed = context_->connections.wait_until_no_streams(deadline);
  wait_for_engine_sessions(*context_, std::min(deadline, std::chrono::steady_clock::now() + kHttpCloseGrace));
  context_->shutting_down = true;
  listener_->stop();
  for (const auto& connection : context_->connections.snapshot()) connection->shut_down();
  if (!streams_closed || !context_->connections.wait_until_empty(std::chrono::steady_clock::now() + kHttpCloseGrace)) {
    spdlog::warn("shutdown: {} connections still open after drain_timeout_ms {}; abandoning them",
                 context_->connections.size(), context_->options.drain_timeout.count());
  } else {
    spdlog::info("shutdown: connections closed in {:.2f} s",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  }
}

}  // namespace posestream::server
