// Folds DENSIFY and DEQUANTIZE of constants at load: fp16 conversion and TFLite sparse -> dense.
#include "engine/constant_folding.h"

#include <bit>
#include <cmath>
#include <utility>

#include "engine/engine.h"

namespace posestream::engine {

namespace {

[[noreturn]] void fail(const std::string& message) { throw ModelError(message); }

// Total values all folds may produce (256 MiB of floats); pose_landmark_heavy folds about 14 million.
constexpr int64_t kMaxFoldedValues = int64_t{1} << 26;

// Checks that `order[begin, end)` is a permutation of begin..end-1.
bool is_permutation_of_range(const std::vector<int32_t>& order, size_t begin, size_t end) {
  std::vector<bool> seen(end - begin, false);
  for (size_t i = begin; i < end; ++i) {
    const int32_t dim = order[i];
    if (dim < static_cast<int32_t>(begin) || dim >= static_cast<int32_t>(end) ||
        seen[static_cast<size_t>(dim) - begin]) {
      return false;
    }
    seen[static_cast<size_t>(dim) - begin] = true;
  }
  return true;
}

// Walks the validated sparse structure depth first; stored values arrive in traversal order.
class Densifier {
 public:
  Densifier(const SparseFormat& format, const std::vector<int32_t>& shape, std::vector<int32_t> block_sizes,
            std::vector<int32_t> level_sizes, std::span<const float> values)
      : format_(format),
        shape_(shape),
        block_sizes_(std::move(block_sizes)),
        level_sizes_(std::move(level_sizes)),
        values_(values),
        coordinates_(format.traversal_order.size(), 0) {
    int64_t count = 1;
    for (const int32_t dim : shape) count *= dim;
    dense_.assign(static_cast<size_t>(count), 0.0f);
  }

  std::vector<float> run() {
    visit(0, 0);
    return std::move(dense_);
  }

 private:
  void visit(size_t level, size_t position) {
    if (level == format_.dimensions.size()) {
      dense_[dense_index()] = values_[next_value_++];
      return;
    }
    const SparseDimension& dimension = format_.dimensions[level];
    const auto traversal_dim = static_cast<size_t>(format_.traversal_order[level]);
    if (!dimension.sparse) {
      const auto size = static_cast<size_t>(level_sizes_[level]);
      for (size_t i = 0; i < size; ++i) {
        coordinates_[traversal_dim] = static_cast<int32_t>(i);
        visit(level + 1, position * size + i);
      }
      return;
    }
    const auto begin = static_cast<size_t>(dimension.segments[position]);
    const auto end = static_cast<size_t>(dimension.segments[position + 1]);
    for (size_t entry = begin; entry < end; ++entry) {
      coordinates_[traversal_dim] = dimension.indices[entry];
      visit(level + 1, entry);
    }
  }

  // Row-major index in the dense tensor; a blocked dim's coordinate is block * block_size + offset.
  size_t dense_index() const {
    const size_t rank = shape_.size();
    size_t index = 0;
    for (size_t dim = 0; dim < rank; ++dim) {
      auto coordinate = static_cast<size_t>(coordinates_[dim]);
      for (size_t block = 0; block < format_.block_map.size(); ++block) {
        if (static_cast<size_t>(format_.block_map[block]) == dim) {
          coordinate =
              coordinate * static_cast<size_t>(block_sizes_[block]) + static_cast<size_t>(coordinates_[rank + block]);
        }
      }
      index = index * static_cast<size_t>(shape_[dim]) + coordinate;
    }
    return index;
  }

