// ServerContext: what all connections of one Server share; ConnectionRegistry: the open connections.
#pragma once

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "server/access_tokens.h"
#include "server/engineio/engine_server.h"
#include "server/metrics.h"
#include "server/server.h"

namespace posestream::server {

namespace net = boost::asio;

// An open HTTP or WebSocket connection, as the server sees it from outside its strand.
class Connection {
 public:
  virtual ~Connection() = default;
  // Starts a graceful close: answers already owed are written, then the socket closes (WebSocket: 1001,
  // or 1012 when the context is restarting). Thread-safe: posts to the connection's strand.
  virtual void shut_down() = 0;
  // A WebSocket stream (the shutdown waits for these first, then for plain HTTP connections).
  virtual bool is_stream() const { return false; }
  // What the connection holds in its queues. Thread-safe.
  virtual QueueDepths depths() const { return {}; }
};

// Registers connections by weak_ptr (the registry never keeps one alive); each connection removes itself
// in its destructor. Thread-safe.
class ConnectionRegistry {
 public:
  // `connection` must be alive (its is_stream() is read now).
  std::uint64_t add(const std::shared_ptr<Connection>& connection);
  void remove(std::uint64_t id);
  std::vector<std::shared_ptr<Connection>> snapshot() const;
  std::size_t size() const;
  // Blocks until no connection is left or `deadline` passes; true if none is left.
  bool wait_until_empty(std::chrono::steady_clock::time_point deadline);
  // The same for WebSocket streams (Connection::is_stream) only.
  bool wait_until_no_streams(std::chrono::steady_clock::time_point deadline);

 private:
  struct Entry {
    std::weak_ptr<Connection> connection;
    bool stream = false;
  };
  std::size_t streams() const;  // With mutex_ held.

  mutable std::mutex mutex_;
  std::condition_variable removed_;
  std::map<std::uint64_t, Entry> connections_;
  std::uint64_t next_id_ = 1;
};

// Owned by the Server; connections hold a reference (they never outlive the io_context, which is
// destroyed first: see the member order).
struct ServerContext {
  explicit ServerContext(ServerOptions server_options);
  ~ServerContext();

  // Reserves one of `limit` slots in `counter`; false when all are taken.
  static bool try_reserve(std::atomic<std::size_t>& counter, std::size_t limit);
  // Session options for a WebSocket stream under the limits.
  stream::SessionOptions stream_session_options() const;
  // Sums over open connections, for /metrics.
  QueueDepths queue_depths() const;
  std::string next_session_id() { return "s" + std::to_string(next_session_number++); }

  const ServerOptions options;
  const std::filesystem::path web_root;
  // Loaded before the models, so that a bad token file fails start-up at once.
  const AccessTokens api_tokens;      // /ws and /v1/detect; open without --auth-token-file.
  const AccessTokens metrics_tokens;  // /metrics; open without --metrics-token-file.
  const std::chrono::steady_clock::time_point started_at = std::chrono::steady_clock::now();
  Metrics metrics;  // Before the scheduler, whose observer calls into it.
  std::shared_ptr<stream::ModelLibrary> models;
  std::unique_ptr<stream::Scheduler> scheduler;
  ConnectionRegistry connections;
  // Shutdown (Server::shut_down), each set once, in this order. draining: set at once by stop() or
  // drain(): /readyz 503, no new WebSocket or /v1/detect, WebSocket messages ignored; plain HTTP is still
  // answered. restarting: set with draining by drain(): WebSockets close with 1012, not 1001.
  // shutting_down: the port is closed and HTTP connections close after their current answer.
  std::atomic<bool> draining{false};
  std::atomic<bool> restarting{false};
  std::atomic<bool> shutting_down{false};
  std::atomic<std::size_t> websocket_sessions{0};
  std::atomic<std::size_t> detect_requests{0};
  std::atomic<std::uint64_t> next_session_number{1};
  // Engine.IO endpoints (server/engineio/engine_server.h), each at its own path, routed before every other
  // path (HttpSession: http_engineio.cpp) and guarded by api_tokens like /ws. Empty unless installed
  // with add_engine_server before the server runs (the Socket.IO endpoint, or the conformance server's
  // Engine.IO echo); never changed afterwards, so the network threads read it without a lock.
  std::vector<std::shared_ptr<engineio::EngineServer>> engine_servers;
  // Installs one at options.path, running on `io`. Its allowed_origins are replaced by
  // ServerOptions::allowed_origins: one setting governs /ws and every Engine.IO path. Before run() only.
  std::shared_ptr<engineio::EngineServer> add_engine_server(engineio::Options options, engineio::HandlerFactory factory);
  // The one serving `target` (a request target: path and query), or nullptr.
  engineio::EngineServer* engine_server_for(std::string_view target) const;
  // Last, so it is destroyed first: pending handlers (and the connections they keep alive) go before
  // the state above that their destructors use.
  net::io_context io;
};

}  // namespace posestream::server
