// MAX_POOL_2D and MEAN (over height and width only) as XNNPACK nodes.
#include <vector>

#include "engine/xnn_ops.h"

namespace posestream::engine::xnn {

void define_max_pool_2d(SubgraphBuilder& builder, const Operation& operation) {
  const OpOptions& options = operation.options;
  const auto& input_shape = builder.tensor(operation.inputs[0]).shape;
  const auto& output_shape = builder.tensor(operation.outputs[0]).shape;
  // XNNPACK clamps window positions into the input, which ignores padded cells exactly as TFLite does.
  const SpatialPadding vertical = spatial_padding(options.padding, input_shape[1], output_shape[1],
                                                  options.filter_height, options.stride_height, 1);
  const SpatialPadding horizontal =
      spatial_padding(options.padding, input_shape[2], output_shape[2], options.filter_width, options.stride_width, 1);
  const auto [output_min, output_max] = activation_range(options.activation);
  const uint32_t input = builder.value(operation.inputs[0]);
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(xnn_define_max_pooling_2d(
                    builder.subgraph(), vertical.before, horizontal.after, vertical.after, horizontal.before,
                    static_cast<uint32_t>(options.filter_height), static_cast<uint32_t>(options.filter_width),
                    static_cast<uint32_t>(options.stride_height), static_cast<uint32_t>(options.stride_width), 1, 1,
                    output_min, output_max, input, output, 0),
                operation, "xnn_define_max_pooling_2d");
}

// MEAN over axes {1, 2} of [N,H,W,C]: keep_dims gives [N,1,1,C], else the file's [N,C]. Model rejects
// every other MEAN at load.
void define_mean(SubgraphBuilder& builder, const Operation& operation) {
  const auto& output_shape = builder.tensor(operation.outputs[0]).shape;
  const size_t axes[] = {1, 2};
  const uint32_t flags = output_shape.size() == 4 ? XNN_FLAG_KEEP_DIMS : 0;
  const uint32_t input = builder.value(operation.inputs[0]);
  const uint32_t output = builder.value(operation.outputs[0]);
  builder.check(xnn_define_static_reduce(builder.subgraph(), xnn_reduce_mean, 2, axes, input, output, flags),
                operation, "xnn_define_static_reduce (mean)");
}

}  // namespace posestream::engine::xnn
