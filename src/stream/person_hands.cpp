// Hands across people: a hand two people's wrists both found stays with the nearer person.
#include "stream/person_hands.h"

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "hands/hand_deduplication.h"

namespace posestream::stream {
namespace {

float pixel_distance(const vision::Landmark& a, const vision::Landmark& b, vision::ImageSize image) {
  return std::hypot((a.x - b.x) * static_cast<float>(image.width), (a.y - b.y) * static_cast<float>(image.height));
}

struct Owned {
  std::size_t person = 0;
  std::size_t hand = 0;
  float distance_px = 0;
};

}  // namespace

float wrist_distance_px(const hands::Hand& hand, const pose::Pose& pose, vision::ImageSize image) {
  const vision::Landmark& wrist = hand.landmarks[0];
  return std::min(pixel_distance(wrist, pose.landmarks[kPoseLeftWrist], image),
                  pixel_distance(wrist, pose.landmarks[kPoseRightWrist], image));
}

void drop_hands_repeated_across_people(std::vector<PersonResult>& people, vision::ImageSize image) {
  std::vector<Owned> owned;
  for (std::size_t p = 0; p < people.size(); ++p) {
    for (std::size_t h = 0; h < people[p].hands.size(); ++h) {
      owned.push_back({p, h, wrist_distance_px(people[p].hands[h], people[p].pose, image)});
    }
  }
  if (owned.size() < 2) return;
  // deduplicate_hands keeps the first of two copies: the nearest owner goes first.
  std::stable_sort(owned.begin(), owned.end(), [](const Owned& a, const Owned& b) { return a.distance_px < b.distance_px; });
  std::vector<hands::HandLandmarkArray> landmarks;
  landmarks.reserve(owned.size());
  for (const Owned& entry : owned) landmarks.push_back(people[entry.person].hands[entry.hand].landmarks);
  const std::vector<bool> keep = hands::deduplicate_hands(landmarks, image);
  std::vector<std::vector<bool>> dropped(people.size());
  for (std::size_t p = 0; p < people.size(); ++p) dropped[p].assign(people[p].hands.size(), false);
  for (std::size_t i = 0; i < owned.size(); ++i) {
    if (!keep[i]) dropped[owned[i].person][owned[i].hand] = true;
  }
  for (std::size_t p = 0; p < people.size(); ++p) {
    std::vector<hands::Hand> kept;
    for (std::size_t h = 0; h < people[p].hands.size(); ++h) {
      if (!dropped[p][h]) kept.push_back(std::move(people[p].hands[h]));
    }
    people[p].hands = std::move(kept);
  }
}

}  // namespace posestream::stream
