// The newcomer search (pose/people_search.h): tile geometry, and on a sequence made from a non-golden
// multi-person photo, the people the zoomed tiles find that the whole-frame search misses, and at what cost.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pose/people.h"
#include "pose/people_search.h"
#include "pose_compare.h"
#include "test_paths.h"

namespace posestream::pose {
namespace {

double core_area(const std::vector<SearchTile>& tiles) {
  double area = 0;
  for (const SearchTile& tile : tiles) area += double(tile.core.width) * tile.core.height;
  return area;
}

TEST(SearchTiles, A640x480FrameHasSixSquaresOfHalfItsWidthOverlappingByHalf) {
  const std::vector<SearchTile> tiles = search_tiles({640, 480});
  ASSERT_EQ(tiles.size(), 6u);
  for (const SearchTile& tile : tiles) {
    EXPECT_FLOAT_EQ(tile.view.width * 640, 320);
    EXPECT_FLOAT_EQ(tile.view.height * 480, 320);
    EXPECT_GE(tile.view.xmin, 0);
    EXPECT_LE(tile.view.xmin + tile.view.width, 1.0f + 1e-6f);
    EXPECT_LE(tile.view.ymin + tile.view.height, 1.0f + 1e-6f);
  }
  EXPECT_FLOAT_EQ(tiles[1].view.xmin * 640, 160);  // Columns at 0, 160, 320; rows at 0, 160.
  EXPECT_FLOAT_EQ(tiles[3].view.ymin * 480, 160);
  EXPECT_NEAR(core_area(tiles), 1.0, 1e-6);  // The cores cover the frame once.
}

TEST(SearchTiles, CoresSplitTheFrameAndLieInsideTheirViews) {
  for (const vision::ImageSize size : {vision::ImageSize{1280, 720}, {480, 640}, {300, 300}, {1000, 200}}) {
    const std::vector<SearchTile> tiles = search_tiles(size);
    ASSERT_FALSE(tiles.empty());
    EXPECT_LE(tiles.size(), 9u);
    EXPECT_NEAR(core_area(tiles), 1.0, 1e-5) << size.width << "x" << size.height;
    for (const SearchTile& tile : tiles) {
      EXPECT_GE(tile.core.xmin, tile.view.xmin - 1e-6f);
      EXPECT_LE(tile.core.xmin + tile.core.width, tile.view.xmin + tile.view.width + 1e-6f);
      EXPECT_GE(tile.core.ymin, tile.view.ymin - 1e-6f);
      EXPECT_LE(tile.core.ymin + tile.core.height, tile.view.ymin + tile.view.height + 1e-6f);
    }
  }
  EXPECT_TRUE(search_tiles({0, 480}).empty());
}

// A detection with its ROI centred on mid-hip `hip` and the body's extent keypoint at `extent` (the ROI's
// size as pose_roi_from_detection's on a square frame; tile_keeps reads only its centre).
PoseDetection detection_at(vision::Point2 hip, vision::Point2 extent) {
  PoseDetection detection;
  detection.detection.keypoints = {hip, extent, {hip.x, hip.y - 0.05f}, {extent.x, extent.y + 0.05f}};
  const double radius = std::hypot(extent.x - hip.x, extent.y - hip.y);
  detection.roi = {hip.x, hip.y, float(2.5 * radius), float(2.5 * radius), 0.0f};
  return detection;
}

TEST(SearchTiles, KeepsPeopleCentredInTheCoreWhoseKeypointsItSaw) {
  const SearchTile tile = search_tiles({640, 480})[0];  // View [0, 0.5] x [0, 2/3], core [0, 0.375] x [0, 0.5].
  EXPECT_TRUE(tile_keeps(tile, detection_at({0.2f, 0.3f}, {0.2f, 0.2f})));
  EXPECT_FALSE(tile_keeps(tile, detection_at({0.45f, 0.3f}, {0.45f, 0.2f})));  // In the next tile's core.
  // A body whose ROI (2.5 times hip to extent) is wider than the tile: kept, its keypoints in view.
  const PoseDetection tall = detection_at({0.3f, 0.45f}, {0.3f, 0.1f});
  EXPECT_GT(tall.roi.width, tile.view.width);
  EXPECT_TRUE(tile_keeps(tile, tall));
  // The extent guessed beyond the view's top edge: a body the tile cuts.
  EXPECT_FALSE(tile_keeps(tile, detection_at({0.3f, 0.3f}, {0.3f, -0.05f})));
  PoseDetection no_keypoints = detection_at({0.2f, 0.3f}, {0.2f, 0.2f});
  no_keypoints.detection.keypoints.resize(1);
  EXPECT_FALSE(tile_keeps(tile, no_keypoints));
}

TEST(SearchTiles, AZoomIsATileSizedViewCentredOnItsHintInsideTheFrame) {
  const SearchTile middle = zoom_tile({640, 480}, {0.5f, 0.4f});
  EXPECT_FLOAT_EQ(middle.view.width * 640, 320);
  EXPECT_FLOAT_EQ(middle.view.height * 480, 320);
  EXPECT_FLOAT_EQ(middle.view.xmin + 0.5f * middle.view.width, 0.5f);
  EXPECT_FLOAT_EQ(middle.view.ymin + 0.5f * middle.view.height, 0.4f);
  EXPECT_EQ(middle.core.xmin, middle.view.xmin);  // The zoom answers for all it sees.
  EXPECT_EQ(middle.core.width, middle.view.width);
  const SearchTile corner = zoom_tile({640, 480}, {0.95f, 0.02f});  // Moved inside, not cut.
  EXPECT_FLOAT_EQ(corner.view.xmin + corner.view.width, 1.0f);
  EXPECT_FLOAT_EQ(corner.view.ymin, 0.0f);
  EXPECT_EQ(zoom_tile({0, 480}, {0.5f, 0.5f}).view.width, 0.0f);
}

TEST(SearchTiles, AZoomHintIsTheBestFaintDetectionOverlappingNobodyTracked) {
  PoseDetection on_tracked = detection_at({0.3f, 0.5f}, {0.3f, 0.4f});
  on_tracked.detection.box = {0.25f, 0.35f, 0.1f, 0.2f};
  PoseDetection apart = detection_at({0.7f, 0.5f}, {0.7f, 0.4f});
  apart.detection.box = {0.65f, 0.35f, 0.1f, 0.2f};
  const std::vector<vision::NormalizedRect> tracked = {on_tracked.roi};
  const std::optional<SearchTile> hint = zoom_hint({640, 480}, {on_tracked, apart}, tracked, 0.5f);
  ASSERT_TRUE(hint.has_value());
  EXPECT_FLOAT_EQ(hint->view.xmin + 0.5f * hint->view.width, 0.7f);  // The box's centre, not the hip.
  EXPECT_FLOAT_EQ(hint->view.ymin + 0.5f * hint->view.height, 0.45f);
  EXPECT_FALSE(zoom_hint({640, 480}, {on_tracked}, tracked, 0.5f).has_value());
  EXPECT_FALSE(zoom_hint({640, 480}, {}, tracked, 0.5f).has_value());
}

TEST(SearchTiles, TileRunsAreValidated) {
  PeopleOptions options;
  options.num_poses = 4;
  options.newcomer_tile_runs = -1;
  EXPECT_NE(validate(options), std::nullopt);
  options.newcomer_tile_runs = kMaxNewcomerTileRuns + 1;
  EXPECT_NE(validate(options)->find("newcomer_tile_runs"), std::string::npos);
  options.newcomer_tile_runs = 0;
  EXPECT_EQ(validate(options), std::nullopt);
}

// Detector runs per frame on an empty (black) 640x480 view, where nobody is ever found: the whole frame
// on every frame (nobody tracked), the tiles once per interval on top, never with interval 0 (MediaPipe's
// policy) nor with num_poses 1 (track_pose's).
std::vector<int> runs_on_empty_frames(int num_poses, double interval_ms) {
  PeopleOptions options;
  options.num_poses = num_poses;
  options.detector_interval_ms = interval_ms;
  PoseRuntimes runtimes(load_pose_models(posestream::testing::models_dir(), options.pose.model));
  PeopleState state;
  const vision::Image empty = vision::Image::allocate(640, 480);
  std::vector<int> runs;
  for (int f = 0; f < 17; ++f) {
    PeopleTiming timing;
    EXPECT_TRUE(track_people(empty, std::lround(f * 1000.0 / 30.0) * 1000, state, runtimes, options, &timing).empty());
    EXPECT_EQ(timing.detector_ran, timing.detector_runs > 0);
    runs.push_back(timing.detector_runs);
  }
  return runs;
}

TEST(PeopleSearch, CountsEveryRunAndRunsTilesOnlyOnTheirSchedule) {
  std::vector<int> expected(17, 1);
  expected[0] = expected[15] = 3;  // Frames 0 and 15 (500 ms): the whole frame and 2 tiles.
  EXPECT_EQ(runs_on_empty_frames(4, 500), expected);
  EXPECT_EQ(runs_on_empty_frames(4, 0), std::vector<int>(17, 1));
  EXPECT_EQ(runs_on_empty_frames(1, 500), std::vector<int>(17, 1));
}

// A still moved by a smooth affine, as MediaPipe's golden sequences are made (translation, rotation,
// scale): frame pixel p shows still pixel centre + R(angle) (p - frame centre) / scale, bilinear, black
// outside. The motion is fixed here, not fitted to any result.
struct Camera {
  double centre_x, centre_y, scale, angle;
};

vision::Image render(const vision::Image& still, const Camera& camera, int width, int height) {
  vision::Image frame = vision::Image::allocate(width, height);
  const double c = std::cos(camera.angle), s = std::sin(camera.angle);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double dx = (x + 0.5 - width / 2.0) / camera.scale, dy = (y + 0.5 - height / 2.0) / camera.scale;
      const double u = camera.centre_x + c * dx - s * dy - 0.5, v = camera.centre_y + s * dx + c * dy - 0.5;
      const int u0 = int(std::floor(u)), v0 = int(std::floor(v));
      if (u0 < 0 || v0 < 0 || u0 + 1 >= still.width || v0 + 1 >= still.height) continue;
      const double fu = u - u0, fv = v - v0;
      for (int k = 0; k < 3; ++k) {
        const auto at = [&](int i, int j) { return double(still.pixels[(size_t(j) * still.width + i) * 3 + k]); };
        const double value = (1 - fv) * ((1 - fu) * at(u0, v0) + fu * at(u0 + 1, v0)) +
                             fv * ((1 - fu) * at(u0, v0 + 1) + fu * at(u0 + 1, v0 + 1));
        frame.pixels[(size_t(y) * width + x) * 3 + k] = uint8_t(std::lround(value));
      }
    }
  }
  return frame;
}

