// Shape checks and index helpers shared by the reference ops (internal to tests/reference).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "reference/reference.h"

namespace posestream::reference::detail {

std::string shape_string(const std::vector<int32_t>& shape);

// Throws std::runtime_error("<op>: <message>").
[[noreturn]] void fail(const std::string& op, const std::string& message);

// Checks that every dim is >= 0 and data holds exactly product(shape) values.
void check_tensor(const Tensor& tensor, const std::string& op, const std::string& role);
// check_tensor, plus the rank.
void check_rank(const Tensor& tensor, size_t rank, const std::string& op, const std::string& role);
// Bias must be empty (no bias) or hold `channels` values.
void check_bias(const Tensor& bias, int32_t channels, const std::string& op);

// Row-major strides of `shape`, in elements.
std::vector<int64_t> strides_of(const std::vector<int32_t>& shape);

// A zero-filled tensor of `shape`.
Tensor zeros(const std::vector<int32_t>& shape);

}  // namespace posestream::reference::detail
