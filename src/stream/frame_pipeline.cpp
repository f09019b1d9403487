// FramePipeline: one frame through decode, pose and pose-assisted hands, with per-stage timing.
#include "stream/frame_pipeline.h"
#include "stream/stage_clock.h"

#include <chrono>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace posestream::stream {
namespace {

std::optional<std::string> check_unit_interval(const char* name, float value) {
  if (value >= 0.0f && value <= 1.0f) return std::nullopt;  // Also refuses NaN.
  return std::string("stream config: ") + name + " " + std::to_string(value) + " is outside [0, 1]";
}

}  // namespace

std::optional<std::string> validate(const StreamConfig& config) {
  if (config.max_num_hands < 1 || config.max_num_hands > kMaxNumHands) {
    return "stream config: max_num_hands " + std::to_string(config.max_num_hands) + " is outside [1, " +
           std::to_string(kMaxNumHands) + "]";
  }
  const std::pair<const char*, float> confidences[] = {
      {"min_pose_detection_confidence", config.min_pose_detection_confidence},
      {"min_pose_presence_confidence", config.min_pose_presence_confidence},
      {"min_hand_detection_confidence", config.min_hand_detection_confidence},
      {"min_hand_presence_confidence", config.min_hand_presence_confidence},
  };
  for (const auto& [name, value] : confidences) {
    if (auto error = check_unit_interval(name, value)) return error;
  }
  if (config.num_poses < 1 || config.num_poses > pose::kMaxNumPoses) {
    return "stream config: num_poses " + std::to_string(config.num_poses) + " is outside [1, " +
           std::to_string(pose::kMaxNumPoses) + "]";
  }
  // Written so that NaN fails too.
  if (!(config.detector_interval_ms >= 0 && config.detector_interval_ms <= kMaxDetectorIntervalMs)) {
    return "stream config: detector_interval_ms " + std::to_string(config.detector_interval_ms) + " is outside [0, " +
           std::to_string(static_cast<int>(kMaxDetectorIntervalMs)) + "]";
  }
  return std::nullopt;
}

pose::PoseOptions pose_options(const StreamConfig& config) {
  pose::PoseOptions options;
  options.model = config.pose.value_or(pose::PoseModel::full);
  options.min_detection_confidence = config.min_pose_detection_confidence;
  options.min_tracking_confidence = config.min_pose_presence_confidence;
  options.smoothing = config.smoothing;
  options.segmentation = config.segmentation;
  options.static_image_mode = config.static_image_mode;
  return options;
}

pose::PeopleOptions people_options(const StreamConfig& config) {
  pose::PeopleOptions options;
  options.pose = pose_options(config);
  options.num_poses = config.num_poses;
  options.detector_interval_ms = config.detector_interval_ms;
  return options;
}

hands::HandOptions hand_options(const StreamConfig& config) {
  hands::HandOptions options;
  options.model = config.hands.value_or(hands::HandModel::full);
  options.max_num_hands = config.max_num_hands;
  options.min_detection_confidence = config.min_hand_detection_confidence;
  options.min_presence_confidence = config.min_hand_presence_confidence;
  options.smoothing = config.hand_smoothing;
  options.static_image_mode = config.static_image_mode;
  return options;
}

FramePipeline::FramePipeline(std::shared_ptr<ModelLibrary> models, PipelineOptions options)
    : models_(std::move(models)), options_(options) {
  if (models_ == nullptr) throw std::invalid_argument("frame pipeline: no model library");
  if (options_.threads_per_runtime < 1) {
    throw std::invalid_argument("frame pipeline: threads_per_runtime " +
                                std::to_string(options_.threads_per_runtime) + " is below 1");
  }
  if (options_.inference_pool != nullptr && options_.threads_per_runtime != 1) {
    throw std::invalid_argument("frame pipeline: threads_per_runtime " + std::to_string(options_.threads_per_runtime) +
                                " and a shared inference pool of " +
                                std::to_string(options_.inference_pool->size()) + " threads; give one");
  }
  if (options_.concurrent_stages) {
    // Each stage runs on one thread; runtimes on more would compete for the same two cores.
    if (options_.threads_per_runtime != 1) {
      throw std::invalid_argument("frame pipeline: concurrent_stages needs threads_per_runtime 1, got " +
                                  std::to_string(options_.threads_per_runtime));
    }
    helper_ = std::make_unique<engine::HelperThread>();
  }
  pose_workspace_ = std::make_shared<engine::Workspace>();
  hands_workspace_ = options_.concurrent_stages ? std::make_shared<engine::Workspace>() : pose_workspace_;
}

