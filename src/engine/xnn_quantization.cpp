// Dynamic-range int8 for 1x1 CONV_2D: filters quantized per output channel, inputs quantized per pixel at run time.
#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/xnn_ops.h"

namespace posestream::engine::xnn {

// Symmetric per-channel quantization, as TFLite's dynamic-range converter does: channel c's scale maps its
// largest magnitude to 127, so no weight clips and zero stays exactly zero (no zero point).
uint32_t SubgraphBuilder::int8_filter(int32_t tensor_index, const std::vector<size_t>& dims,
                                      const Operation& operation) {
  const Tensor& filter = tensor(tensor_index);
  const auto channels = static_cast<size_t>(filter.shape[0]);  // [O, KH, KW, I]
  const size_t per_channel = filter.data.size() / channels;
  std::vector<float> scales(channels);
  std::vector<int8_t> values(filter.data.size() + XNN_EXTRA_BYTES, 0);
  for (size_t c = 0; c < channels; ++c) {
    const float* weights = filter.data.data() + c * per_channel;
    float largest = 0.0f;
    for (size_t i = 0; i < per_channel; ++i) largest = std::max(largest, std::fabs(weights[i]));
    scales[c] = largest > 0.0f ? largest / 127.0f : 1.0f;
    for (size_t i = 0; i < per_channel; ++i) {
      const float level = std::nearbyint(weights[i] / scales[c]);
      values[c * per_channel + i] = static_cast<int8_t>(std::clamp(level, -127.0f, 127.0f));
    }
  }
  owned_.floats.push_back(std::move(scales));
  owned_.int8s.push_back(std::move(values));
  uint32_t id = XNN_INVALID_VALUE_ID;
  check(xnn_define_channelwise_quantized_tensor_value(subgraph_, xnn_datatype_qcint8, owned_.floats.back().data(),
                                                      dims.size(), /*channel_dim=*/0, dims.data(),
                                                      owned_.int8s.back().data(), XNN_INVALID_VALUE_ID, 0, &id),
        operation, "xnn_define_channelwise_quantized_tensor_value");
  return id;
}

// XNNPACK computes each slice's scale and zero point from its min and max as the runtime runs, so no
// calibration data is needed and no activation range is fixed at load time.
uint32_t SubgraphBuilder::dynamically_quantized(uint32_t input, const std::vector<size_t>& shape,
                                                size_t quantized_dims, const Operation& operation) {
  uint32_t id = XNN_INVALID_VALUE_ID;
  check(xnn_define_dynamically_quantized_tensor_value(subgraph_, xnn_datatype_qdint8, shape.size(), quantized_dims,
                                                      shape.data(),
                                                      XNN_INVALID_VALUE_ID, 0, &id),
        operation, "xnn_define_dynamically_quantized_tensor_value");
  check(xnn_define_unary(subgraph_, xnn_unary_convert, nullptr, input, id, 0), operation,
        "xnn_define_unary (convert to qdint8)");
  return id;
}

}  // namespace posestream::engine::xnn
