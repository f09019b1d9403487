// Reads each supported op's builtin options table (field ids from schema.fbs) into OpOptions.
#include "engine/engine.h"
#include "engine/tflite_file.h"

namespace posestream::engine {

namespace {

using schema::OptionsType;

[[noreturn]] void fail(const std::string& message) { throw ModelError(message); }

Padding read_padding(int8_t value, const std::string& context) {
  if (value == 0) return Padding::kSame;
  if (value == 1) return Padding::kValid;
  fail(context + "padding " + std::to_string(value) + ", expected SAME (0) or VALID (1)");
}

Activation read_activation(int8_t value, const std::string& context) {
  switch (value) {
    case 0: return Activation::kNone;
    case 1: return Activation::kRelu;
    case 2: return Activation::kReluN1To1;
    case 3: return Activation::kRelu6;
    default: break;
  }
  fail(context + "fused activation " + std::to_string(value) + " (TANH, SIGN_BIT or unknown) is unsupported");
}

// The options table of `file_op` when it has the type `expected`; nullptr when absent (defaults apply).
const schema::OptionsTable* options_of(const schema::Operator& file_op, OptionsType expected,
                                       const std::string& context) {
  const schema::OptionsTable* table = file_op.options();
  if (table == nullptr) return nullptr;
  if (file_op.options_type() != static_cast<uint8_t>(expected)) {
    fail(context + "options table has union type " + std::to_string(file_op.options_type()) + ", expected " +
         std::to_string(static_cast<int>(expected)));
  }
  return table;
}

// Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_activation_function 3, dilation_w 4, dilation_h 5.
void read_conv(const schema::OptionsTable& table, OpOptions& options, const std::string& context) {
  options.padding = read_padding(table.int8_field(0), context);
  options.stride_width = table.int32_field(1, 0);
  options.stride_height = table.int32_field(2, 0);
  options.activation = read_activation(table.int8_field(3), context);
  options.dilation_width = table.int32_field(4, 1);
  options.dilation_height = table.int32_field(5, 1);
}

// DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3, fused_activation_function 4,
// dilation_w 5, dilation_h 6.
void read_depthwise(const schema::OptionsTable& table, OpOptions& options, const std::string& context) {
  options.padding = read_padding(table.int8_field(0), context);
  options.stride_width = table.int32_field(1, 0);
  options.stride_height = table.int32_field(2, 0);
  options.depth_multiplier = table.int32_field(3, 0);
  options.activation = read_activation(table.int8_field(4), context);
  options.dilation_width = table.int32_field(5, 1);
  options.dilation_height = table.int32_field(6, 1);
}

// Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, fused_activation_function 5.
void read_pool(const schema::OptionsTable& table, OpOptions& options, const std::string& context) {
  options.padding = read_padding(table.int8_field(0), context);
  options.stride_width = table.int32_field(1, 0);
  options.stride_height = table.int32_field(2, 0);
  options.filter_width = table.int32_field(3, 0);
  options.filter_height = table.int32_field(4, 0);
  options.activation = read_activation(table.int8_field(5), context);
}

// FullyConnectedOptions: fused_activation_function 0, weights_format 1, keep_num_dims 2.
void read_fully_connected(const schema::OptionsTable& table, FileOperation& operation, const std::string& context) {
  operation.options.activation = read_activation(table.int8_field(0), context);
  if (table.int8_field(1) != 0) {
    fail(context + "weights_format " + std::to_string(table.int8_field(1)) + " is unsupported, expected DEFAULT (0)");
  }
  operation.keep_num_dims = table.bool_field(2);
}

void read_table(const schema::OptionsTable* table, OptionsType type, FileOperation& operation,
                const std::string& context) {
  OpOptions& options = operation.options;
  switch (type) {
    case OptionsType::kConv2D: read_conv(*table, options, context); break;
    case OptionsType::kDepthwiseConv2D: read_depthwise(*table, options, context); break;
    case OptionsType::kPool2D: read_pool(*table, options, context); break;
    case OptionsType::kFullyConnected: read_fully_connected(*table, operation, context); break;
    case OptionsType::kConcatenation:  // axis 0, fused_activation_function 1.
      options.axis = table->int32_field(0, 0);
      options.activation = read_activation(table->int8_field(1), context);
      break;
    case OptionsType::kAdd: options.activation = read_activation(table->int8_field(0), context); break;
    case OptionsType::kResizeBilinear:  // new_height 0 and new_width 1 are deprecated.
      options.align_corners = table->bool_field(2);
      options.half_pixel_centers = table->bool_field(3);
      break;
    case OptionsType::kReducer: options.keep_dims = table->bool_field(0); break;
    case OptionsType::kDepthToSpace: options.block_size = table->int32_field(0, 0); break;
    case OptionsType::kNone: break;
  }
}

// The options table type each op carries; kNone for ops whose options we do not read.
OptionsType options_type_of(int32_t builtin) {
  using namespace schema::builtin;
  switch (builtin) {
    case kConv2D: return OptionsType::kConv2D;
    case kDepthwiseConv2D: return OptionsType::kDepthwiseConv2D;
    case kMaxPool2D: return OptionsType::kPool2D;
    case kFullyConnected: return OptionsType::kFullyConnected;
    case kConcatenation: return OptionsType::kConcatenation;
    case kAdd: return OptionsType::kAdd;
    case kResizeBilinear: return OptionsType::kResizeBilinear;
    case kMean: return OptionsType::kReducer;
    case kDepthToSpace: return OptionsType::kDepthToSpace;
    default: return OptionsType::kNone;
  }
}

}  // namespace

void read_options(const schema::Operator& file_op, FileOperation& operation, const std::string& context) {
  const OptionsType type = options_type_of(operation.builtin);
  if (type == OptionsType::kNone) return;  // PAD, RESHAPE, LOGISTIC, PRELU, DEQUANTIZE, DENSIFY.
  const schema::OptionsTable* table = options_of(file_op, type, context);
  if (table != nullptr) {
    read_table(table, type, operation, context);
    return;
  }
  // Windowed ops and DEPTH_TO_SPACE have no meaningful defaults (schema strides and sizes are 0).
  if (type == OptionsType::kConv2D || type == OptionsType::kDepthwiseConv2D || type == OptionsType::kPool2D ||
      type == OptionsType::kDepthToSpace) {
    fail(context + "has no options table");
  }
}

}  // namespace posestream::engine
