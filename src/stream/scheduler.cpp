// Scheduler and RunQueue: the worker pool and the bounded queue of sessions with frames ready.
#include "stream/scheduler.h"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

namespace posestream::stream {
namespace {

constexpr std::size_t kMaxSessions = 65536;
constexpr std::size_t kMaxWorkers = 256;

// 0: the CPUs this process may use (the affinity mask and a cgroup quota; on a shared or limited CPU
// the machine's core count would start threads that only take turns), at most kMaxWorkers: a bigger
// machine starts with that many rather than refusing to.
std::size_t resolve_thread_count(std::size_t requested, const CpuBudget& budget) {
  return requested != 0 ? requested : std::min(budget.cpus, kMaxWorkers);
}

// The pool every worker's runtimes share, or none (inference_threads 1: each worker on its own thread).
std::shared_ptr<engine::ThreadPool> make_inference_pool(std::size_t requested, const CpuBudget& budget,
                                                        const PipelineOptions& pipeline) {
  const std::size_t threads = resolve_thread_count(requested, budget);
  if (threads > kMaxWorkers) {
    throw std::invalid_argument("scheduler: inference_threads " + std::to_string(threads) + " is above " +
                                std::to_string(kMaxWorkers));
  }
  if (threads == 1) return pipeline.inference_pool;
  if (pipeline.inference_pool != nullptr) {
    throw std::invalid_argument("scheduler: inference_threads " + std::to_string(threads) +
                                " and a pipeline inference pool given too; give one");
  }
  return std::make_shared<engine::ThreadPool>(threads);
}

}  // namespace

bool RunQueue::admit(const std::shared_ptr<Session>& session) {
  const std::lock_guard lock(mutex_);
  if (stopped_ || open_.size() >= max_sessions_) return false;
  open_.emplace(session.get(), session);
  return true;
}

void RunQueue::forget(const Session* session) {
  const std::lock_guard lock(mutex_);
  open_.erase(session);
}

bool RunQueue::enqueue(std::shared_ptr<Session> session) {
  {
    const std::lock_guard lock(mutex_);
    if (stopped_) return false;
    queue_.push_back(std::move(session));
  }
  ready_.notify_one();
  return true;
}

std::shared_ptr<Session> RunQueue::pop() {
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [this] { return stopped_ || !queue_.empty(); });
  if (stopped_) return nullptr;
  std::shared_ptr<Session> session = std::move(queue_.front());
  queue_.pop_front();
  return session;
}