  const SparseFormat& format_;
  const std::vector<int32_t>& shape_;
  const std::vector<int32_t> block_sizes_;  // Per block dim.
  const std::vector<int32_t> level_sizes_;  // Coordinate range of each traversal level.
  std::span<const float> values_;
  std::vector<int32_t> coordinates_;  // Current coordinate per traversal dim.
  size_t next_value_ = 0;
  std::vector<float> dense_;
};

// Block sizes (the DENSE levels of the block dims), checked to divide the dims they subdivide.
std::vector<int32_t> block_sizes_of(const SparseFormat& format, const std::vector<int32_t>& shape,
                                    const std::string& context) {
  const size_t rank = shape.size();
  std::vector<int32_t> sizes(format.block_map.size(), 0);
  std::vector<bool> blocked(rank, false);
  for (size_t level = rank; level < format.traversal_order.size(); ++level) {
    const auto block = static_cast<size_t>(format.traversal_order[level]) - rank;
    const int32_t dim = format.block_map[block];
    const SparseDimension& dimension = format.dimensions[level];
    if (dim < 0 || static_cast<size_t>(dim) >= rank || blocked[static_cast<size_t>(dim)]) {
      fail(context + "block map entry " + std::to_string(dim) + " is out of range or repeated");
    }
    blocked[static_cast<size_t>(dim)] = true;
    if (dimension.sparse || dimension.dense_size <= 0 || shape[static_cast<size_t>(dim)] % dimension.dense_size != 0) {
      fail(context + "block dim " + std::to_string(block) + " must be DENSE with a size dividing dim " +
           std::to_string(dim) + " (" + std::to_string(shape[static_cast<size_t>(dim)]) + "), got size " +
           std::to_string(dimension.dense_size));
    }
    sizes[block] = dimension.dense_size;
  }
  return sizes;
}

// The coordinate range of each traversal level: a dense dim divided by its block size, or a block size.
std::vector<int32_t> level_sizes_of(const SparseFormat& format, const std::vector<int32_t>& shape,
                                    const std::vector<int32_t>& block_sizes) {
  const size_t rank = shape.size();
  std::vector<int32_t> sizes;
  for (const int32_t traversal_dim : format.traversal_order) {
    const auto dim = static_cast<size_t>(traversal_dim);
    if (dim >= rank) {
      sizes.push_back(block_sizes[dim - rank]);
      continue;
    }
    int32_t size = shape[dim];
    for (size_t block = 0; block < format.block_map.size(); ++block) {
      if (static_cast<size_t>(format.block_map[block]) == dim) size /= block_sizes[block];
    }
    sizes.push_back(size);
  }
  return sizes;
}

// Checks one SPARSE_CSR level against the number of positions its parent level has; returns its own.
size_t check_sparse_level(const SparseDimension& dimension, size_t parent_positions, int32_t size,
                          const std::string& context) {
  if (dimension.segments.size() != parent_positions + 1 || dimension.segments.front() != 0 ||
      static_cast<size_t>(dimension.segments.back()) != dimension.indices.size()) {
    fail(context + "has " + std::to_string(dimension.segments.size()) + " segments for " +
         std::to_string(parent_positions) + " parent positions and " + std::to_string(dimension.indices.size()) +
         " indices");
  }
  for (size_t i = 1; i < dimension.segments.size(); ++i) {
    if (dimension.segments[i] < dimension.segments[i - 1]) fail(context + "has decreasing segments");
  }
  for (const int32_t index : dimension.indices) {
    if (index < 0 || index >= size) {
      fail(context + "has index " + std::to_string(index) + " outside [0, " + std::to_string(size) + ")");
    }
  }
  return dimension.indices.size();
}

// Checks every level and returns how many values the format stores.
size_t check_levels(const SparseFormat& format, const std::vector<int32_t>& level_sizes, const std::string& context) {
  size_t positions = 1;
  for (size_t level = 0; level < format.dimensions.size(); ++level) {
    const SparseDimension& dimension = format.dimensions[level];
    const std::string level_context = context + "sparse level " + std::to_string(level) + " ";
    if (dimension.sparse) {
      positions = check_sparse_level(dimension, positions, level_sizes[level], level_context);
      continue;
    }
    if (dimension.dense_size != level_sizes[level]) {
      fail(level_context + "has DENSE size " + std::to_string(dimension.dense_size) + ", expected " +
           std::to_string(level_sizes[level]));
    }
    positions *= static_cast<size_t>(level_sizes[level]);  // At most the dense element count.
  }
  return positions;
}

void check_structure(const SparseFormat& format, const std::vector<int32_t>& shape, const std::string& context) {
  const size_t rank = shape.size();
  const size_t levels = format.traversal_order.size();
  if (levels < rank || format.dimensions.size() != levels || format.block_map.size() != levels - rank) {
    fail(context + "has " + std::to_string(levels) + " traversal dims, " + std::to_string(format.dimensions.size()) +
         " dimension metadata and " + std::to_string(format.block_map.size()) + " block map entries for rank " +
         std::to_string(rank));
  }
  if (!is_permutation_of_range(format.traversal_order, 0, rank) ||
      !is_permutation_of_range(format.traversal_order, rank, levels)) {
    fail(context + "has a traversal order that is not a permutation of its dims then its block dims");
  }
}

void fold_densify(FileModel& model, const FileOperation& operation, bool input_still_used) {
  const std::string context = op_context(model, operation);
  if (operation.inputs.size() != 1 || operation.outputs.size() != 1 || operation.inputs[0] < 0) {
    fail(context + "expected 1 input and 1 output");
  }
  FileTensor& input = model.tensors[static_cast<size_t>(operation.inputs[0])];
  FileTensor& output = model.tensors[static_cast<size_t>(operation.outputs[0])];
  const std::string input_name = "input " + describe_tensor(model, operation.inputs[0]) + " ";
  if (!input.sparsity || input.sparse_values.empty()) fail(context + input_name + "is not a sparse constant");
  if (output.is_constant() || output.tensor.shape != input.tensor.shape || output.type != input.type) {
    fail(context + "output " + describe_tensor(model, operation.outputs[0]) +
         " must be a non-constant tensor of the input's shape " + shape_string(input.tensor.shape) + " and type");
  }
  output.tensor.data = densify(*input.sparsity, input.tensor.shape, input.sparse_values, context + input_name);
  if (!input_still_used) input.sparse_values = {};  // Free what no other op reads.
}

void fold_dequantize(FileModel& model, const FileOperation& operation, bool input_still_used) {
  const std::string context = op_context(model, operation);
  if (operation.inputs.size() != 1 || operation.outputs.size() != 1 || operation.inputs[0] < 0) {
    fail(context + "expected 1 input and 1 output");
  }
  FileTensor& input = model.tensors[static_cast<size_t>(operation.inputs[0])];
  FileTensor& output = model.tensors[static_cast<size_t>(operation.outputs[0])];
  if (input.type != schema::TensorType::kFloat16 || !input.tensor.is_constant()) {
    fail(context + "input " + describe_tensor(model, operation.inputs[0]) +
         " is not a dense FLOAT16 constant; only fp16 weights are dequantized (at load)");
  }
  if (output.is_constant() || output.type != schema::TensorType::kFloat32 ||
      output.tensor.shape != input.tensor.shape) {
    fail(context + "output " + describe_tensor(model, operation.outputs[0]) +
         " must be a non-constant FLOAT32 tensor of the input's shape " + shape_string(input.tensor.shape));
  }
  // Values were converted to float32 when read; the last reader takes them instead of copying.
  output.tensor.data = input_still_used ? input.tensor.data : std::exchange(input.tensor.data, {});
}

bool is_folded(const FileOperation& operation) {
  return operation.builtin == schema::builtin::kDensify || operation.builtin == schema::builtin::kDequantize;
}

}  // namespace

float half_to_float(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  const uint32_t exponent = (bits >> 10) & 0x1fu;
  const uint32_t mantissa = bits & 0x3ffu;
  if (exponent == 0) {  // Zero or subnormal: mantissa * 2^-24, exact in float32.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign != 0 ? -magnitude : magnitude;
  }
  if (exponent == 0x1f) return std::bit_cast<float>(sign | 0x7f800000u | (mantissa << 13));  // Inf, NaN.
  return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));           // Rebias 15 -> 127.
}

