// PAD, RESHAPE, RESIZE_BILINEAR and DEPTH_TO_SPACE as XNNPACK nodes: ops that move data, not compute.
#include <vector>

#include "engine/xnn_ops.h"

namespace posestream::engine::xnn {

// OpOptions::paddings holds {before, after} per input dimension (the reader moved them out of the
// file's int32 tensor); Model checked there are 2 * rank non-negative values.
void define_pad(SubgraphBuilder& builder, const Operation& operation) {
  const auto& paddings = operation.options.paddings;
  const size_t rank = paddings.size() / 2;
  std::vector<size_t> before(rank), after(rank);
  for (size_t d = 0; d < rank; ++d) {
    before[d] = static_cast<size_t>(paddings[2 * d]);
    after[d] = static_cast<size_t>(paddings[2 * d + 1]);
  }
  const uint32_t input = builder.value(operation.inputs[0]);
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(xnn_define_static_constant_pad(builder.subgraph(), before.data(), after.data(), 0.0f, input, output, 0),
                operation, "xnn_define_static_constant_pad");
}

// The output tensor's shape is the new shape (the deprecated options and the shape input agree with
// it, or the reader refused the file).
void define_reshape(SubgraphBuilder& builder, const Operation& operation) {
  const std::vector<size_t> new_shape = dims_of(builder.tensor(operation.outputs[0]).shape);
  const uint32_t input = builder.value(operation.inputs[0]);
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(xnn_define_static_reshape(builder.subgraph(), new_shape.size(), new_shape.data(), input, output, 0),
                operation, "xnn_define_static_reshape");
}

// TensorFlow's three coordinate modes map to XNNPACK's flags: half-pixel centers is XNNPACK's default,
// align_corners has its own flag, and neither is TensorFlow's legacy mode. Model rejects both set.
void define_resize_bilinear(SubgraphBuilder& builder, const Operation& operation) {
  const auto& output_shape = builder.tensor(operation.outputs[0]).shape;
  const OpOptions& options = operation.options;
  uint32_t flags = 0;
  if (options.align_corners) {
    flags = XNN_FLAG_ALIGN_CORNERS;
  } else if (!options.half_pixel_centers) {
    flags = XNN_FLAG_TENSORFLOW_LEGACY_MODE;
  }
  const uint32_t input = builder.value(operation.inputs[0]);
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(xnn_define_static_resize_bilinear_2d(builder.subgraph(), static_cast<size_t>(output_shape[1]),
                                                     static_cast<size_t>(output_shape[2]), input, output, flags),
                operation, "xnn_define_static_resize_bilinear_2d");
}

// XNNPACK's depth-to-space uses TensorFlow's (DCR) channel order, so no permutation is needed.
void define_depth_to_space(SubgraphBuilder& builder, const Operation& operation) {
  const uint32_t input = builder.value(operation.inputs[0]);
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(xnn_define_depth_to_space(builder.subgraph(), input, output,
                                          static_cast<uint32_t>(operation.options.block_size), 0),
                operation, "xnn_define_depth_to_space");
}

}  // namespace posestream::engine::xnn
