// VIDEO-mode multi-person tracking (num_poses 4) through MediaPipe's multi-person golden sequence:
// everyone MediaPipe tracks tracked too, landmark accuracy, stable ids, the detector's runs.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "people_compare.h"
#include "pose/people_search.h"

namespace posestream::pose {
namespace {

constexpr int kNumPoses = 4;
constexpr double kMaxMatchDistance = 0.05;  // As test_people_golden.cpp.
constexpr const char* kSequence = "seq_aic_ff945ae2";

std::filesystem::path sequence_dir() { return testing::multi_dir() / "sequences"; }

using Affine = std::array<std::array<double, 3>, 2>;  // Source px -> frame px (the affine JSON's M).

std::vector<Affine> load_affines() {
  std::ifstream in(sequence_dir() / (std::string(kSequence) + ".affine.json"));
  const nlohmann::json json = nlohmann::json::parse(in);
  std::vector<Affine> matrices;
  for (const auto& frame : json.at("frames")) matrices.push_back(frame.at("matrix").get<Affine>());
  return matrices;
}

// MediaPipe reports no ids: its people are followed from frame to frame by nearest match (the sequence
// moves by a smooth affine, a few pixels per frame). Someone MediaPipe loses and finds again a few frames
// later (its lite model holds the third person on frame 17, then from 23 on) keeps their label when they
// are within kMaxMatchDistance per frame of the gap from where it last had them: one person, not two.
// labels[f][t]: the label of its person t in frame f.
std::vector<std::vector<int>> label_their_people(const golden::Sequence& sequence) {
  struct LastSeen {
    size_t frame;
    const golden::Person* person;
  };
  std::vector<std::vector<int>> labels;
  std::map<int, LastSeen> last_seen;
  int next_label = 0;
  for (size_t f = 0; f < sequence.frames.size(); ++f) {
    const auto& people = sequence.frames[f].people;
    std::vector<int> frame_labels(people.size(), -1);
    std::set<int> taken;
    for (size_t t = 0; t < people.size(); ++t) {
      double best = std::numeric_limits<double>::infinity();
      for (const auto& [label, seen] : last_seen) {
        const double distance = testing::golden_distance(people[t], *seen.person);
        if (!taken.contains(label) && distance < kMaxMatchDistance * double(f - seen.frame) && distance < best) {
          best = distance;
          frame_labels[t] = label;
        }
      }
      if (frame_labels[t] < 0) frame_labels[t] = next_label++;
      taken.insert(frame_labels[t]);
    }
    for (size_t t = 0; t < people.size(); ++t) last_seen[frame_labels[t]] = {f, &people[t]};
    labels.push_back(frame_labels);
  }
  return labels;
}

// A person's error against the still photo's own IMAGE-mode landmarks moved by the frame's affine: mean
// pixels over landmarks 0-24 visible in the still and inside the frame (the README's cross-check).
struct StillReference {
  std::vector<golden::Person> still;  // results/<photo>/pose_<variant>.json
  int still_width = 0, still_height = 0;
  std::vector<Affine> affines;

