// Metrics: registering the families once, and updating them from the Scheduler's observer and the server.
#include "server/metrics.h"

#include <prometheus/text_serializer.h>
#include <unistd.h>

#include <fstream>

namespace posestream::server {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// From /proc/self/statm (pages); 0 where there is no /proc.
std::uint64_t resident_memory_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t total_pages = 0;
  std::uint64_t resident_pages = 0;
  if (!(statm >> total_pages >> resident_pages)) return 0;
  return resident_pages * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

// Seconds: 1 ms to 2.5 s, roughly doubling; a frame's stages are milliseconds, a stalled stream seconds.
const Histogram::BucketBoundaries& latency_buckets() {
  static const Histogram::BucketBoundaries buckets = {0.001, 0.002, 0.004, 0.008, 0.016, 0.032,
                                                      0.064, 0.128, 0.256, 0.512, 1.024, 2.5};
  return buckets;
}

constexpr const char* kStageNames[] = {"reorder", "queue", "decode", "pose", "hands", "pipeline"};
constexpr stream::DroppedReason kReasons[] = {stream::DroppedReason::late,       stream::DroppedReason::duplicate,
                                              stream::DroppedReason::lost,       stream::DroppedReason::superseded,
                                              stream::DroppedReason::overflow,   stream::DroppedReason::invalid};

std::size_t outcome_index(stream::DroppedReason reason) { return static_cast<std::size_t>(reason) + 1; }

double seconds(double milliseconds) { return milliseconds / 1000.0; }

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      frames_(BuildCounter().Name("posestream_frames_total").Help("Frames answered, by outcome").Register(*registry_)),
      stage_seconds_(BuildHistogram()
                         .Name("posestream_stage_seconds")
                         .Help("Time per stage of results, seconds")
                         .Register(*registry_)),
      end_to_end_(BuildHistogram()
                      .Name("posestream_end_to_end_seconds")
                      .Help("Arrival at the server to result ready, seconds")
                      .Register(*registry_)
                      .Add({}, latency_buckets())),
      sessions_(BuildGauge().Name("posestream_sessions").Help("Open WebSocket sessions").Register(*registry_).Add({})),
      sessions_total_(BuildCounter()
                          .Name("posestream_sessions_total")
                          .Help("WebSocket sessions opened")
                          .Register(*registry_)
                          .Add({})),
      socketio_upgrades_(BuildCounter()
                             .Name("posestream_socketio_upgrades_total")
                             .Help("Socket.IO sessions upgraded from HTTP long-polling to WebSocket")
                             .Register(*registry_)
                             .Add({})),
      queue_depth_(BuildGauge().Name("posestream_queue_depth").Help("Frames waiting, by queue").Register(*registry_)),
      reorder_depth_(queue_depth_.Add({{"queue", "reorder"}})),
      worker_depth_(queue_depth_.Add({{"queue", "worker"}})),
      write_queue_bytes_(BuildGauge()
                             .Name("posestream_write_queue_bytes")
                             .Help("Encoded answers waiting behind writes in flight, bytes")
                             .Register(*registry_)
                             .Add({})),
      workers_busy_(BuildGauge().Name("posestream_workers_busy").Help("Workers running a frame").Register(*registry_).Add({})),
      // The standard name of Prometheus' process collectors, so that dashboards find it.
      resident_bytes_(BuildGauge()
                          .Name("process_resident_memory_bytes")
                          .Help("Resident memory of the server process, bytes")
                          .Register(*registry_)
                          .Add({})),
      downgraded_(BuildCounter()
                      .Name("posestream_answers_downgraded_total")
                      .Help("Results replaced by their dropped answer because the client read too slowly")
                      .Register(*registry_)
                      .Add({})),
      closed_(BuildCounter()
                  .Name("posestream_connections_closed_total")
                  .Help("WebSocket sessions closed, by reason")
                  .Register(*registry_)),
      bad_messages_(BuildCounter()
                        .Name("posestream_bad_messages_total")
                        .Help("Client messages answered with an error")
                        .Register(*registry_)
                        .Add({})),
      read_pauses_(BuildCounter()
                       .Name("posestream_read_pauses_total")
                       .Help("Times a WebSocket stopped reading because its client sent over max_messages_per_second")
                       .Register(*registry_)
                       .Add({})),
      tls_handshake_failures_(BuildCounter()
                                  .Name("posestream_tls_handshake_failures_total")
                                  .Help("TLS handshakes that failed or timed out (a connection closed before its "
                                        "hello is not counted)")
                                  .Register(*registry_)
                                  .Add({})),
      http_requests_(BuildCounter()
                         .Name("posestream_http_requests_total")
                         .Help("HTTP requests, by route and status")
                         .Register(*registry_)),
      parallelism_(*registry_),
      model_runs_(*registry_) {
  frames_by_outcome_[0] = &frames_.Add({{"outcome", "result"}});
  for (stream::DroppedReason reason : kReasons) {
    frames_by_outcome_[outcome_index(reason)] = &frames_.Add({{"outcome", stream::to_string(reason)}});
  }
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    stages_[i] = &stage_seconds_.Add({{"stage", kStageNames[i]}}, latency_buckets());
  }
  auto& by_transport = BuildGauge()
                           .Name("posestream_sessions_by_transport")
                           .Help("Open stream sessions, by transport (/ws, Socket.IO polling, Socket.IO WebSocket)")
                           .Register(*registry_);
  for (SessionTransport transport :
       {SessionTransport::ws, SessionTransport::socketio_polling, SessionTransport::socketio_websocket}) {
    sessions_by_transport_[static_cast<std::size_t>(transport)] = &by_transport.Add({{"transport", to_string(transport)}});
  }
}

