// The palm detector stage of tasks-vision's HandDetectorGraph: whole-image crop, SSD decode, NMS, palm ROIs.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "engine/engine.h"
#include "vision/crop.h"
#include "vision/geometry.h"
#include "vision/image.h"
#include "vision/ssd.h"

namespace posestream::hands {

// tasks-vision's DetectionsToRectsCalculator target angle for palms: the graph sets
// rotation_vector_target_angle(90), a RADIANS field (confirmed in the 1.1.0 wasm), so palm ROIs come out
// rotated 90 - 28.5 pi = 2.0354057 rad from the wrist -> middle-finger vector, not pi/2 as in the legacy
// graphs. The hands golden tests measure both.
inline constexpr float kTasksPalmRotationTargetRadians = 90.0f;

// Holds its own runtime over the shared model: one per worker thread, not thread-safe.
class PalmDetector {
 public:
  // Checks the model's shapes: input [1, 192, 192, 3], outputs [1, 2016, 18] and [1, 2016, 1] (in
  // either order). Throws HandError on a mismatch, engine::ModelError from the runtime.
  PalmDetector(std::shared_ptr<const engine::Model> model, const engine::RuntimeOptions& threading);

  // Palms in `image` scoring >= min_score, in image-normalized coordinates (letterbox removed, which for
  // the whole unrotated image is what tasks-vision's DetectionProjection with the crop matrix computes),
  // after weighted NMS (IoU 0.3), best first. Throws HandError if cropping or decoding fails,
  // engine::ModelError if the runtime does.
  std::vector<vision::Detection> detect(const vision::Image& image, float min_score, vision::CropScratch& scratch);

 private:
  engine::Runtime runtime_;
  std::vector<vision::Anchor> anchors_;
  size_t boxes_output_ = 0;
  size_t scores_output_ = 1;
};

// The hand ROI of one palm (DetectionsToRects with keypoint 0 -> 2 and `rotation_target_radians`, then
// RectTransformation scale 2.6, shift_y -0.5, square_long). nullopt for a palm with fewer than 3
// keypoints.
std::optional<vision::NormalizedRect> hand_roi_from_palm(
    const vision::Detection& palm, vision::ImageSize image,
    float rotation_target_radians = kTasksPalmRotationTargetRadians);

// The ROIs of the first `max_count` palms, in order (the detector's ClipNormalizedRectVectorSize), minus
// those is_usable_roi refuses (which still count towards max_count, as in MediaPipe).
std::vector<vision::NormalizedRect> hand_rois_from_palms(
    std::span<const vision::Detection> palms, vision::ImageSize image, int max_count,
    float rotation_target_radians = kTasksPalmRotationTargetRadians);

}  // namespace posestream::hands
