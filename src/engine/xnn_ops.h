// The op table: how each supported OpType becomes XNNPACK subgraph nodes (internal to the engine).
#pragma once

#include <xnnpack.h>

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/graph.h"

namespace posestream::engine::xnn {

// Buffers the subgraph points at that are not the Model's own constants: padded copies of constants
// used as activations, expanded PReLU slopes, int8 filters and their scales. XNNPACK keeps the pointers,
// so whoever owns this must keep it alive (and unmoved element-wise: each inner vector keeps its heap
// block) for as long as the xnn_runtime_t created from the subgraph.
struct OwnedBuffers {
  std::vector<std::vector<float>> floats;
  std::vector<std::vector<int8_t>> int8s;
};

// Role of a graph tensor at the subgraph's boundary.
enum class Boundary : uint32_t {
  kInternal = 0,
  kExternalInput = XNN_VALUE_FLAG_EXTERNAL_INPUT,
  kExternalOutput = XNN_VALUE_FLAG_EXTERNAL_OUTPUT,
};

// A subgraph under construction. Graph tensors become XNNPACK values on first use, with the tensor's
// index as the value's external id, so value ids and tensor indices coincide.
class SubgraphBuilder {
 public:
  // `graph` must outlive the builder and every runtime created from the subgraph (constants are
  // referenced, not copied). `boundaries` maps tensor index -> role; absent means internal.
  SubgraphBuilder(const Graph& graph, xnn_subgraph_t subgraph, std::unordered_map<int32_t, Boundary> boundaries,
                  OwnedBuffers& owned, Precision precision);

  // The value of an activation input or output. A constant read as an activation gets a padded copy:
  // XNNPACK's kernels may read XNN_EXTRA_BYTES past the end of their inputs.
  uint32_t value(int32_t tensor_index);
  // The value of a weight (filter, bias) that XNNPACK packs at runtime creation: the Model's own data.
  uint32_t weight(int32_t tensor_index);
  // A weight with a different shape than the file's (e.g. PReLU alpha [1,1,C] -> [C]).
  uint32_t weight_with_shape(int32_t tensor_index, const std::vector<size_t>& shape);
  // A constant the builder creates and owns (an expanded PReLU slope).
  uint32_t owned_constant(std::vector<float> data, const std::vector<size_t>& shape);
  // A fresh internal value (intermediate of a multi-node op).
  uint32_t internal_value(const std::vector<size_t>& shape);
  // A CONV_2D filter [O, KH, KW, I] quantized to int8 per output channel (xnn_quantization.cpp), as a
  // value of shape `dims` (the file's, or [O, I] for a 1x1 filter used by a fully connected node).
  uint32_t int8_filter(int32_t tensor_index, const std::vector<size_t>& dims, const Operation& operation);
  // `input` (float32) converted to int8 as the runtime runs, with a scale and zero point for each slice
  // of its last `quantized_dims` dimensions (3 of [N, H, W, C]: per image; 1: per pixel).
  uint32_t dynamically_quantized(uint32_t input, const std::vector<size_t>& shape, size_t quantized_dims,
                                 const Operation& operation);

  // Whether the tensor became an activation value (a graph input nobody reads never does).
  bool has_value(int32_t tensor_index) const { return activation_values_.contains(tensor_index); }
  const Graph& graph() const { return graph_; }
  const Tensor& tensor(int32_t index) const { return graph_.tensors.at(static_cast<size_t>(index)); }
  xnn_subgraph_t subgraph() const { return subgraph_; }
  Precision precision() const { return precision_; }

  // Throws ModelError "<model>: op <index> <TYPE>: <what> failed with xnn_status <code> (<name>)"
  // when `status` is not success. Debian's XNNPACK logs nothing, so this is the only diagnostic.
  void check(xnn_status status, const Operation& operation, const std::string& what) const;

 private:
  uint32_t define(int32_t tensor_index, const std::vector<size_t>& shape, const float* data, uint32_t flags);

  const Graph& graph_;
  xnn_subgraph_t subgraph_;
  std::unordered_map<int32_t, Boundary> boundaries_;
  OwnedBuffers& owned_;
  Precision precision_;
  std::unordered_map<int32_t, uint32_t> activation_values_;  // tensor index -> value id
  std::unordered_map<int32_t, uint32_t> weight_values_;      // tensor index -> value id
};

// Defines the nodes of one operation. Validation of shapes happened in Model; these functions still
// check what XNNPACK itself needs and throw ModelError naming the op.
using DefineFunction = void (*)(SubgraphBuilder& builder, const Operation& operation);

// The explicit op table. Returns nullptr for CONCATENATION, which runs outside the subgraph
// (see xnn_concatenation.h).
DefineFunction define_function(OpType type);

// The table's entries, one per op, grouped by file.
void define_conv_2d(SubgraphBuilder& builder, const Operation& operation);            // xnn_convolution.cpp
void define_depthwise_conv_2d(SubgraphBuilder& builder, const Operation& operation);  // xnn_convolution.cpp
void define_fully_connected(SubgraphBuilder& builder, const Operation& operation);    // xnn_convolution.cpp
void define_max_pool_2d(SubgraphBuilder& builder, const Operation& operation);        // xnn_pooling.cpp
void define_mean(SubgraphBuilder& builder, const Operation& operation);               // xnn_pooling.cpp
void define_add(SubgraphBuilder& builder, const Operation& operation);                // xnn_elementwise.cpp
void define_logistic(SubgraphBuilder& builder, const Operation& operation);           // xnn_elementwise.cpp
void define_prelu(SubgraphBuilder& builder, const Operation& operation);              // xnn_elementwise.cpp
void define_pad(SubgraphBuilder& builder, const Operation& operation);                // xnn_layout.cpp
void define_reshape(SubgraphBuilder& builder, const Operation& operation);            // xnn_layout.cpp
void define_resize_bilinear(SubgraphBuilder& builder, const Operation& operation);    // xnn_layout.cpp
void define_depth_to_space(SubgraphBuilder& builder, const Operation& operation);     // xnn_layout.cpp

// output_min/output_max of a node carrying a fused activation.
std::pair<float, float> activation_range(Activation activation);

// Explicit padding of one spatial dimension: TFLite SAME puts the odd unit after (bottom/right).
struct SpatialPadding {
  uint32_t before = 0;
  uint32_t after = 0;
};
SpatialPadding spatial_padding(Padding padding, int32_t input, int32_t output, int32_t kernel, int32_t stride,
                               int32_t dilation);

std::vector<size_t> dims_of(const std::vector<int32_t>& shape);

// "xnn_status 2 (invalid_parameter)": Debian's XNNPACK logs nothing, so messages carry the code.
std::string describe(xnn_status status);

// xnn_initialize once per process, by whatever needs XNNPACK first; the library is never deinitialized.
// Throws ModelError naming `what` (a model or object) if XNNPACK cannot start.
void initialize(const std::string& what);

}  // namespace posestream::engine::xnn
