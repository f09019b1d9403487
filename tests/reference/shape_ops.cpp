// Reference PAD, RESHAPE, CONCATENATION and DEPTH_TO_SPACE: data movement only.
#include <algorithm>

#include "reference/checks.h"
#include "reference/reference.h"

namespace posestream::reference {

Tensor pad(const Tensor& input, const std::vector<std::array<int32_t, 2>>& paddings) {
  const std::string op = "PAD";
  detail::check_tensor(input, op, "input");
  const size_t rank = input.shape.size();
  if (rank < 1 || rank > 4 || paddings.size() != rank) {
    detail::fail(op, "input " + detail::shape_string(input.shape) + " with " + std::to_string(paddings.size()) +
                         " paddings, expected rank 1 to 4 and one padding per dim");
  }
  std::vector<int32_t> output_shape(rank);
  for (size_t d = 0; d < rank; ++d) {
    if (paddings[d][0] < 0 || paddings[d][1] < 0) {
      detail::fail(op, "negative padding " + std::to_string(paddings[d][0]) + "," + std::to_string(paddings[d][1]) +
                           " on dim " + std::to_string(d));
    }
    output_shape[d] = input.shape[d] + paddings[d][0] + paddings[d][1];
  }
  Tensor output = detail::zeros(output_shape);
  const std::vector<int64_t> output_strides = detail::strides_of(output_shape);
  int64_t origin = 0;  // Output offset of input element 0.
  for (size_t d = 0; d < rank; ++d) origin += paddings[d][0] * output_strides[d];
  std::vector<int32_t> index(rank, 0);
  for (float value : input.data) {
    int64_t offset = origin;
    for (size_t d = 0; d < rank; ++d) offset += index[d] * output_strides[d];
    output.data[size_t(offset)] = value;
    for (size_t d = rank; d-- > 0;) {  // Advance the row-major index.
      if (++index[d] < input.shape[d]) break;
      index[d] = 0;
    }
  }
  return output;
}

Tensor reshape(const Tensor& input, const std::vector<int32_t>& new_shape) {
  const std::string op = "RESHAPE";
  detail::check_tensor(input, op, "input");
  const auto bad_shape = [&] {
    detail::fail(op, "cannot reshape " + detail::shape_string(input.shape) + " to " + detail::shape_string(new_shape));
  };
  std::vector<int32_t> shape = new_shape;
  if (std::count(shape.begin(), shape.end(), -1) > 1) bad_shape();
  int64_t known = 1;
  for (int32_t dim : shape) {
    if (dim < -1) bad_shape();
    if (dim != -1) known *= dim;
  }
  const auto inferred = std::find(shape.begin(), shape.end(), -1);
  if (inferred != shape.end()) {
    if (known == 0 || input.element_count() % known != 0) bad_shape();
    *inferred = static_cast<int32_t>(input.element_count() / known);
  } else if (known != input.element_count()) {
    bad_shape();
  }
  return Tensor{shape, input.data};
}

namespace {

// Checks that all inputs agree except along `axis` and returns the output shape.
std::vector<int32_t> concatenated_shape(const std::vector<Tensor>& inputs, size_t axis) {
  const std::string op = "CONCATENATION";
  std::vector<int32_t> shape = inputs.front().shape;
  shape[axis] = 0;
  for (const Tensor& input : inputs) {
    detail::check_tensor(input, op, "input");
    for (size_t d = 0; d < shape.size(); ++d) {
      if (input.shape.size() != shape.size() || (d != axis && input.shape[d] != shape[d])) {
        detail::fail(op, "input " + detail::shape_string(input.shape) + " does not match " +
                             detail::shape_string(inputs.front().shape) + " off axis " + std::to_string(axis));
      }
    }
    shape[axis] += input.shape[axis];
  }
  return shape;
}

}  // namespace

Tensor concatenation(const std::vector<Tensor>& inputs, int32_t axis, engine::Activation activation) {
  if (inputs.empty()) detail::fail("CONCATENATION", "no inputs");
  const auto rank = static_cast<int32_t>(inputs.front().shape.size());
  const int32_t normalized = axis < 0 ? axis + rank : axis;
  if (normalized < 0 || normalized >= rank) {
    detail::fail("CONCATENATION", "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  }
  Tensor output{concatenated_shape(inputs, size_t(normalized)), {}};
  output.data.reserve(size_t(output.element_count()));
  // Row-major: the output is, for each index before the axis, each input's block in turn.
  int64_t outer = 1;
  for (int32_t d = 0; d < normalized; ++d) outer *= output.shape[size_t(d)];
  for (int64_t o = 0; o < outer; ++o) {
    for (const Tensor& input : inputs) {
      const int64_t block = input.element_count() / std::max<int64_t>(outer, 1);
      const float* source = input.data.data() + o * block;
      for (int64_t i = 0; i < block; ++i) output.data.push_back(activate(source[i], activation));
    }
  }
  return output;
}

Tensor depth_to_space(const Tensor& input, int32_t block_size) {
  const std::string op = "DEPTH_TO_SPACE";
  detail::check_rank(input, 4, op, "input");
  const int32_t batch = input.shape[0], height = input.shape[1], width = input.shape[2], channels = input.shape[3];
  if (block_size < 1 || channels % (block_size * block_size) != 0) {
    detail::fail(
        op, "block size " + std::to_string(block_size) + " does not divide " + std::to_string(channels) + " channels");
  }
  const int32_t output_channels = channels / (block_size * block_size);
  Tensor output = detail::zeros({batch, height * block_size, width * block_size, output_channels});
  const std::vector<int64_t> out_strides = detail::strides_of(output.shape);
  const float* in = input.data.data();
  for (int32_t b = 0; b < batch; ++b) {
    for (int32_t h = 0; h < height; ++h) {
      for (int32_t w = 0; w < width; ++w) {
        for (int32_t dh = 0; dh < block_size; ++dh) {
          for (int32_t dw = 0; dw < block_size; ++dw) {
            float* out = &output.data[size_t(b * out_strides[0] + (h * block_size + dh) * out_strides[1] +
                                             (w * block_size + dw) * out_strides[2])];
            for (int32_t c = 0; c < output_channels; ++c) out[c] = *in++;
          }
        }
      }
    }
  }
  return output;
}

}  // namespace posestream::reference
