// The pose detector stage: whole image (or a region of it) -> SSD detections -> pose ROIs (Tasks' PoseDetectorGraph).
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "engine/engine.h"
#include "vision/crop.h"
#include "vision/geometry.h"
#include "vision/image.h"
#include "vision/ssd.h"

namespace posestream::pose {

inline constexpr int kDetectorInputSide = 224;
inline constexpr size_t kDetectorAnchorCount = 2254;
inline constexpr size_t kDetectorCoordinates = 12;  // box x, y, w, h + 4 keypoints x, y
// Tasks' pose detector NMS threshold: the proto default (legacy graphs used 0.3).
inline constexpr float kDetectorNmsThreshold = 0.5f;

struct PoseDetection {
  vision::Detection detection;  // Normalized to the image (letterbox removed); keypoint 0 mid-hip.
  vision::NormalizedRect roi;   // The landmark model's ROI derived from it (P11).
};

// Checks the detector model's input and output shapes; throws engine::ModelError naming what differs.
void check_detector_model(const engine::Model& model);

// Runs the detector on `image` (letterboxed to 224x224, zero border, values [-1, 1]) and returns the
// weighted-NMS detections in descending score order with their ROIs. `min_score` is the detection
// confidence threshold (a score below it is dropped). Throws std::invalid_argument for an invalid image.
std::vector<PoseDetection> detect_poses(const vision::Image& image, engine::Runtime& runtime,
                                        std::span<const vision::Anchor> anchors, vision::CropScratch& scratch,
                                        float min_score);

// The same on part of the image: `region` (normalized to the image, inside it or not: outside reads as
// the zero border) is letterboxed to 224x224 on its own, so whoever is in it is seen larger than in the
// whole image by the ratio of their long sides; the detections and ROIs come back normalized to the whole
// image. One detector run. Throws std::invalid_argument for an invalid image or an empty region.
std::vector<PoseDetection> detect_poses_in_region(const vision::Image& image, const vision::RelativeBox& region,
                                                  engine::Runtime& runtime, std::span<const vision::Anchor> anchors,
                                                  vision::CropScratch& scratch, float min_score);

// The ROIs of `detections`, in their order (the landmark model's inputs).
std::vector<vision::NormalizedRect> rois_of(std::span<const PoseDetection> detections);

// One detector run's detections: those scoring min_score or more, exactly what detect_poses returns, and
// the faint ones scoring from faint_min_score up to min_score, suppressed among themselves. A faint
// detection is a hint, not a person: where the detector half-saw someone (people_search.h zooms there).
struct PoseDetectorRun {
  std::vector<PoseDetection> detections;
  std::vector<PoseDetection> faint;
};

// detect_poses and its faint detections from the same run (none when faint_min_score >= min_score).
PoseDetectorRun detect_poses_and_faint(const vision::Image& image, engine::Runtime& runtime,
                                       std::span<const vision::Anchor> anchors, vision::CropScratch& scratch,
                                       float min_score, float faint_min_score);

}  // namespace posestream::pose
