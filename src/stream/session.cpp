// Session: the network side's entry points (push, poll, reset, close) and the worker's run_next.
#include "stream/session.h"

#include <chrono>
#include <exception>
#include <stdexcept>
#include <utility>

#include "stream/scheduler.h"

namespace posestream::stream {
namespace {

constexpr std::size_t kMaxQueuedFrames = 1024;

double milliseconds_between(TimePoint from, TimePoint to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

std::uint64_t count_of(SequenceRange range) { return range.last - range.first + 1; }  // 0 for the full range.

DroppedReason from_reorder(DropReason reason) {
  switch (reason) {
    case DropReason::late: return DroppedReason::late;
    case DropReason::duplicate: return DroppedReason::duplicate;
    case DropReason::lost: break;
  }
  return DroppedReason::lost;
}

}  // namespace

const char* to_string(DropPolicy policy) noexcept { return policy == DropPolicy::all ? "all" : "latest"; }

std::optional<DropPolicy> parse_drop_policy(std::string_view name) noexcept {
  if (name == "latest") return DropPolicy::latest;
  if (name == "all") return DropPolicy::all;
  return std::nullopt;
}

const char* to_string(DroppedReason reason) noexcept {
  switch (reason) {
    case DroppedReason::late: return "late";
    case DroppedReason::duplicate: return "duplicate";
    case DroppedReason::lost: return "lost";
    case DroppedReason::superseded: return "superseded";
    case DroppedReason::overflow: return "overflow";
    case DroppedReason::invalid: return "invalid";
  }
  return "invalid";
}

std::uint64_t& AnswerCounts::of(DroppedReason reason) noexcept {
  switch (reason) {
    case DroppedReason::late: return late;
    case DroppedReason::duplicate: return duplicate;
    case DroppedReason::lost: return lost;
    case DroppedReason::superseded: return superseded;
    case DroppedReason::overflow: return overflow;
    case DroppedReason::invalid: break;
  }
  return invalid;
}

std::optional<std::string> validate(const SessionOptions& options) {
  if (auto error = validate(options.reorder)) return error;
  if (options.max_queued_frames < 1 || options.max_queued_frames > kMaxQueuedFrames) {
    return "session: max_queued_frames " + std::to_string(options.max_queued_frames) + " is outside [1, " +
           std::to_string(kMaxQueuedFrames) + "]";
  }
  return validate(options.config);
}

Session::Session(SessionOptions options, AnswerSink sink, std::shared_ptr<RunQueue> run_queue,
                 std::shared_ptr<const StreamObserver> observer)
    : run_queue_(std::move(run_queue)),
      observer_(observer != nullptr ? std::move(observer) : std::make_shared<const StreamObserver>()),
      sink_(std::move(sink)),
      options_(std::move(options)),
      reorder_(options_.reorder) {
  if (auto error = validate(options_)) throw std::invalid_argument(*error);
  if (!sink_) throw std::invalid_argument("session: no answer sink");
  if (run_queue_ == nullptr) throw std::invalid_argument("session: no run queue");
  state_.config = options_.config;
}

Session::~Session() { close(); }

void Session::push(FrameInput&& input, TimePoint now) {
  Answers answers;
  {
    const std::lock_guard lock(mutex_);
    ++stats_.frames_received;
    if (closed_) {
      drop({input.sequence, input.sequence}, DroppedReason::superseded, answers);
    } else {
      auto problem = input.problem.empty() ? nullptr : std::make_unique<std::string>(std::move(input.problem));
      Frame<Pending> frame{input.sequence, input.timestamp_us,
                           Pending{std::move(input.bytes), input.received_at, std::move(problem)}};
      events_.clear();
      reorder_.push(std::move(frame), now, events_);
      settle(events_, answers);
      schedule(answers);
    }
  }
  deliver(answers);
}

void Session::poll(TimePoint now) {
  Answers answers;
  {
    const std::lock_guard lock(mutex_);
    if (closed_) return;
    events_.clear();
    reorder_.poll(now, events_);
    settle(events_, answers);
    schedule(answers);
  }
  deliver(answers);
}

std::optional<TimePoint> Session::next_deadline() const {
  const std::lock_guard lock(mutex_);
  if (closed_) return std::nullopt;
  return reorder_.next_deadline();
}

std::optional<std::string> Session::configure(const StreamConfig& config) {
  if (auto error = validate(config)) return error;
  const std::lock_guard lock(mutex_);
  pending_config_ = config;
  return std::nullopt;
}

void Session::set_drop_policy(DropPolicy policy) {
  const std::lock_guard lock(mutex_);
  options_.drop_policy = policy;
}

void Session::reset() {
  Answers answers;
  {
    const std::lock_guard lock(mutex_);
    if (closed_) return;
    flush_all(answers);
    last_timestamp_us_.reset();
    reset_pending_ = true;
  }
  deliver(answers);
}

void Session::close() {
  Answers answers;
  {
    const std::lock_guard lock(mutex_);
    if (closed_) return;
    closed_ = true;
    stats_.closed = true;
    flush_all(answers);
  }
  run_queue_->forget(this);
  deliver(answers);
}

bool Session::closed() const {
  const std::lock_guard lock(mutex_);
  return closed_;
}

SessionStats Session::stats() const {
  const std::lock_guard lock(mutex_);
  SessionStats stats = stats_;
  stats.buffered = reorder_.pending_count();
  stats.queued = queue_.size();
  return stats;
}

// Queued frames first (they are the lower numbers), then the buffered ones, which come out of the
// reorder buffer's reset as Released (answered superseded: they never reach the trackers) with the gaps
// between them lost.
void Session::flush_all(Answers& answers) {
  for (const Queued& queued : queue_) {
    drop({queued.frame.sequence, queued.frame.sequence}, DroppedReason::superseded, answers);
  }
  queue_.clear();
  events_.clear();
  reorder_.reset(events_);
  for (auto& event : events_) {
    if (auto* released = std::get_if<Released<Pending>>(&event)) {
      const std::uint64_t sequence = released->frame.sequence;
      drop({sequence, sequence}, DroppedReason::superseded, answers);
    } else {
      const auto& dropped = std::get<Dropped>(event);
      drop(dropped.sequences, from_reorder(dropped.reason), answers);
    }
  }
}

void Session::settle(std::vector<ReorderEvent<Pending>>& events, Answers& answers) {
  for (auto& event : events) {
    if (auto* released = std::get_if<Released<Pending>>(&event)) {
      admit(std::move(released->frame), answers);
    } else {
      const auto& dropped = std::get<Dropped>(event);
      drop(dropped.sequences, from_reorder(dropped.reason), answers);
    }
  }
  events.clear();
}

// A frame released in order: check its timestamp, then queue it under the drop policy.
void Session::admit(Frame<Pending>&& frame, Answers& answers) {
  const SequenceRange self{frame.sequence, frame.sequence};
  if (frame.payload.problem != nullptr) {
    drop(self, DroppedReason::invalid, answers, std::move(*frame.payload.problem));
    return;
  }
  if (last_timestamp_us_ && frame.timestamp_us <= *last_timestamp_us_) {
    drop(self, DroppedReason::invalid, answers,
         "timestamp_us " + std::to_string(frame.timestamp_us) + " is not after the previous frame's " +
             std::to_string(*last_timestamp_us_));
    return;
  }
  last_timestamp_us_ = frame.timestamp_us;
  if (options_.drop_policy == DropPolicy::latest) {
    for (const Queued& older : queue_) {
      drop({older.frame.sequence, older.frame.sequence}, DroppedReason::superseded, answers);
    }
    queue_.clear();
  } else if (queue_.size() >= options_.max_queued_frames) {
    drop(self, DroppedReason::overflow, answers);
    return;
  }
  queue_.push_back(Queued{std::move(frame), Clock::now()});
}

// Puts the session in the run queue if it has frames and is not there or on a worker already.
void Session::schedule(Answers& answers) {
  if (scheduled_ || queue_.empty()) return;
  if (run_queue_->enqueue(shared_from_this())) {
    scheduled_ = true;
    return;
  }
  for (const Queued& queued : queue_) {  // The scheduler has stopped: nothing will run these.
    drop({queued.frame.sequence, queued.frame.sequence}, DroppedReason::superseded, answers);
  }
  queue_.clear();
}

void Session::drop(SequenceRange sequences, DroppedReason reason, Answers& answers, std::string message) {
  stats_.answers.of(reason) += count_of(sequences);
  answers.emplace_back(DroppedAnswer{sequences, reason, std::move(message)});
}

// The next frame to run, applying the drop policy, a pending reset and a pending config. nullopt (and
// the session leaves the scheduler) when there is nothing to run.
std::optional<Session::Queued> Session::take_next(Answers& answers) {
  if (closed_ || queue_.empty()) {
    scheduled_ = false;
    return std::nullopt;
  }
  if (options_.drop_policy == DropPolicy::latest) {  // The policy may have changed while frames waited.
    while (queue_.size() > 1) {
      drop({queue_.front().frame.sequence, queue_.front().frame.sequence}, DroppedReason::superseded, answers);
      queue_.pop_front();
    }
  }
  Queued job = std::move(queue_.front());
  queue_.pop_front();
  if (pending_config_) {
    if (*pending_config_ != state_.config) {
      state_.config = *pending_config_;
      reset_pending_ = true;
    }
    pending_config_.reset();
  }
  if (reset_pending_) {
    state_.reset_tracking();
    reset_pending_ = false;
  }
  return job;
}

std::optional<FrameTiming> Session::run_next(FramePipeline& pipeline, const FrameRun& run) {
  Answers answers;
  std::optional<Queued> job;
  {
    const std::lock_guard lock(mutex_);
    job = take_next(answers);
  }
  deliver(answers);
  if (!job) return std::nullopt;

  FrameResult result = run_job(*job, pipeline, run);
  const FrameTiming timing = result.timing;
  {
    const std::lock_guard lock(mutex_);
    answer_result(*job, std::move(result), answers);
  }
  // Delivered before the session can be scheduled again, so results reach the sink in sequence order.
  deliver(answers);
  {
    const std::lock_guard lock(mutex_);
    scheduled_ = false;
    if (!closed_) schedule(answers);
  }
  deliver(answers);
  return timing;
}

// The pipeline answers bad input with an error rather than throwing; this catch is for what is left
// (allocation failure, an observer throwing), so that the frame still gets its one answer and the
// session does not stay marked as scheduled.
namespace {

// The run-queue wait of a frame's threads between its construction and elapsed_ms(); 0 if unknown.
class CpuWaitStopwatch {
 public:
  using Reader = std::function<std::optional<std::uint64_t>()>;
  explicit CpuWaitStopwatch(const Reader& read) : read_(read) {
    if (!read_) return;
    const std::optional<std::uint64_t> now = read_();
    measured_ = now.has_value();
    start_ns_ = now.value_or(0);
  }
  double elapsed_ms() const {
    if (!measured_) return 0;
    // A thread that ended meanwhile leaves the process's sum smaller: counted as no wait.
    const std::uint64_t end_ns = read_().value_or(0);
    return end_ns > start_ns_ ? static_cast<double>(end_ns - start_ns_) * 1e-6 : 0;
  }

