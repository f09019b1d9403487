// FramePipeline: runs one frame of one stream (decode -> pose -> pose-assisted hands) on one worker's runtimes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/helper_thread.h"
#include "hands/hands.h"
#include "pose/people.h"
#include "pose/pose.h"
#include "stream/model_library.h"
#include "vision/decode.h"
#include "vision/image.h"

namespace posestream::stream {

// What one stream asks for. The defaults are the protocol's defaults.
struct StreamConfig {
  std::optional<pose::PoseModel> pose = pose::PoseModel::full;    // nullopt: no pose.
  std::optional<hands::HandModel> hands = hands::HandModel::full;  // nullopt: no hands.
  bool smoothing = true;          // One Euro smoothing of pose landmarks (never in static_image_mode).
  bool hand_smoothing = false;    // Off by default: MediaPipe does not smooth hands.
  bool segmentation = false;      // Pose segmentation mask (costs about a third of the pose model).
  // With pose on: the pose's wrists place the hands and the palm detector never runs while a body is in
  // view (hands/hands.h, "pose-assisted"). false: the hands ignore the pose, as MediaPipe's
  // HandLandmarker (and `posestream detect`, POST /v1/detect by default) do.
  bool hands_from_pose = true;
  bool static_image_mode = false; // Every frame an unrelated image: detectors every frame, no tracking.
  float min_pose_detection_confidence = 0.5f;
  float min_pose_presence_confidence = 0.5f;
  float min_hand_detection_confidence = 0.5f;
  float min_hand_presence_confidence = 0.5f;
  int max_num_hands = 2;  // [1, 4]: each hand is one landmark-model run per frame.
  // Up to this many people per frame, in [1, pose::kMaxNumPoses] (issue 16). 1: one pose as before, the
  // result's `pose`; more: FrameResult::people, each person tracked from their own landmarks
  // (pose/people.h), each with their own hands (at most kMaxHandsPerPerson, and never more than
  // max_num_hands). Each person costs one pose landmark run per frame plus their hands' runs.
  int num_poses = 1;
  // num_poses > 1, VIDEO mode: the pose detector looks for newcomers at most once per this many
  // milliseconds of stream time while fewer than num_poses people are tracked (PeopleOptions). In
  // [0, kMaxDetectorIntervalMs]; 0: every such frame (MediaPipe's own policy).
  double detector_interval_ms = pose::PeopleOptions{}.detector_interval_ms;

  friend bool operator==(const StreamConfig&, const StreamConfig&) = default;
};

inline constexpr int kMaxNumHands = 4;
// One body has two hands: a person's wrists never give more, whatever max_num_hands allows the frame.
inline constexpr int kMaxHandsPerPerson = 2;
// A minute of stream time: beyond it a newcomer would wait longer than any client would.
inline constexpr double kMaxDetectorIntervalMs = 60'000;

// Empty if usable, else a message naming the setting and the bad value, e.g.
// "stream config: max_num_hands 9 is outside [1, 4]".
std::optional<std::string> validate(const StreamConfig& config);

// Everything one stream carries from frame to frame. A plain value: it moves between workers with its
// stream, and FramePipeline holds none of it.
struct StreamState {
  StreamConfig config;
  pose::PoseState pose;      // num_poses 1.
  hands::HandState hands;    // Hands of nobody: num_poses 1, or no pose-assisted hands, or nobody in view.
  pose::PeopleState people;  // num_poses > 1.
  // num_poses > 1 with pose-assisted hands: each tracked person's hands, keyed by Person::id. A person
  // who is no longer tracked loses their entry (a new id is a new person).
  std::map<std::int64_t, hands::HandState> person_hands;
  std::optional<std::int64_t> last_timestamp_us;  // Of the previous frame run, for the tracking gap.

