// track_hands: tasks-vision's HandLandmarkerGraph in IMAGE and VIDEO modes, and the pose-assisted mode.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "hands/hand_association.h"
#include "hands/hand_deduplication.h"
#include "hands/hand_landmarks.h"
#include "hands/hands.h"
#include "hands/palm_detector.h"
#include "vision/rects.h"

namespace posestream::hands {
namespace {

constexpr size_t kPoseLandmarkCount = 33;

using Clock = std::chrono::steady_clock;

double elapsed_ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

bool in_unit_interval(float value) { return value >= 0.0f && value <= 1.0f; }

void validate(const vision::Image& image, const HandOptions& options, std::span<const vision::Landmark> pose,
              const HandRuntimes& runtimes) {
  if (!image.is_valid()) {
    throw HandError("hands: invalid image " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                    " with " + std::to_string(image.pixels.size()) + " bytes");
  }
  if (options.max_num_hands < 1) {
    throw HandError("hands: max_num_hands must be >= 1, got " + std::to_string(options.max_num_hands));
  }
  if (!(options.min_tracking_iou > 0.0f && options.min_tracking_iou <= 1.0f)) {
    throw HandError("hands: min_tracking_iou must be in (0, 1], got " + std::to_string(options.min_tracking_iou));
  }
  if (!in_unit_interval(options.min_detection_confidence) || !in_unit_interval(options.min_presence_confidence)) {
    throw HandError("hands: confidences must be in [0, 1], got detection " +
                    std::to_string(options.min_detection_confidence) + ", presence " +
                    std::to_string(options.min_presence_confidence));
  }
  if (!pose.empty() && pose.size() != kPoseLandmarkCount) {
    throw HandError("hands: pose landmarks must be empty or 33, got " + std::to_string(pose.size()));
  }
  if (runtimes.variant() != options.model) {
    throw HandError("hands: options ask for the other model variant than these runtimes hold");
  }
}

// The ROIs this frame runs the landmark model on, tracked ones first, and how many are tracked.
struct FrameRois {
  std::vector<vision::NormalizedRect> rois;
  size_t tracked_count = 0;
  // Pose-assisted mode only: per tracked ROI, the pose's ROI for the same hand, tried when tracking
  // loses the hand this frame.
  std::vector<std::optional<vision::NormalizedRect>> fallbacks;
};

std::vector<vision::NormalizedRect> palm_rois(const vision::Image& image, HandRuntimes& runtimes,
                                              const HandOptions& options, HandTiming* timing) {
  const Clock::time_point start = Clock::now();
  const std::vector<vision::Detection> palms =
      runtimes.palm_detector().detect(image, options.min_detection_confidence, runtimes.scratch());
  if (timing != nullptr) {
    timing->palm_detector_ms += elapsed_ms(start);
    ++timing->palm_detector_runs;
  }
  return hand_rois_from_palms(palms, {image.width, image.height}, options.max_num_hands);
}

FrameRois frame_rois(const vision::Image& image, const HandState& state, HandRuntimes& runtimes,
                     const HandOptions& options, std::span<const vision::Landmark> pose, HandTiming* timing) {
  const size_t max_hands = static_cast<size_t>(options.max_num_hands);
  const vision::ImageSize size{image.width, image.height};
  FrameRois frame;
  if (!options.static_image_mode) {
    for (const HandState::TrackedHand& hand : state.tracked) {
      frame.rois.push_back(hand.roi);
    }
  }
  frame.tracked_count = frame.rois.size();
  PoseRois pose_rois;
  if (!pose.empty()) {
    pose_rois = sort_pose_rois(hand_rois_from_pose(pose, size), frame.rois, size);
    frame.fallbacks = std::move(pose_rois.fallbacks);
  }
  // The tracking gate (NormalizedRectVectorHasMinSize + DisallowIf): no new ROIs once enough are tracked.
  if (frame.tracked_count < max_hands) {
    const std::vector<vision::NormalizedRect> candidates =
        pose.empty() ? palm_rois(image, runtimes, options, timing) : std::move(pose_rois.untracked);
    frame.rois = associate_hand_rects(frame.rois, candidates, options.min_tracking_iou);
  }
  if (frame.rois.size() > max_hands) {
    frame.rois.resize(max_hands);  // ClipNormalizedRectVectorSize.
    frame.tracked_count = std::min(frame.tracked_count, max_hands);
  }
  return frame;
}

struct Candidate {
  int64_t id = 0;
  HandLandmarksResult result;
};

// The landmark model on one ROI; the result if the hand is present (ThresholdingCalculator: flag >
// threshold, compared in double).
std::optional<HandLandmarksResult> present_hand(const vision::Image& image, const vision::NormalizedRect& roi,
                                                HandRuntimes& runtimes, const HandOptions& options,
                                                HandTiming* timing) {
  const Clock::time_point start = Clock::now();
  HandLandmarksResult result = runtimes.landmark_detector().detect(image, roi, runtimes.scratch());
  if (timing != nullptr) {
    timing->landmarks_ms += elapsed_ms(start);
    ++timing->landmark_runs;
  }
  if (static_cast<double>(result.presence) > static_cast<double>(options.min_presence_confidence)) {
    return result;
  }
  return std::nullopt;
}

std::vector<Candidate> present_hands(const vision::Image& image, const FrameRois& frame, const HandState& state,
                                     HandRuntimes& runtimes, const HandOptions& options, HandTiming* timing,
                                     int64_t& next_id) {
  std::vector<Candidate> present;
  for (size_t i = 0; i < frame.rois.size(); ++i) {
    const bool tracked = i < frame.tracked_count;
    const int64_t id = tracked ? state.tracked[i].id : next_id++;
    std::optional<HandLandmarksResult> result = present_hand(image, frame.rois[i], runtimes, options, timing);
    if (!result && tracked && i < frame.fallbacks.size() && frame.fallbacks[i]) {
      result = present_hand(image, *frame.fallbacks[i], runtimes, options, timing);
    }
    if (result) {
      present.push_back({id, std::move(*result)});
    }
  }
  return present;
}

std::vector<Candidate> without_duplicates(std::vector<Candidate> hands, vision::ImageSize image) {
  std::vector<HandLandmarkArray> landmarks;
  for (const Candidate& hand : hands) {
    landmarks.push_back(hand.result.landmarks);
  }
  const std::vector<bool> keep = deduplicate_hands(landmarks, image);
  std::vector<Candidate> kept;
  for (size_t i = 0; i < hands.size(); ++i) {
    if (keep[i]) {
      kept.push_back(std::move(hands[i]));
    }
  }
  return kept;
}

Hand to_hand(const HandLandmarksResult& result) {
  Hand hand;
  const Handedness handedness = handedness_from_raw(result.handedness_raw);
  hand.handedness = handedness.label;
  hand.score = handedness.score;
  hand.presence = result.presence;
  hand.landmarks = result.landmarks;
  hand.world_landmarks = result.world_landmarks;
  hand.roi = result.roi;
  return hand;
}

// The optional One Euro pass, per tracked hand id; filters of hands no longer tracked are dropped. MediaPipe
// has no hand filter settings; the pose graph's (landmarks 0.05 / 80 / 1, world 0.1 / 40 / 1) are used.
void smooth(std::vector<Hand>& hands, const std::vector<Candidate>& kept, int64_t timestamp_us, vision::ImageSize image,
            HandState& state) {
  std::map<int64_t, HandState::Smoothers> smoothers;
  for (size_t i = 0; i < hands.size(); ++i) {
    auto found = state.smoothers.find(kept[i].id);
    HandState::Smoothers filters =
        found != state.smoothers.end()
            ? std::move(found->second)
            : HandState::Smoothers{vision::LandmarksSmoother(vision::pose_landmark_smoothing_options()),
                                   vision::LandmarksSmoother(vision::pose_world_landmark_smoothing_options())};
    const std::vector<vision::Landmark> landmarks =
        filters.landmarks.apply(hands[i].landmarks, timestamp_us, image, std::nullopt);
    const std::vector<vision::Landmark> world =
        filters.world_landmarks.apply_absolute(hands[i].world_landmarks, timestamp_us);
    std::copy_n(landmarks.begin(), kHandLandmarkCount, hands[i].landmarks.begin());
    std::copy_n(world.begin(), kHandLandmarkCount, hands[i].world_landmarks.begin());
    smoothers.emplace(kept[i].id, std::move(filters));
  }
  state.smoothers = std::move(smoothers);
}

}  // namespace

std::vector<Hand> track_hands(const vision::Image& image, int64_t timestamp_us, HandState& state,
                              HandRuntimes& runtimes, const HandOptions& options,
                              std::span<const vision::Landmark> pose_landmarks, HandTiming* timing) {
  validate(image, options, pose_landmarks, runtimes);
  const vision::ImageSize size{image.width, image.height};
  const FrameRois frame = frame_rois(image, state, runtimes, options, pose_landmarks, timing);
  int64_t next_id = state.next_id;
  const std::vector<Candidate> kept =
      without_duplicates(present_hands(image, frame, state, runtimes, options, timing, next_id), size);

  std::vector<Hand> hands;
  std::vector<HandState::TrackedHand> tracked;
  for (const Candidate& candidate : kept) {
    hands.push_back(to_hand(candidate.result));
    // The next frame's ROI comes from the unsmoothed landmarks (HandLandmarksToRect + RectTransformation).
    const std::optional<vision::NormalizedRect> next =
        vision::hand_roi_from_landmarks(candidate.result.landmarks, size);
    if (next && is_usable_roi(*next)) {
      tracked.push_back({candidate.id, *next});
    }
  }
  if (options.smoothing) {
    smooth(hands, kept, timestamp_us, size, state);
  } else {
    state.smoothers.clear();
  }
  state.tracked = std::move(tracked);
  state.next_id = next_id;
  return hands;
}

}  // namespace posestream::hands
