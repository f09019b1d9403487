// Skeleton drawing for `posestream video --annotate`: pose and hand connections, points and handedness.
#include "app/annotate.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace posestream::app {
namespace {

// BGR colours: the body white on red joints as MediaPipe's default style; hands by side, so a swapped
// label is visible at a glance.
const cv::Scalar kPoseLine{224, 224, 224};
const cv::Scalar kPosePoint{0, 0, 255};
const cv::Scalar kLeftHand{255, 160, 0};
const cv::Scalar kRightHand{0, 200, 255};
const cv::Scalar kLabelBackground{0, 0, 0};

// Pixel position of a normalized landmark. Coordinates far outside the image are clamped so that the
// integer conversion stays defined (a landmark may lie off-screen; a NaN one is never drawn).
cv::Point to_pixel(const vision::Landmark& landmark, const cv::Size& size) {
  const auto clamp = [](float value, int extent) {
    return static_cast<int>(std::lround(std::clamp(
        value * static_cast<float>(extent), -4.0f * static_cast<float>(extent), 5.0f * static_cast<float>(extent))));
  };
  return {clamp(landmark.x, size.width), clamp(landmark.y, size.height)};
}

bool finite(const vision::Landmark& landmark) { return std::isfinite(landmark.x) && std::isfinite(landmark.y); }

bool drawable_pose_point(const vision::Landmark& landmark) {
  return finite(landmark) && landmark.visibility >= kDrawThreshold && landmark.presence >= kDrawThreshold;
}

// 1 pixel at 480 lines, more on larger frames.
int stroke(const cv::Size& size) {
  return std::max(1, static_cast<int>(std::lround(std::min(size.width, size.height) / 320.0)));
}

void draw_pose(cv::Mat& bgr, const pose::Pose& pose) {
  const int width = stroke(bgr.size());
  for (const auto& [from, to] : kPoseConnections) {
    const vision::Landmark& first = pose.landmarks[static_cast<size_t>(from)];
    const vision::Landmark& second = pose.landmarks[static_cast<size_t>(to)];
    if (!drawable_pose_point(first) || !drawable_pose_point(second)) continue;
    cv::line(bgr, to_pixel(first, bgr.size()), to_pixel(second, bgr.size()), kPoseLine, 2 * width, cv::LINE_AA);
  }
  for (const vision::Landmark& landmark : pose.landmarks) {
    if (!drawable_pose_point(landmark)) continue;
    cv::circle(bgr, to_pixel(landmark, bgr.size()), width + 2, kPosePoint, cv::FILLED, cv::LINE_AA);
  }
}

void draw_label(cv::Mat& bgr, const std::string& text, cv::Point anchor, const cv::Scalar& colour) {
  const double scale = 0.5 * stroke(bgr.size());
  int baseline = 0;
  const cv::Size text_size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline);
  const cv::Point origin{anchor.x - text_size.width / 2, anchor.y + text_size.height + 6 * stroke(bgr.size())};
  cv::rectangle(bgr, origin + cv::Point(-2, baseline), origin + cv::Point(text_size.width + 2, -text_size.height - 2),
                kLabelBackground, cv::FILLED);
  cv::putText(bgr, text, origin, cv::FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv::LINE_AA);
}

void draw_hand(cv::Mat& bgr, const hands::Hand& hand) {
  const int width = stroke(bgr.size());
  const cv::Scalar colour = hand.handedness == "Left" ? kLeftHand : kRightHand;
  for (const auto& [from, to] : kHandConnections) {
    const vision::Landmark& first = hand.landmarks[static_cast<size_t>(from)];
    const vision::Landmark& second = hand.landmarks[static_cast<size_t>(to)];
    if (!finite(first) || !finite(second)) continue;
    cv::line(bgr, to_pixel(first, bgr.size()), to_pixel(second, bgr.size()), colour, width + 1, cv::LINE_AA);
  }
  for (const vision::Landmark& landmark : hand.landmarks) {
    if (finite(landmark)) cv::circle(bgr, to_pixel(landmark, bgr.size()), width + 1, colour, cv::FILLED, cv::LINE_AA);
  }
  if (!finite(hand.landmarks[0])) return;
  char label[48];
  std::snprintf(label, sizeof label, "%s %.2f", hand.handedness.c_str(), static_cast<double>(hand.score));
  draw_label(bgr, label, to_pixel(hand.landmarks[0], bgr.size()), colour);
}

}  // namespace

void draw_result(cv::Mat& bgr, const pose::Pose* pose, std::span<const hands::Hand> hands) {
  if (pose != nullptr) draw_pose(bgr, *pose);
  for (const hands::Hand& hand : hands) draw_hand(bgr, hand);
}

}  // namespace posestream::app
