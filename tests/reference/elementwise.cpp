// Reference ADD, PRELU and LOGISTIC, with numpy-style broadcasting for the binary ops.
#include <algorithm>
#include <cmath>

#include "reference/checks.h"
#include "reference/reference.h"

namespace posestream::reference {
namespace {

// Strides of `shape` seen through the broadcast output shape: 0 where the dim is stretched or missing.
std::vector<int64_t> broadcast_strides(const std::vector<int32_t>& shape, const std::vector<int32_t>& output_shape) {
  const std::vector<int64_t> own = detail::strides_of(shape);
  std::vector<int64_t> strides(output_shape.size(), 0);
  const size_t skipped = output_shape.size() - shape.size();
  for (size_t d = 0; d < shape.size(); ++d) strides[skipped + d] = shape[d] == 1 ? 0 : own[d];
  return strides;
}

std::vector<int32_t> broadcast_shape(const Tensor& a, const Tensor& b, const std::string& op) {
  const size_t rank = std::max(a.shape.size(), b.shape.size());
  std::vector<int32_t> shape(rank, 1);
  for (size_t d = 0; d < rank; ++d) {
    const int32_t dim_a = d < rank - a.shape.size() ? 1 : a.shape[d - (rank - a.shape.size())];
    const int32_t dim_b = d < rank - b.shape.size() ? 1 : b.shape[d - (rank - b.shape.size())];
    if (dim_a != dim_b && dim_a != 1 && dim_b != 1) {
      detail::fail(op, "shapes " + detail::shape_string(a.shape) + " and " + detail::shape_string(b.shape) +
                           " do not broadcast");
    }
    shape[d] = dim_a == 1 ? dim_b : dim_a;
  }
  return shape;
}

// output[i] = combine(a[i'], b[i'']) over the broadcast shape.
template <typename Combine>
Tensor broadcast_binary(const Tensor& a, const Tensor& b, const std::string& op, Combine combine) {
  detail::check_tensor(a, op, "first input");
  detail::check_tensor(b, op, "second input");
  Tensor output = detail::zeros(broadcast_shape(a, b, op));
  const size_t rank = output.shape.size();
  const std::vector<int64_t> strides_a = broadcast_strides(a.shape, output.shape);
  const std::vector<int64_t> strides_b = broadcast_strides(b.shape, output.shape);
  std::vector<int32_t> index(rank, 0);
  for (float& out : output.data) {
    int64_t offset_a = 0, offset_b = 0;
    for (size_t d = 0; d < rank; ++d) {
      offset_a += index[d] * strides_a[d];
      offset_b += index[d] * strides_b[d];
    }
    out = combine(double{a.data[size_t(offset_a)]}, double{b.data[size_t(offset_b)]});
    for (size_t d = rank; d-- > 0;) {  // Advance the row-major index.
      if (++index[d] < output.shape[d]) break;
      index[d] = 0;
    }
  }
  return output;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, engine::Activation activation) {
  return broadcast_binary(a, b, "ADD", [activation](double x, double y) { return activate(x + y, activation); });
}

Tensor prelu(const Tensor& input, const Tensor& alpha) {
  Tensor output = broadcast_binary(input, alpha, "PRELU",
                                   [](double x, double slope) { return static_cast<float>(x >= 0.0 ? x : slope * x); });
  // Alpha only broadcasts into the input, never widens it.
  if (output.shape != input.shape) {
    detail::fail("PRELU", "alpha " + detail::shape_string(alpha.shape) + " does not broadcast into input " +
                              detail::shape_string(input.shape));
  }
  return output;
}

Tensor logistic(const Tensor& input) {
  detail::check_tensor(input, "LOGISTIC", "input");
  Tensor output{input.shape, std::vector<float>(input.data.size())};
  for (size_t i = 0; i < input.data.size(); ++i) {
    output.data[i] = static_cast<float>(1.0 / (1.0 + std::exp(-double{input.data[i]})));
  }
  return output;
}

}  // namespace posestream::reference
