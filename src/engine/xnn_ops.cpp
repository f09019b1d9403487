// The op table and the subgraph builder shared by every op's define function.
#include "engine/xnn_ops.h"

#include <algorithm>
#include <mutex>
#include <string>

#include "engine/engine.h"
#include "engine/graph_analysis.h"

namespace posestream::engine::xnn {
namespace {

const char* status_name(xnn_status status) {
  switch (status) {
    case xnn_status_success: return "success";
    case xnn_status_uninitialized: return "uninitialized";
    case xnn_status_invalid_parameter: return "invalid_parameter";
    case xnn_status_invalid_state: return "invalid_state";
    case xnn_status_unsupported_parameter: return "unsupported_parameter";
    case xnn_status_unsupported_hardware: return "unsupported_hardware";
    case xnn_status_out_of_memory: return "out_of_memory";
    case xnn_status_reallocation_required: return "reallocation_required";
    case xnn_status_deprecated: return "deprecated";
  }
  return "unknown";
}

// Floats of slack after a buffer that XNNPACK's kernels may read (never write) past its end.
constexpr size_t kExtraFloats = (XNN_EXTRA_BYTES + sizeof(float) - 1) / sizeof(float);

}  // namespace

std::string describe(xnn_status status) {
  return "xnn_status " + std::to_string(static_cast<int>(status)) + " (" + status_name(status) + ")";
}

void initialize(const std::string& what) {
  static std::once_flag once;
  static xnn_status status = xnn_status_uninitialized;
  std::call_once(once, [] { status = xnn_initialize(nullptr); });
  if (status != xnn_status_success) throw ModelError(what + ": xnn_initialize failed with " + describe(status));
}

DefineFunction define_function(OpType type) {
  switch (type) {
    case OpType::kConv2D: return define_conv_2d;
    case OpType::kDepthwiseConv2D: return define_depthwise_conv_2d;
    case OpType::kFullyConnected: return define_fully_connected;
    case OpType::kMaxPool2D: return define_max_pool_2d;
    case OpType::kMean: return define_mean;
    case OpType::kAdd: return define_add;
    case OpType::kLogistic: return define_logistic;
    case OpType::kPRelu: return define_prelu;
    case OpType::kPad: return define_pad;
    case OpType::kReshape: return define_reshape;
    case OpType::kResizeBilinear: return define_resize_bilinear;
    case OpType::kDepthToSpace: return define_depth_to_space;
    case OpType::kConcatenation: return nullptr;  // Runs outside the subgraph.
  }
  return nullptr;
}

std::pair<float, float> activation_range(Activation activation) {
  constexpr float kInfinity = std::numeric_limits<float>::infinity();
  switch (activation) {
    case Activation::kNone: return {-kInfinity, kInfinity};
    case Activation::kRelu: return {0.0f, kInfinity};
    case Activation::kReluN1To1: return {-1.0f, 1.0f};
    case Activation::kRelu6: return {0.0f, 6.0f};
  }
  return {-kInfinity, kInfinity};
}

SpatialPadding spatial_padding(Padding padding, int32_t input, int32_t output, int32_t kernel, int32_t stride,
                               int32_t dilation) {
  if (padding == Padding::kValid) return {};
  const int64_t effective_kernel = static_cast<int64_t>(kernel - 1) * dilation + 1;
  const int64_t total = std::max<int64_t>(static_cast<int64_t>(output - 1) * stride + effective_kernel - input, 0);
  return {static_cast<uint32_t>(total / 2), static_cast<uint32_t>(total - total / 2)};
}

std::vector<size_t> dims_of(const std::vector<int32_t>& shape) {
  return std::vector<size_t>(shape.begin(), shape.end());
}

SubgraphBuilder::SubgraphBuilder(const Graph& graph, xnn_subgraph_t subgraph,
                                 std::unordered_map<int32_t, Boundary> boundaries, OwnedBuffers& owned,
                                 Precision precision)
    : graph_(graph), subgraph_(subgraph), boundaries_(std::move(boundaries)), owned_(owned), precision_(precision) {}

uint32_t SubgraphBuilder::value(int32_t tensor_index) {
  if (auto found = activation_values_.find(tensor_index); found != activation_values_.end()) return found->second;
  const Tensor& source = tensor(tensor_index);
  const float* data = nullptr;
  if (source.is_constant()) {
    std::vector<float> padded(source.data.size() + kExtraFloats, 0.0f);
    std::copy(source.data.begin(), source.data.end(), padded.begin());
    owned_.floats.push_back(std::move(padded));
    data = owned_.floats.back().data();
  }
  const auto boundary = boundaries_.find(tensor_index);
  const uint32_t flags = boundary == boundaries_.end() ? 0 : static_cast<uint32_t>(boundary->second);
  // Only the first definition of a tensor may take its external id; a constant also used as a weight
  // was defined with the id already, so its activation copy gets an internal one.
  const bool id_free = !weight_values_.contains(tensor_index);
  const uint32_t id = define(id_free ? tensor_index : -1, dims_of(source.shape), data, flags);
  activation_values_.emplace(tensor_index, id);
  return id;
}

uint32_t SubgraphBuilder::weight(int32_t tensor_index) {
  return weight_with_shape(tensor_index, dims_of(tensor(tensor_index).shape));
}

uint32_t SubgraphBuilder::weight_with_shape(int32_t tensor_index, const std::vector<size_t>& shape) {
  if (auto found = weight_values_.find(tensor_index); found != weight_values_.end()) return found->second;
  const Tensor& source = tensor(tensor_index);
  const bool id_free = !activation_values_.contains(tensor_index);
  const uint32_t id = define(id_free ? tensor_index : -1, shape, source.data.data(), 0);
  weight_values_.emplace(tensor_index, id);
  return id;
}

uint32_t SubgraphBuilder::owned_constant(std::vector<float> data, const std::vector<size_t>& shape) {
  data.resize(data.size() + kExtraFloats, 0.0f);
  owned_.floats.push_back(std::move(data));
  return define(-1, shape, owned_.floats.back().data(), 0);
}

uint32_t SubgraphBuilder::internal_value(const std::vector<size_t>& shape) { return define(-1, shape, nullptr, 0); }

uint32_t SubgraphBuilder::define(int32_t tensor_index, const std::vector<size_t>& shape, const float* data,
                                 uint32_t flags) {
  const uint32_t external_id = tensor_index >= 0 ? static_cast<uint32_t>(tensor_index) : XNN_INVALID_VALUE_ID;
  uint32_t id = XNN_INVALID_VALUE_ID;
  const xnn_status status =
      xnn_define_tensor_value(subgraph_, xnn_datatype_fp32, shape.size(), shape.data(), data, external_id, flags, &id);
  if (status != xnn_status_success) {
    const std::string what = tensor_index >= 0
                                 ? "tensor #" + std::to_string(tensor_index) + " '" + tensor(tensor_index).name + "'"
                                 : std::string("an intermediate value");
    throw ModelError(graph_.name + ": defining " + what + " failed with " + describe(status));
  }
  return id;
}

void SubgraphBuilder::check(xnn_status status, const Operation& operation, const std::string& what) const {
  if (status == xnn_status_success) return;
  throw ModelError(op_context(graph_, operation) + what + " failed with " + describe(status));
}

}  // namespace posestream::engine::xnn
