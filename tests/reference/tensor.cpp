// Reference tensor basics: element counts, shape checks, fused activations and TFLite window padding.
#include <algorithm>

#include "reference/checks.h"
#include "reference/reference.h"

namespace posestream::reference {

int64_t Tensor::element_count() const {
  int64_t count = 1;
  for (int32_t dim : shape) count *= dim;
  return count;
}

namespace detail {

std::string shape_string(const std::vector<int32_t>& shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += (i == 0 ? "" : ",") + std::to_string(shape[i]);
  }
  return text + "]";
}

void fail(const std::string& op, const std::string& message) { throw std::runtime_error(op + ": " + message); }

void check_tensor(const Tensor& tensor, const std::string& op, const std::string& role) {
  for (int32_t dim : tensor.shape) {
    if (dim < 0) fail(op, role + " has a negative dim in shape " + shape_string(tensor.shape));
  }
  if (static_cast<int64_t>(tensor.data.size()) != tensor.element_count()) {
    fail(op, role + " of shape " + shape_string(tensor.shape) + " holds " + std::to_string(tensor.data.size()) +
                 " values, expected " + std::to_string(tensor.element_count()));
  }
}

void check_rank(const Tensor& tensor, size_t rank, const std::string& op, const std::string& role) {
  if (tensor.shape.size() != rank) {
    fail(op, role + " has shape " + shape_string(tensor.shape) + ", expected rank " + std::to_string(rank));
  }
  check_tensor(tensor, op, role);
}

void check_bias(const Tensor& bias, int32_t channels, const std::string& op) {
  if (bias.data.empty()) return;
  check_tensor(bias, op, "bias");
  if (bias.element_count() != channels) {
    fail(op, "bias has shape " + shape_string(bias.shape) + ", expected " + std::to_string(channels) + " values");
  }
}

std::vector<int64_t> strides_of(const std::vector<int32_t>& shape) {
  std::vector<int64_t> strides(shape.size(), 1);
  for (size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

Tensor zeros(const std::vector<int32_t>& shape) {
  Tensor tensor{shape, {}};
  tensor.data.assign(static_cast<size_t>(tensor.element_count()), 0.0f);
  return tensor;
}

}  // namespace detail

float activate(double value, engine::Activation activation) {
  switch (activation) {
    case engine::Activation::kNone: break;
    case engine::Activation::kRelu: value = std::max(value, 0.0); break;
    case engine::Activation::kReluN1To1: value = std::clamp(value, -1.0, 1.0); break;
    case engine::Activation::kRelu6: value = std::clamp(value, 0.0, 6.0); break;
  }
  return static_cast<float>(value);
}

// TFLite's rule: SAME gives ceil(input / stride) outputs and splits the needed padding with the odd
// one after; VALID gives the outputs whose whole (dilated) window fits inside the input.
Window compute_window(int32_t input, int32_t kernel, int32_t stride, int32_t dilation, engine::Padding padding) {
  if (input < 1 || kernel < 1 || stride < 1 || dilation < 1) {
    detail::fail("window", "input " + std::to_string(input) + ", kernel " + std::to_string(kernel) + ", stride " +
                               std::to_string(stride) + ", dilation " + std::to_string(dilation) +
                               ": all must be >= 1");
  }
  const int64_t effective_kernel = int64_t{kernel - 1} * dilation + 1;
  Window window;
  if (padding == engine::Padding::kValid) {
    if (effective_kernel > input) {
      detail::fail("window", "VALID window of " + std::to_string(effective_kernel) + " does not fit input " +
                                 std::to_string(input));
    }
    window.output = static_cast<int32_t>((input - effective_kernel) / stride + 1);
    return window;
  }
  window.output = (input + stride - 1) / stride;
  const int64_t total = std::max<int64_t>(int64_t{window.output - 1} * stride + effective_kernel - input, 0);
  window.pad_before = static_cast<int32_t>(total / 2);
  window.pad_after = static_cast<int32_t>(total - total / 2);
  return window;
}

}  // namespace posestream::reference
