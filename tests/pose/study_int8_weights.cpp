// How far int8 weights alone move pose_landmark_full's outputs (a study, not a test: it prints a table).
//
// Every int8 scheme XNNPACK runs (dynamic-range qd8 x qc8w, static qs8 x qc8w) rounds each convolution's
// filter to 255 levels per output channel. This study rounds only the filters, at several bit depths and
// for one class of layer at a time, keeps every activation float, and runs the plain reference interpreter
// (tests/reference) on the landmark crops our float32 pipeline makes of the golden photos. So it bounds
// any such scheme from below: activation rounding can only add to it. World landmarks are compared as the
// int8 gate does (mean over the 33 of the 3-D distance; gate 1 cm): the pipeline only rotates them, so the
// model's error is the pipeline's. Image landmarks are given in the crop's normalized units.
//   build/tests/pose/pose_study_int8_weights   (POSESTREAM_MODELS / POSESTREAM_SHARED as for the tests)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/graph.h"
#include "pose/pose.h"
#include "pose_compare.h"
#include "reference/reference.h"
#include "test_paths.h"

namespace posestream::pose {
namespace {

enum class LayerClass { all, pointwise, depthwise, spatial };  // spatial: a CONV_2D wider than 1x1.
const char* class_name(LayerClass layers) {
  switch (layers) {
    case LayerClass::all: return "all convolutions";
    case LayerClass::pointwise: return "1x1 CONV_2D only";
    case LayerClass::depthwise: return "DEPTHWISE_CONV_2D only";
    case LayerClass::spatial: return "wider CONV_2D only";
  }
  return "?";
}

bool in_class(const engine::Graph& graph, const engine::Operation& operation, LayerClass layers) {
  if (operation.type == engine::OpType::kDepthwiseConv2D) {
    return layers == LayerClass::all || layers == LayerClass::depthwise;
  }
  if (operation.type != engine::OpType::kConv2D) return false;
  const std::vector<int32_t>& filter = graph.tensors[static_cast<size_t>(operation.inputs[1])].shape;  // [O,H,W,I]
  const bool pointwise = filter[1] == 1 && filter[2] == 1;
  return layers == LayerClass::all || layers == (pointwise ? LayerClass::pointwise : LayerClass::spatial);
}

// Symmetric per-output-channel rounding to 2 * levels + 1 values, as the int8 paths do with levels = 127.
// A CONV_2D filter [O,H,W,I] has its channels first, a depthwise filter [1,H,W,C] last.
void round_filters(engine::Graph& graph, LayerClass layers, float levels) {
  for (const engine::Operation& operation : graph.operations) {
    if (!in_class(graph, operation, layers)) continue;
    engine::Tensor& filter = graph.tensors[static_cast<size_t>(operation.inputs[1])];
    const bool channels_last = operation.type == engine::OpType::kDepthwiseConv2D;
    const size_t channels = static_cast<size_t>(channels_last ? filter.shape.back() : filter.shape.front());
    const size_t per_channel = filter.data.size() / channels;
    auto channel_of = [&](size_t i) { return channels_last ? i % channels : i / per_channel; };
    std::vector<float> largest(channels, 0.0f);
    for (size_t i = 0; i < filter.data.size(); ++i) {
      largest[channel_of(i)] = std::max(largest[channel_of(i)], std::fabs(filter.data[i]));
    }
    for (size_t i = 0; i < filter.data.size(); ++i) {
      const float scale = largest[channel_of(i)] > 0 ? largest[channel_of(i)] / levels : 1.0f;
      filter.data[i] = std::nearbyint(filter.data[i] / scale) * scale;
    }
  }
}

struct Outputs {
  std::vector<float> landmarks;  // 39 x (x, y, z, visibility, presence), pixels of the 256x256 crop.
  std::vector<float> world;      // 39 x (x, y, z), metres.
};

Outputs run(const engine::Graph& graph, const std::vector<float>& crop) {
  const std::vector<int32_t>& shape = graph.tensors[static_cast<size_t>(graph.inputs[0])].shape;
  std::vector<reference::Tensor> outputs = reference::run_graph(graph, {reference::Tensor{shape, crop}});
  Outputs found;
  for (reference::Tensor& output : outputs) {
    if (output.data.size() == 39 * 5) found.landmarks = std::move(output.data);
    if (output.data.size() == 39 * 3) found.world = std::move(output.data);
  }
  return found;
}

// Mean over the 33 body landmarks: 2-D distance in crop units, and 3-D world distance in centimetres.
std::pair<double, double> mean_errors(const Outputs& exact, const Outputs& rounded) {
  double image = 0, world = 0;
  for (size_t i = 0; i < kPoseLandmarkCount; ++i) {
    image += std::hypot(exact.landmarks[i * 5] - rounded.landmarks[i * 5],
                        exact.landmarks[i * 5 + 1] - rounded.landmarks[i * 5 + 1]) / 256.0;
    double squares = 0;
    for (size_t axis = 0; axis < 3; ++axis) {
      squares += std::pow(exact.world[i * 3 + axis] - rounded.world[i * 3 + axis], 2);
    }
    world += std::sqrt(squares) * 100.0;
  }
  return {image / kPoseLandmarkCount, world / kPoseLandmarkCount};
}

// The landmark model's input crop for each golden photo where our float32 IMAGE-mode pipeline finds a pose.
std::vector<std::vector<float>> golden_crops(const PoseModels& models) {
  PoseRuntimes runtimes(models);
  PoseOptions options;
  options.static_image_mode = true;
  std::vector<std::vector<float>> crops;
  for (const auto& entry : std::filesystem::directory_iterator(posestream::testing::shared_dir() / "golden/images")) {
    PoseState state;
    if (!track_pose(testing::load_image(entry.path()), 0, state, runtimes, options)) continue;
    const std::span<const float> crop = runtimes.landmarks().input(0);
    crops.emplace_back(crop.begin(), crop.end());
  }
  return crops;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

void study() {
  const PoseModels models = load_pose_models(posestream::testing::models_dir(), PoseModel::full);
  const engine::Graph& graph = models.landmarks->graph();
  const std::vector<std::vector<float>> crops = golden_crops(models);
  std::vector<Outputs> exact;
  for (const std::vector<float>& crop : crops) exact.push_back(run(graph, crop));
  std::printf("pose_landmark_full, %zu golden crops; errors against the same model with float32 filters\n",
              crops.size());
  std::printf("%-24s %5s %18s %18s %18s\n", "filters rounded", "bits", "image mean (med)", "world cm (median)",
              "world cm (max)");
  for (const LayerClass layers : {LayerClass::all, LayerClass::pointwise, LayerClass::depthwise, LayerClass::spatial}) {
    for (const int bits : {8, 10, 12, 16}) {
      if (layers != LayerClass::all && bits != 8) continue;
      engine::Graph rounded = graph;
      round_filters(rounded, layers, static_cast<float>((1 << (bits - 1)) - 1));
      std::vector<double> image, world;
      for (size_t i = 0; i < crops.size(); ++i) {
        const auto [image_error, world_error] = mean_errors(exact[i], run(rounded, crops[i]));
        image.push_back(image_error);
        world.push_back(world_error);
      }
      std::printf("%-24s %5d %18.4f %18.2f %18.2f\n", class_name(layers), bits, median(image), median(world),
                  *std::max_element(world.begin(), world.end()));
    }
  }
}

}  // namespace
}  // namespace posestream::pose

int main() {
  try {
    posestream::pose::study();
  } catch (const std::exception& error) {
    std::fprintf(stderr, "study_int8_weights: %s\n", error.what());
    return 1;
  }
}
