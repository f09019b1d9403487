// What one more runtime of a model costs in heap (its arena of intermediates on a Workspace of its own, its
// operators, its input and output buffers) against the least any plan could take: the most intermediate
// bytes alive at once. Guards the memory planner's fix (scripts/xnnpack-patches/0001-*): unpatched,
// XNNPACK stacked palm_detection_full's equal-sized tensors into a 28 MiB arena where 3.4 MiB are alive.
#include <gtest/gtest.h>
#include <malloc.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/graph.h"
#include "test_paths.h"

namespace posestream::engine {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Bytes the heap holds now (glibc): small blocks in use plus blocks of their own mapping.
double heap_bytes() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<double>(info.uordblks + info.hblkhd);
}

// The most bytes of intermediate tensors (made by one operation, read by a later one, neither a graph input
// nor output) alive at once when the operations run in file order: the floor of any arena for this graph.
double peak_live_intermediate_bytes(const Graph& graph) {
  std::vector<int64_t> last_use(graph.tensors.size(), -1);
  for (size_t op = 0; op < graph.operations.size(); ++op) {
    for (const int32_t tensor : graph.operations[op].inputs) last_use[tensor] = static_cast<int64_t>(op);
  }
  for (const int32_t tensor : graph.outputs) last_use[tensor] = -1;  // The runtime's own buffer.
  double live = 0, peak = 0;
  std::vector<std::pair<int64_t, double>> alive;  // (last use, bytes)
  for (size_t op = 0; op < graph.operations.size(); ++op) {
    for (const int32_t tensor : graph.operations[op].outputs) {
      if (last_use[tensor] < 0) continue;
      const double bytes = static_cast<double>(graph.tensors[tensor].element_count()) * sizeof(float);
      alive.emplace_back(last_use[tensor], bytes);
      live += bytes;
    }
    peak = std::max(peak, live);
    std::erase_if(alive, [&](const std::pair<int64_t, double>& entry) {
      if (entry.first > static_cast<int64_t>(op)) return false;
      live -= entry.second;
      return true;
    });
  }
  return peak;
}

class RuntimeMemory : public ::testing::TestWithParam<std::string> {};

// Twice the floor leaves room for alignment, the indirection buffers made per invoke and the operators
// themselves (measured 0.9-1.5x of it with the fix; palm_detection_full 9.2x without).
TEST_P(RuntimeMemory, AnotherRuntimeCostsAtMostTwiceItsLiveIntermediates) {
  const auto model = Model::load(posestream::testing::models_dir() / (GetParam() + ".tflite"));
  const Runtime first(model);  // Packs the model's weights into its shared cache: not counted below.
  const double floor = peak_live_intermediate_bytes(model->graph());
  const double before = heap_bytes();
  const Runtime another(model, RuntimeOptions{.workspace = std::make_shared<Workspace>()});
  const double cost = heap_bytes() - before;
  EXPECT_LE(cost, 2 * floor) << GetParam() << ": another runtime took " << cost / kMiB << " MiB, intermediates "
                             << floor / kMiB << " MiB alive at most";
}

INSTANTIATE_TEST_SUITE_P(Models, RuntimeMemory,
                         ::testing::Values("pose_detection", "pose_landmark_lite", "pose_landmark_full",
                                           "pose_landmark_heavy", "palm_detection_lite", "palm_detection_full",
                                           "hand_landmark_lite", "hand_landmark_full"));

}  // namespace
}  // namespace posestream::engine