std::vector<float> half_to_float(std::span<const uint8_t> bytes) {
  std::vector<float> values(bytes.size() / 2);
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = half_to_float(static_cast<uint16_t>(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
  }
  return values;
}

std::vector<float> densify(const SparseFormat& format, const std::vector<int32_t>& shape, std::span<const float> values,
                           const std::string& context) {
  check_structure(format, shape, context);
  std::vector<int32_t> block_sizes = block_sizes_of(format, shape, context);
  std::vector<int32_t> level_sizes = level_sizes_of(format, shape, block_sizes);
  const size_t stored = check_levels(format, level_sizes, context);
  if (stored != values.size()) {
    fail(context + "stores " + std::to_string(values.size()) + " values, its sparse structure describes " +
         std::to_string(stored));
  }
  return Densifier(format, shape, std::move(block_sizes), std::move(level_sizes), values).run();
}

void fold_constants(FileModel& model) {
  // How many ops still read each tensor, so that folding moves data when it is the last reader.
  std::vector<int32_t> readers(model.tensors.size(), 0);
  for (const FileOperation& operation : model.operations) {
    for (const int32_t input : operation.inputs) {
      if (input >= 0) ++readers[static_cast<size_t>(input)];
    }
  }
  for (const int32_t output : model.outputs) ++readers[static_cast<size_t>(output)];

  std::vector<FileOperation> kept;
  int64_t folded_values = 0;
  for (FileOperation& operation : model.operations) {
    if (!is_folded(operation)) {
      kept.push_back(std::move(operation));
      continue;
    }
    // Each fold may allocate a dense copy, and a tiny sparse tensor can describe 2^28 zeros: bound the
    // total so that a small file cannot ask for gigabytes.
    if (operation.outputs.size() == 1) {
      folded_values += model.tensors[static_cast<size_t>(operation.outputs[0])].tensor.element_count();
    }
    if (folded_values > kMaxFoldedValues) {
      fail(op_context(model, operation) + "folded constants would exceed " + std::to_string(kMaxFoldedValues) +
           " values");
    }
    bool still_used = true;
    if (operation.inputs.size() == 1 && operation.inputs[0] >= 0) {
      still_used = --readers[static_cast<size_t>(operation.inputs[0])] > 0;
    }
    if (operation.builtin == schema::builtin::kDensify) {
      fold_densify(model, operation, still_used);
    } else {
      fold_dequantize(model, operation, still_used);
    }
  }
  model.operations = std::move(kept);
}

}  // namespace posestream::engine
