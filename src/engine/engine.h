// Public API of the engine layer: load a .tflite model once, run it on XNNPACK from one runtime per thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "engine/graph.h"

struct pthreadpool;     // pthreadpool.h's opaque pool (pthreadpool_t points to one).
struct xnn_workspace;  // xnnpack.h's opaque workspace (xnn_workspace_t points to one).

namespace posestream::engine {
namespace xnn {
class WeightsCaches;  // weights_cache.h: packed weights shared by a Model's runtimes.
}

// Every load-time failure: a truncated, corrupt, wrong-type or unsupported file. The message names the
// file and the op or tensor at fault, e.g.
// "pose_detection.tflite: op 17 DEPTHWISE_CONV_2D: input tensor #42 has 3 dims, expected 4".
class ModelError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses and validates a .tflite flatbuffer, folds DENSIFY and DEQUANTIZE into float constants.
// `name` is used in error messages only. Does not retain `bytes`. Throws ModelError.
Graph read_tflite(std::span<const uint8_t> bytes, const std::string& name);
Graph read_tflite_file(const std::filesystem::path& path);

// An immutable loaded model. Safe to share between threads; runtimes keep it alive.
class Model {
 public:
  static std::shared_ptr<const Model> load(const std::filesystem::path& path);  // Throws ModelError.
  static std::shared_ptr<const Model> from_graph(Graph graph);                   // Throws ModelError.

  const Graph& graph() const { return graph_; }
  const std::string& name() const { return graph_.name; }
  // Multiply-accumulate count of one invoke with all outputs computed.
  int64_t macs() const { return macs_; }

  explicit Model(Graph graph);  // Prefer load()/from_graph(); validates shapes, throws ModelError.

  // XNNPACK's packed weights, shared by every runtime of this model that computes the same outputs at the
  // same precision: N workers hold one packed copy, not N. Thread-safe; the graph itself never changes.
  xnn::WeightsCaches& weights_caches() const { return *weights_caches_; }

 private:
  Graph graph_;
  int64_t macs_ = 0;
  std::shared_ptr<xnn::WeightsCaches> weights_caches_;
};

// Inference threads that any number of runtimes, invoked from any threads, may share. pthreadpool
// serializes parallel calls on one pool (its execution mutex) and XNNPACK makes one per operator, so a
// runtime invoked alone gets every thread of the pool for each operator, while runtimes invoked at once
// from several threads take turns operator by operator (the work between invokes still overlaps).
// Share it with std::make_shared; every runtime on it keeps it alive.
class ThreadPool {
 public:
  // `threads` counts the thread that invokes: a pool of N starts N - 1 threads, and a pool of 1 runs
  // everything on the invoking thread. Throws std::invalid_argument for 0, std::runtime_error when the
  // threads cannot be started.
  explicit ThreadPool(size_t threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const noexcept { return size_; }
  pthreadpool* native() const noexcept { return pool_; }  // What XNNPACK takes.

 private:
  pthreadpool* pool_ = nullptr;
  size_t size_ = 0;
};

// The memory of the intermediate tensors of runtimes that never run at the same time: XNNPACK plans each
// runtime's tensors into one arena, and runtimes given the same Workspace share one arena, sized for the
// largest of them, instead of one each (a worker's detector and landmark model run one after the other).
// Runtimes on one Workspace must be created, invoked and destroyed by one thread at a time: an invoke
// overwrites the others' intermediates (never their inputs or outputs, which are the Runtime's own
// buffers). Share it with std::make_shared; every runtime on it keeps it alive.
class Workspace {
 public:
  Workspace();  // Throws ModelError when XNNPACK cannot make it.
  ~Workspace();
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;

  xnn_workspace* native() const noexcept { return workspace_; }  // What XNNPACK takes.

 private:
  xnn_workspace* workspace_ = nullptr;
};

// `workspace`, or a new Workspace when it is null (for runtimes that share one among themselves only).
std::shared_ptr<Workspace> own_if_null(std::shared_ptr<Workspace> workspace);

// Arithmetic of the convolutions. kInt8 is dynamic-range quantization: each 1x1 CONV_2D with at least 96
// output channels has its filter quantized to int8 per output channel at runtime creation, its input to
// int8 per pixel as the runtime runs (no calibration), and accumulates in int32 on XNNPACK's VNNI kernels;
// its output, narrower 1x1, wider and depthwise convolutions and every other op stay float32
// (xnn_convolution.cpp).
enum class Precision { kFloat32, kInt8 };
const char* precision_name(Precision precision);  // "f32", "int8"

struct RuntimeOptions {
  int threads = 1;  // Threads of this runtime's own pool; 1 runs on the calling thread only.
  // Model outputs to compute, by tensor name; empty computes all. Ops that feed none of them are skipped.
  std::vector<std::string> outputs;
  // Run on this pool, shared with other runtimes, instead of an own one (then `threads` must stay 1).
  std::shared_ptr<ThreadPool> pool;
  Precision precision = Precision::kFloat32;
  bool profile = false;  // Time every XNNPACK operator of each invoke (see Runtime::operator_times).
  // Intermediate tensors in this arena, shared with the other runtimes on it (see Workspace); null: an
  // arena of this runtime's own.
  std::shared_ptr<Workspace> workspace;
};

// One XNNPACK operator's time in the last invoke of a profiling runtime.
struct OperatorTime {
  std::string name;  // XNNPACK's operator name, e.g. "Convolution (NHWC, F32) IGEMM".
  double microseconds = 0;
};

// One XNNPACK runtime over a shared Model: owns its input and output buffers; its intermediate tensors live
// in its Workspace (its own or a shared one), its packed weights in the Model's weights cache, shared
// with the model's other runtimes (weights_cache.h).
// Not thread-safe: use one per thread. Creation packs weights (milliseconds): create once, reuse.
class Runtime {
 public:
  explicit Runtime(std::shared_ptr<const Model> model, RuntimeOptions options = {});  // Throws ModelError.
  ~Runtime();
  Runtime(Runtime&&) noexcept;
  Runtime& operator=(Runtime&&) noexcept;
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const Model& model() const;
  size_t input_count() const;
  size_t output_count() const;  // Outputs this runtime computes (the requested subset, in file order).
  std::span<float> input(size_t i);
  std::span<float> input(std::string_view name);
  std::span<const float> output(size_t i) const;
  std::span<const float> output(std::string_view name) const;
  const Tensor& input_tensor(size_t i) const;
  const Tensor& output_tensor(size_t i) const;
  // Multiply-accumulate count of one invoke of this runtime (only the ops its outputs need).
  int64_t macs() const;

  void invoke();  // Throws ModelError if XNNPACK fails.
  // Each operator's time in the last invoke, in execution order; needs RuntimeOptions::profile.
  std::vector<OperatorTime> operator_times() const;  // Throws ModelError.

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace posestream::engine
