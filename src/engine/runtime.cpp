// Runtime: one XNNPACK runtime over a shared Model, with its buffers and concatenations, on its own or a shared pool.
#include <xnnpack.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "engine/engine.h"
#include "engine/graph_analysis.h"
#include "engine/weights_cache.h"
#include "engine/xnn_concatenation.h"
#include "engine/xnn_ops.h"

namespace posestream::engine {
namespace {

struct XnnRuntimeDeleter {
  void operator()(xnn_runtime_t runtime) const { xnn_delete_runtime(runtime); }
};
using XnnRuntime = std::unique_ptr<xnn_runtime, XnnRuntimeDeleter>;
struct SubgraphDeleter {
  void operator()(xnn_subgraph_t subgraph) const { xnn_delete_subgraph(subgraph); }
};
using Subgraph = std::unique_ptr<xnn_subgraph, SubgraphDeleter>;

// Floats of slack after every buffer XNNPACK reads: its kernels may read XNN_EXTRA_BYTES past the end.
constexpr size_t kExtraFloats = (XNN_EXTRA_BYTES + sizeof(float) - 1) / sizeof(float);

std::string output_names(const Graph& graph) {
  std::string names;
  for (int32_t output : graph.outputs) {
    names += (names.empty() ? "'" : ", '") + graph.tensors[static_cast<size_t>(output)].name + "'";
  }
  return names;
}

// The graph outputs to compute, in file order: all of them, or those named in `names`.
std::vector<int32_t> resolve_outputs(const Graph& graph, const std::vector<std::string>& names) {
  if (names.empty()) return graph.outputs;
  std::unordered_set<int32_t> wanted;
  for (const std::string& name : names) {
    const auto found = std::find_if(graph.outputs.begin(), graph.outputs.end(), [&](int32_t output) {
      return graph.tensors[static_cast<size_t>(output)].name == name;
    });
    if (found == graph.outputs.end()) {
      throw ModelError(graph.name + ": no output named '" + name + "'; the outputs are " + output_names(graph));
    }
    wanted.insert(*found);
  }
  std::vector<int32_t> outputs;
  for (int32_t output : graph.outputs) {
    if (wanted.erase(output) == 1) outputs.push_back(output);
  }
  return outputs;
}

std::shared_ptr<ThreadPool> own_pool(const Model& model, int threads) {
  try {
    return std::make_shared<ThreadPool>(static_cast<size_t>(threads));
  } catch (const std::exception& error) {
    throw ModelError(model.name() + ": " + error.what());
  }
}

int64_t element_count(const Graph& graph, int32_t tensor) {
  return graph.tensors[static_cast<size_t>(tensor)].element_count();
}

// Runtimes with equal keys build equal subgraphs, so they pack the same weights and may share a cache.
std::string subgraph_key(const Graph& graph, const std::vector<int32_t>& outputs, Precision precision) {
  std::string key = precision_name(precision);
  for (int32_t output : outputs) key += "," + graph.tensors[static_cast<size_t>(output)].name;
  return key;
}

}  // namespace

struct Runtime::Impl {
  std::shared_ptr<const Model> model;
  std::vector<int32_t> outputs;                          // Requested graph outputs, file order.
  std::vector<bool> needed;                              // Per operation: does it feed a requested output?
  std::vector<std::vector<float>> input_buffers;         // One per graph input, padded.
  std::vector<std::vector<float>> result_buffers;        // External outputs and concatenation results, padded.
  std::unordered_map<int32_t, const float*> location;    // Where each visible tensor's values are.
  std::unordered_map<int32_t, float*> external_outputs;  // Subgraph outputs -> the buffer XNNPACK writes.
  std::vector<xnn::ConcatenationPlan> copies;            // Concatenations done after the subgraph runs.
  std::vector<float*> copy_destinations;
  std::vector<std::vector<const float*>> copy_sources;
  std::vector<xnn_external_value> input_values;  // Graph inputs the subgraph reads.
  xnn::OwnedBuffers constants;                   // Must outlive `runtime`.
  std::shared_ptr<ThreadPool> pool;              // Own or shared; null: the invoking thread. Outlives `runtime`.
  std::shared_ptr<xnn::SharedWeights> weights;   // This runtime's packed weights live here. Outlives `runtime`.
  std::shared_ptr<Workspace> workspace;          // Its intermediates; null: its own (XNNPACK keeps it alive).
  XnnRuntime runtime;                            // Declared last: destroyed first.
  int64_t macs = 0;
  Precision precision = Precision::kFloat32;
  bool profile = false;