std::vector<std::shared_ptr<Session>> RunQueue::stop() {
  std::vector<std::shared_ptr<Session>> open;
  std::deque<std::shared_ptr<Session>> dropped;  // Released after the lock: a last reference may close.
  {
    const std::lock_guard lock(mutex_);
    stopped_ = true;
    dropped.swap(queue_);
    for (const auto& [key, weak] : open_) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  ready_.notify_all();
  return open;
}

std::size_t RunQueue::open_count() const {
  const std::lock_guard lock(mutex_);
  return open_.size();
}

std::size_t RunQueue::queued_count() const {
  const std::lock_guard lock(mutex_);
  return queue_.size();
}

Scheduler::Scheduler(std::shared_ptr<ModelLibrary> models, SchedulerOptions options)
    : models_(std::move(models)), options_(std::move(options)) {
  if (models_ == nullptr) throw std::invalid_argument("scheduler: no model library");
  if (!options_.cpu_budget) options_.cpu_budget = read_cpu_budget();
  const std::size_t workers = resolve_thread_count(options_.worker_count, *options_.cpu_budget);
  if (workers > kMaxWorkers) {
    throw std::invalid_argument("scheduler: worker_count " + std::to_string(workers) + " is above " +
                                std::to_string(kMaxWorkers));
  }
  if (options_.max_sessions < 1 || options_.max_sessions > kMaxSessions) {
    throw std::invalid_argument("scheduler: max_sessions " + std::to_string(options_.max_sessions) +
                                " is outside [1, " + std::to_string(kMaxSessions) + "]");
  }
  if (options_.prewarm) {
    if (auto error = validate(*options_.prewarm)) throw std::invalid_argument("scheduler: prewarm: " + *error);
    if (options_.prewarm->pose) models_->pose(*options_.prewarm->pose);
    if (options_.prewarm->hands) models_->hands(*options_.prewarm->hands);
  }
  if (auto error = validate(options_.parallelism)) throw std::invalid_argument("scheduler: " + *error);
  if (options_.pipeline.concurrent_stages) {
    throw std::invalid_argument("scheduler: pipeline.concurrent_stages would give every worker a second thread; "
                                "set concurrent_stages (the lone worker's pipeline only)");
  }
  options_.pipeline.inference_pool =
      make_inference_pool(options_.inference_threads, *options_.cpu_budget, options_.pipeline);
  observer_ = std::make_shared<const StreamObserver>(options_.observer);
  run_queue_ = std::make_shared<RunQueue>(options_.max_sessions);
  // Pipelines are built before the threads start so that a bad option throws here, not on a worker.
  PipelineOptions own_options = options_.pipeline;
  own_options.inference_pool = nullptr;
  if (options_.pipeline.inference_pool != nullptr) {
    PipelineOptions pooled_options = options_.pipeline;
    pooled_options.concurrent_stages = options_.concurrent_stages;
    pooled_pipeline_ = std::make_unique<FramePipeline>(models_, pooled_options);
    start_governor();
  }
  workers_.reserve(workers);
  try {
    for (std::size_t i = 0; i < workers; ++i) {
      auto pipeline = std::make_unique<FramePipeline>(models_, own_options);
      workers_.emplace_back([this, pipeline = std::move(pipeline), i] { work(*pipeline, i == 0); });
    }
  } catch (...) {
    stop();  // Joins the workers already started: a joinable std::thread must not be destroyed.
    throw;
  }
}

Scheduler::~Scheduler() { stop(); }

std::shared_ptr<Session> Scheduler::open_session(SessionOptions options, AnswerSink sink) {
  auto session = std::make_shared<Session>(std::move(options), std::move(sink), run_queue_, observer_);
  if (!run_queue_->admit(session)) return nullptr;  // Its destructor has nothing to answer.
  return session;
}

void Scheduler::stop() {
  const std::lock_guard lock(stop_mutex_);
  for (const std::shared_ptr<Session>& session : run_queue_->stop()) session->close();
  for (std::thread& worker : workers_) {
    if (worker.joinable()) worker.join();
  }
}

namespace {

void prewarm(FramePipeline& pipeline, const StreamConfig& config) {
  try {
    pipeline.prewarm(config);
  } catch (const std::exception&) {
    // The models loaded in the constructor; a runtime that cannot be built fails each frame that
    // needs it with the reason, which is where a client can see it.
  }
}

}  // namespace

// A worker reschedules its session before it stops counting as busy, so a lone stream's next frame is
// often taken by another worker while the first spends its last microseconds in run_next: wait that
// out (briefly: under real load it costs each frame this long at most) rather than lose the pool.
std::size_t Scheduler::wait_for_handover() const {
  const auto deadline = std::chrono::steady_clock::now() + kPoolHandoverWait;
  std::size_t busy = busy_workers_.load();
  while (busy > 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
    busy = busy_workers_.load();
  }
  return busy;
}

void Scheduler::work(FramePipeline& pipeline, bool prewarm_pooled) {
  if (options_.prewarm) {
    prewarm(pipeline, *options_.prewarm);
    if (prewarm_pooled && pooled_pipeline_) {
      const std::lock_guard lock(pooled_mutex_);
      prewarm(*pooled_pipeline_, *options_.prewarm);
    }
  }
  const ThreadRunDelay own_wait;  // Opened here: it reads this worker thread's schedstat.
  while (std::shared_ptr<Session> session = run_queue_->pop()) run_next(*session, pipeline, own_wait);
}

// The pooled pipeline only for a worker that is alone in being busy (a second worker starting meanwhile
// runs on its own thread, and the pooled frame finishes with the pool) and while the governor finds the
// CPUs it needs free. Its frames are measured over all of the process's threads, the others over the
// worker's own.
void Scheduler::run_next(Session& session, FramePipeline& own, const ThreadRunDelay& own_wait) {
  const std::size_t busy = ++busy_workers_;
  if (pooled_pipeline_ && take_parallel_path(busy)) {
    const std::lock_guard lock(pooled_mutex_, std::adopt_lock);
    ++pooled_runs_;
    const std::optional<FrameTiming> timing = session.run_next(*pooled_pipeline_, {true, process_run_delay_ns});
    if (timing) governor_->observe_parallel_frame(timing->total_ms, timing->cpu_wait_ms, Clock::now());
  } else {
    session.run_next(own, {false, [&own_wait] { return own_wait.read_ns(); }});
  }
  --busy_workers_;
}

// True (with pooled_mutex_ held) if this worker's frame takes the parallel path; `busy`: workers busy,
// this one included.
bool Scheduler::take_parallel_path(std::size_t busy) {
  const Clock::time_point now = Clock::now();
  sample_cpu_use(now);
  if (!governor_->parallel_allowed(now)) return false;
  if (busy > 1) busy = wait_for_handover();
  return busy == 1 && pooled_mutex_.try_lock();
}

void Scheduler::sample_cpu_use(Clock::time_point now) {
  if (!governor_->sample_due(now)) return;
  const std::unique_lock lock(sample_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return;  // Another worker is sampling.
  if (const std::optional<CpuSample> sample = options_.cpu_sampler()) governor_->observe_sample(*sample);
}

void Scheduler::start_governor() {
  const CpuBudget& budget = *options_.cpu_budget;
  const std::size_t pool = options_.pipeline.inference_pool->size();
  ParallelismCpus cpus;
  cpus.budget = static_cast<double>(budget.cpus);
  cpus.affinity = static_cast<double>(budget.affinity_cpus);
  cpus.needed = static_cast<double>(std::max<std::size_t>(pool, options_.concurrent_stages ? 2 : 1));
  governor_ = std::make_unique<ParallelismGovernor>(options_.parallelism, cpus);
  if (!options_.cpu_sampler) {
    options_.cpu_sampler = [cpus = affinity_cpu_list()] { return read_cpu_sample(cpus); };
  }
  // The baseline: the first frame is judged on the CPU use since the server started.
  if (const std::optional<CpuSample> sample = options_.cpu_sampler()) governor_->observe_sample(*sample);
}

std::optional<ParallelismStatus> Scheduler::parallelism_status() const {
  if (!governor_) return std::nullopt;
  return governor_->status(Clock::now());
}

}  // namespace posestream::stream
