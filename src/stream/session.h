// Session: one client stream: ordering, timestamp checks, drop policy, tracking state and stats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "stream/frame_pipeline.h"
#include "stream/reorder_buffer.h"

namespace posestream::stream {

class RunQueue;
class Session;

// What happens to in-order frames that are ready while the stream's previous frame is still waiting for
// or running on a worker.
enum class DropPolicy {
  latest,  // Live video: only the newest waits; each older one is answered `superseded` at once.
  all,     // Offline analysis: every frame runs, at most max_queued_frames waiting; more: `overflow`.
};
const char* to_string(DropPolicy policy) noexcept;  // "latest" | "all"
std::optional<DropPolicy> parse_drop_policy(std::string_view name) noexcept;

// The wire protocol's `dropped` reasons. The reorder buffer decides late / duplicate / lost; the Session
// adds the rest.
enum class DroppedReason { late, duplicate, lost, superseded, overflow, invalid };
const char* to_string(DroppedReason reason) noexcept;  // "late", "duplicate", ... as on the wire.

// One frame as the network side parsed it.
struct FrameInput {
  std::uint64_t sequence = 0;
  std::int64_t timestamp_us = 0;    // The client's capture time; must increase along the sequence.
  std::vector<std::uint8_t> bytes;  // The encoded image (JPEG or PNG). Moved in, never copied.
  TimePoint received_at{};          // When the message arrived (steady clock), for timing; may be unset.
  // Not empty: the frame is known unusable before any decoding (not an image, over a limit, a bad
  // message). It keeps its place in the sequence and is answered `invalid` when released in order,
  // without reaching a worker, so junk costs a stream's neighbours nothing.
  std::string problem;
};

struct ResultAnswer {
  std::uint64_t sequence = 0;
  std::int64_t timestamp_us = 0;
  FrameResult result;  // Always ok(): a failed frame is answered DroppedAnswer{invalid}.
};

struct DroppedAnswer {
  SequenceRange sequences;  // One number, except `lost` skips longer than ReorderOptions::max_lost_burst.
  DroppedReason reason = DroppedReason::lost;
  std::string message;      // For `invalid`: what was wrong (decoder message, timestamps). Else empty.
};

using Answer = std::variant<ResultAnswer, DroppedAnswer>;

// Receives every answer of one stream. Called from the thread that called push/poll/reset/close (the
// network side) and from worker threads, possibly at the same time, never with the Session's lock held,
// so it may call back into the Session. Results arrive in sequence order; a dropped answer may overtake
// a result still being delivered. It should be quick (post to the connection's strand). Exceptions it
// throws are caught and discarded, so that a failing sink cannot take a worker down.
using AnswerSink = std::function<void(Answer&& answer)>;

enum class FramePhase { started, finished };

// Process-wide observers, for /metrics and tests. Each is optional, called from network and worker
// threads at once (so must be thread-safe), without any lock held.
struct StreamObserver {
  // Every dropped answer; `count` is the number of sequence numbers it covers.
  std::function<void(DroppedReason reason, std::uint64_t count)> on_dropped;
  // Every result, with its timings (reorder and queue included).
  std::function<void(const FrameTiming& timing)> on_result;
  // A worker starts / finishes running one of `session`'s frames (around the pipeline, on the worker).
  std::function<void(const Session& session, FramePhase phase)> on_frame;
};

struct SessionOptions {
  ReorderOptions reorder;
  DropPolicy drop_policy = DropPolicy::latest;
  // Policy `all`: released frames waiting for a worker, at most. Range [1, 1024]. (Policy `latest`
  // keeps at most one waiting by construction.)
  std::size_t max_queued_frames = 16;
  StreamConfig config;
};

// Empty if usable, else a message naming the setting and bad value.
std::optional<std::string> validate(const SessionOptions& options);

// Per-stream counters: how every sequence number was answered (a `lost` range counts each number).
struct AnswerCounts {
  std::uint64_t results = 0;
  std::uint64_t late = 0;
  std::uint64_t duplicate = 0;
  std::uint64_t lost = 0;
  std::uint64_t superseded = 0;
  std::uint64_t overflow = 0;
  std::uint64_t invalid = 0;