void FramePipeline::prewarm(const StreamConfig& config) {
  std::vector<Threading> threadings = {Threading::configured};
  const bool concurrent = helper_ && config.pose && config.hands && !config.static_image_mode;
  if (concurrent && options_.inference_pool) threadings.push_back(Threading::one_thread);
  for (Threading threading : threadings) {
    if (config.pose) pose_runtimes(*config.pose, config.segmentation, threading);
    if (config.hands) hand_runtimes(*config.hands, threading);
  }
}

pose::PoseRuntimes& FramePipeline::pose_runtimes(pose::PoseModel variant, bool segmentation, Threading threading) {
  auto& slot = pose_runtimes_[{variant, segmentation, on_pool(threading)}];
  if (slot == nullptr) {
    const pose::PoseModels models = models_->pose(variant);
    slot = on_pool(threading)
               ? std::make_unique<pose::PoseRuntimes>(models, options_.inference_pool, segmentation, pose_workspace_)
               : std::make_unique<pose::PoseRuntimes>(models, options_.threads_per_runtime, segmentation,
                                                      pose_workspace_);
  }
  return *slot;
}

hands::HandRuntimes& FramePipeline::hand_runtimes(hands::HandModel variant, Threading threading) {
  auto& slot = hand_runtimes_[{variant, on_pool(threading)}];
  if (slot == nullptr) {
    const hands::HandModels models = models_->hands(variant);
    slot = on_pool(threading)
               ? std::make_unique<hands::HandRuntimes>(models, options_.inference_pool, hands_workspace_)
               : std::make_unique<hands::HandRuntimes>(models, options_.threads_per_runtime, hands_workspace_);
  }
  return *slot;
}

FrameResult FramePipeline::run(std::span<const std::uint8_t> bytes, std::int64_t timestamp_us,
                               StreamState& state) {
  const SteadyClock::time_point start = SteadyClock::now();
  vision::DecodeResult decoded = vision::decode_image(bytes, options_.decode_limits);
  const double decode_ms = milliseconds_since(start);
  if (!decoded.ok()) {
    FrameResult result;
    result.error = "decode: " + decoded.error;
    result.timing.decode_ms = decode_ms;
    result.timing.total_ms = milliseconds_since(start);
    return result;
  }
  FrameResult result = run(decoded.image, timestamp_us, state);
  result.decode_warning = std::move(decoded.warning);
  result.timing.decode_ms = decode_ms;
  result.timing.total_ms = milliseconds_since(start);
  return result;
}

FrameResult FramePipeline::run(const vision::Image& image, std::int64_t timestamp_us, StreamState& state) {
  const SteadyClock::time_point start = SteadyClock::now();
  FrameResult result;
  result.width = image.width;
  result.height = image.height;
  // Model files, images and XNNPACK can all fail; none of it may take the worker (and with it every
  // other stream) down, so every failure becomes this frame's answer.
  try {
    track(image, timestamp_us, state, result);
  } catch (const std::exception& error) {
    result.pose.reset();
    result.hands.clear();
    result.people.clear();
    result.error = error.what();
  }
  result.timing.poses = result.people.empty() ? (result.pose ? 1 : 0) : static_cast<int>(result.people.size());
  result.timing.total_ms = milliseconds_since(start);
  return result;
}

void FramePipeline::track(const vision::Image& image, std::int64_t timestamp_us, StreamState& state,
                          FrameResult& result) {
  const StreamConfig& config = state.config;
  drop_stale_hand_tracking(timestamp_us, state);
  state.last_timestamp_us = timestamp_us;
  if (config.num_poses > 1) {
    track_people(image, timestamp_us, state, result);
    return;
  }
  if (runs_concurrently(state)) {
    track_concurrently(image, timestamp_us, state, result);
    return;
  }
  if (config.pose) track_pose(image, timestamp_us, state, result, Threading::configured);
  if (config.hands) track_hands(image, timestamp_us, state, result, Threading::configured, std::nullopt);
}

// PipelineOptions::max_hand_tracking_gap_ms. Before the frame, so that the concurrent path (whose tracked
// runs start before the pose) and the sequential one decide alike.
void FramePipeline::drop_stale_hand_tracking(std::int64_t timestamp_us, StreamState& state) const {
  const StreamConfig& config = state.config;
  const double max_gap_us = options_.max_hand_tracking_gap_ms * 1000.0;
  if (max_gap_us <= 0 || !state.last_timestamp_us || !config.pose || !config.hands || !config.hands_from_pose ||
      config.static_image_mode) {
    return;
  }
  if (static_cast<double>(timestamp_us - *state.last_timestamp_us) <= max_gap_us) return;
  state.hands.drop_tracked();
  for (auto& [id, hands] : state.person_hands) hands.drop_tracked();
}

