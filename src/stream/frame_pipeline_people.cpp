// FramePipeline with num_poses > 1: everyone's pose (pose::track_people), then each person's hands from
// their own wrists, each person with their own hands::HandState.
#include <algorithm>
#include <chrono>
#include <set>

#include "stream/frame_pipeline.h"
#include "stream/stage_clock.h"
#include "stream/person_hands.h"

namespace posestream::stream {
namespace {

// A person's hands: their two wrists at most, within the frame's max_num_hands.
hands::HandOptions person_hand_options(const StreamConfig& config) {
  hands::HandOptions options = hand_options(config);
  options.max_num_hands = std::min(config.max_num_hands, kMaxHandsPerPerson);
  return options;
}

// A person no longer tracked takes their hands' tracking with them: a new id is somebody new.
void forget_people_gone(const std::vector<PersonResult>& people, std::map<std::int64_t, hands::HandState>& hands) {
  std::set<std::int64_t> present;
  for (const PersonResult& person : people) present.insert(person.id);
  std::erase_if(hands, [&](const auto& entry) { return !present.contains(entry.first); });
}

}  // namespace

// Pose and hands in turn (never side by side: PipelineOptions::concurrent_stages is for one person),
// on the configured runtimes.
void FramePipeline::track_people(const vision::Image& image, std::int64_t timestamp_us, StreamState& state,
                                 FrameResult& result) {
  const StreamConfig& config = state.config;
  result.multi_person = true;
  if (config.pose) {
    const SteadyClock::time_point start = SteadyClock::now();
    pose::PoseRuntimes& runtimes = pose_runtimes(*config.pose, config.segmentation, Threading::configured);
    pose::PeopleTiming timing;
    std::vector<pose::Person> people =
        pose::track_people(image, timestamp_us, state.people, runtimes, people_options(config), &timing);
    for (pose::Person& person : people) result.people.push_back({person.id, std::move(person.pose), {}});
    result.timing.pose_ms = milliseconds_since(start);
    result.timing.pose_detector_ms = timing.detector_ms;
    result.timing.pose_landmarks_ms = timing.landmarks_ms;
    result.timing.pose_smoothing_ms = timing.smoothing_ms;
    result.timing.pose_detector_runs = timing.detector_runs;
    result.timing.pose_landmark_runs = timing.landmark_runs;
  }
  if (config.hands) track_person_hands(image, timestamp_us, state, result);
}

// With people in view and hands_from_pose, each person's wrists give their hands and the palm detector
// does not run; otherwise the hands work as with one person (state.hands, no pose) and belong to nobody.
void FramePipeline::track_person_hands(const vision::Image& image, std::int64_t timestamp_us, StreamState& state,
                                       FrameResult& result) {
  const StreamConfig& config = state.config;
  const SteadyClock::time_point start = SteadyClock::now();
  hands::HandRuntimes& runtimes = hand_runtimes(*config.hands, Threading::configured);
  hands::HandTiming timing;
  forget_people_gone(result.people, state.person_hands);
  if (config.hands_from_pose && !result.people.empty()) {
    // Tracked from nobody's wrists, these would be found again by a person's (and reported twice).
    state.hands.drop_tracked();
    const hands::HandOptions options = person_hand_options(config);
    for (PersonResult& person : result.people) {
      person.hands = hands::track_hands(image, timestamp_us, state.person_hands[person.id], runtimes, options,
                                        person.pose.landmarks, &timing);
    }
    drop_hands_repeated_across_people(result.people, {image.width, image.height});
  } else {
    result.hands = hands::track_hands(image, timestamp_us, state.hands, runtimes, hand_options(config), {}, &timing);
  }
  result.timing.hands_ms = milliseconds_since(start);
  result.timing.palm_detector_runs = timing.palm_detector_runs;
  result.timing.hand_landmark_runs = timing.landmark_runs;
}

}  // namespace posestream::stream
