// Several people per stream: validate() and track_people, IMAGE mode as Tasks' numPoses, VIDEO mode with
// each person tracked from their own landmarks and the detector on a budget (people.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "pose/people.h"
#include "pose/people_association.h"
#include "pose/people_search.h"
#include "pose/pose_detector.h"
#include "pose/pose_track_step.h"

namespace posestream::pose {

namespace {

std::optional<std::string> check_unit_interval(const char* name, double value) {
  if (std::isfinite(value) && value >= 0.0 && value <= 1.0) return std::nullopt;
  return std::string("people: ") + name + " " + std::to_string(value) + " is not in [0, 1]";
}

// The frame's detections (weighted NMS, best first) as the landmark model's ROIs.
std::vector<vision::NormalizedRect> detect_rois(const vision::Image& image, PoseRuntimes& runtimes,
                                                const PoseOptions& options, PeopleTiming& times) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<PoseDetection> detections = detect_poses(image, runtimes.detector(), runtimes.anchors(),
                                                             runtimes.scratch(), options.min_detection_confidence);
  times.detector_ms = milliseconds_since(start);
  times.detector_ran = true;
  times.detector_runs = 1;
  return rois_of(detections);
}

// One person's landmark run through track_pose's own step, its times added to the frame's. `roi` by value:
// it is often state.previous_roi, which the step overwrites.
std::optional<Pose> track_person(const vision::Image& image, std::optional<vision::NormalizedRect> roi,
                                 int64_t timestamp_us, PoseState& state, PoseRuntimes& runtimes,
                                 const PoseOptions& options, PeopleTiming& times) {
  PoseTiming person_times;
  const bool runs = roi.has_value();
  std::optional<Pose> pose = track_roi(image, std::move(roi), timestamp_us, state, runtimes, options, person_times);
  times.landmarks_ms += person_times.landmarks_ms;
  times.smoothing_ms += person_times.smoothing_ms;
  if (runs) ++times.landmark_runs;
  return pose;
}

// IMAGE mode: the N best detections, each to the landmark model; ids 1, 2, ... for those present.
std::vector<Person> track_image(const vision::Image& image, PoseRuntimes& runtimes, const PeopleOptions& options,
                                PeopleTiming& times) {
  const std::vector<vision::NormalizedRect> rois = detect_rois(image, runtimes, options.pose, times);
  std::vector<Person> people;
  PoseState unused;  // IMAGE mode never reads nor writes it.
  for (size_t i = 0; i < rois.size() && i < static_cast<size_t>(options.num_poses); ++i) {
    std::optional<Pose> pose = track_person(image, rois[i], 0, unused, runtimes, options.pose, times);
    if (pose) people.push_back(Person{static_cast<int64_t>(people.size()) + 1, std::move(*pose)});
  }
  return people;
}

// A track that ends this frame (lost, or present without a next ROI): with num_poses 1 its filters wait
// for the next person found, as track_pose's single PoseState does.
void end_track(PeopleState& state, PoseState&& pose, const PeopleOptions& options) {
  if (options.num_poses == 1) state.lost_pose = std::move(pose);
}

// VIDEO mode, newcomers: the due searches' detections that overlap no ROI tracked this frame.
std::vector<vision::NormalizedRect> newcomer_rois(const vision::Image& image, int64_t timestamp_us,
                                                  PeopleState& state, PoseRuntimes& runtimes,
                                                  const PeopleOptions& options, PeopleTiming& times) {
  std::vector<vision::NormalizedRect> tracked_rois;
  for (const PeopleState::TrackedPerson& person : state.people) {
    if (person.pose.previous_roi) tracked_rois.push_back(*person.pose.previous_roi);
  }
  const size_t max_new = static_cast<size_t>(options.num_poses) - std::min(state.people.size(),
                                                                          static_cast<size_t>(options.num_poses));
  NewcomerSearchTimes search;
  std::vector<vision::NormalizedRect> found =
      search_newcomers(image, timestamp_us, tracked_rois, max_new, state, runtimes, options, search);
  times.detector_ms = search.detector_ms;
  times.detector_runs = search.detector_runs;
  times.detector_ran = search.detector_runs > 0;
  return found;
}

// VIDEO mode, after the landmark runs: drops tracks merged into a lower id's, from the state and the
// frame's people (both in the same, increasing id, order).
void merge_tracks(PeopleState& state, std::vector<Person>& people, const PeopleOptions& options,
                  PeopleTiming& times) {
  std::vector<std::optional<vision::NormalizedRect>> rois;
  for (const PeopleState::TrackedPerson& person : state.people) rois.push_back(person.pose.previous_roi);
  const std::vector<bool> merged = merged_tracks(rois, options.merge_iou);
  std::vector<PeopleState::TrackedPerson> kept;
  for (size_t i = 0; i < state.people.size(); ++i) {
    if (merged[i]) {
      std::erase_if(people, [&](const Person& person) { return person.id == state.people[i].id; });
      ++times.merged;
    } else {
      kept.push_back(std::move(state.people[i]));
    }
  }
  state.people = std::move(kept);
}

std::vector<Person> track_video(const vision::Image& image, int64_t timestamp_us, PeopleState& state,
                                PoseRuntimes& runtimes, const PeopleOptions& options, PeopleTiming& times) {
  // Newcomers are chosen against the ROIs the tracked people are about to be run on.
  const std::vector<vision::NormalizedRect> newcomers =
      newcomer_rois(image, timestamp_us, state, runtimes, options, times);
  std::vector<Person> people;
  std::vector<PeopleState::TrackedPerson> still_tracked;
  for (PeopleState::TrackedPerson& person : state.people) {
    std::optional<Pose> pose =
        track_person(image, person.pose.previous_roi, timestamp_us, person.pose, runtimes, options.pose, times);
    if (pose) people.push_back(Person{person.id, std::move(*pose)});
    if (pose && person.pose.previous_roi) {
      still_tracked.push_back(std::move(person));
    } else {
      end_track(state, std::move(person.pose), options);
    }
  }
  for (const vision::NormalizedRect& roi : newcomers) {
    PoseState pose_state = state.lost_pose ? std::move(*state.lost_pose) : PoseState{};
    state.lost_pose.reset();
    std::optional<Pose> pose = track_person(image, roi, timestamp_us, pose_state, runtimes, options.pose, times);
    if (pose) people.push_back(Person{state.next_id, std::move(*pose)});
    if (pose && pose_state.previous_roi) {
      still_tracked.push_back(PeopleState::TrackedPerson{state.next_id, std::move(pose_state)});
    } else {
      end_track(state, std::move(pose_state), options);
    }
    if (pose) ++state.next_id;
  }
  state.people = std::move(still_tracked);
  merge_tracks(state, people, options, times);
  return people;
}

}  // namespace