// Only the tracked hands' landmark runs can go beside the pose: without them there is nothing to overlap.
// One person only: several people's frames run their stages in turn (frame_pipeline_people.cpp).
bool FramePipeline::runs_concurrently(const StreamState& state) const {
  const StreamConfig& config = state.config;
  return helper_ != nullptr && config.num_poses == 1 && config.pose && config.hands && !config.static_image_mode &&
         !state.hands.tracked.empty();
}

void FramePipeline::track_pose(const vision::Image& image, std::int64_t timestamp_us, StreamState& state,
                               FrameResult& result, Threading threading) {
  const StreamConfig& config = state.config;
  const SteadyClock::time_point start = SteadyClock::now();
  pose::PoseRuntimes& runtimes = pose_runtimes(*config.pose, config.segmentation, threading);
  pose::PoseTiming timing;
  result.pose = pose::track_pose(image, timestamp_us, state.pose, runtimes, pose_options(config), &timing);
  result.timing.pose_ms = milliseconds_since(start);
  result.timing.pose_detector_ms = timing.detector_ms;
  result.timing.pose_landmarks_ms = timing.landmarks_ms;
  result.timing.pose_smoothing_ms = timing.smoothing_ms;
  result.timing.pose_detector_runs = timing.detector_ran ? 1 : 0;
  result.timing.pose_landmark_runs = timing.landmarks_ran ? 1 : 0;
}

// The hands stage after the pose, with the tracked ROIs' runs already done if `tracked_runs` holds them.
void FramePipeline::track_hands(const vision::Image& image, std::int64_t timestamp_us, StreamState& state,
                                FrameResult& result, Threading threading,
                                std::optional<hands::TrackedHandRuns> tracked_runs) {
  const StreamConfig& config = state.config;
  const SteadyClock::time_point start = SteadyClock::now();
  hands::HandRuntimes& runtimes = hand_runtimes(*config.hands, threading);
  // With a body in view the pose's wrists place the hands and the palm detector never runs.
  std::span<const vision::Landmark> pose_landmarks;
  if (result.pose && config.hands_from_pose) pose_landmarks = result.pose->landmarks;
  const hands::HandOptions options = hand_options(config);
  hands::HandTiming timing;
  if (tracked_runs) {
    result.hands = hands::finish_hands(image, timestamp_us, state.hands, runtimes, options, std::move(*tracked_runs),
                                       pose_landmarks, &timing);
  } else {
    result.hands = hands::track_hands(image, timestamp_us, state.hands, runtimes, options, pose_landmarks, &timing);
  }
  result.timing.hands_ms += milliseconds_since(start);
  result.timing.palm_detector_runs = timing.palm_detector_runs;
  result.timing.hand_landmark_runs = timing.landmark_runs;
}

// The pose here, the first tracked hand's landmark run (which needs no pose) on the helper thread, both
// on one-thread runtimes, then the rest of the hands stage on the configured ones: its landmark runs
// (other tracked hands, new hands at the pose's wrists, fallbacks) can have the pool again. The
// runtimes are created first, on this thread: the maps are not shared.
void FramePipeline::track_concurrently(const vision::Image& image, std::int64_t timestamp_us, StreamState& state,
                                       FrameResult& result) {
  const StreamConfig& config = state.config;
  result.timing.concurrent = true;
  pose_runtimes(*config.pose, config.segmentation, Threading::one_thread);
  hands::HandRuntimes& runtimes = hand_runtimes(*config.hands, Threading::one_thread);
  const hands::HandOptions options = hand_options(config);
  std::optional<hands::TrackedHandRuns> tracked_runs;
  double tracked_ms = 0;
  helper_->run_alongside([&] { track_pose(image, timestamp_us, state, result, Threading::one_thread); },
                         [&] {
                           const SteadyClock::time_point start = SteadyClock::now();
                           tracked_runs = hands::run_tracked_hands(image, state.hands, runtimes, options,
                                                                  kTrackedHandRunsBesidePose);
                           tracked_ms = milliseconds_since(start);
                         });
  result.timing.hands_ms = tracked_ms;
  track_hands(image, timestamp_us, state, result, Threading::configured, std::move(tracked_runs));
}

}  // namespace posestream::stream
