// Model shape checks shared by the hands stages: a model file is untrusted, so its shapes are verified once.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/graph.h"
#include "hands/hands.h"

namespace posestream::hands {

inline std::string shape_string(const std::vector<int32_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return text + "]";
}

inline bool has_shape(const engine::Tensor& tensor, const std::vector<int32_t>& expected) {
  return tensor.shape == expected;
}

// Throws HandError "<model>: <role> tensor '<name>' has shape [..], expected [..]".
inline void expect_shape(const std::string& model, const char* role, const engine::Tensor& tensor,
                         const std::vector<int32_t>& expected) {
  if (!has_shape(tensor, expected)) {
    throw HandError(model + ": " + role + " tensor '" + tensor.name + "' has shape " + shape_string(tensor.shape) +
                    ", expected " + shape_string(expected));
  }
}

}  // namespace posestream::hands