std::optional<std::string> validate(const PeopleOptions& options) {
  if (options.num_poses < 1 || options.num_poses > kMaxNumPoses) {
    return "people: num_poses " + std::to_string(options.num_poses) + " is not in [1, " +
           std::to_string(kMaxNumPoses) + "]";
  }
  if (!std::isfinite(options.detector_interval_ms) || options.detector_interval_ms < 0) {
    return "people: detector_interval_ms " + std::to_string(options.detector_interval_ms) +
           " is not a finite number >= 0";
  }
  if (options.newcomer_tile_runs < 0 || options.newcomer_tile_runs > kMaxNewcomerTileRuns) {
    return "people: newcomer_tile_runs " + std::to_string(options.newcomer_tile_runs) + " is not in [0, " +
           std::to_string(kMaxNewcomerTileRuns) + "]";
  }
  for (const auto& [name, value] : {std::pair<const char*, double>{"min_tracking_iou", options.min_tracking_iou},
                                    {"merge_iou", options.merge_iou},
                                    {"pose.min_detection_confidence", options.pose.min_detection_confidence},
                                    {"pose.min_tracking_confidence", options.pose.min_tracking_confidence}}) {
    if (std::optional<std::string> error = check_unit_interval(name, value)) return error;
  }
  return std::nullopt;
}

std::vector<Person> track_people(const vision::Image& image, int64_t timestamp_us, PeopleState& state,
                                 PoseRuntimes& runtimes, const PeopleOptions& options, PeopleTiming* timing) {
  if (const std::optional<std::string> error = validate(options)) throw std::invalid_argument(*error);
  check_pose_image(image);
  PeopleTiming local_timing;
  PeopleTiming& times = timing != nullptr ? *timing : local_timing;
  times = PeopleTiming{};
  if (options.pose.static_image_mode) return track_image(image, runtimes, options, times);
  return track_video(image, timestamp_us, state, runtimes, options, times);
}

}  // namespace posestream::pose
