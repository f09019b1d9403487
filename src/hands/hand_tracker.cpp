// track_hands: tasks-vision's HandLandmarkerGraph in IMAGE and VIDEO modes, and the pose-assisted mode.
#include <algorithm>
#include <array>
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
#include "hands/wrist_retry.h"
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
  if (options.pose_wrist_retry_frames < 1) {
    throw HandError("hands: pose_wrist_retry_frames must be >= 1, got " +
                    std::to_string(options.pose_wrist_retry_frames));
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
  // Per ROI: the pose wrist it came from (a new hand) or whose ROI is its fallback (a tracked hand).
  std::vector<std::optional<vision::HandSide>> sides;
  std::array<bool, 2> wrists_in_view{};  // Which wrists have a pose ROI this frame (by wrist_index).
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

// Pose-assisted mode: sorts the pose's ROIs into the tracked hands' fallbacks (into `frame`) and the
// new-hand candidates, of which it returns those whose wrist the backoff lets through this frame.
std::vector<PoseHandRoi> sort_pose_hand_rois(std::span<const vision::Landmark> pose, const HandState& state,
                                             const HandOptions& options, vision::ImageSize size, FrameRois& frame) {
  const std::vector<PoseHandRoi> pose_rois = hand_rois_from_pose(pose, size);
  std::vector<vision::NormalizedRect> rects;
  for (const PoseHandRoi& roi : pose_rois) {
    rects.push_back(roi.roi);
    frame.wrists_in_view[wrist_index(roi.side)] = true;
  }
  const PoseRois sorted = sort_pose_rois(rects, frame.rois, size);
  frame.fallbacks.resize(frame.tracked_count);
  for (size_t i = 0; i < frame.tracked_count; ++i) {
    if (const std::optional<size_t> owner = sorted.fallbacks[i]) {
      frame.fallbacks[i] = rects[*owner];
      frame.sides[i] = pose_rois[*owner].side;
    }
  }
  std::vector<PoseHandRoi> candidates;
  for (size_t i : sorted.untracked) {
    if (options.static_image_mode || wrist_due(state.wrists[wrist_index(pose_rois[i].side)], state.frame)) {
      candidates.push_back(pose_rois[i]);
    }
  }
  return candidates;
}

// Appends the candidates HandAssociation keeps to `frame`'s ROIs, at most `limit` of them.
void add_new_hand_rois(std::span<const PoseHandRoi> candidates, float min_tracking_iou, size_t limit,
                       FrameRois& frame) {
  std::vector<vision::NormalizedRect> rects;
  for (const PoseHandRoi& candidate : candidates) {
    rects.push_back(candidate.roi);
  }
  size_t added = 0;
  for (size_t i : associated_candidates(frame.rois, rects, min_tracking_iou)) {
    if (added == limit) break;
    frame.rois.push_back(rects[i]);
    frame.sides.push_back(candidates[i].side);
    ++added;
  }
}

// The pose-assisted mode's run budget (hands.h): how many new-hand tries still fit in max_num_hands
// landmark runs after the tracked hands' runs and the fallbacks of those the tracked runs lost.
size_t new_hand_budget(const FrameRois& frame, const TrackedHandRuns& tracked_runs, size_t max_hands) {
  size_t runs = frame.tracked_count;
  for (size_t i = 0; i < frame.tracked_count && i < tracked_runs.results.size(); ++i) {
    if (!tracked_runs.results[i] && i < frame.fallbacks.size() && frame.fallbacks[i]) ++runs;
  }
  return runs < max_hands ? max_hands - runs : 0;
}

FrameRois frame_rois(const vision::Image& image, const HandState& state, HandRuntimes& runtimes,
                     const HandOptions& options, const TrackedHandRuns& tracked_runs,
                     std::span<const vision::Landmark> pose, HandTiming* timing) {
  const size_t max_hands = static_cast<size_t>(options.max_num_hands);
  const vision::ImageSize size{image.width, image.height};
  FrameRois frame;
  if (!options.static_image_mode) {
    for (const HandState::TrackedHand& hand : state.tracked) {
      frame.rois.push_back(hand.roi);
    }
  }
  frame.tracked_count = frame.rois.size();
  frame.sides.resize(frame.tracked_count);
  std::vector<PoseHandRoi> pose_candidates;
  if (!pose.empty()) {
    pose_candidates = sort_pose_hand_rois(pose, state, options, size, frame);
  }
  // The tracking gate (NormalizedRectVectorHasMinSize + DisallowIf): no new ROIs once enough are tracked.
  if (frame.tracked_count < max_hands) {
    if (pose.empty()) {
      frame.rois = associate_hand_rects(frame.rois, palm_rois(image, runtimes, options, timing), options.min_tracking_iou);
      frame.sides.resize(frame.rois.size());
    } else {
      add_new_hand_rois(pose_candidates, options.min_tracking_iou,
                        new_hand_budget(frame, tracked_runs, max_hands), frame);
    }
  }
  if (frame.rois.size() > max_hands) {
    frame.rois.resize(max_hands);  // ClipNormalizedRectVectorSize.
    frame.sides.resize(max_hands);
    frame.tracked_count = std::min(frame.tracked_count, max_hands);
  }
  return frame;
}

struct Candidate {
  int64_t id = 0;
  HandLandmarksResult result;
  std::optional<vision::HandSide> side;  // As FrameRois::sides.
};

// What the landmark model found on a frame's ROIs, and which pose wrists' ROIs it ran on.
struct Attempts {
  std::vector<Candidate> present;
  std::array<bool, 2> wrists_tried{};
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

// The tracked ROIs' results come from `tracked_runs` (one per tracked ROI, in order); the other ROIs
// and the fallbacks run here.
Attempts present_hands(const vision::Image& image, const FrameRois& frame, const HandState& state,
                       HandRuntimes& runtimes, const HandOptions& options, TrackedHandRuns& tracked_runs,
                       HandTiming* timing, int64_t& next_id) {
  Attempts attempts;
  for (size_t i = 0; i < frame.rois.size(); ++i) {
    const bool tracked = i < frame.tracked_count;
    const int64_t id = tracked ? state.tracked[i].id : next_id++;
    const std::optional<vision::HandSide> side = frame.sides[i];
    std::optional<HandLandmarksResult> result =
        tracked ? std::move(tracked_runs.results[i]) : present_hand(image, frame.rois[i], runtimes, options, timing);
    if (!tracked && side) {
      attempts.wrists_tried[wrist_index(*side)] = true;
    }
    if (!result && tracked && i < frame.fallbacks.size() && frame.fallbacks[i]) {
      result = present_hand(image, *frame.fallbacks[i], runtimes, options, timing);
      if (timing != nullptr) {
        ++timing->fallback_runs;
      }
      attempts.wrists_tried[wrist_index(*side)] = true;
    }
    if (result) {
      attempts.present.push_back({id, std::move(*result), side});
    }
  }
  return attempts;
}

// The wrist backoff after this frame: a wrist with a hand kept, or without a pose ROI, starts over; one
// whose ROI was tried and gave no kept hand backs off; the others wait on.
void update_wrist_retries(const FrameRois& frame, const Attempts& attempts, const std::vector<Candidate>& kept,
                          const HandOptions& options, HandState& state) {
  for (vision::HandSide side : {vision::HandSide::left, vision::HandSide::right}) {
    const size_t wrist = wrist_index(side);
    const bool found =
        std::any_of(kept.begin(), kept.end(), [&](const Candidate& hand) { return hand.side == side; });
    if (options.static_image_mode || !frame.wrists_in_view[wrist] || found) {
      state.wrists[wrist] = {};
    } else if (attempts.wrists_tried[wrist]) {
      state.wrists[wrist] = after_empty_attempt(state.wrists[wrist], state.frame, options.pose_wrist_retry_frames);
    }
  }
  ++state.frame;
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

// How many of state.tracked the frame runs on (frame_rois puts them first and clips to max_num_hands).
size_t tracked_roi_count(const HandState& state, const HandOptions& options) {
  if (options.static_image_mode) return 0;
  return std::min(state.tracked.size(), static_cast<size_t>(options.max_num_hands));
}

void add_timing(const HandTiming& part, HandTiming* total) {
  if (total == nullptr) return;
  total->palm_detector_ms += part.palm_detector_ms;
  total->landmarks_ms += part.landmarks_ms;
  total->palm_detector_runs += part.palm_detector_runs;
  total->landmark_runs += part.landmark_runs;
  total->fallback_runs += part.fallback_runs;
}

// A caller's slip, not bad input: runs of another frame would silently pair hands with the wrong ROIs.
void check_runs_belong(const TrackedHandRuns& runs, const HandState& state, const HandOptions& options) {
  const size_t expected = tracked_roi_count(state, options);
  if (runs.frame != state.frame || runs.results.size() > expected) {
    throw HandError("hands: tracked runs of frame " + std::to_string(runs.frame) + " (" +
                    std::to_string(runs.results.size()) + " ROIs) given for frame " + std::to_string(state.frame) +
                    " (" + std::to_string(expected) + " ROIs)");
  }
}

// Appends the results of the tracked ROIs `runs` does not hold yet.
void complete_tracked_runs(const vision::Image& image, const HandState& state, HandRuntimes& runtimes,
                           const HandOptions& options, TrackedHandRuns& runs) {
  const size_t count = tracked_roi_count(state, options);
  while (runs.results.size() < count) {
    const vision::NormalizedRect& roi = state.tracked[runs.results.size()].roi;
    runs.results.push_back(present_hand(image, roi, runtimes, options, &runs.timing));
  }
}

}  // namespace

TrackedHandRuns run_tracked_hands(const vision::Image& image, const HandState& state, HandRuntimes& runtimes,
                                  const HandOptions& options, size_t max_runs) {
  validate(image, options, {}, runtimes);
  TrackedHandRuns runs;
  runs.frame = state.frame;
  const size_t count = std::min(tracked_roi_count(state, options), max_runs);
  for (size_t i = 0; i < count; ++i) {
    runs.results.push_back(present_hand(image, state.tracked[i].roi, runtimes, options, &runs.timing));
  }
  return runs;
}

std::vector<Hand> track_hands(const vision::Image& image, int64_t timestamp_us, HandState& state,
                              HandRuntimes& runtimes, const HandOptions& options,
                              std::span<const vision::Landmark> pose_landmarks, HandTiming* timing) {
  validate(image, options, pose_landmarks, runtimes);  // Before any run: a bad pose list costs none.
  return finish_hands(image, timestamp_us, state, runtimes, options, run_tracked_hands(image, state, runtimes, options),
                      pose_landmarks, timing);
}

std::vector<Hand> finish_hands(const vision::Image& image, int64_t timestamp_us, HandState& state,
                               HandRuntimes& runtimes, const HandOptions& options, TrackedHandRuns tracked_runs,
                               std::span<const vision::Landmark> pose_landmarks, HandTiming* timing) {
  validate(image, options, pose_landmarks, runtimes);
  check_runs_belong(tracked_runs, state, options);
  complete_tracked_runs(image, state, runtimes, options, tracked_runs);
  add_timing(tracked_runs.timing, timing);
  const vision::ImageSize size{image.width, image.height};
  const FrameRois frame = frame_rois(image, state, runtimes, options, tracked_runs, pose_landmarks, timing);
  int64_t next_id = state.next_id;
  Attempts attempts = present_hands(image, frame, state, runtimes, options, tracked_runs, timing, next_id);
  const std::vector<Candidate> kept = without_duplicates(std::move(attempts.present), size);

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
  update_wrist_retries(frame, attempts, kept, options, state);
  state.tracked = std::move(tracked);
  state.next_id = next_id;
  return hands;
}

}  // namespace posestream::hands