 private:
  const Reader& read_;
  bool measured_ = false;
  std::uint64_t start_ns_ = 0;
};

}  // namespace

FrameResult Session::run_job(const Queued& job, FramePipeline& pipeline, const FrameRun& run) {
  const TimePoint started = Clock::now();
  FrameResult result;
  try {
    if (observer_->on_frame) observer_->on_frame(*this, FramePhase::started);
    const CpuWaitStopwatch cpu_wait(run.read_cpu_wait_ns);
    result = pipeline.run(job.frame.payload.bytes, job.frame.timestamp_us, state_);
    result.timing.cpu_wait_ms = cpu_wait.elapsed_ms();
  } catch (const std::exception& error) {
    result.error = std::string("worker: ") + error.what();
  } catch (...) {
    result.error = "worker: unknown exception";
  }
  try {
    if (observer_->on_frame) observer_->on_frame(*this, FramePhase::finished);
  } catch (...) {
    // An observer's failure is not the frame's.
  }
  result.timing.parallel = run.parallel;
  result.timing.queue_ms = milliseconds_between(job.released_at, started);
  if (job.frame.payload.received_at != TimePoint{}) {
    result.timing.reorder_ms = milliseconds_between(job.frame.payload.received_at, job.released_at);
  }
  return result;
}

void Session::answer_result(const Queued& job, FrameResult&& result, Answers& answers) {
  const std::uint64_t sequence = job.frame.sequence;
  if (!result.ok()) {
    drop({sequence, sequence}, DroppedReason::invalid, answers, std::move(result.error));
    return;
  }
  ++stats_.answers.results;
  stats_.last_timing = result.timing;
  answers.emplace_back(ResultAnswer{sequence, job.frame.timestamp_us, std::move(result)});
}

void Session::deliver(Answers& answers) {
  for (Answer& answer : answers) {
    try {
      if (const auto* dropped = std::get_if<DroppedAnswer>(&answer)) {
        if (observer_->on_dropped) observer_->on_dropped(dropped->reason, count_of(dropped->sequences));
      } else if (observer_->on_result) {
        observer_->on_result(std::get<ResultAnswer>(answer).result.timing);
      }
      sink_(std::move(answer));
    } catch (const std::exception&) {
      // Documented: a failing sink or observer loses this answer, not the worker or the other streams.
    } catch (...) {
    }
  }
  answers.clear();
}

}  // namespace posestream::stream
