// Names of the engine's op types and the element count of a tensor shape.
#include "engine/graph.h"

namespace posestream::engine {

const char* op_type_name(OpType type) {
  switch (type) {
    case OpType::kConv2D: return "CONV_2D";
    case OpType::kDepthwiseConv2D: return "DEPTHWISE_CONV_2D";
    case OpType::kAdd: return "ADD";
    case OpType::kPad: return "PAD";
    case OpType::kMaxPool2D: return "MAX_POOL_2D";
    case OpType::kResizeBilinear: return "RESIZE_BILINEAR";
    case OpType::kReshape: return "RESHAPE";
    case OpType::kConcatenation: return "CONCATENATION";
    case OpType::kLogistic: return "LOGISTIC";
    case OpType::kPRelu: return "PRELU";
    case OpType::kMean: return "MEAN";
    case OpType::kFullyConnected: return "FULLY_CONNECTED";
    case OpType::kDepthToSpace: return "DEPTH_TO_SPACE";
  }
  return "UNKNOWN_OP";
}

// Product of the dims, 1 for a scalar. An invalid shape (a negative dim or an int64 overflow, never in
// a loaded graph) yields 0 rather than a count that a caller could turn into a huge allocation.
int64_t Tensor::element_count() const {
  int64_t count = 1;
  for (const int32_t dim : shape) {
    if (dim < 0 || __builtin_mul_overflow(count, int64_t{dim}, &count)) return 0;
  }
  return count;
}

}  // namespace posestream::engine
