// IMAGE-mode multi-person results (num_poses 4) against MediaPipe's PoseLandmarker numPoses 4 goldens.
#include <gtest/gtest.h>

#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "people_compare.h"

namespace posestream::pose {
namespace {

using testing::compare_pose;
using testing::PoseErrors;

// The photos of /work/shared/golden/multi/results. Listed here rather than read from the folder because
// CTest lists the cases before the tests' environment is set.
const char* const kPhotos[] = {"basketball1",          "aic_054d9ce9",     "aic_ff945ae2",
                               "coco_000000000241",    "coco_000000197388", "crowdpose_106848",
                               "ochuman_000817",       "mhp_10084"};

// Two of our people are one of MediaPipe's only if they are this close on average (normalized): far
// above the gates, far below the distance between two people in these photos.
constexpr double kMaxMatchDistance = 0.05;

class PeopleGolden : public ::testing::TestWithParam<std::tuple<const char*, PoseModel>> {
 protected:
  // Runtimes are costly to create (weight packing): one per variant for the whole suite.
  static PoseRuntimes& runtimes(PoseModel model) {
    auto& slot = instances()[model];
    if (!slot) slot = std::make_unique<PoseRuntimes>(load_pose_models(posestream::testing::models_dir(), model));
    return *slot;
  }
  static void TearDownTestSuite() { instances().clear(); }

 private:
  static std::map<PoseModel, std::unique_ptr<PoseRuntimes>>& instances() {
    static std::map<PoseModel, std::unique_ptr<PoseRuntimes>> map;
    return map;
  }
};

TEST_P(PeopleGolden, MatchesMediaPipeNumPoses4InImageMode) {
  const std::string stem = std::get<0>(GetParam());
  const PoseModel model = std::get<1>(GetParam());
  const std::string variant = model_name(model);
  const golden::ImageResult expected =
      golden::load_image_result(testing::multi_dir() / "results" / stem / ("pose_" + variant + ".json"));
  const std::filesystem::path path = testing::multi_dir() / "images" / expected.image_file;
  if (!std::filesystem::is_regular_file(path)) GTEST_SKIP() << "multi golden photo missing: " << path;
  const vision::Image image = testing::load_image(path);
  ASSERT_EQ(image.width, expected.width);
  ASSERT_EQ(image.height, expected.height);

  PeopleOptions options;
  options.pose.model = model;
  options.pose.static_image_mode = true;
  options.num_poses = 4;
  PeopleState state;
  PeopleTiming timing;
  const std::vector<Person> people = track_people(image, 0, state, runtimes(model), options, &timing);
  std::cout << std::fixed << std::setprecision(4) << "[people golden] " << stem << " " << variant << ": mediapipe "
            << expected.people.size() << " ours " << people.size() << " (landmark runs " << timing.landmark_runs
            << ")\n";
  EXPECT_TRUE(timing.detector_ran);
  ASSERT_EQ(people.size(), expected.people.size()) << "people count differs from MediaPipe's";
  const auto pairs = testing::match_people(people, expected.people, kMaxMatchDistance);
  for (size_t t = 0; t < expected.people.size(); ++t) {
    ASSERT_TRUE(pairs[t].has_value()) << "MediaPipe's person " << t << " has no match among ours";
    const Person& ours = people[*pairs[t]];
    const PoseErrors errors = compare_pose(ours.pose, expected.people[t]);
    std::cout << "[people golden] " << stem << " " << variant << " their #" << t << " = our id " << ours.id
              << " (flag " << ours.pose.score << ") | 2D mean " << errors.mean_2d << " max " << errors.max_2d
              << " over " << errors.visible << " visible | world mean " << errors.world_mean_3d << " m\n";
    EXPECT_LE(errors.mean_2d, testing::kPeopleMaxMean2d) << "their person " << t;
    EXPECT_LE(errors.max_2d, testing::kPeopleMaxMax2d) << "their person " << t;
    EXPECT_LE(errors.world_mean_3d, testing::kPeopleMaxWorldMean3d) << "their person " << t;
  }
}

std::string case_name(const ::testing::TestParamInfo<PeopleGolden::ParamType>& info) {
  return std::string(std::get<0>(info.param)) + "_" + model_name(std::get<1>(info.param));
}

INSTANTIATE_TEST_SUITE_P(Photos, PeopleGolden,
                         ::testing::Combine(::testing::ValuesIn(kPhotos),
                                            ::testing::Values(PoseModel::lite, PoseModel::full)),
                         case_name);

}  // namespace
}  // namespace posestream::pose
