// GoogleTest helpers for comparing reference tensors with hand-worked answers (header-only, tests only).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "reference/reference.h"

namespace posestream::reference::testing {

// Checks the shape exactly and every value to within `tolerance`, naming the first bad index.
inline void expect_tensor(const Tensor& actual, const std::vector<int32_t>& shape, const std::vector<float>& values,
                          float tolerance = 1e-5f) {
  EXPECT_EQ(actual.shape, shape);
  ASSERT_EQ(actual.data.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_NEAR(actual.data[i], values[i], tolerance) << "at flat index " << i;
  }
}

// A float sequence first, first + 1, ... (count values): the usual "1..16" test input.
inline std::vector<float> iota(size_t count, float first = 1.0f) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = first + static_cast<float>(i);
  return values;
}

}  // namespace posestream::reference::testing