// 2 s at 30/s: the view pans across the still and back, turns within +-8 degrees and zooms within +-15%.
Camera camera_at(int frame, double still_width, double still_height, double scale) {
  const double t = frame / 60.0, pi = std::acos(-1.0);
  return {still_width * (0.5 + 0.12 * std::sin(2 * pi * t)), still_height * (0.5 + 0.05 * std::sin(4 * pi * t)),
          scale * (1 + 0.15 * std::sin(2 * pi * t + 1)), 8 * pi / 180 * std::sin(2 * pi * t + 2)};
}

// The still's people, annotated by hand: the centre of each body (between the shoulders and the feet) in
// still pixels. A tracked person whose landmarks' centre maps within kNearPx of one is that person.
struct StillPerson {
  double x, y;
};
constexpr double kNearPx = 25;

struct Outcome {
  int detector_runs = 0;
  std::set<int64_t> ids;          // Every id reported.
  std::set<size_t> found;         // Annotated people matched by some id.
  int unmatched_person_frames = 0;  // Reported people near no annotated one.
  int person_frames = 0;
};

Outcome run_sequence(const vision::Image& still, const std::vector<StillPerson>& truth, double scale,
                     double interval_ms, int tile_runs, PoseModel model) {
  PeopleOptions options;
  options.pose.model = model;
  options.pose.smoothing = false;
  options.num_poses = 4;
  options.detector_interval_ms = interval_ms;
  options.newcomer_tile_runs = tile_runs;
  PoseRuntimes runtimes(load_pose_models(posestream::testing::models_dir(), model));
  PeopleState state;
  Outcome outcome;
  for (int f = 0; f < 60; ++f) {
    const Camera camera = camera_at(f, still.width, still.height, scale);
    const vision::Image frame = render(still, camera, 640, 480);
    PeopleTiming timing;
    const std::vector<Person> people =
        track_people(frame, std::lround(f * 1000.0 / 30.0) * 1000, state, runtimes, options, &timing);
    outcome.detector_runs += timing.detector_runs;
    for (const Person& person : people) {
      double x = 0, y = 0;  // Mean of the body's landmarks 11-28 (shoulders to ankles), frame pixels.
      for (int i = 11; i <= 28; ++i) {
        x += person.pose.landmarks[size_t(i)].x * 640 / 18;
        y += person.pose.landmarks[size_t(i)].y * 480 / 18;
      }
      const double c = std::cos(camera.angle), s = std::sin(camera.angle);
      const double dx = (x - 320) / camera.scale, dy = (y - 240) / camera.scale;
      const double u = camera.centre_x + c * dx - s * dy, v = camera.centre_y + s * dx + c * dy;
      outcome.ids.insert(person.id);
      ++outcome.person_frames;
      bool matched = false;
      for (size_t k = 0; k < truth.size(); ++k) {
        if (std::hypot(u - truth[k].x, v - truth[k].y) < kNearPx) {
          outcome.found.insert(k);
          matched = true;
        }
      }
      outcome.unmatched_person_frames += matched ? 0 : 1;
    }
  }
  return outcome;
}

