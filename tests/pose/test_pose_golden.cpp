// IMAGE-mode pose results against MediaPipe tasks-vision 1.1.0's golden outputs, per photo and variant.
#include <gtest/gtest.h>

#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <tuple>

#include "golden/golden.h"
#include "pose/pose.h"
#include "pose_compare.h"
#include "test_paths.h"

namespace posestream::pose {
namespace {

using testing::compare_pose;
using testing::PoseErrors;

// The photos of /work/shared/golden (results/<stem>/pose_<variant>.json). Listed here rather than read
// from the folder because CTest lists the cases before the tests' environment is set.
const char* const kImages[] = {"basketball1",        "clock_hands",        "coco_000000000431", "coco_000000000446",
                               "gesture_four_06aa",  "gesture_four_15a7",  "gesture_none_0a0e", "gesture_rock_18e2",
                               "handSrc",            "messi5",             "messiup",           "person_multi_det"};

using engine::Precision;

class PoseGolden : public ::testing::TestWithParam<std::tuple<const char*, PoseModel, Precision>> {
 protected:
  // Runtimes are costly to create (weight packing): one tracker per variant and precision for the suite.
  static PoseTracker& tracker(PoseModel model, Precision precision) {
    auto& slot = trackers()[{model, precision}];
    if (!slot) {
      PoseOptions options;
      options.model = model;
      options.static_image_mode = true;
      slot = std::make_unique<PoseTracker>(load_pose_models(posestream::testing::models_dir(), model, precision),
                                           options);
    }
    return *slot;
  }
  static void TearDownTestSuite() { trackers().clear(); }

 private:
  static std::map<std::pair<PoseModel, Precision>, std::unique_ptr<PoseTracker>>& trackers() {
    static std::map<std::pair<PoseModel, Precision>, std::unique_ptr<PoseTracker>> instances;
    return instances;
  }
};

TEST_P(PoseGolden, MatchesMediaPipeInImageMode) {
  const std::string stem = std::get<0>(GetParam());
  const PoseModel model = std::get<1>(GetParam());
  const Precision precision = std::get<2>(GetParam());
  const std::string variant = model_name(model);
  const golden::ImageResult expected = golden::load_image_result(stem, "pose_" + variant);
  POSESTREAM_GOLDEN_IMAGE_OR_SKIP(path, expected.image_file);
  const vision::Image image = testing::load_image(path);
  ASSERT_EQ(image.width, expected.width);
  ASSERT_EQ(image.height, expected.height);

  const std::optional<Pose> pose = tracker(model, precision).process(image, 0);
  std::cout << std::fixed << std::setprecision(4) << "[pose golden] " << stem << " " << variant << " "
            << engine::precision_name(precision) << ": mediapipe " << expected.people.size() << " ours " << (pose ? 1 : 0);
  if (pose) std::cout << " (flag " << pose->score << ")";
  ASSERT_EQ(pose.has_value(), !expected.people.empty()) << "pose count differs from MediaPipe's";
  if (!pose) {
    std::cout << "\n";
    return;
  }
  const PoseErrors errors = compare_pose(*pose, expected.people.front());
  std::cout << " | 2D mean " << errors.mean_2d << " max " << errors.max_2d << " over " << errors.visible
            << " visible | world mean " << errors.world_mean_3d << " m | visibility max diff "
            << errors.max_visibility_difference << "\n";
  const testing::Gates gates = testing::gates_for(precision);
  EXPECT_LE(errors.mean_2d, gates.mean_2d);
  EXPECT_LE(errors.max_2d, gates.max_2d);
  EXPECT_LE(errors.world_mean_3d, gates.world_mean_3d);
}

std::string case_name(const ::testing::TestParamInfo<PoseGolden::ParamType>& info) {
  const Precision precision = std::get<2>(info.param);
  return std::string(std::get<0>(info.param)) + "_" + model_name(std::get<1>(info.param)) +
         (precision == Precision::kFloat32 ? "" : std::string("_") + engine::precision_name(precision));
}

INSTANTIATE_TEST_SUITE_P(Photos, PoseGolden,
                         ::testing::Combine(::testing::ValuesIn(kImages),
                                            ::testing::Values(PoseModel::lite, PoseModel::full, PoseModel::heavy),
                                            ::testing::Values(Precision::kFloat32, Precision::kInt8)),
                         case_name);

}  // namespace
}  // namespace posestream::pose
