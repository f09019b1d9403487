// The JSON line the CLI prints per image or frame: the server's result encoding plus what only the CLI adds.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "stream/frame_pipeline.h"

namespace posestream::app {

// Keys keep their insertion order, so lines read in the order the protocol documents them.
using Json = nlohmann::ordered_json;

// One encoder: the pose (with its joint angles), hands, image size and timing come from
// server::encode_image_result, what POST /v1/detect answers. Added here, since only the CLI has them:
//   image.path          when `image_path` is given (first key of "image"),
//   pose.segmentation   (and people[i].pose.segmentation) when the pose carries a mask: {"width", "height", "roi", "encoding", "data"}, the
//                       ROI-crop mask as base64 of one byte per pixel (probability x 255).
// `result` must be ok(); failed ones go through error_json.
Json result_json(const stream::FrameResult& result, const std::optional<std::string>& image_path);

// {"image":{"path":...},"error":"..."} (no "image" without a path).
Json error_json(const std::optional<std::string>& image_path, const std::string& message);

// `rest`'s keys after `front`'s, e.g. {"frame": 3, "timestamp_us": ...} before a result.
Json joined(Json front, const Json& rest);

}  // namespace posestream::app
