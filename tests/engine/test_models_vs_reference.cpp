// Every model on XNNPACK against the double-precision reference: whole graphs, and each op alone.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <ostream>
#include <random>
#include <sstream>
#include <string>

#include "engine/engine.h"
#include "reference/reference.h"
#include "test_paths.h"

namespace posestream::engine {
namespace {

// Relative error: max |engine - reference| over a tensor, divided by max |reference|. XNNPACK
// accumulates in float where the reference uses double.
//
// One op alone, fed the reference's own inputs, measures 1e-7 to 1.5e-5 on every op of every model.
constexpr double kSingleOpRelativeError = 1e-4;
// Whole graphs: the errors of 100-300 float ops compound; most outputs stay within 1e-5, a few reach
// 8e-5 (pose_landmark_full's world landmarks).
constexpr double kOutputRelativeError = 1e-4;
// Two pose_landmark outputs are ill-conditioned in float32 on noise input, whoever computes them:
// - Identity_2, the segmentation logits: the decoder's ADD / DEPTHWISE_CONV_2D chain at 256x256 grows
//   a 1e-5 error to ~1e-3 in its intermediate tensors. A float-accumulating copy of this reference
//   itself differs from the double one by up to 1.6e-4 there; XNNPACK measured 1.3e-4 to 1e-3 over
//   seeds, while each of those ops alone stays within 1e-5.
// - Identity_1, the pose flag: a sigmoid of a large negative logit, so its relative error is the
//   absolute error of the logit (measured up to 1e-3).
// A mapping bug is far larger: swapping two RESIZE_BILINEAR modes gives 0.96 on the segmentation.
constexpr double kIllConditionedRelativeError = 5e-3;

struct ModelCase {
  const char* name;
  float input_low, input_high;  // The range of the model's input image values.
};

// Names the case in test output instead of GoogleTest's byte dump.
void PrintTo(const ModelCase& model, std::ostream* stream) { *stream << model.name; }

// pose_detection takes [-1, 1]; every other model takes [0, 1].
const ModelCase kModels[] = {
    {"pose_detection", -1.0f, 1.0f},     {"pose_landmark_lite", 0.0f, 1.0f},  {"pose_landmark_full", 0.0f, 1.0f},
    {"pose_landmark_heavy", 0.0f, 1.0f}, {"palm_detection_lite", 0.0f, 1.0f}, {"palm_detection_full", 0.0f, 1.0f},
    {"hand_landmark_lite", 0.0f, 1.0f},  {"hand_landmark_full", 0.0f, 1.0f},
};

double output_tolerance(const std::string& model, const std::string& output) {
  const bool pose_landmark = model.starts_with("pose_landmark");
  return pose_landmark && (output == "Identity_1" || output == "Identity_2") ? kIllConditionedRelativeError
                                                                             : kOutputRelativeError;
}

struct Comparison {
  double max_difference = 0.0;
  double max_reference = 0.0;
  bool finite = true;
  double ratio() const { return max_reference > 0.0 ? max_difference / max_reference : max_difference; }
};

Comparison compare(std::span<const float> engine_values, const std::vector<float>& reference_values) {
  Comparison comparison;
  for (size_t i = 0; i < reference_values.size(); ++i) {
    comparison.finite = comparison.finite && std::isfinite(engine_values[i]) && std::isfinite(reference_values[i]);
    comparison.max_difference =
        std::max(comparison.max_difference, std::abs(double{engine_values[i]} - double{reference_values[i]}));
    comparison.max_reference = std::max(comparison.max_reference, std::abs(double{reference_values[i]}));
  }
  return comparison;
}

std::string to_text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// Seeded uniform noise in the model's range, one tensor per graph input.
std::vector<reference::Tensor> random_inputs(const Graph& graph, const ModelCase& model) {
  std::mt19937 generator(20240607);
  std::uniform_real_distribution<float> distribution(model.input_low, model.input_high);
  std::vector<reference::Tensor> inputs;
  for (int32_t index : graph.inputs) {
    reference::Tensor input{graph.tensors.at(size_t(index)).shape, {}};
    input.data.resize(size_t(input.element_count()));
    for (float& value : input.data) value = distribution(generator);
    inputs.push_back(std::move(input));
  }
  return inputs;
}

// Copies `inputs` into the runtime's inputs, which follow the graph's input order.
void set_runtime_inputs(Runtime& runtime, const std::vector<reference::Tensor>& inputs) {
  ASSERT_EQ(runtime.input_count(), inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::span<float> values = runtime.input(i);
    ASSERT_EQ(values.size(), inputs[i].data.size()) << runtime.input_tensor(i).name;
    std::copy(inputs[i].data.begin(), inputs[i].data.end(), values.begin());
  }
}

// Index into graph.outputs of the output tensor called `name`.
size_t graph_output_index(const Graph& graph, const std::string& name) {
  for (size_t i = 0; i < graph.outputs.size(); ++i) {
    if (graph.tensors.at(size_t(graph.outputs[i])).name == name) return i;
  }
  ADD_FAILURE() << "runtime output " << name << " is not a graph output";
  return 0;
}

std::shared_ptr<const Model> load(const ModelCase& model_case) {
  return Model::load(posestream::testing::models_dir() / (std::string(model_case.name) + ".tflite"));
}

class ModelsVsReference : public ::testing::TestWithParam<ModelCase> {};

TEST_P(ModelsVsReference, EveryOutputMatches) {
  const ModelCase& model_case = GetParam();
  const auto model = load(model_case);
  Runtime runtime(model, RuntimeOptions{.threads = 1});
  const std::vector<reference::Tensor> inputs = random_inputs(model->graph(), model_case);
  set_runtime_inputs(runtime, inputs);
  runtime.invoke();
  const std::vector<reference::Tensor> expected = reference::run_graph(model->graph(), inputs);
  ASSERT_EQ(runtime.output_count(), expected.size());
  for (size_t i = 0; i < runtime.output_count(); ++i) {
    const std::string& name = runtime.output_tensor(i).name;
    const reference::Tensor& reference_output = expected[graph_output_index(model->graph(), name)];
    ASSERT_EQ(runtime.output(i).size(), reference_output.data.size()) << name;
    const Comparison comparison = compare(runtime.output(i), reference_output.data);
    RecordProperty(name + "_relative_error", to_text(comparison.ratio()));  // In --gtest_output=xml.
    std::cout << model_case.name << " " << name << ": max |diff| " << comparison.max_difference << " / max |ref| "
              << comparison.max_reference << " = " << comparison.ratio() << "\n";
    EXPECT_TRUE(comparison.finite) << name << " has a NaN or infinity";
    EXPECT_LE(comparison.ratio(), output_tolerance(model_case.name, name)) << name;
  }
}

// The reference value of every tensor: graph inputs and every op's output, by tensor index.
std::map<int32_t, reference::Tensor> trace(const Graph& graph, const std::vector<reference::Tensor>& inputs) {
  Graph traced = graph;
  traced.outputs.clear();
  for (const Operation& op : graph.operations) {
    traced.outputs.insert(traced.outputs.end(), op.outputs.begin(), op.outputs.end());
  }
  std::vector<reference::Tensor> values = reference::run_graph(traced, inputs);
  std::map<int32_t, reference::Tensor> by_index;
  for (size_t i = 0; i < graph.inputs.size(); ++i) by_index[graph.inputs[i]] = inputs[i];
  for (size_t i = 0; i < values.size(); ++i) by_index[traced.outputs[i]] = std::move(values[i]);
  return by_index;
}

// A graph of `op` alone: its activation inputs become the graph's inputs, its constants stay.
struct SingleOp {
  Graph graph;
  std::vector<int32_t> original_inputs;  // The original tensor index of each of graph.inputs.
};

SingleOp single_op_graph(const Graph& graph, const Operation& op) {
  SingleOp single;
  single.graph.name = graph.name + " op " + std::to_string(op.index);
  std::map<int32_t, int32_t> renumbered;
  const auto add_tensor = [&](int32_t index) {
    if (index < 0) return index;  // An omitted optional input stays omitted.
    const auto [it, added] = renumbered.emplace(index, static_cast<int32_t>(single.graph.tensors.size()));
    if (added) {
      single.graph.tensors.push_back(graph.tensors.at(size_t(index)));
      if (!single.graph.tensors.back().is_constant()) {
        single.graph.inputs.push_back(it->second);
        single.original_inputs.push_back(index);
      }
    }
    return it->second;
  };
  Operation alone = op;
  for (int32_t& input : alone.inputs) input = add_tensor(input);
  for (size_t i = 0; i < op.outputs.size(); ++i) {  // Outputs are never inputs of the same op.
    alone.outputs[i] = static_cast<int32_t>(single.graph.tensors.size());
    single.graph.tensors.push_back(graph.tensors.at(size_t(op.outputs[i])));
  }
  single.graph.outputs = alone.outputs;
  single.graph.operations = {alone};
  return single;
}

// Runs `op` alone on XNNPACK with the reference's inputs; compares its output with the reference's.
Comparison run_single_op(const Graph& graph, const Operation& op, const std::map<int32_t, reference::Tensor>& values) {
  const SingleOp single = single_op_graph(graph, op);
  Runtime runtime(Model::from_graph(single.graph), RuntimeOptions{.threads = 1});
  std::vector<reference::Tensor> inputs;
  for (int32_t original : single.original_inputs) inputs.push_back(values.at(original));
  set_runtime_inputs(runtime, inputs);
  runtime.invoke();
  return compare(runtime.output(0), values.at(op.outputs.at(0)).data);
}

TEST_P(ModelsVsReference, EveryOpAloneMatches) {
  const ModelCase& model_case = GetParam();
  const auto model = load(model_case);
  const Graph& graph = model->graph();
  const std::map<int32_t, reference::Tensor> values = trace(graph, random_inputs(graph, model_case));
  double worst = 0.0;
  for (const Operation& op : graph.operations) {
    const Comparison comparison = run_single_op(graph, op, values);
    worst = std::max(worst, comparison.ratio());
    EXPECT_TRUE(comparison.finite) << "op " << op.index << " " << op_type_name(op.type);
    EXPECT_LE(comparison.ratio(), kSingleOpRelativeError) << "op " << op.index << " " << op_type_name(op.type);
  }
  RecordProperty("worst_single_op_relative_error", to_text(worst));
  std::cout << model_case.name << ": worst single-op relative error " << worst << " over " << graph.operations.size()
            << " ops\n";
}

INSTANTIATE_TEST_SUITE_P(AllModels, ModelsVsReference, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<ModelCase>& case_info) {
                           return std::string(case_info.param.name);
                         });

}  // namespace
}  // namespace posestream::engine