void print(const char* what, const Outcome& outcome) {
  std::cout << "[people search] " << what << ": detector runs " << outcome.detector_runs << ", ids "
            << outcome.ids.size() << ", annotated people found " << outcome.found.size() << ", person-frames "
            << outcome.person_frames << " (" << outcome.unmatched_person_frames << " near nobody annotated)\n";
}

std::optional<vision::Image> load_still(const char* name) {
  const auto path = posestream::testing::test_data_dir() / "images" / name;
  if (!std::filesystem::is_regular_file(path)) return std::nullopt;
  return testing::load_image(path);
}

// The still's top-left `width` x `height` pixels.
vision::Image crop(const vision::Image& image, int width, int height) {
  vision::Image out = vision::Image::allocate(width, height);
  for (int y = 0; y < height; ++y) {
    std::copy_n(image.row(y).begin(), out.row_bytes(), out.pixels.begin() + std::ptrdiff_t(y * out.row_bytes()));
  }
  return out;
}

// The searches on the same sequence, both models. The tiles (the defaults: every 500 ms the whole frame,
// then a zoom where it half-saw someone and 2 tiles if it finds nobody new) against the whole frame alone
// about as often (every 500 / 3 ms: as many runs while someone is tracked as a search without a zoom; with
// nobody tracked both run the whole frame on every frame; the runs each made are compared):
// the tiles find more of the annotated people, with no more detector runs, and what they track is
// somebody. The whole frame every 500 ms (before the tiles) is printed too.
void expect_tiles_find_more(const char* name, const vision::Image& still, const std::vector<StillPerson>& truth) {
  const PeopleOptions defaults;
  const double same_budget_ms = defaults.detector_interval_ms / (1 + defaults.newcomer_tile_runs);
  for (const PoseModel model : {PoseModel::lite, PoseModel::full}) {
    const Outcome before = run_sequence(still, truth, 1.8, defaults.detector_interval_ms, 0, model);
    const Outcome whole = run_sequence(still, truth, 1.8, same_budget_ms, 0, model);
    const Outcome tiles =
        run_sequence(still, truth, 1.8, defaults.detector_interval_ms, defaults.newcomer_tile_runs, model);
    const std::string what = std::string(name) + " " + model_name(model);
    print((what + " whole frame every 500 ms").c_str(), before);
    print((what + " whole frame every 167 ms").c_str(), whole);
    print((what + " whole frame + 2 tiles every 500 ms").c_str(), tiles);
    EXPECT_GT(tiles.found.size(), whole.found.size()) << what;
    EXPECT_LE(tiles.detector_runs, whole.detector_runs) << what;
    EXPECT_LE(tiles.unmatched_person_frames, tiles.person_frames / 10) << what;
  }
}

