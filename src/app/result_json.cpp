// The CLI's per-image JSON: the server's one-image result encoding plus the image path and the mask.
#include "app/result_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "server/protocol.h"

namespace posestream::app {
namespace {

// Standard base64 with '=' padding (RFC 4648), for the segmentation mask bytes.
std::string base64(const std::vector<std::uint8_t>& bytes) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  text.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t count = std::min<std::size_t>(3, bytes.size() - i);
    std::uint32_t group = std::uint32_t{bytes[i]} << 16;
    if (count > 1) group |= std::uint32_t{bytes[i + 1]} << 8;
    if (count > 2) group |= bytes[i + 2];
    for (std::size_t j = 0; j < 4; ++j) {
      text.push_back(j <= count ? kAlphabet[(group >> (18 - 6 * j)) & 63] : '=');
    }
  }
  return text;
}

Json segmentation_json(const pose::Pose& pose) {
  std::vector<std::uint8_t> bytes(pose.segmentation_mask.size());
  std::transform(pose.segmentation_mask.begin(), pose.segmentation_mask.end(), bytes.begin(), [](float value) {
    const float clamped = std::isfinite(value) ? std::clamp(value, 0.0f, 1.0f) : 0.0f;
    return static_cast<std::uint8_t>(std::lround(clamped * 255.0f));
  });
  const vision::NormalizedRect& roi = pose.roi;
  return {{"width", pose::kSegmentationSide},
          {"height", pose::kSegmentationSide},
          {"roi",
           {{"x_center", roi.x_center},
            {"y_center", roi.y_center},
            {"width", roi.width},
            {"height", roi.height},
            {"rotation", roi.rotation}}},
          {"encoding", "base64 of one byte per pixel, row-major, probability x 255"},
          {"data", base64(bytes)}};
}

}  // namespace

Json result_json(const stream::FrameResult& result, const std::optional<std::string>& image_path) {
  Json encoded = Json::parse(server::encode_image_result(result));
  if (image_path) encoded["image"] = joined({{"path", *image_path}}, encoded["image"]);
  if (result.pose && encoded["pose"].is_object() && !result.pose->segmentation_mask.empty()) {
    encoded["pose"]["segmentation"] = segmentation_json(*result.pose);
  }
  for (std::size_t i = 0; i < result.people.size() && encoded.contains("people"); ++i) {
    const pose::Pose& pose = result.people[i].pose;
    if (!pose.segmentation_mask.empty()) encoded["people"][i]["pose"]["segmentation"] = segmentation_json(pose);
  }
  return encoded;
}

Json error_json(const std::optional<std::string>& image_path, const std::string& message) {
  Json line = Json::object();
  if (image_path) line["image"] = {{"path", *image_path}};
  line["error"] = message;
  return line;
}

Json joined(Json front, const Json& rest) {
  for (const auto& [key, value] : rest.items()) front[key] = value;
  return front;
}

}  // namespace posestream::app