  std::uint64_t& of(DroppedReason reason) noexcept;
  std::uint64_t total() const noexcept { return results + late + duplicate + lost + superseded + overflow + invalid; }
};

struct SessionStats {
  AnswerCounts answers;
  std::uint64_t frames_received = 0;  // push() calls, duplicates included.
  std::size_t buffered = 0;           // Held in the reorder buffer, waiting for a missing sequence.
  std::size_t queued = 0;             // Released, waiting for a worker.
  std::optional<FrameTiming> last_timing;  // Of the latest result.
  bool closed = false;
};

// Thread-safe (one mutex per session; nothing global). Held by shared_ptr: the network side and, while
// it has frames to run, the Scheduler's run queue. Create it with Scheduler::open_session.
//
// Every frame pushed gets exactly one answer through the sink: a result, or dropped with a reason
// (see DESIGN.md "Ordering and latency"). In release order, a timestamp not strictly greater than the
// last released frame's is answered `invalid` and never reaches the trackers; so are frames the decoder
// or the trackers refuse. The stream's tracking state runs on at most one worker at a time.
// Frames held per stream, at most: reorder_capacity - 1 buffered, max_queued_frames (policy all) or 1
// (policy latest) queued, and one running.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // For Scheduler::open_session. Throws std::invalid_argument naming a bad option.
  Session(SessionOptions options, AnswerSink sink, std::shared_ptr<RunQueue> run_queue,
          std::shared_ptr<const StreamObserver> observer);
  // Answers whatever is still pending, as close() does.
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // A frame from the client. `now`: a steady-clock reading (the reorder buffer's gap timeout). After
  // close() the frame is answered `superseded`.
  void push(FrameInput&& frame, TimePoint now);
  // Applies the gap timeout. The network side calls it at next_deadline().
  void poll(TimePoint now);
  // When poll() is next due; nullopt when nothing waits for a missing sequence.
  std::optional<TimePoint> next_deadline() const;

  // Takes effect from the next frame a worker starts (frames already queued included). A config that
  // differs from the current one restarts tracking. Returns validate()'s message if refused.
  std::optional<std::string> configure(const StreamConfig& config);
  void set_drop_policy(DropPolicy policy);
  // The client's "reset": frames buffered or queued are answered `superseded` (gaps between buffered
  // frames `lost`), sequence numbers and timestamps start over (next expected 0), and tracking restarts
  // from the next frame. A frame already running still gets its result.
  void reset();
  // Answers everything buffered or queued (`superseded`; gaps `lost`) and stops scheduling the stream.
  // A frame already running still gets its result. Idempotent.
  void close();
  bool closed() const;

  SessionStats stats() const;

 private:
  friend class Scheduler;

  struct Pending {  // The reorder buffer's payload.
    std::vector<std::uint8_t> bytes;
    TimePoint received_at{};
    // FrameInput::problem, or nullptr. Not a std::string member: that sets off GCC 12's false
    // -Wmaybe-uninitialized in the reorder buffer's std::variant moves.
    std::unique_ptr<std::string> problem;
  };
  struct Queued {
    Frame<Pending> frame;
    TimePoint released_at;
  };
  using Answers = std::vector<Answer>;

  // Worker side (Scheduler): runs the next queued frame, or nothing if there is none any more.
  // How a worker runs a frame (Scheduler): on which path, and how to read the summed run-queue wait of the
  // threads that run it (nanoseconds; unset or nullopt: not measured). Both go into FrameTiming.
  struct FrameRun {
    bool parallel = false;
    std::function<std::optional<std::uint64_t>()> read_cpu_wait_ns;
  };
  // Runs the next frame, if any; its timing, for the Scheduler's ParallelismGovernor.
  std::optional<FrameTiming> run_next(FramePipeline& pipeline, const FrameRun& run);

  void settle(std::vector<ReorderEvent<Pending>>& events, Answers& answers);
  void admit(Frame<Pending>&& frame, Answers& answers);
  void schedule(Answers& answers);
  std::optional<Queued> take_next(Answers& answers);
  FrameResult run_job(const Queued& job, FramePipeline& pipeline, const FrameRun& run);
  void answer_result(const Queued& job, FrameResult&& result, Answers& answers);
  void drop(SequenceRange sequences, DroppedReason reason, Answers& answers, std::string message = {});
  void flush_all(Answers& answers);
  void deliver(Answers& answers);

  const std::shared_ptr<RunQueue> run_queue_;
  const std::shared_ptr<const StreamObserver> observer_;
  const AnswerSink sink_;

  mutable std::mutex mutex_;
  // Guarded by mutex_:
  SessionOptions options_;
  ReorderBuffer<Pending> reorder_;
  std::deque<Queued> queue_;
  std::optional<std::int64_t> last_timestamp_us_;  // Of the last frame released in order.
  std::optional<StreamConfig> pending_config_;
  bool reset_pending_ = false;
  bool scheduled_ = false;  // In the run queue or on a worker: never both, never twice.
  bool closed_ = false;
  SessionStats stats_;
  std::vector<ReorderEvent<Pending>> events_;  // Scratch, kept to reuse its capacity.

  // Touched only by the worker running this session (scheduled_ makes that one worker at a time).
  StreamState state_;
};

}  // namespace posestream::stream
