// Per-op shape rules that Model checks at load, so that Runtime only ever sees well-formed ops.
#pragma once

#include "engine/graph.h"

namespace posestream::engine {

// Checks arity, ranks, constant weights, parameters and the output shape of one operation whose
// tensor indices are already known to be valid. Throws ModelError naming the model, op index, op type
// and the bad value, e.g. "pose_detection.tflite: op 17 DEPTHWISE_CONV_2D: input tensor #42 has 3 dims,
// expected 4".
void check_operation_shapes(const Graph& graph, const Operation& operation);

}  // namespace posestream::engine