stream::StreamObserver Metrics::observer() {
  stream::StreamObserver observer;
  observer.on_dropped = [this](stream::DroppedReason reason, std::uint64_t count) {
    frames_by_outcome_[outcome_index(reason)]->Increment(static_cast<double>(count));
  };
  observer.on_result = [this](const stream::FrameTiming& timing) { on_result(timing); };
  observer.on_frame = [this](const stream::Session&, stream::FramePhase phase) {
    if (phase == stream::FramePhase::started) {
      workers_busy_.Increment();
    } else {
      workers_busy_.Decrement();
    }
  };
  return observer;
}

void Metrics::on_result(const stream::FrameTiming& timing) {
  frames_by_outcome_[0]->Increment();
  const double stage_ms[] = {timing.reorder_ms, timing.queue_ms, timing.decode_ms,
                             timing.pose_ms,    timing.hands_ms, timing.total_ms};
  for (std::size_t i = 0; i < stages_.size(); ++i) stages_[i]->Observe(seconds(stage_ms[i]));
  end_to_end_.Observe(seconds(timing.reorder_ms + timing.queue_ms + timing.total_ms));
  parallelism_.on_result(timing);
  model_runs_.on_result(timing);
}

const char* to_string(SessionTransport transport) {
  switch (transport) {
    case SessionTransport::ws: return "ws";
    case SessionTransport::socketio_polling: return "socketio_polling";
    case SessionTransport::socketio_websocket: return "socketio_websocket";
  }
  return "ws";
}

void Metrics::session_opened(SessionTransport transport) {
  sessions_.Increment();
  sessions_total_.Increment();
  sessions_by_transport_[static_cast<std::size_t>(transport)]->Increment();
}

void Metrics::session_closed(SessionTransport transport) {
  sessions_.Decrement();
  sessions_by_transport_[static_cast<std::size_t>(transport)]->Decrement();
}

void Metrics::session_moved(SessionTransport from, SessionTransport to) {
  sessions_by_transport_[static_cast<std::size_t>(from)]->Decrement();
  sessions_by_transport_[static_cast<std::size_t>(to)]->Increment();
}

void Metrics::socketio_upgraded() { socketio_upgrades_.Increment(); }

void Metrics::answers_downgraded(std::uint64_t count) { downgraded_.Increment(static_cast<double>(count)); }

void Metrics::connection_closed(const std::string& reason) { closed_.Add({{"reason", reason}}).Increment(); }

void Metrics::bad_message() { bad_messages_.Increment(); }

void Metrics::read_paused() { read_pauses_.Increment(); }

void Metrics::tls_handshake_failed() { tls_handshake_failures_.Increment(); }

void Metrics::http_request(const std::string& route, unsigned status) {
  http_requests_.Add({{"route", route}, {"code", std::to_string(status)}}).Increment();
}

std::string Metrics::scrape(const QueueDepths& depths) {
  reorder_depth_.Set(static_cast<double>(depths.reorder));
  worker_depth_.Set(static_cast<double>(depths.worker));
  write_queue_bytes_.Set(static_cast<double>(depths.write_bytes));
  resident_bytes_.Set(static_cast<double>(resident_memory_bytes()));
  parallelism_.update();
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace posestream::server
