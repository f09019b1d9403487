// Plain geometry value types shared by the vision math (SSD decoding, NMS, rects, landmarks, filters).
#pragma once

#include <vector>

namespace posestream::vision {

// Units: unless a name says otherwise, x/y are normalized to the frame they live in (the image, the
// ROI crop or the model's input tensor): 0 at the left/top edge, 1 at the right/bottom edge.

struct Point2 {
  float x = 0.0f;
  float y = 0.0f;
};

// Width and height of an image in pixels. MediaPipe's IMAGE_SIZE stream.
struct ImageSize {
  int width = 0;
  int height = 0;
};

// MediaPipe's NormalizedRect: a rectangle rotated by `rotation` radians (clockwise in image
// coordinates, y down) about its center. Center and sizes are normalized to the image, so a square in
// pixels has width != height whenever the image is not square.
struct NormalizedRect {
  float x_center = 0.0f;
  float y_center = 0.0f;
  float width = 0.0f;
  float height = 0.0f;
  float rotation = 0.0f;
};

// MediaPipe's (Normalized)Landmark. For image landmarks x, y are normalized and z has the scale of x
// (z * image width is pixels); for world landmarks x, y, z are metres. visibility and presence are
// probabilities in [0, 1] (0 for models that do not predict them, as the hand model).
struct Landmark {
  float x = 0.0f;
  float y = 0.0f;
  float z = 0.0f;
  float visibility = 0.0f;
  float presence = 0.0f;
};

// MediaPipe's LocationData::RelativeBoundingBox: axis-aligned, normalized.
struct RelativeBox {
  float xmin = 0.0f;
  float ymin = 0.0f;
  float width = 0.0f;
  float height = 0.0f;
};

// One detector output after decoding: the top class score, the box and the model's keypoints, all in
// the same normalized frame (the model's input tensor until remove_letterbox maps them to the image).
struct Detection {
  float score = 0.0f;
  RelativeBox box;
  std::vector<Point2> keypoints;
};

// Letterbox padding of an aspect-kept crop, as fractions of the tensor's width (left, right) and
// height (top, bottom). MediaPipe's LETTERBOX_PADDING std::array<float, 4> in the same order.
struct LetterboxPadding {
  float left = 0.0f;
  float top = 0.0f;
  float right = 0.0f;
  float bottom = 0.0f;
};

}  // namespace posestream::vision