  void reset_tracking() {
    pose.reset();
    hands.reset();
    people.reset();
    person_hands.clear();
    last_timestamp_us.reset();
  }
};

// Milliseconds (steady clock), per stage. `reorder` (received -> released in order, i.e. waiting for a
// missing sequence) and `queue` (released -> worker start) are filled by the Session; the pipeline fills
// the rest. total = decode + pose + hands + the glue between them (not reorder or queue), except that with
// PipelineOptions::concurrent_stages pose and hands can overlap: hands_ms is then the hands stage's own
// work (its part alongside the pose plus its part after), and total can be less than the sum.
struct FrameTiming {
  double reorder_ms = 0;
  double queue_ms = 0;
  double decode_ms = 0;
  double pose_ms = 0;
  double hands_ms = 0;
  double total_ms = 0;
  // Parts of pose_ms: the detector (crop, invoke, decoding), the landmark model, the One Euro filters.
  double pose_detector_ms = 0;
  double pose_landmarks_ms = 0;
  double pose_smoothing_ms = 0;
  // Pose detector invocations: 0 or 1 with num_poses 1; with more, the whole frame, the zoom and each
  // tile of the newcomer search count one each (pose::PeopleTiming::detector_runs).
  int pose_detector_runs = 0;
  int palm_detector_runs = 0;
  int hand_landmark_runs = 0;
  // Pose landmark model runs: one per person tried with num_poses > 1 (pose::PeopleTiming), else 0 or 1.
  int pose_landmark_runs = 0;
  int poses = 0;  // People in the answer (num_poses 1: 0 or 1).
  bool concurrent = false;  // Pose and the tracked hands ran side by side (PipelineOptions::concurrent_stages).
  // Filled by the Scheduler (stream/parallelism.h): whether the frame ran on the inference pool and its
  // helper ("parallel") or on its worker's thread alone ("single"), and how long the threads that ran it
  // were runnable but not running (the kernel's run-queue wait: CPU taken by other threads or processes).
  bool parallel = false;
  double cpu_wait_ms = 0;
};

// One frame's answer. ok() or `error` names the stage and what went wrong ("decode: truncated JPEG
// (...)"); on error the other fields are whatever was known (image size if decoding got that far).
// One person of a num_poses > 1 frame: their pose and the hands their wrists gave.
struct PersonResult {
  std::int64_t id = 0;  // pose::Person::id: stable while tracked.
  pose::Pose pose;
  std::vector<hands::Hand> hands;
};

struct FrameResult {
  int width = 0;   // Of the decoded image, pixels.
  int height = 0;
  std::optional<pose::Pose> pose;  // nullopt: pose off, no pose found, or num_poses > 1 (see people).
  // Hands that belong to nobody: every hand with num_poses 1; with more, the hands found without a
  // person (pose off, hands_from_pose off, or the palm detector while nobody is in view).
  std::vector<hands::Hand> hands;
  // Set for num_poses > 1 (even with nobody in view): the answer then lists `people`, not `pose`.
  bool multi_person = false;
  std::vector<PersonResult> people;  // In the order they were first found (pose::track_people).
  FrameTiming timing;
  std::string decode_warning;  // A codec warning the image decoded despite; usually empty.
  std::string error;

  bool ok() const noexcept { return error.empty(); }
};

// With PipelineOptions::concurrent_stages, how many tracked hands' landmark runs go beside the pose: one
// run (~23 ms on one thread, pose full ~26) hides behind the pose; a second would make the helper twice
// as long as the pose, so the other tracked hands run after it, on the pool.
inline constexpr std::size_t kTrackedHandRunsBesidePose = 1;

struct PipelineOptions {
  // Frames beyond these are refused before any pixel buffer is allocated (see vision/decode.h).
  vision::DecodeLimits decode_limits;
  // Each runtime's own thread pool. 1 (the worker's thread only): parallelism comes from workers.
  int threads_per_runtime = 1;
  // Or every runtime on this pool, shared with other pipelines (threads_per_runtime must stay 1): one
  // stream alone gets all its threads for each operator, several streams take turns operator by
  // operator (engine::ThreadPool). nullptr: none.
  std::shared_ptr<engine::ThreadPool> inference_pool;
  // Task parallelism: on a tracking frame with pose and hands (not static_image_mode, hands tracked
  // from the previous frame) the pipeline's own helper thread runs the landmark model on the first
  // tracked hand's ROI (kTrackedHandRunsBesidePose) while the calling thread runs the pose; the rest of
  // the hands stage follows the pose.
  // Same results as without. The two overlapping parts run on runtimes of one thread each (a second set
  // of them if inference_pool is given, since the pool's runtimes would take turns operator by operator:
  // 53 MB resident more for pose full + hands full); the rest of those frames, and the other frames, run
  // as without. Needs threads_per_runtime 1.
  bool concurrent_stages = false;
  // With hands placed from the pose (StreamConfig::hands_from_pose, tracking mode): after a longer gap
  // between a stream's frames (frames superseded on a busy server, or a slow camera) the hands tracked
  // from the last frame's landmarks are dropped rather than tried, and the pose's wrists find them
  // again. The hand has usually left its old ROI by then: on the golden sequence taken every 9th frame
  // (8 streams on 2 cores) the tracked ROI lost the hand in most frames, each costing a wasted landmark
  // run before the pose's ROI found it. 0: never (MediaPipe tracks across any gap).
  double max_hand_tracking_gap_ms = 100;
};

// Per worker thread; not thread-safe. Owns the runtimes, created on first use and kept: creating one
// costs 3-55 ms, running a frame about as much, so they are never created per frame or per stream.
// Holds no per-stream state: any stream's StreamState may be run on any worker's pipeline.
class FramePipeline {
 public:
  // `models` must be non-null; it is shared (the runtimes keep their models alive anyway).
  explicit FramePipeline(std::shared_ptr<ModelLibrary> models, PipelineOptions options = {});

