// ServerContext: the workers and models behind every connection; the registry of open connections.
#include "server/server_context.h"

#include <stdexcept>

namespace posestream::server {
namespace {

std::filesystem::path choose_web_root(const ServerOptions& options) {
  return options.web_dir.empty() ? default_web_dir() : options.web_dir;
}

stream::SchedulerOptions scheduler_options(const ServerOptions& options, Metrics& metrics) {
  stream::SchedulerOptions scheduler;
  scheduler.worker_count = options.workers;
  scheduler.inference_threads = options.inference_threads;
  scheduler.parallelism = options.parallelism;
  scheduler.max_sessions = options.limits.max_sessions + options.limits.max_detect_requests;
  scheduler.pipeline.decode_limits = decode_limits(options.limits);
  scheduler.prewarm = options.prewarm;
  scheduler.observer = metrics.observer();
  return scheduler;
}

AccessTokens load_tokens(const std::filesystem::path& path, std::string_view flag) {
  return path.empty() ? AccessTokens{} : AccessTokens::load(path, flag);
}

}  // namespace

std::uint64_t ConnectionRegistry::add(const std::shared_ptr<Connection>& connection) {
  const std::lock_guard lock(mutex_);
  const std::uint64_t id = next_id_++;
  connections_.emplace(id, Entry{connection, connection->is_stream()});
  return id;
}

void ConnectionRegistry::remove(std::uint64_t id) {
  const std::lock_guard lock(mutex_);
  connections_.erase(id);
  removed_.notify_all();
}

std::size_t ConnectionRegistry::streams() const {
  std::size_t count = 0;
  for (const auto& [id, entry] : connections_) count += entry.stream ? 1 : 0;
  return count;
}

std::vector<std::shared_ptr<Connection>> ConnectionRegistry::snapshot() const {
  std::vector<std::shared_ptr<Connection>> open;
  const std::lock_guard lock(mutex_);
  for (const auto& [id, entry] : connections_) {
    if (auto connection = entry.connection.lock()) open.push_back(std::move(connection));
  }
  return open;
}

std::size_t ConnectionRegistry::size() const {
  const std::lock_guard lock(mutex_);
  return connections_.size();
}

bool ConnectionRegistry::wait_until_empty(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return removed_.wait_until(lock, deadline, [this] { return connections_.empty(); });
}

bool ConnectionRegistry::wait_until_no_streams(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return removed_.wait_until(lock, deadline, [this] { return streams() == 0; });
}

ServerContext::ServerContext(ServerOptions server_options)
    : options(std::move(server_options)),
      web_root(choose_web_root(options)),
      api_tokens(load_tokens(options.auth_token_file, "--auth-token-file")),
      metrics_tokens(load_tokens(options.metrics_token_file, "--metrics-token-file")),
      models(std::make_shared<stream::ModelLibrary>(options.models_dir, options.precision)),
      scheduler(std::make_unique<stream::Scheduler>(models, scheduler_options(options, metrics))),
      io(static_cast<int>(std::max<std::size_t>(options.io_threads, 1))) {
  metrics.parallelism().watch([scheduler = scheduler.get()] { return scheduler->parallelism_status(); });
}

ServerContext::~ServerContext() {
  // Workers post answers to connections' strands: they stop before the io_context goes.
  scheduler->stop();
  // Engine.IO sessions hold timers on the io_context: the registries let go of them before it goes (those
  // its pending handlers hold go with it).
  for (const auto& engine : engine_servers) engine->clear_sessions();
}

std::shared_ptr<engineio::EngineServer> ServerContext::add_engine_server(engineio::Options engine_options,
                                                                         engineio::HandlerFactory factory) {
  engine_options.allowed_origins = options.allowed_origins;
  engine_servers.push_back(engineio::EngineServer::create(io, std::move(engine_options), std::move(factory)));
  return engine_servers.back();
}

engineio::EngineServer* ServerContext::engine_server_for(std::string_view target) const {
  for (const auto& engine : engine_servers) {
    if (engine->serves(target)) return engine.get();
  }
  return nullptr;
}

bool ServerContext::try_reserve(std::atomic<std::size_t>& counter, std::size_t limit) {
  std::size_t current = counter.load();
  while (current < limit) {
    if (counter.compare_exchange_weak(current, current + 1)) return true;
  }
  return false;
}

stream::SessionOptions ServerContext::stream_session_options() const {
  stream::SessionOptions session;
  session.reorder.reorder_capacity = options.limits.reorder_capacity;
  session.reorder.gap_timeout = options.limits.gap_timeout;
  session.max_queued_frames = options.limits.max_queued_frames;
  session.drop_policy = options.stream_defaults.drop_policy;
  session.config = options.stream_defaults.stream_config();
  return session;
}

QueueDepths ServerContext::queue_depths() const {
  QueueDepths total;
  for (const auto& connection : connections.snapshot()) {
    const QueueDepths depths = connection->depths();
    total.reorder += depths.reorder;
    total.worker += depths.worker;
    total.write_bytes += depths.write_bytes;
  }
  return total;
}

}  // namespace posestream::server
