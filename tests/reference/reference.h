// The plain-loop reference implementation of every engine op, in double precision, used only by tests.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "engine/graph.h"

// Independent of the XNNPACK engine on purpose: each op follows TFLite's documented semantics with the
// most obvious loops, accumulating in double, so that a disagreement points at the engine. Every
// function validates its shapes and throws std::runtime_error with the op's name and the bad value.
namespace posestream::reference {

// A plain float32 tensor: `data` holds product(shape) values in row-major (NHWC for 4-D) order.
struct Tensor {
  std::vector<int32_t> shape;
  std::vector<float> data;

  int64_t element_count() const;  // product(shape); 1 for a scalar (empty shape).
};

// One spatial dimension of a windowed op (conv, depthwise conv, pool) under TFLite's padding rules.
struct Window {
  int32_t output = 0;      // Output size along this dimension.
  int32_t pad_before = 0;  // Implicit zero rows/columns before the input (top/left).
  int32_t pad_after = 0;   // After the input (bottom/right); SAME puts the odd one here.
};
Window compute_window(int32_t input, int32_t kernel, int32_t stride, int32_t dilation, engine::Padding padding);

// Applies a fused activation to one value.
float activate(double value, engine::Activation activation);

// input [N,H,W,I], filter [O,KH,KW,I], bias [O] or empty (no bias) -> [N,OH,OW,O]. Reads padding,
// strides, dilations and activation from `options`.
Tensor conv_2d(const Tensor& input, const Tensor& filter, const Tensor& bias, const engine::OpOptions& options);

// input [N,H,W,C], filter [1,KH,KW,C*M], bias [C*M] or empty -> [N,OH,OW,C*M]; output channel c*M+m
// reads input channel c (M = options.depth_multiplier).
Tensor depthwise_conv_2d(const Tensor& input, const Tensor& filter, const Tensor& bias,
                         const engine::OpOptions& options);

// input flattened to [batch, I], weights [O,I], bias [O] or empty -> [batch, O].
Tensor fully_connected(const Tensor& input, const Tensor& weights, const Tensor& bias, engine::Activation activation);

// input [N,H,W,C] -> [N,OH,OW,C]; padded positions are ignored, not counted as zeros.
Tensor max_pool_2d(const Tensor& input, const engine::OpOptions& options);

// Arithmetic mean over `axes` (negative counts from the end, repeats ignored); reduced dims are kept
// as 1 when `keep_dims`, dropped otherwise.
Tensor mean(const Tensor& input, const std::vector<int32_t>& axes, bool keep_dims);

// Numpy-style broadcasting of `a` and `b` (shapes aligned at the right, 1 stretches), then activation.
Tensor add(const Tensor& a, const Tensor& b, engine::Activation activation);
// x >= 0 ? x : alpha * x, with alpha broadcast against x like `add` (e.g. [1,1,C] or [C]).
Tensor prelu(const Tensor& input, const Tensor& alpha);
Tensor logistic(const Tensor& input);

// input [N,H,W,C] -> [N,output_height,output_width,C] with TensorFlow's three coordinate modes:
// align_corners, half_pixel_centers, or neither (legacy: input = output * in/out).
Tensor resize_bilinear(const Tensor& input, int32_t output_height, int32_t output_width, bool align_corners,
                       bool half_pixel_centers);

// Zero padding, paddings[d] = {before, after} for every dimension of `input` (rank 1 to 4).
Tensor pad(const Tensor& input, const std::vector<std::array<int32_t, 2>>& paddings);
// Same data, new shape; at most one -1 entry is inferred.
Tensor reshape(const Tensor& input, const std::vector<int32_t>& new_shape);
// Joins `inputs` along `axis` (negative counts from the end), then applies the activation.
Tensor concatenation(const std::vector<Tensor>& inputs, int32_t axis, engine::Activation activation);
// TensorFlow's order: output[b, h*bs+dh, w*bs+dw, c] = input[b, h, w, (dh*bs+dw)*C_out + c].
Tensor depth_to_space(const Tensor& input, int32_t block_size);

// Runs every operation of `graph` in file order on `inputs` (one per graph input, same element count)
// and returns the graph's outputs in order. Throws std::runtime_error naming the graph, op index and
// type on any unsupported op, missing parameter or shape disagreement with the graph's own shapes.
std::vector<Tensor> run_graph(const engine::Graph& graph, const std::vector<Tensor>& inputs);

}  // namespace posestream::reference