// PETS 2009 (OpenCV's background subtraction tutorial frame, 576x432): 7 people walking on a campus,
// 36-72 px tall. At the sequence's scale (about 1.8, so 65-130 px of the 480 px frames) the whole frame
// shows them to the detector at 23-45 px, too small; a tile at 45-90 px.
TEST(PeopleSearch, TilesFindSmallPeopleTheWholeFrameMissesOnPets2009) {
  const std::optional<vision::Image> still = load_still("pets2009_frame.jpg");
  if (!still) GTEST_SKIP() << "pets2009_frame.jpg missing: run scripts/fetch-test-images";
  expect_tiles_find_more("pets2009", *still,
                         {{75, 140}, {179, 173}, {381, 138}, {516, 95}, {535, 97}, {470, 237}, {540, 228}});
}

// PETS 2006 (the input panel, 343x266, of OpenCV's retina demo): 5 people in a station hall, 35-73 px
// tall (one behind the platform's glass), the same scale as above. Annotated as above.
TEST(PeopleSearch, TilesFindSmallPeopleTheWholeFrameMissesOnPets2006) {
  const std::optional<vision::Image> demo = load_still("pets2006_demo.jpg");
  if (!demo) GTEST_SKIP() << "pets2006_demo.jpg missing: run scripts/fetch-test-images";
  expect_tiles_find_more("pets2006", crop(*demo, 343, 266),
                         {{96, 55}, {188, 105}, {25, 180}, {128, 190}, {188, 190}});
}

