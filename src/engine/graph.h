// The engine's in-memory model: tensors and operations read from a .tflite file, constants folded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace posestream::engine {

// The TFLite builtin operators posestream supports after load-time folding. DEQUANTIZE and DENSIFY
// never appear here: the reader folds them into constant tensors.
enum class OpType {
  kConv2D,
  kDepthwiseConv2D,
  kAdd,
  kPad,
  kMaxPool2D,
  kResizeBilinear,
  kReshape,
  kConcatenation,
  kLogistic,
  kPRelu,
  kMean,
  kFullyConnected,
  kDepthToSpace,
};

const char* op_type_name(OpType type);

enum class Activation { kNone, kRelu, kReluN1To1, kRelu6 };
enum class Padding { kSame, kValid };

// One tensor, always float32 after load. Shapes are TFLite's: NHWC for 4-D activations,
// [O, H, W, I] for conv filters, [1, H, W, O*M] for depthwise filters, [O, I] for fully connected.
struct Tensor {
  std::string name;
  std::vector<int32_t> shape;
  std::vector<float> data;  // Non-empty exactly when the tensor is a constant (weights, bias, pads).
  bool is_constant() const { return !data.empty(); }
  int64_t element_count() const;
};

// Options of every supported op in one plain struct; each op reads only the fields it needs.
struct OpOptions {
  Padding padding = Padding::kValid;        // CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D
  int32_t stride_height = 1, stride_width = 1;
  int32_t dilation_height = 1, dilation_width = 1;
  int32_t depth_multiplier = 1;             // DEPTHWISE_CONV_2D
  int32_t filter_height = 1, filter_width = 1;  // MAX_POOL_2D
  Activation activation = Activation::kNone;    // fused activation of conv, pool, add, FC, concat
  bool align_corners = false;               // RESIZE_BILINEAR
  bool half_pixel_centers = false;          // RESIZE_BILINEAR
  int32_t axis = 0;                         // CONCATENATION (may be negative in the file; normalized >= 0)
  int32_t block_size = 1;                   // DEPTH_TO_SPACE
  bool keep_dims = false;                   // MEAN
  // Parameters that the file stores as constant int32 input tensors. The reader moves them here and
  // drops those tensors from Operation::inputs, so every input of every op is a float tensor.
  std::vector<int32_t> axes;      // MEAN: reduction axes, normalized >= 0, sorted, without repeats.
  std::vector<int32_t> paddings;  // PAD: {before, after} per input dimension, flattened: 2 * rank values.
  // RESHAPE's optional shape input and RESIZE_BILINEAR's size input are dropped too: the output
  // tensor's shape is the new shape / [N, new height, new width, C] (checked against them at load).
};

struct Operation {
  OpType type;
  int32_t index = 0;             // Position in the file's operator list, for error messages.
  // Tensor indices, all float tensors; -1 marks an omitted optional input (the reader always lists 3
  // inputs for CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED, bias -1 when absent). Int32 parameter
  // inputs (MEAN axes, PAD paddings, RESHAPE shape, RESIZE_BILINEAR size) are not listed.
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  OpOptions options;
};

// A whole model after load: validated indices, folded constants, topologically ordered operations
// (TFLite files store them in execution order).
struct Graph {
  std::string name;  // The file's base name, used in every error message.
  // Indexed as in the file. After folding, some are referenced by no op: the FLOAT16 and sparse
  // originals of folded constants, and the int32 parameter tensors (kept without data).
  std::vector<Tensor> tensors;
  std::vector<Operation> operations;
  std::vector<int32_t> inputs;   // Graph input tensor indices, in the file's order.
  std::vector<int32_t> outputs;  // Graph output tensor indices, in the file's order.
};

}  // namespace posestream::engine