  // nullopt when no still person is within 60 px (the README's threshold: someone the still lacks).
  std::optional<double> error_px(const std::vector<vision::Landmark>& landmarks, size_t frame, int width,
                                 int height) const {
    std::optional<double> best;
    for (const golden::Person& person : still) {
      double sum = 0;
      int count = 0;
      for (size_t i = 0; i < testing::kMatchLandmarks; ++i) {
        if (person.landmarks[i].visibility <= 0.5f) continue;
        const Affine& m = affines[frame];
        const double xs = person.landmarks[i].x * still_width, ys = person.landmarks[i].y * still_height;
        const double xf = m[0][0] * xs + m[0][1] * ys + m[0][2], yf = m[1][0] * xs + m[1][1] * ys + m[1][2];
        if (xf < 0 || yf < 0 || xf > width || yf > height) continue;
        sum += std::hypot(landmarks[i].x * width - xf, landmarks[i].y * height - yf);
        ++count;
      }
      if (count > 0 && sum / count < 60 && (!best || sum / count < *best)) best = sum / count;
    }
    return best;
  }
};

// One pass through the sequence: per MediaPipe person (label), the frames it was matched or missed, the
// ids of ours it matched, and both sides' errors against the still.
struct SequenceRun {
  int detector_runs = 0;
  int their_policy_runs = 0;  // MediaPipe's: every frame unless the previous one gave numPoses poses.
  std::map<int, int> their_frames, missed, first_frame;
  std::map<int, std::set<int64_t>> our_ids;
  std::set<int64_t> ids_seen;  // Every id of ours matched so far.
  std::vector<double> our_still_px, their_still_px;  // Matched people the still has.
  std::vector<double> same_roi_mean, same_roi_max;   // Frames where both ran on the same detection ROI.
  // Per label: the first frame one of ours matched them, and the frames they were missed from then on.
  std::map<int, int> first_matched, missed_after_matched;
};

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double percentile90(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() * 9 / 10];
}

int count_of(const std::map<int, int>& counts, int label) {
  const auto found = counts.find(label);
  return found == counts.end() ? 0 : found->second;
}

std::set<int64_t> ids_of(const SequenceRun& run, int label) {
  const auto found = run.our_ids.find(label);
  return found == run.our_ids.end() ? std::set<int64_t>{} : found->second;
}

class PeopleSequence : public ::testing::TestWithParam<PoseModel> {
 protected:
  void SetUp() override {
    variant_ = model_name(GetParam());
    sequence_ = golden::load_sequence(sequence_dir() / kSequence / ("pose_" + variant_ + "_video.json"));
    ASSERT_EQ(sequence_.frames.size(), 60u);
    if (!std::filesystem::is_regular_file(sequence_dir() / sequence_.frames.front().file)) {
      GTEST_SKIP() << "sequence frames missing: " << sequence_dir() / sequence_.frames.front().file;
    }
    labels_ = label_their_people(sequence_);
    const golden::ImageResult still = golden::load_image_result(
        testing::multi_dir() / "results" / "aic_ff945ae2" / ("pose_" + variant_ + ".json"));
    reference_ = StillReference{still.people, still.width, still.height, load_affines()};
  }

  SequenceRun run(double detector_interval_ms, int newcomer_tile_runs);
  void record_frame(const golden::Frame& frame, const std::vector<Person>& people, int detector_runs,
                    SequenceRun& run) const;

