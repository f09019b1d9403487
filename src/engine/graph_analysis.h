// Questions about a validated Graph that Model and Runtime share: MACs per op, ops needed for outputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/graph.h"

namespace posestream::engine {

// Multiply-accumulates of one operation: CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED count their
// products; every other op counts 0 (they move data or do one cheap operation per element).
int64_t operation_macs(const Graph& graph, const Operation& operation);

// needed[i] is true when operations[i] contributes to any tensor in `output_tensors`.
std::vector<bool> needed_operations(const Graph& graph, const std::vector<int32_t>& output_tensors);

// Index of the operation producing each tensor, -1 for graph inputs and constants.
std::vector<int32_t> producers(const Graph& graph);

// "<model>: op <index> <TYPE>: " for error messages.
std::string op_context(const Graph& graph, const Operation& operation);

}  // namespace posestream::engine
