// IMAGE mode against MediaPipe's golden results: every photo, lite and full, numHands 2, no pose.
#include <gtest/gtest.h>

#include <iostream>
#include <numbers>

#include "hands/hand_deduplication.h"
#include "hands/hand_landmarks.h"
#include "hands/palm_detector.h"
#include "hands_golden_support.h"

namespace posestream::hands {
namespace {

using testing::HandComparison;

// The photos of /work/shared/golden/README.md; listed here because CTest discovers the cases before
// the test-data environment is set.
const char* const kImages[] = {
    "basketball1",       "clock_hands",       "coco_000000000431", "coco_000000000446", "gesture_four_06aa",
    "gesture_four_15a7", "gesture_none_0a0e", "gesture_rock_18e2", "handSrc",           "messi5",
    "messiup",           "person_multi_det"};

using engine::Precision;

struct GoldenCase {
  std::string image;
  HandModel variant;
  Precision precision = Precision::kFloat32;
};

std::string case_name(const ::testing::TestParamInfo<GoldenCase>& info) {
  return info.param.image + "_" + testing::variant_name(info.param.variant) +
         (info.param.precision == Precision::kFloat32 ? "" : "_" + std::string(engine::precision_name(info.param.precision)));
}

std::vector<GoldenCase> all_cases() {
  std::vector<GoldenCase> cases;
  for (const Precision precision : {Precision::kFloat32, Precision::kInt8}) {
    for (const char* image : kImages) {
      cases.push_back({image, HandModel::lite, precision});
      cases.push_back({image, HandModel::full, precision});
    }
  }
  return cases;
}

class HandsGolden : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(HandsGolden, ImageModeMatchesMediaPipe) {
  const GoldenCase& param = GetParam();
  const golden::ImageResult expected =
      golden::load_image_result(param.image, std::string("hand_") + testing::variant_name(param.variant));
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, expected.image_file);
  const vision::Image image = testing::read_image(path);
  ASSERT_EQ(image.width, expected.width);
  ASSERT_EQ(image.height, expected.height);

  HandOptions options;
  options.model = param.variant;
  options.static_image_mode = true;
  HandTracker tracker(testing::shared_models(param.variant, param.precision), options);
  const std::vector<Hand> hands = tracker.process(image, 0);

  std::cout << "[golden] " << param.image << " " << testing::variant_name(param.variant) << " "
            << engine::precision_name(param.precision) << ": ours " << hands.size()
            << " hands, MediaPipe " << expected.people.size() << "\n";
  EXPECT_EQ(hands.size(), expected.people.size());
  const std::vector<std::optional<size_t>> matches = testing::match_hands(hands, expected.people);
  for (size_t g = 0; g < expected.people.size(); ++g) {
    if (!matches[g]) continue;
    const HandComparison error = testing::compare_hand(hands[*matches[g]], expected.people[g]);
    std::cout << "[golden]   hand " << g << ": " << testing::describe(error) << "\n";
    const testing::Gates gates = testing::gates_for(param.precision);
    EXPECT_LE(error.mean_2d, gates.mean_2d) << "hand " << g;
    EXPECT_LE(error.max_2d, gates.max_2d) << "hand " << g;
    EXPECT_LE(error.world_mean_3d, gates.world_mean_3d) << "hand " << g;
    EXPECT_TRUE(error.handedness_matches) << "hand " << g << ": " << testing::describe(error);
  }
}

INSTANTIATE_TEST_SUITE_P(Photos, HandsGolden, ::testing::ValuesIn(all_cases()), case_name);

// IMAGE mode with a chosen palm rotation target, built from the stages so that only the angle differs.
std::vector<Hand> image_mode_hands(const vision::Image& image, HandRuntimes& runtimes, float target_radians) {
  const vision::ImageSize size{image.width, image.height};
  const std::vector<vision::Detection> palms = runtimes.palm_detector().detect(image, 0.5f, runtimes.scratch());
  std::vector<Hand> hands;
  std::vector<HandLandmarkArray> landmarks;
  for (const vision::NormalizedRect& roi : hand_rois_from_palms(palms, size, 2, target_radians)) {
    const HandLandmarksResult result = runtimes.landmark_detector().detect(image, roi, runtimes.scratch());
    if (result.presence <= 0.5f) continue;
    Hand hand;
    hand.landmarks = result.landmarks;
    hand.world_landmarks = result.world_landmarks;
    hand.handedness = handedness_from_raw(result.handedness_raw).label;
    hands.push_back(hand);
    landmarks.push_back(result.landmarks);
  }
  const std::vector<bool> keep = deduplicate_hands(landmarks, size);
  std::vector<Hand> kept;
  for (size_t i = 0; i < hands.size(); ++i) {
    if (keep[i]) kept.push_back(hands[i]);
  }
  return kept;
}

// tasks_facts.md H7: tasks-vision's palm target angle is 90 radians, not the legacy pi/2. Whichever
// matches MediaPipe's landmarks better over all photos is what tasks-vision does.
TEST(HandsGoldenPalmAngle, NinetyRadiansMatchesMediaPipeBetterThanHalfPi) {
  double total_ninety = 0;
  double total_half_pi = 0;
  int compared = 0;
  for (HandModel variant : {HandModel::lite, HandModel::full}) {
    HandRuntimes runtimes(testing::shared_models(variant));
    for (const char* name : kImages) {
      const golden::ImageResult expected =
          golden::load_image_result(name, std::string("hand_") + testing::variant_name(variant));
      const std::optional<std::filesystem::path> path = golden::find_image(expected.image_file);
      if (!path || expected.people.empty()) continue;
      const vision::Image image = testing::read_image(*path);
      double errors[2] = {0, 0};
      const float targets[2] = {kTasksPalmRotationTargetRadians, static_cast<float>(std::numbers::pi / 2)};
      for (int t = 0; t < 2; ++t) {
        const std::vector<Hand> hands = image_mode_hands(image, runtimes, targets[t]);
        const std::vector<std::optional<size_t>> matches = testing::match_hands(hands, expected.people);
        for (size_t g = 0; g < expected.people.size(); ++g) {
          errors[t] += matches[g] ? testing::compare_hand(hands[*matches[g]], expected.people[g]).mean_2d : 1.0;
        }
      }
      std::cout << "[angle] " << name << " " << testing::variant_name(variant) << ": summed mean error 90 rad "
                << errors[0] << ", pi/2 " << errors[1] << "\n";
      total_ninety += errors[0];
      total_half_pi += errors[1];
      ++compared;
    }
  }
  if (compared == 0) GTEST_SKIP() << "no golden photo with hands found";
  std::cout << "[angle] total over " << compared << " cases: 90 rad " << total_ninety << ", pi/2 " << total_half_pi
            << "\n";
  EXPECT_LT(total_ninety, total_half_pi);
}

}  // namespace
}  // namespace posestream::hands