  std::string variant_;
  golden::Sequence sequence_;
  std::vector<std::vector<int>> labels_;
  StillReference reference_;
};

SequenceRun PeopleSequence::run(double detector_interval_ms, int newcomer_tile_runs) {
  PeopleOptions options;
  options.pose.model = GetParam();
  options.pose.smoothing = false;  // MediaPipe does not smooth with numPoses > 1.
  options.num_poses = kNumPoses;
  options.detector_interval_ms = detector_interval_ms;
  options.newcomer_tile_runs = newcomer_tile_runs;
  PoseRuntimes runtimes(load_pose_models(posestream::testing::models_dir(), GetParam()));
  PeopleState state;
  SequenceRun run;
  for (const golden::Frame& frame : sequence_.frames) {
    EXPECT_EQ(frame.timestamp_ms, std::lround(frame.index * 1000.0 / 30.0));
    const vision::Image image = testing::load_image(sequence_dir() / frame.file);
    PeopleTiming timing;
    const std::vector<Person> people =
        track_people(image, frame.timestamp_ms * 1000, state, runtimes, options, &timing);
    run.detector_runs += timing.detector_runs;
    const size_t previous = frame.index > 0 ? sequence_.frames[size_t(frame.index) - 1].people.size() : 0;
    run.their_policy_runs += previous < size_t{kNumPoses} ? 1 : 0;
    record_frame(frame, people, timing.detector_runs, run);
  }
  return run;
}

void PeopleSequence::record_frame(const golden::Frame& frame, const std::vector<Person>& people, int detector_runs,
                                  SequenceRun& run) const {
  const bool detector_ran = detector_runs > 0;
  const auto pairs = testing::match_people(people, frame.people, kMaxMatchDistance);
  std::cout << std::fixed << std::setprecision(4) << "[people sequence] " << variant_ << " frame " << std::setw(2)
            << frame.index << " D" << detector_runs << " mediapipe " << frame.people.size() << " ours "
            << people.size();
  for (size_t t = 0; t < frame.people.size(); ++t) {
    const int label = labels_[size_t(frame.index)][t];
    if (run.their_frames[label]++ == 0) run.first_frame[label] = frame.index;
    if (!pairs[t]) {
      ++run.missed[label];
      if (run.first_matched.contains(label)) ++run.missed_after_matched[label];
      std::cout << " | their " << label << " missed";
      continue;
    }
    const Person& ours = people[*pairs[t]];
    run.first_matched.try_emplace(label, frame.index);
    run.our_ids[label].insert(ours.id);
    const bool first_seen = run.ids_seen.insert(ours.id).second;
    const testing::PoseErrors errors = testing::compare_pose(ours.pose, frame.people[t]);
    std::cout << " | their " << label << " = id " << ours.id << " mean " << errors.mean_2d << " max " << errors.max_2d;
    // Our newcomer, found by our detector on this very frame: the same detection ROI as MediaPipe's
    // (which re-detects every frame), so the single-person gates apply.
    if (first_seen && detector_ran) {
      run.same_roi_mean.push_back(errors.mean_2d);
      run.same_roi_max.push_back(errors.max_2d);
    }
    std::vector<vision::Landmark> landmarks(ours.pose.landmarks.begin(), ours.pose.landmarks.end());
    const auto our_px = reference_.error_px(landmarks, size_t(frame.index), sequence_.width, sequence_.height);
    const auto their_px =
        reference_.error_px(frame.people[t].landmarks, size_t(frame.index), sequence_.width, sequence_.height);
    if (our_px && their_px) {
      run.our_still_px.push_back(*our_px);
      run.their_still_px.push_back(*their_px);
    }
  }
  std::cout << "\n";
}

// Counts near thresholds flicker between adjacent frames (README: e.g. 2,1,2), so a person may be missed on
// a frame or two where MediaPipe's flag or detection was marginal; more is a tracking failure.
constexpr int kMaxMissedFrames = 2;
// Our landmarks come from each person's previous landmarks, MediaPipe's (numPoses 4, detector on every
// frame) from a fresh detection's ROI wherever one overlaps (its VIDEO golden equals its IMAGE golden on
// those frames), so per-frame agreement is the landmark model's ROI sensitivity, not our error. Both are
// measured against one reference instead, the still's landmarks moved by the known affine, and ours may
// be at most half again MediaPipe's own error to it.
constexpr double kMaxStillErrorRatio = 1.5;

void print_people(const std::string& variant, const SequenceRun& run) {
  for (const auto& [label, frames] : run.their_frames) {
    std::cout << "[people sequence] " << variant << " their person " << label << " from frame "
              << run.first_frame.at(label) << ": " << frames << " frames, missed " << count_of(run.missed, label)
              << ", our ids " << ids_of(run, label).size();
    const auto found = run.first_matched.find(label);
    if (found != run.first_matched.end()) std::cout << ", ours from frame " << found->second;
    std::cout << "\n";
  }
}

// MediaPipe's detector policy (interval 0) with our association: everyone MediaPipe tracks, tracked.
TEST_P(PeopleSequence, WithMediaPipesDetectorPolicyTracksEveryoneItTracks) {
  const SequenceRun run = this->run(0, 0);  // The whole frame only, as MediaPipe.
  std::cout << "[people sequence] " << variant_ << " interval 0: detector runs " << run.detector_runs
            << ", MediaPipe's policy " << run.their_policy_runs << "; error to the still (px): ours median "
            << median(run.our_still_px) << " p90 " << percentile90(run.our_still_px) << ", MediaPipe's median "
            << median(run.their_still_px) << " p90 " << percentile90(run.their_still_px) << " over "
            << run.our_still_px.size() << " person-frames\n";
  print_people(variant_, run);
  for (const auto& [label, frames] : run.their_frames) {
    EXPECT_LE(count_of(run.missed, label), kMaxMissedFrames) << "their person " << label;
    EXPECT_EQ(ids_of(run, label).size(), 1u) << "their person " << label << " matched several of our ids";
  }
  ASSERT_FALSE(run.same_roi_mean.empty());
  for (size_t i = 0; i < run.same_roi_mean.size(); ++i) {
    EXPECT_LE(run.same_roi_mean[i], testing::kPeopleMaxMean2d) << "newcomer " << i;
    EXPECT_LE(run.same_roi_max[i], testing::kPeopleMaxMax2d) << "newcomer " << i;
  }
  ASSERT_GT(run.our_still_px.size(), 100u);
  EXPECT_LE(median(run.our_still_px), kMaxStillErrorRatio * median(run.their_still_px));
  EXPECT_LE(percentile90(run.our_still_px), kMaxStillErrorRatio * percentile90(run.their_still_px));
}

// The defaults (a search every 500 ms: the whole frame, then, if it finds nobody new, a zoom where it
// half-saw someone untracked and 2 zoomed tiles): the detector's runs bounded and >= 5x fewer than
// MediaPipe's policy (the target: <= 12 here), and everyone MediaPipe's VIDEO mode tracks tracked
// too, with one id, missed on at most 2 of its frames from the first we track them. A later arrival may be
// found later than MediaPipe finds them (its detector runs on every frame), but within the search's worst
// case: the next search an interval after they appear, then a whole round of the tiles. Measured: the
// third person (from frame 17, about 100 px tall) is found at frame 45 by the zoom, 10 runs in all. This
// sequence's failure without the zoom (the tiles' turns missed him) is why the zoom exists; it has no
// parameter fitted here (its floor is a round 0.1) and was checked on non-golden photos
// (test_people_search.cpp), where the tiles with it still find more people than the whole frame.
TEST_P(PeopleSequence, WithTheDetectorIntervalBoundsItsRuns) {
  const PeopleOptions defaults;
  const SequenceRun run = this->run(defaults.detector_interval_ms, defaults.newcomer_tile_runs);
  const double duration_ms = static_cast<double>(sequence_.frames.back().timestamp_ms);
  // Runs on frames with nobody tracked are free of the interval; nobody is tracked only before frame 0's.
  // Each search is the whole frame, a zoom and at most newcomer_tile_runs tiles.
  const int bound = (static_cast<int>(std::ceil(duration_ms / defaults.detector_interval_ms)) + 1) *
                    (2 + defaults.newcomer_tile_runs);
  const int tiles = static_cast<int>(search_tiles({sequence_.width, sequence_.height}).size());
  const int searches_per_round = (tiles + defaults.newcomer_tile_runs - 1) / defaults.newcomer_tile_runs;
  const int latency_frames =
      static_cast<int>(std::ceil((1 + searches_per_round) * defaults.detector_interval_ms * 30 / 1000));
  std::cout << "[people sequence] " << variant_ << " interval " << defaults.detector_interval_ms
            << " ms, " << defaults.newcomer_tile_runs << " tiles per search: detector runs " << run.detector_runs
            << " (bound " << bound << "), MediaPipe's policy " << run.their_policy_runs
            << "; a newcomer found within " << latency_frames << " frames\n";
  print_people(variant_, run);
  EXPECT_LE(run.detector_runs, bound);
  EXPECT_GE(run.their_policy_runs, 5 * run.detector_runs);
  for (const auto& [label, frames] : run.their_frames) {
    const auto found = run.first_matched.find(label);
    ASSERT_NE(found, run.first_matched.end()) << "their person " << label << " (from frame "
                                              << run.first_frame.at(label) << ") never tracked";
    EXPECT_LE(found->second - run.first_frame.at(label), latency_frames) << "their person " << label;
    EXPECT_LE(count_of(run.missed_after_matched, label), kMaxMissedFrames) << "their person " << label;
    EXPECT_EQ(ids_of(run, label).size(), 1u) << "their person " << label;
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, PeopleSequence, ::testing::Values(PoseModel::lite, PoseModel::full),
                         [](const ::testing::TestParamInfo<PoseModel>& param) { return model_name(param.param); });

}  // namespace
}  // namespace posestream::pose
