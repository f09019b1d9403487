// CONCATENATION outside the XNNPACK subgraph (Debian's 2022 XNNPACK has no concatenate node).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/graph.h"

namespace posestream::engine::xnn {

// How one concatenation is done. View the output as [outer, axis, inner] (outer = product of the dims
// before the axis, inner = product after it); input i is [outer, axis_sizes[i], inner].
//  - zero copy: when outer == 1 each input is one contiguous slice of the output, so the producing
//    node writes straight into it (the input is an external output whose buffer is that slice);
//  - strided copy: otherwise, after the subgraph ran, each outer row of each input is copied.
struct ConcatenationPlan {
  int32_t output_tensor = -1;
  std::vector<int32_t> inputs;      // Tensor indices, in order.
  std::vector<int64_t> axis_sizes;  // Each input's size along the axis.
  int64_t outer = 1;
  int64_t inner = 1;
  int64_t output_axis_size = 0;
  Activation activation = Activation::kNone;  // Applied by the copy; zero copy requires kNone.
  bool zero_copy = false;
};

// `inputs_can_alias`: the caller's verdict that every input is written by a node of the subgraph and
// has no other use for its own buffer (not a requested output, not in another concatenation).
ConcatenationPlan plan_concatenation(const Graph& graph, const Operation& operation, bool inputs_can_alias);

// Offset in floats of input `i`'s slice in the output buffer (meaningful for zero-copy plans).
int64_t slice_offset(const ConcatenationPlan& plan, size_t i);

// The strided copy: sources[i] holds input i, `destination` the whole output. Does not retain pointers.
void run_concatenation(const ConcatenationPlan& plan, const std::vector<const float*>& sources, float* destination);

}  // namespace posestream::engine::xnn
