// The pose-assisted mode's wrist backoff on the golden sequence: about one landmark run per frame with one
// hand in view, the hand still found wherever MediaPipe finds it, and a hand coming into view found in time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <optional>
#include <span>
#include <string>

#include "hands/hand_association.h"
#include "hands/wrist_retry.h"
#include "hands_golden_support.h"
#include "vision/rects.h"

namespace posestream::hands {
namespace {


// The sequence bench pipeline also uses: its frames, MediaPipe's pose on each, and the photo's hand
// carried through each frame's affine (testing::affine_reference).
struct GoldenSequence {
  golden::Sequence pose = golden::load_sequence_named("pose_full_video");
  std::vector<vision::Image> frames;
  std::vector<golden::Person> reference;
};

// Empty frames when the sequence's images are not found (the caller skips).
GoldenSequence load_sequence(HandModel variant) {
  GoldenSequence sequence;
  sequence.reference =
      testing::affine_reference(golden::sequences_dir() / (sequence.pose.name + ".affine.json"), variant);
  for (const golden::Frame& frame : sequence.pose.frames) {
    const std::optional<std::filesystem::path> path = golden::find_sequence_frame(frame.file);
    if (!path) return {};
    sequence.frames.push_back(testing::read_image(*path));
  }
  return sequence;
}

bool finds(const std::vector<Hand>& hands, const golden::Person& reference) {
  return std::any_of(hands.begin(), hands.end(), [&](const Hand& hand) {
    return testing::landmark_distance(hand, reference).first < testing::kSameHandDistance;
  });
}

bool mediapipe_finds(const std::vector<golden::Person>& people, const golden::Person& reference) {
  return std::any_of(people.begin(), people.end(), [&](const golden::Person& person) {
    Hand hand;
    std::copy_n(person.landmarks.begin(), std::min(person.landmarks.size(), hand.landmarks.size()),
                hand.landmarks.begin());
    return testing::landmark_distance(hand, reference).first < testing::kSameHandDistance;
  });
}

// The frame with the hand painted out: its landmarks' box, grown by half its longer side all round,
// flat grey. The pose given with the frame still places a visible wrist there.
vision::Image without_hand(vision::Image image, const golden::Person& hand) {
  float x0 = 1, y0 = 1, x1 = 0, y1 = 0;
  for (const vision::Landmark& landmark : hand.landmarks) {
    x0 = std::min(x0, landmark.x), x1 = std::max(x1, landmark.x);
    y0 = std::min(y0, landmark.y), y1 = std::max(y1, landmark.y);
  }
  const float margin = std::max((x1 - x0) * image.width, (y1 - y0) * image.height) / 2;
  const int left = std::max(0, static_cast<int>(x0 * image.width - margin));
  const int right = std::min(image.width, static_cast<int>(x1 * image.width + margin) + 1);
  const int top = std::max(0, static_cast<int>(y0 * image.height - margin));
  const int bottom = std::min(image.height, static_cast<int>(y1 * image.height + margin) + 1);
  for (int y = top; y < bottom; ++y) {
    std::span<uint8_t> row = image.row(y);
    std::fill(row.begin() + left * vision::Image::channels, row.begin() + right * vision::Image::channels, 128);
  }
  return image;
}

HandOptions video_options(HandModel variant, int retry_frames) {
  HandOptions options;
  options.model = variant;
  options.pose_wrist_retry_frames = retry_frames;
  return options;
}

struct SequenceRun {
  int landmark_runs = 0;
  int fallback_runs = 0;
  std::vector<bool> found;  // Per frame: the reference hand is among ours.
};

SequenceRun run_pose_assisted(const GoldenSequence& sequence, const HandOptions& options) {
  HandTracker tracker(testing::shared_models(options.model), options);
  SequenceRun run;
  for (size_t i = 0; i < sequence.frames.size(); ++i) {
    HandTiming timing;
    const golden::Frame& frame = sequence.pose.frames[i];
    const std::vector<Hand> hands = tracker.process(sequence.frames[i], frame.timestamp_ms * 1000,
                                                    testing::pose_landmarks_of(frame), &timing);
    run.landmark_runs += timing.landmark_runs;
    run.fallback_runs += timing.fallback_runs;
    run.found.push_back(finds(hands, sequence.reference[i]));
  }
  return run;
}

class HandsWristRetry : public ::testing::TestWithParam<HandModel> {};

// One hand up, the other resting at the hip where MediaPipe finds no hand (pose visibility ~0.9 there, so
// the holistic graph's visibility gate lets it through on every frame). Besides the runs on a tracked
// hand's pose fallback (counted apart: tracking, not this rule), the landmark model may run once per frame
// for the hand up plus the backoff's attempts at the empty wrist over F frames with cap C: 1 + log2(C)
// while the interval doubles, then one per C frames. MediaPipe's every-frame rule (C = 1) runs about 2F.
TEST_P(HandsWristRetry, PoseAssistedModeRunsTheLandmarkModelAboutOncePerFrameAndFindsTheHandAsBefore) {
  const HandModel variant = GetParam();
  const GoldenSequence sequence = load_sequence(variant);
  if (sequence.frames.empty()) GTEST_SKIP() << "sequence frames not found in ../shared/golden/sequences";
  const golden::Sequence mediapipe = golden::load_sequence_named(std::string("hand_") + testing::variant_name(variant) + "_video");
  ASSERT_EQ(mediapipe.frames.size(), sequence.frames.size());

  const HandOptions options = video_options(variant, HandOptions{}.pose_wrist_retry_frames);
  const SequenceRun backoff = run_pose_assisted(sequence, options);
  const SequenceRun every_frame = run_pose_assisted(sequence, video_options(variant, 1));
  const int frames = static_cast<int>(sequence.frames.size());
  const int cap = options.pose_wrist_retry_frames;
  const int bound = frames + 1 + static_cast<int>(std::ceil(std::log2(cap))) + frames / cap;
  std::cout << "[retry] " << testing::variant_name(variant) << ": landmark runs " << backoff.landmark_runs
            << " (fallbacks " << backoff.fallback_runs << ") in " << frames << " frames with the backoff (bound "
            << bound << " + fallbacks), " << every_frame.landmark_runs << " (fallbacks " << every_frame.fallback_runs
            << ") trying every visible wrist every frame; hand found in "
            << std::count(backoff.found.begin(), backoff.found.end(), true) << " and "
            << std::count(every_frame.found.begin(), every_frame.found.end(), true) << " frames\n";
  EXPECT_LE(backoff.landmark_runs - backoff.fallback_runs, bound);
  EXPECT_GT(every_frame.landmark_runs - every_frame.fallback_runs, bound);  // The rule is what saves them.
  for (size_t i = 0; i < sequence.frames.size(); ++i) {
    if (mediapipe_finds(mediapipe.frames[i].people, sequence.reference[i])) {
      EXPECT_TRUE(backoff.found[i]) << "frame " << i << ": MediaPipe finds the hand";
    }
    if (every_frame.found[i]) {
      EXPECT_TRUE(backoff.found[i]) << "frame " << i << ": found without the backoff";
    }
  }
}

// The hand is painted out of the first `appears` frames, then left in; the pose says where its wrist is
// all along. With the documented bound C, the hand must be found within C frames of appearing: tried for
// every phase of the capped interval (appears = 16 .. 16 + C - 1, after the interval has reached C).
// The premise, checked: on those frames the landmark model finds the hand from the pose's ROI alone
// (IMAGE mode), and finds nothing on the painted frames.
TEST(HandsWristRetryAppearing, AHandComingIntoViewIsFoundWithinPoseWristRetryFrames) {
  const HandModel variant = HandModel::full;  // The server's default, as bench pipeline.
  const GoldenSequence sequence = load_sequence(variant);
  if (sequence.frames.empty()) GTEST_SKIP() << "sequence frames not found in ../shared/golden/sequences";
  const HandOptions options = video_options(variant, HandOptions{}.pose_wrist_retry_frames);
  const int cap = options.pose_wrist_retry_frames;
  constexpr int kFirstAppearance = 16;
  ASSERT_LE(kFirstAppearance + 2 * cap, static_cast<int>(sequence.frames.size()));

  HandOptions image_mode = options;
  image_mode.static_image_mode = true;
  HandTracker from_pose_alone(testing::shared_models(variant), image_mode);
  for (int i = kFirstAppearance; i < kFirstAppearance + 2 * cap; ++i) {
    const std::vector<Hand> hands =
        from_pose_alone.process(sequence.frames[i], 0, testing::pose_landmarks_of(sequence.pose.frames[i]));
    ASSERT_TRUE(finds(hands, sequence.reference[i])) << "premise: frame " << i << " from the pose's ROI";
  }

  for (int appears = kFirstAppearance; appears < kFirstAppearance + cap; ++appears) {
    HandTracker tracker(testing::shared_models(variant), options);
    int runs_before = 0;
    std::optional<int> found_at;
    for (int i = 0; i < appears + cap && !found_at; ++i) {
      const golden::Frame& frame = sequence.pose.frames[i];
      const vision::Image image = i < appears ? without_hand(sequence.frames[i], sequence.reference[i]) : sequence.frames[i];
      HandTiming timing;
      const std::vector<Hand> hands =
          tracker.process(image, frame.timestamp_ms * 1000, testing::pose_landmarks_of(frame), &timing);
      if (i < appears) {
        runs_before += timing.landmark_runs;
        ASSERT_FALSE(finds(hands, sequence.reference[i])) << "premise: frame " << i << " has the hand painted out";
      } else if (finds(hands, sequence.reference[i])) {
        found_at = i;
      }
    }
    std::cout << "[retry] hand appears on frame " << appears << ": landmark runs before " << runs_before
              << ", found on frame " << (found_at ? std::to_string(*found_at) : "none") << "\n";
    ASSERT_TRUE(found_at) << "appears on frame " << appears;
    EXPECT_LT(*found_at - appears, cap) << "appears on frame " << appears;
    // Two empty wrists tried every frame would cost 2 runs a frame.
    EXPECT_LT(runs_before, appears) << "appears on frame " << appears;
  }
}

// The run budget: a tracked hand lost this frame (its fallback runs) and a due empty wrist would make
// three landmark runs; the wrist's try waits for the next frame, which then runs it. The tracked ROI is
// made to lose the hand: a sliver, 2% of the image, around the pose's hand centre (so the pose ROI there
// is its fallback). Both premises are checked: the fallback runs, and the other wrist is due and tried.
TEST(HandsRunBudget, ANewHandTryWaitsForAFrameWithoutAFallback) {
  const HandModel variant = HandModel::full;
  const GoldenSequence sequence = load_sequence(variant);
  if (sequence.frames.empty()) GTEST_SKIP() << "sequence frames not found in ../shared/golden/sequences";
  const HandOptions options = video_options(variant, HandOptions{}.pose_wrist_retry_frames);
  HandRuntimes runtimes(testing::shared_models(variant));
  const vision::ImageSize size{sequence.frames[0].width, sequence.frames[0].height};
  const std::vector<vision::Landmark> pose = testing::pose_landmarks_of(sequence.pose.frames[0]);
  const std::vector<PoseHandRoi> pose_rois = hand_rois_from_pose(pose, size);
  ASSERT_EQ(pose_rois.size(), 2u) << "premise: both wrists in view";
  // The raised hand's pose ROI is the one holding the reference hand's wrist.
  const vision::Landmark& wrist = sequence.reference[0].landmarks[0];
  const size_t raised = rect_contains(pose_rois[0].roi, {wrist.x, wrist.y}, size) ? 0 : 1;
  ASSERT_TRUE(rect_contains(pose_rois[raised].roi, {wrist.x, wrist.y}, size));
  const vision::HandSide resting = pose_rois[1 - raised].side;

  HandState state;
  vision::NormalizedRect sliver = pose_rois[raised].roi;
  sliver.width = sliver.height = 0.02f;
  state.tracked.push_back({1, sliver});
  state.next_id = 2;
  HandTiming first;
  std::vector<Hand> hands = track_hands(sequence.frames[0], 0, state, runtimes, options, pose, &first);
  EXPECT_EQ(first.fallback_runs, 1) << "premise: the sliver loses the hand";
  EXPECT_EQ(first.landmark_runs, 2) << "tracked run and fallback only";
  EXPECT_TRUE(finds(hands, sequence.reference[0]));
  EXPECT_EQ(state.wrists[wrist_index(resting)].empty_attempts, 0) << "not tried, so not backed off";

  HandTiming second;
  hands = track_hands(sequence.frames[1], 33'333, state, runtimes, options,
                      testing::pose_landmarks_of(sequence.pose.frames[1]), &second);
  EXPECT_EQ(second.fallback_runs, 0);
  EXPECT_EQ(second.landmark_runs, 2) << "tracked run and the waiting wrist's try";
  EXPECT_EQ(state.wrists[wrist_index(resting)].empty_attempts, 1) << "premise: MediaPipe finds no hand there";
}

std::string variant_case_name(const ::testing::TestParamInfo<HandModel>& param) {
  return testing::variant_name(param.param);
}

INSTANTIATE_TEST_SUITE_P(Variants, HandsWristRetry, ::testing::Values(HandModel::lite, HandModel::full),
                         variant_case_name);

}  // namespace
}  // namespace posestream::hands