  const Graph& graph() const { return model->graph(); }
  float* new_buffer(int32_t tensor) {
    result_buffers.emplace_back(static_cast<size_t>(element_count(graph(), tensor)) + kExtraFloats, 0.0f);
    return result_buffers.back().data();
  }
  void plan_inputs();
  void plan_concatenations();
  void plan_outputs();
  Subgraph build_subgraph(size_t& node_count);
  void create_runtime();
};

void Runtime::Impl::plan_inputs() {
  for (int32_t input : graph().inputs) {
    input_buffers.emplace_back(static_cast<size_t>(element_count(graph(), input)) + kExtraFloats, 0.0f);
    location[input] = input_buffers.back().data();
  }
}

// Zero copy when every input is written by a subgraph node for this concatenation alone; the rest
// are copied after invoke (see xnn_concatenation.h).
void Runtime::Impl::plan_concatenations() {
  const std::vector<int32_t> producer = producers(graph());
  std::unordered_map<int32_t, int> uses;  // How often each tensor is a concatenation input.
  for (size_t i = 0; i < graph().operations.size(); ++i) {
    if (!needed[i] || graph().operations[i].type != OpType::kConcatenation) continue;
    for (int32_t input : graph().operations[i].inputs) ++uses[input];
  }
  const std::unordered_set<int32_t> requested(outputs.begin(), outputs.end());
  for (size_t i = 0; i < graph().operations.size(); ++i) {
    const Operation& operation = graph().operations[i];
    if (!needed[i] || operation.type != OpType::kConcatenation) continue;
    const bool can_alias = std::all_of(operation.inputs.begin(), operation.inputs.end(), [&](int32_t input) {
      return producer[static_cast<size_t>(input)] >= 0 && uses[input] == 1 && !requested.contains(input);
    });
    xnn::ConcatenationPlan plan = xnn::plan_concatenation(graph(), operation, can_alias);
    float* destination = new_buffer(plan.output_tensor);
    location[plan.output_tensor] = destination;
    if (plan.zero_copy) {
      for (size_t j = 0; j < plan.inputs.size(); ++j) {
        external_outputs[plan.inputs[j]] = destination + xnn::slice_offset(plan, j);
      }
    } else {
      copies.push_back(std::move(plan));
      copy_destinations.push_back(destination);
    }
  }
}

// Every tensor read outside the subgraph (requested outputs, copied concatenation inputs) gets a place:
// its own buffer when a node writes it, the input buffer or the Model's constant otherwise.
void Runtime::Impl::plan_outputs() {
  const std::vector<int32_t> producer = producers(graph());
  auto place = [&](int32_t tensor) {
    if (location.contains(tensor)) return;
    if (producer[static_cast<size_t>(tensor)] >= 0) {
      float* buffer = new_buffer(tensor);
      external_outputs[tensor] = buffer;
      location[tensor] = buffer;
    } else {
      location[tensor] = graph().tensors[static_cast<size_t>(tensor)].data.data();  // A constant.
    }
  };
  for (const auto& [tensor, buffer] : external_outputs) location[tensor] = buffer;
  for (int32_t output : outputs) place(output);
  for (const xnn::ConcatenationPlan& plan : copies) {
    std::vector<const float*> sources;
    for (int32_t input : plan.inputs) {
      place(input);
      sources.push_back(location.at(input));
    }
    copy_sources.push_back(std::move(sources));
  }
}

Subgraph Runtime::Impl::build_subgraph(size_t& node_count) {
  xnn_subgraph_t raw = nullptr;
  const xnn_status status = xnn_create_subgraph(static_cast<uint32_t>(graph().tensors.size()), 0, &raw);
  if (status != xnn_status_success)
    throw ModelError(graph().name + ": xnn_create_subgraph failed with " + xnn::describe(status));
  Subgraph subgraph(raw);
  std::unordered_map<int32_t, xnn::Boundary> boundaries;
  for (int32_t input : graph().inputs) boundaries[input] = xnn::Boundary::kExternalInput;
  for (const auto& [tensor, buffer] : external_outputs) boundaries[tensor] = xnn::Boundary::kExternalOutput;
  xnn::SubgraphBuilder builder(graph(), subgraph.get(), std::move(boundaries), constants, precision);
  node_count = 0;
  for (size_t i = 0; i < graph().operations.size(); ++i) {
    const Operation& operation = graph().operations[i];
    const xnn::DefineFunction define = xnn::define_function(operation.type);
    if (!needed[i] || define == nullptr) continue;
    define(builder, operation);
    ++node_count;
  }
  for (size_t i = 0; i < graph().inputs.size(); ++i) {
    const int32_t input = graph().inputs[i];
    if (builder.has_value(input)) input_values.push_back({static_cast<uint32_t>(input), input_buffers[i].data()});
  }
  return subgraph;
}

void Runtime::Impl::create_runtime() {
  size_t node_count = 0;
  const Subgraph subgraph = build_subgraph(node_count);
  if (node_count == 0) return;  // Nothing for XNNPACK to do: only concatenations of inputs/constants.
  // The pool's threads sleep after each invoke's last operator instead of spinning for the next: between
  // invokes the invoking thread crops and decodes, and a spinning pool thread would take its core.
  uint32_t flags = pool ? XNN_FLAG_YIELD_WORKERS : 0;
  if (profile) flags |= XNN_FLAG_BASIC_PROFILING;
  // On a shared arena the convolutions' indirection buffers (a pointer per output pixel and tap, megabytes
  // per model at 192-256 px inputs) go into the arena too, rebuilt at each invoke, instead of being kept
  // by each runtime: a worker holds one set, the largest model's, not one per model.
  if (workspace) flags |= XNN_FLAG_TRANSIENT_INDIRECTION_BUFFER;
  try {
    weights = model->weights_caches().get(subgraph_key(graph(), outputs, precision));
  } catch (const std::exception& error) {
    throw ModelError(graph().name + ": " + error.what());
  }
  xnn_runtime_t raw = nullptr;
  xnn_status status = weights->create_runtime(subgraph.get(), workspace ? workspace->native() : nullptr,
                                              pool ? pool->native() : nullptr, flags, &raw);
  if (status != xnn_status_success)
    throw ModelError(graph().name + ": xnn_create_runtime_v4 failed with " + xnn::describe(status));
  runtime.reset(raw);
  status = xnn_reshape_runtime(runtime.get());
  if (status != xnn_status_success)
    throw ModelError(graph().name + ": xnn_reshape_runtime failed with " + xnn::describe(status));
  std::vector<xnn_external_value> values = input_values;
  for (const auto& [tensor, buffer] : external_outputs) values.push_back({static_cast<uint32_t>(tensor), buffer});
  // Shapes are static and buffers never move after this point, so one reshape and setup serve every invoke.
  status = xnn_setup_runtime_v2(runtime.get(), values.size(), values.data());
  if (status != xnn_status_success)
    throw ModelError(graph().name + ": xnn_setup_runtime_v2 failed with " + xnn::describe(status));
}

Runtime::Runtime(std::shared_ptr<const Model> model, RuntimeOptions options) : impl_(std::make_unique<Impl>()) {
  if (!model) throw ModelError("Runtime: no model");
  if (options.threads < 1) {
    throw ModelError(model->name() + ": thread count " + std::to_string(options.threads) + ", expected >= 1");
  }
  if (options.pool && options.threads != 1) {
    throw ModelError(model->name() + ": both an own pool of " + std::to_string(options.threads) +
                     " threads and a shared pool of " + std::to_string(options.pool->size()) + "; give one");
  }
  xnn::initialize(model->name());
  Impl& impl = *impl_;
  impl.pool = options.threads > 1 ? own_pool(*model, options.threads) : std::move(options.pool);
  impl.model = std::move(model);
  impl.precision = options.precision;
  impl.profile = options.profile;
  impl.workspace = std::move(options.workspace);
  impl.outputs = resolve_outputs(impl.graph(), options.outputs);
  impl.needed = needed_operations(impl.graph(), impl.outputs);
  for (size_t i = 0; i < impl.needed.size(); ++i) {
    if (impl.needed[i]) impl.macs += operation_macs(impl.graph(), impl.graph().operations[i]);
  }
  impl.plan_inputs();
  impl.plan_concatenations();
  impl.plan_outputs();
  impl.create_runtime();
}

Runtime::~Runtime() = default;
Runtime::Runtime(Runtime&&) noexcept = default;
Runtime& Runtime::operator=(Runtime&&) noexcept = default;

void Runtime::invoke() {
  Impl& impl = *impl_;
  if (impl.runtime) {
    const xnn_status status = xnn_invoke_runtime(impl.runtime.get());
    if (status != xnn_status_success) {
      throw ModelError(impl.graph().name + ": xnn_invoke_runtime failed with " + xnn::describe(status));
    }
  }
  for (size_t i = 0; i < impl.copies.size(); ++i) {
    xnn::run_concatenation(impl.copies[i], impl.copy_sources[i], impl.copy_destinations[i]);
  }
}

std::vector<OperatorTime> Runtime::operator_times() const {
  const Impl& impl = *impl_;
  if (!impl.profile) throw ModelError(impl.graph().name + ": operator times need a runtime created with profile");
  if (!impl.runtime) return {};
  auto query = [&](xnn_profile_info what, std::vector<char>& bytes) {
    size_t size = 0;
    xnn_status status = xnn_get_runtime_profiling_info(impl.runtime.get(), what, 0, nullptr, &size);
    if (status != xnn_status_success && status != xnn_status_out_of_memory)
      throw ModelError(impl.graph().name + ": xnn_get_runtime_profiling_info failed with " + xnn::describe(status));
    bytes.resize(size);
    status = xnn_get_runtime_profiling_info(impl.runtime.get(), what, bytes.size(), bytes.data(), &size);
    if (status != xnn_status_success)
      throw ModelError(impl.graph().name + ": xnn_get_runtime_profiling_info failed with " + xnn::describe(status));
  };
  std::vector<char> names, timings;
  query(xnn_profile_info_operator_name, names);
  query(xnn_profile_info_operator_timing, timings);
  std::vector<OperatorTime> times(timings.size() / sizeof(uint64_t));
  const char* name = names.data();  // NUL-separated, one per operator.
  for (size_t i = 0; i < times.size(); ++i) {
    uint64_t microseconds = 0;  // XNNPACK's unit on Linux.
    std::memcpy(&microseconds, timings.data() + i * sizeof(uint64_t), sizeof(uint64_t));
    times[i] = {std::string(name), static_cast<double>(microseconds)};
    name += times[i].name.size() + 1;
  }
  return times;
}

const char* precision_name(Precision precision) { return precision == Precision::kInt8 ? "int8" : "f32"; }

const Model& Runtime::model() const { return *impl_->model; }
int64_t Runtime::macs() const { return impl_->macs; }
size_t Runtime::input_count() const { return impl_->graph().inputs.size(); }
size_t Runtime::output_count() const { return impl_->outputs.size(); }

const Tensor& Runtime::input_tensor(size_t i) const {
  return impl_->graph().tensors[static_cast<size_t>(impl_->graph().inputs.at(i))];
}

const Tensor& Runtime::output_tensor(size_t i) const {
  return impl_->graph().tensors[static_cast<size_t>(impl_->outputs.at(i))];
}

std::span<float> Runtime::input(size_t i) {
  return {impl_->input_buffers.at(i).data(), static_cast<size_t>(input_tensor(i).element_count())};
}

std::span<const float> Runtime::output(size_t i) const {
  return {impl_->location.at(impl_->outputs.at(i)), static_cast<size_t>(output_tensor(i).element_count())};
}

std::span<float> Runtime::input(std::string_view name) {
  for (size_t i = 0; i < input_count(); ++i) {
    if (input_tensor(i).name == name) return input(i);
  }
  throw std::out_of_range(impl_->graph().name + ": no input named '" + std::string(name) + "'");
}

std::span<const float> Runtime::output(std::string_view name) const {
  std::string computed;
  for (size_t i = 0; i < output_count(); ++i) {
    if (output_tensor(i).name == name) return output(i);
    computed += (i ? ", '" : "'") + output_tensor(i).name + "'";
  }
  throw std::out_of_range(impl_->graph().name + ": this runtime computes no output named '" + std::string(name) +
                          "'; it computes " + computed);
}

}  // namespace posestream::engine