// The zoom's hints come from the whole frame's own run: its confident detections stay exactly what
// detect_poses gives (the threshold applies before the NMS, as MediaPipe's), the faint ones lie between the
// floor and the threshold. On the PETS 2006 panel, whose small people the detector half-sees.
TEST(PeopleSearch, FaintDetectionsLeaveTheConfidentOnesAsDetectPosesGivesThem) {
  const std::optional<vision::Image> demo = load_still("pets2006_demo.jpg");
  if (!demo) GTEST_SKIP() << "pets2006_demo.jpg missing: run scripts/fetch-test-images";
  PoseRuntimes runtimes(load_pose_models(posestream::testing::models_dir(), PoseModel::full));
  const vision::Image image = crop(*demo, 343, 266);
  const std::vector<PoseDetection> alone =
      detect_poses(image, runtimes.detector(), runtimes.anchors(), runtimes.scratch(), 0.5f);
  const PoseDetectorRun run = detect_poses_and_faint(image, runtimes.detector(), runtimes.anchors(),
                                                     runtimes.scratch(), 0.5f, kZoomHintMinScore);
  ASSERT_EQ(run.detections.size(), alone.size());
  for (size_t i = 0; i < alone.size(); ++i) {
    EXPECT_EQ(run.detections[i].detection.score, alone[i].detection.score);
    EXPECT_EQ(run.detections[i].roi.x_center, alone[i].roi.x_center);
    EXPECT_EQ(run.detections[i].roi.width, alone[i].roi.width);
  }
  EXPECT_FALSE(run.faint.empty());
  for (const PoseDetection& faint : run.faint) {
    EXPECT_GE(faint.detection.score, kZoomHintMinScore);
    EXPECT_LT(faint.detection.score, 0.5f);
  }
  EXPECT_TRUE(detect_poses_and_faint(image, runtimes.detector(), runtimes.anchors(), runtimes.scratch(), 0.5f, 0.5f)
                  .faint.empty());
}

}  // namespace
}  // namespace posestream::pose
