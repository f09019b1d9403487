// Metrics: the Prometheus counters, gauges and histograms behind GET /metrics (prometheus-cpp core).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <array>
#include <cstddef>
#include <memory>
#include <string>

#include "server/model_run_metrics.h"
#include "server/parallelism_metrics.h"
#include "stream/stream.h"

namespace posestream::server {

// Queue depths summed over open sessions at scrape time (see ServerContext::queue_depths).
struct QueueDepths {
  std::size_t reorder = 0;       // Frames held waiting for a missing sequence.
  std::size_t worker = 0;        // Frames released in order, waiting for a worker.
  std::size_t write_bytes = 0;   // Encoded answers waiting behind each connection's write in flight.
};

// The transport a stream session runs on (posestream_sessions_by_transport's label).
enum class SessionTransport { ws, socketio_polling, socketio_websocket };
const char* to_string(SessionTransport transport);  // "ws", "socketio_polling", "socketio_websocket"

// Every method is thread-safe (prometheus-cpp's metrics are atomic or locked). Metric names:
//   posestream_frames_total{outcome="result|late|duplicate|lost|superseded|overflow|invalid"}
//   posestream_stage_seconds{stage="reorder|queue|decode|pose|hands|pipeline"}  (histograms)
//   posestream_end_to_end_seconds     arrival at the server -> result ready (reorder + queue + pipeline)
//   posestream_sessions               open stream sessions (/ws and Socket.IO);  posestream_sessions_total opened so far
//   posestream_sessions_by_transport{transport="ws|socketio_polling|socketio_websocket"}  the same, by transport
//   posestream_socketio_upgrades_total  Socket.IO sessions moved from polling to WebSocket (every Engine.IO
//                                     session at the Socket.IO path, with or without a stream yet)
//   posestream_queue_depth{queue="reorder|worker"} frames;  posestream_write_queue_bytes
//   posestream_workers_busy           workers running a frame
//   posestream_answers_downgraded_total  results replaced by dropped answers for slow readers
//   posestream_connections_closed_total{reason="client|dropped|idle|too_big|slow_reader|shutdown|busy|error"}
//   posestream_bad_messages_total     messages answered `error`
//   posestream_read_pauses_total      times a WebSocket stopped reading: its client was over max_messages_per_second
//   posestream_tls_handshake_failures_total  TLS handshakes that failed or timed out (plain HTTP on a TLS
//                                     port, an untrusted certificate); peers that closed before a hello are not counted
//   posestream_http_requests_total{route="ws|detect|healthz|readyz|metrics|static|other",code="..."}
//   and ParallelismMetrics' (server/parallelism_metrics.h): frames by path, CPU wait, the governor's state;
//   and ModelRunMetrics' (server/model_run_metrics.h): model invocations by model, people per result
class Metrics {
 public:
  Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Callbacks for the Scheduler's observer. They refer to this object, which must outlive the Scheduler.
  stream::StreamObserver observer();

  void session_opened(SessionTransport transport = SessionTransport::ws);
  void session_closed(SessionTransport transport = SessionTransport::ws);
  // An open stream session's transport changed (a Socket.IO upgrade): the gauge moves, the total does not.
  void session_moved(SessionTransport from, SessionTransport to);
  void socketio_upgraded();
  void answers_downgraded(std::uint64_t count);
  void connection_closed(const std::string& reason);
  void bad_message();
  void read_paused();
  void tls_handshake_failed();
  void http_request(const std::string& route, unsigned status);

  // The Prometheus text exposition format, with the gauges set from `depths` first.
  std::string scrape(const QueueDepths& depths);
  // Frames by path, their CPU wait and the parallelism governor's state (server/parallelism_metrics.h).
  ParallelismMetrics& parallelism() { return parallelism_; }

 private:
  void on_result(const stream::FrameTiming& timing);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& frames_;
  std::array<prometheus::Counter*, 7> frames_by_outcome_{};  // Index: DroppedReason + 1, 0 = result.
  prometheus::Family<prometheus::Histogram>& stage_seconds_;
  std::array<prometheus::Histogram*, 6> stages_{};
  prometheus::Histogram& end_to_end_;
  prometheus::Gauge& sessions_;
  prometheus::Counter& sessions_total_;
  std::array<prometheus::Gauge*, 3> sessions_by_transport_{};  // Index: SessionTransport.
  prometheus::Counter& socketio_upgrades_;
  prometheus::Family<prometheus::Gauge>& queue_depth_;
  prometheus::Gauge& reorder_depth_;
  prometheus::Gauge& worker_depth_;
  prometheus::Gauge& write_queue_bytes_;
  prometheus::Gauge& workers_busy_;
  prometheus::Gauge& resident_bytes_;
  prometheus::Counter& downgraded_;
  prometheus::Family<prometheus::Counter>& closed_;
  prometheus::Counter& bad_messages_;
  prometheus::Counter& read_pauses_;
  prometheus::Counter& tls_handshake_failures_;
  prometheus::Family<prometheus::Counter>& http_requests_;
  ParallelismMetrics parallelism_;
  ModelRunMetrics model_runs_;
};

}  // namespace posestream::server
