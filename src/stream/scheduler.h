// Scheduler: the worker pool. Runs sessions' frames, one frame of a stream at a time, streams in parallel.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "stream/cpu_budget.h"
#include "stream/cpu_usage.h"
#include "stream/frame_pipeline.h"
#include "stream/model_library.h"
#include "stream/parallelism.h"
#include "stream/session.h"

namespace posestream::stream {

struct SchedulerOptions {
  // Worker threads, each with its own FramePipeline (runtimes). 0: the CPUs this process may use
  // (cpu_budget: affinity mask, capped by a cgroup CPU quota), not the machine's core count; at most 256.
  std::size_t worker_count = 0;
  // Open sessions at most; open_session refuses more. The server's connection limit. Range [1, 65536].
  std::size_t max_sessions = 64;
  // Size of the inference pool (engine::ThreadPool) behind one extra pipeline, which a worker uses
  // only while it is the one busy worker: a lone stream gets all of the pool's threads for each
  // operator, while under load every worker infers on its own thread (a pool shared by busy workers
  // serializes their operators and its threads spin against theirs: measured 2-3x slower under load).
  // 1: no pool. 0: the CPUs this process may use (cpu_budget), at most 256. Range [0, 256]. With more
  // than 1, pipeline.inference_pool must be unset (the Scheduler creates it) and
  // pipeline.threads_per_runtime 1; a pipeline.inference_pool given with 1 is used the same way.
  std::size_t inference_threads = 1;
  // With an inference pool: the pooled pipeline's tracking frames with pose and hands tracked run the
  // pose beside the tracked hands' landmark runs (PipelineOptions::concurrent_stages: the worker's
  // thread and one helper thread, one-thread runtimes); the rest of those frames and the other frames
  // use the pool. Measured on 2 cores (docs/PERFORMANCE.md): idle, as fast as the pool of 2 for ~9%
  // less CPU; with another process keeping a core busy, as fast as one thread where the pool is
  // 1.3-1.9x slower. Costs a second runtime set (53 MB for pose full + hands full). Not measured against
  // larger pools. pipeline.concurrent_stages must stay false (workers' own pipelines use one thread).
  bool concurrent_stages = true;
  // When a lone stream's frame may use that pool and helper (stream/parallelism.h): by default only while
  // no other process takes the CPUs they need; then on the worker's own thread.
  ParallelismOptions parallelism;
  // Where the governor's machine samples come from. Empty: read_cpu_sample() over this process's affinity
  // mask (a test injects a busy or an idle machine).
  std::function<std::optional<CpuSample>()> cpu_sampler;
  // What counts of 0 resolve to. nullopt: read_cpu_budget() when the Scheduler is built (a test sets it).
  std::optional<CpuBudget> cpu_budget;
  PipelineOptions pipeline;
  // Each worker creates this config's runtimes before taking work, so first frames do not pay for them
  // (3-55 ms per model). nullopt: created on first use.
  std::optional<StreamConfig> prewarm = StreamConfig{};
  StreamObserver observer;
};

// The run queue shared by the Scheduler's workers and its sessions (they outlive neither: both hold it).
// Holds sessions with frames ready, each at most once (Session::scheduled_ guarantees it), so its length
// is bounded by the number of open sessions. Also the registry of open sessions, for max_sessions and
// for stop(). Internal to the stream layer; the lock order is Session's mutex, then this one.
class RunQueue {
 public:
  explicit RunQueue(std::size_t max_sessions) : max_sessions_(max_sessions) {}

  // Registers an open session; false when max_sessions are open or the queue is stopped.
  bool admit(const std::shared_ptr<Session>& session);
  // Unregisters (Session::close). No-op for an unknown session.
  void forget(const Session* session);
  // False once stopped: the caller answers its frames itself.
  bool enqueue(std::shared_ptr<Session> session);
  // Blocks for the next session to run; nullptr once stopped.
  std::shared_ptr<Session> pop();
  // Wakes every pop() with nullptr, refuses further enqueues and drops queued entries; returns the
  // sessions still open, for the caller to close.
  std::vector<std::shared_ptr<Session>> stop();
  std::size_t open_count() const;
  std::size_t queued_count() const;  // Sessions waiting for a worker.

 private:
  const std::size_t max_sessions_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::shared_ptr<Session>> queue_;
  std::map<const Session*, std::weak_ptr<Session>> open_;
  bool stopped_ = false;
};

// Owns the workers. Workers never parse JSON or touch sockets: they take a session from the run queue,
// run its next frame through their FramePipeline and hand the answer to the session's sink.
class Scheduler {
 public:
  // Loads the prewarm config's models now (so a missing model file fails here, not on the first frame)
  // and starts the workers. Throws engine::ModelError, or std::invalid_argument naming a bad option.
  Scheduler(std::shared_ptr<ModelLibrary> models, SchedulerOptions options = {});
  // stop().
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // A new stream answering through `sink`. nullptr when max_sessions are open or after stop().
  // Throws std::invalid_argument naming a bad option (validate(SessionOptions)).
  std::shared_ptr<Session> open_session(SessionOptions options, AnswerSink sink);

  // Closes every open session (answering everything buffered or queued: superseded; gaps: lost), lets
  // each worker finish the frame it is running (those get their results) and joins the workers. Later
  // frames pushed to any session are answered superseded. Idempotent.
  void stop();

  std::size_t worker_count() const noexcept { return workers_.size(); }
  // The CPUs the counts of 0 were resolved from, and where that number came from (for the start-up log).
  const CpuBudget& cpu_budget() const noexcept { return *options_.cpu_budget; }
  // Threads of the shared inference pool; 1 when there is none.
  std::size_t inference_threads() const noexcept {
    return options_.pipeline.inference_pool ? options_.pipeline.inference_pool->size() : 1;
  }
  std::size_t open_sessions() const { return run_queue_->open_count(); }
  // Frames run so far on the inference pool's pipeline (a worker alone in being busy took it).
  std::uint64_t pooled_runs() const noexcept { return pooled_runs_.load(); }
  // Whether the parallel path is on now, and why not (nullopt: no inference pool, so no parallel path).
  std::optional<ParallelismStatus> parallelism_status() const;

 private:
  void work(FramePipeline& pipeline, bool prewarm_pooled);
  void run_next(Session& session, FramePipeline& own, const ThreadRunDelay& own_wait);
  bool take_parallel_path(std::size_t busy);
  void start_governor();
  void sample_cpu_use(std::chrono::steady_clock::time_point now);
  std::size_t wait_for_handover() const;

  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::microseconds kPoolHandoverWait{300};

  std::shared_ptr<ModelLibrary> models_;
  SchedulerOptions options_;
  std::shared_ptr<const StreamObserver> observer_;
  std::shared_ptr<RunQueue> run_queue_;
  std::mutex stop_mutex_;  // Serializes stop() calls.
  std::unique_ptr<FramePipeline> pooled_pipeline_;  // On the inference pool; nullptr without one.
  std::mutex pooled_mutex_;                         // Held by the worker running pooled_pipeline_.
  std::unique_ptr<ParallelismGovernor> governor_;  // With pooled_pipeline_ only.
  std::mutex sample_mutex_;                        // One worker samples at a time; the others go on.
  std::atomic<std::size_t> busy_workers_{0};
  std::atomic<std::uint64_t> pooled_runs_{0};
  std::vector<std::thread> workers_;
};

}  // namespace posestream::stream
