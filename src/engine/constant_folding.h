// Load-time constant folding: IEEE fp16 -> float32, and TFLite's sparse format -> dense.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/tflite_file.h"

namespace posestream::engine {

// One IEEE 754 binary16 value (bit pattern) as float32; exact, including subnormals, infinities, NaN.
float half_to_float(uint16_t bits);
// Little-endian binary16 values (2 bytes each; a trailing odd byte is ignored) as float32.
std::vector<float> half_to_float(std::span<const uint8_t> bytes);

// The dense row-major tensor of `shape` whose non-zero structure `format` describes, holding `values`
// (stored in traversal order). Supports any traversal order, block maps with dense block dims, and
// DENSE or SPARSE_CSR levels. Validates every segment and index; throws ModelError("<context><what>").
std::vector<float> densify(const SparseFormat& format, const std::vector<int32_t>& shape, std::span<const float> values,
                           const std::string& context);

// Replaces every DENSIFY (sparse constant -> dense) and DEQUANTIZE (FLOAT16 constant -> FLOAT32) op of
// `model` by constant data on its output tensor, in file order, and removes those ops. Throws
// ModelError naming the op when such an op's input is not a constant of the expected kind.
void fold_constants(FileModel& model);

}  // namespace posestream::engine