  // Creates now the runtimes `config` needs, so the first frame does not pay for them.
  // Throws engine::ModelError / hands::HandError (a missing or malformed model file).
  void prewarm(const StreamConfig& config);

  // Decodes `bytes` (JPEG or PNG; does not retain them) and runs the image. Never throws: a bad image,
  // an unloadable model or an inference failure comes back as FrameResult::error, and `state` is left
  // usable. `timestamp_us`: the client's capture time; callers keep it strictly increasing per stream.
  FrameResult run(std::span<const std::uint8_t> bytes, std::int64_t timestamp_us, StreamState& state);
  // The same, from an already decoded image (the CLI's video command).
  FrameResult run(const vision::Image& image, std::int64_t timestamp_us, StreamState& state);

  const PipelineOptions& options() const noexcept { return options_; }

 private:
  // The runtimes the options give (on inference_pool if any), or one-thread ones for the concurrent
  // frames (the same ones without a pool).
  enum class Threading { configured, one_thread };
  pose::PoseRuntimes& pose_runtimes(pose::PoseModel variant, bool segmentation, Threading threading);
  hands::HandRuntimes& hand_runtimes(hands::HandModel variant, Threading threading);
  bool on_pool(Threading threading) const { return options_.inference_pool && threading == Threading::configured; }
  bool runs_concurrently(const StreamState& state) const;
  // num_poses > 1 (frame_pipeline_people.cpp): everyone's pose, then each person's hands.
  void track_people(const vision::Image& image, std::int64_t timestamp_us, StreamState& state, FrameResult& result);
  void track_person_hands(const vision::Image& image, std::int64_t timestamp_us, StreamState& state,
                          FrameResult& result);
  void drop_stale_hand_tracking(std::int64_t timestamp_us, StreamState& state) const;
  void track(const vision::Image& image, std::int64_t timestamp_us, StreamState& state, FrameResult& result);
  void track_pose(const vision::Image& image, std::int64_t timestamp_us, StreamState& state, FrameResult& result,
                  Threading threading);
  void track_hands(const vision::Image& image, std::int64_t timestamp_us, StreamState& state, FrameResult& result,
                   Threading threading, std::optional<hands::TrackedHandRuns> tracked_runs);
  void track_concurrently(const vision::Image& image, std::int64_t timestamp_us, StreamState& state,
                          FrameResult& result);

  std::shared_ptr<ModelLibrary> models_;
  PipelineOptions options_;
  // Keyed by variant, (segmentation,) and on_pool().
  std::map<std::tuple<pose::PoseModel, bool, bool>, std::unique_ptr<pose::PoseRuntimes>> pose_runtimes_;
  std::map<std::pair<hands::HandModel, bool>, std::unique_ptr<hands::HandRuntimes>> hand_runtimes_;
  std::unique_ptr<engine::HelperThread> helper_;  // With concurrent_stages only.
  // The arenas of the runtimes' intermediates: one for the whole worker, whose models run one after the
  // other (a worker holds one largest arena, not one per model); with concurrent_stages the hands, which
  // then run beside the pose, have their own.
  std::shared_ptr<engine::Workspace> pose_workspace_;
  std::shared_ptr<engine::Workspace> hands_workspace_;
};

// The tracker options a config implies (exposed for the CLI, which runs trackers directly).
pose::PoseOptions pose_options(const StreamConfig& config);
pose::PeopleOptions people_options(const StreamConfig& config);
hands::HandOptions hand_options(const StreamConfig& config);

}  // namespace posestream::stream
