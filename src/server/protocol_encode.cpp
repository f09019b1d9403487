// Encoding answers (hello, result, dropped, error) as compact JSON, and the protocol's names.
#include <nlohmann/json.hpp>

#include <charconv>
#include <cmath>

#include "server/protocol.h"

namespace posestream::server {
namespace {

using json = nlohmann::ordered_json;

// Landmarks carry 6 significant digits (1e-6 of the image, well below a pixel); times are written to
// the microsecond.
constexpr int kLandmarkDigits = 6;

double round_to_microsecond(double milliseconds) { return std::round(milliseconds * 1000.0) / 1000.0; }

json landmark_array(const vision::Landmark& landmark, bool with_visibility) {
  json values = json::array({round_significant(landmark.x, kLandmarkDigits), round_significant(landmark.y, kLandmarkDigits),
                             round_significant(landmark.z, kLandmarkDigits)});
  if (with_visibility) {
    values.push_back(round_significant(landmark.visibility, kLandmarkDigits));
    values.push_back(round_significant(landmark.presence, kLandmarkDigits));
  }
  return values;
}

template <typename Landmarks>
json landmark_list(const Landmarks& landmarks, bool with_visibility) {
  json list = json::array();
  for (const vision::Landmark& landmark : landmarks) list.push_back(landmark_array(landmark, with_visibility));
  return list;
}

json angles_json(const pose::JointAngles& angles) {
  const std::pair<const char*, float> fields[] = {
      {"left_elbow", angles.left_elbow},       {"right_elbow", angles.right_elbow},
      {"left_shoulder", angles.left_shoulder}, {"right_shoulder", angles.right_shoulder},
      {"left_hip", angles.left_hip},           {"right_hip", angles.right_hip},
      {"left_knee", angles.left_knee},         {"right_knee", angles.right_knee}};
  json object = json::object();
  for (const auto& [name, degrees] : fields) {
    object[name] = std::isfinite(degrees) ? json(round_significant(degrees, kLandmarkDigits)) : json(nullptr);
  }
  return object;
}

json pose_json(const pose::Pose& pose, bool with_angles) {
  json object = {{"score", round_significant(pose.score, kLandmarkDigits)},
                 {"landmarks", landmark_list(pose.landmarks, true)},
                 {"world_landmarks", landmark_list(pose.world_landmarks, false)}};
  if (with_angles) object["angles"] = angles_json(pose.angles);
  return object;
}

json hand_json(const hands::Hand& hand) {
  return {{"handedness", hand.handedness},
          {"score", round_significant(hand.score, kLandmarkDigits)},
          {"landmarks", landmark_list(hand.landmarks, false)},
          {"world_landmarks", landmark_list(hand.world_landmarks, false)}};
}

// A person's hand: the hand object with the person's id last, so that it reads as the single-person one.
json person_hand_json(const hands::Hand& hand, std::int64_t person_id) {
  json object = hand_json(hand);
  object["person"] = person_id;
  return object;
}

json people_json(std::span<const stream::PersonResult> people, bool with_angles) {
  json list = json::array();
  for (const stream::PersonResult& person : people) {
    json hands = json::array();
    for (const hands::Hand& hand : person.hands) hands.push_back(person_hand_json(hand, person.id));
    list.push_back({{"id", person.id}, {"pose", pose_json(person.pose, with_angles)}, {"hands", std::move(hands)}});
  }
  return list;
}

json runs_json(const ResultView& result) {
  return {{"pose_detector", result.pose_detector_runs},
          {"pose_landmarks", result.pose_landmark_runs},
          {"palm_detector", result.palm_detector_runs},
          {"hand_landmarks", result.hand_landmark_runs}};
}

json times_json(const StageTimes& times) {
  return {{"queue", round_to_microsecond(times.queue_ms)},
          {"decode", round_to_microsecond(times.decode_ms)},
          {"pose", round_to_microsecond(times.pose_ms)},
          {"hands", round_to_microsecond(times.hands_ms)},
          {"total", round_to_microsecond(times.total_ms)}};
}

std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

const char* to_string(PoseSetting setting) {
  switch (setting) {
    case PoseSetting::off: return "off";
    case PoseSetting::lite: return "lite";
    case PoseSetting::full: return "full";
    case PoseSetting::heavy: return "heavy";
  }
  return "?";
}

const char* to_string(HandsSetting setting) {
  switch (setting) {
    case HandsSetting::off: return "off";
    case HandsSetting::lite: return "lite";
    case HandsSetting::full: return "full";
  }
  return "?";
}

void StreamSettings::apply(const ConfigMessage& config) {
  if (config.pose) pose = *config.pose;
  if (config.hands) hands = *config.hands;
  if (config.smoothing) smoothing = *config.smoothing;
  if (config.hands_from_pose) hands_from_pose = *config.hands_from_pose;
  if (config.drop_policy) drop_policy = *config.drop_policy;
  if (config.num_poses) num_poses = *config.num_poses;
  if (config.detector_interval_ms) detector_interval_ms = *config.detector_interval_ms;
}

std::optional<std::string> check_settings(const StreamSettings& settings, const Limits& limits) {
  if (settings.num_poses <= 0 || static_cast<std::size_t>(settings.num_poses) <= limits.max_num_poses) {
    return std::nullopt;  // Below 1: stream::validate names it with the stream config's range.
  }
  return "num_poses " + std::to_string(settings.num_poses) + " is above this server's limit max_num_poses " +
         std::to_string(limits.max_num_poses);
}

stream::StreamConfig StreamSettings::stream_config() const {
  stream::StreamConfig config;
  switch (pose) {
    case PoseSetting::off: config.pose.reset(); break;
    case PoseSetting::lite: config.pose = pose::PoseModel::lite; break;
    case PoseSetting::full: config.pose = pose::PoseModel::full; break;
    case PoseSetting::heavy: config.pose = pose::PoseModel::heavy; break;
  }
  switch (hands) {
    case HandsSetting::off: config.hands.reset(); break;
    case HandsSetting::lite: config.hands = hands::HandModel::lite; break;
    case HandsSetting::full: config.hands = hands::HandModel::full; break;
  }
  config.smoothing = smoothing;
  config.hands_from_pose = hands_from_pose;
  config.num_poses = num_poses;
  config.detector_interval_ms = detector_interval_ms;
  return config;
}

double round_significant(double value, int digits) {
  if (!std::isfinite(value) || value == 0.0) return value;
  // Printing to `digits` significant digits and reading back gives the double nearest that decimal,
  // whose shortest round-trip form (what nlohmann-json writes) is that decimal.
  char text[32];
  const auto printed = std::to_chars(text, text + sizeof text, value, std::chars_format::general, digits);
  double rounded = value;
  std::from_chars(text, printed.ptr, rounded);
  return rounded;
}

std::string encode_hello(std::string_view session_id, const Limits& limits, const StreamSettings& settings) {
  const json limits_json = {{"max_message_bytes", limits.max_message_bytes},
                            {"max_image_pixels", limits.max_image_pixels},
                            {"reorder_capacity", limits.reorder_capacity},
                            {"gap_timeout_ms", limits.gap_timeout.count()},
                            {"idle_timeout_ms", limits.idle_timeout.count()},
                            {"max_queued_frames", limits.max_queued_frames},
                            {"max_write_queue_bytes", limits.max_write_queue_bytes},
                            {"max_messages_per_second", limits.max_messages_per_second},
                            {"message_burst", limits.message_burst},
                            {"max_num_poses", limits.max_num_poses}};
  const json config = {{"pose", to_string(settings.pose)},
                       {"hands", to_string(settings.hands)},
                       {"smoothing", settings.smoothing},
                       {"hands_from_pose", settings.hands_from_pose},
                       {"drop_policy", to_string(settings.drop_policy)},
                       {"num_poses", settings.num_poses},
                       {"detector_interval_ms", settings.detector_interval_ms}};
  return dump({{"type", "hello"}, {"session", session_id}, {"limits", limits_json}, {"config", config}});
}

std::string encode_result(const ResultView& result) {
  json answer = json::object();
  if (result.stream_fields) {
    answer["type"] = "result";
    answer["sequence"] = result.sequence;
    answer["timestamp_us"] = result.timestamp_us;
  }
  answer["image"] = {{"width", result.image_width}, {"height", result.image_height}};
  answer["pose"] = result.pose != nullptr ? pose_json(*result.pose, result.angles) : json(nullptr);
  json& hands = answer["hands"] = json::array();
  for (const hands::Hand& hand : result.hands) hands.push_back(hand_json(hand));
  // After the single-person keys, so that a num_poses 1 answer is exactly what it was before people.
  if (result.multi_person) answer["people"] = people_json(result.people, result.angles);
  answer["timing_ms"] = times_json(result.times);
  if (result.multi_person) answer["runs"] = runs_json(result);
  return dump(answer);
}

namespace {

ResultView view_of(std::uint64_t sequence, std::int64_t timestamp_us, const stream::FrameResult& result) {
  const stream::FrameTiming& timing = result.timing;
  const double waited_ms = timing.reorder_ms + timing.queue_ms;
  return ResultView{.sequence = sequence,
                    .timestamp_us = timestamp_us,
                    .image_width = result.width,
                    .image_height = result.height,
                    .pose = result.pose ? &*result.pose : nullptr,
                    .hands = result.hands,
                    .multi_person = result.multi_person,
                    .people = result.people,
                    .pose_detector_runs = timing.pose_detector_runs,
                    .pose_landmark_runs = timing.pose_landmark_runs,
                    .palm_detector_runs = timing.palm_detector_runs,
                    .hand_landmark_runs = timing.hand_landmark_runs,
                    .times = {.queue_ms = waited_ms,
                              .decode_ms = timing.decode_ms,
                              .pose_ms = timing.pose_ms,
                              .hands_ms = timing.hands_ms,
                              .total_ms = waited_ms + timing.total_ms}};
}

}  // namespace

std::string encode_frame_result(std::uint64_t sequence, std::int64_t timestamp_us, const stream::FrameResult& result) {
  return encode_result(view_of(sequence, timestamp_us, result));
}

std::string encode_image_result(const stream::FrameResult& result) {
  ResultView view = view_of(0, 0, result);
  view.stream_fields = false;
  view.angles = true;
  return encode_result(view);
}

std::string encode_dropped(std::uint64_t sequence, std::uint64_t last_sequence, std::string_view reason) {
  json answer = {{"type", "dropped"}, {"sequence", sequence}, {"reason", reason}};
  if (last_sequence > sequence) answer["last_sequence"] = last_sequence;
  return dump(answer);
}

std::string encode_error(std::string_view code, std::string_view message) {
  return dump({{"type", "error"}, {"code", code}, {"message", message}});
}

}  // namespace posestream::server
