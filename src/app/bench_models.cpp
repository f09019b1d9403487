// `posestream bench models`: per model and precision, load and runtime-creation times, invoke median/p90, MACs.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/bench_models.h"
#include "app/commands.h"
#include "app/measure.h"
#include "app/precision_flag.h"
#include "engine/engine.h"

namespace posestream::app {
namespace {

using Clock = std::chrono::steady_clock;

const char* const kModels[] = {"pose_detection",      "pose_landmark_lite",  "pose_landmark_full",
                               "pose_landmark_heavy", "palm_detection_lite", "palm_detection_full",
                               "hand_landmark_lite",  "hand_landmark_full"};

using bench_models::OperatorKind;
using bench_models::Options;
using bench_models::Row;
using bench_models::Timing;

// Inputs get a fixed pattern in [0, 1], like a normalized image; the values do not change the work.
void fill_inputs(engine::Runtime& runtime) {
  for (size_t i = 0; i < runtime.input_count(); ++i) {
    const std::span<float> input = runtime.input(i);
    for (size_t j = 0; j < input.size(); ++j) input[j] = static_cast<float>((j * 2654435761u) % 1000) / 1000.0f;
  }
}

// Per operator (by position), the median over invokes; then summed by operator name, slowest first.
std::vector<OperatorKind> operator_kinds(const std::vector<std::vector<engine::OperatorTime>>& invokes) {
  std::vector<OperatorKind> kinds;
  if (invokes.empty()) return kinds;
  for (size_t op = 0; op < invokes.front().size(); ++op) {
    std::vector<double> times;
    for (const auto& invoke : invokes) times.push_back(invoke.at(op).microseconds / 1000.0);
    const std::string& name = invokes.front()[op].name;
    auto kind = std::find_if(kinds.begin(), kinds.end(), [&](const OperatorKind& k) { return k.name == name; });
    if (kind == kinds.end()) kind = kinds.insert(kinds.end(), OperatorKind{.name = name});
    ++kind->count;
    kind->milliseconds += percentile(times, 0.5);
  }
  std::sort(kinds.begin(), kinds.end(), [](const auto& a, const auto& b) { return a.milliseconds > b.milliseconds; });
  return kinds;
}

// One runtime per precision, invoked in turn (the first of each round rotating), so every precision sees
// the same machine: their ratio holds even while the machine's speed drifts.
Row measure(const std::shared_ptr<const engine::Model>& model, const std::string& row_name,
            const std::vector<std::string>& outputs, const Options& options) {
  Row row{.name = row_name};
  std::vector<engine::Runtime> runtimes;
  for (const engine::Precision precision : options.precisions) {
    const Clock::time_point create_start = Clock::now();
    runtimes.emplace_back(model, engine::RuntimeOptions{.threads = options.threads,
                                                        .outputs = outputs,
                                                        .precision = precision,
                                                        .profile = options.profile});
    row.timings.push_back({.precision = precision, .create_ms = milliseconds_since(create_start)});
    row.macs = runtimes.back().macs();
    fill_inputs(runtimes.back());
    for (int i = 0; i < options.warmup; ++i) runtimes.back().invoke();
  }
  const size_t count = runtimes.size();
  std::vector<std::vector<double>> times(count);
  std::vector<std::vector<std::vector<engine::OperatorTime>>> profiles(count);
  for (int run = 0; run < options.runs; ++run) {
    for (size_t turn = 0; turn < count; ++turn) {
      const size_t k = (turn + static_cast<size_t>(run)) % count;
      const Clock::time_point start = Clock::now();
      runtimes[k].invoke();
      times[k].push_back(milliseconds_since(start));
      if (options.profile) profiles[k].push_back(runtimes[k].operator_times());
    }
  }
  for (size_t k = 0; k < count; ++k) {
    row.timings[k].median_ms = percentile(times[k], 0.5);
    row.timings[k].p90_ms = percentile(times[k], 0.9);
    row.timings[k].operators = operator_kinds(profiles[k]);
  }
  return row;
}

// Every output except the 256x256x1 segmentation mask, or nothing if the model has no such output.
std::vector<std::string> outputs_without_segmentation(const engine::Model& model) {
  const engine::Graph& graph = model.graph();
  std::vector<std::string> kept;
  for (int32_t output : graph.outputs) {
    const engine::Tensor& tensor = graph.tensors[static_cast<size_t>(output)];
    if (tensor.shape != std::vector<int32_t>{1, 256, 256, 1}) kept.push_back(tensor.name);
  }
  return kept.size() + 1 == graph.outputs.size() ? kept : std::vector<std::string>{};
}

std::vector<Row> measure_all(const Options& options) {
  const std::filesystem::path directory = resolve_models_dir(options.models_dir);
  std::vector<Row> rows;
  for (const char* name : kModels) {
    const Clock::time_point load_start = Clock::now();
    const auto model = engine::Model::load(directory / (std::string(name) + ".tflite"));
    const double load_ms = milliseconds_since(load_start);
    rows.push_back(measure(model, name, {}, options));
    rows.back().load_ms = load_ms;
    const std::vector<std::string> kept = outputs_without_segmentation(*model);
    if (!kept.empty()) rows.push_back(measure(model, std::string(name) + " (no segmentation)", kept, options));
  }
  return rows;
}

}  // namespace

void add_bench_models(CLI::App& bench) {
  auto options = std::make_shared<Options>();
  CLI::App& command = *bench.add_subcommand("models", "Time loading, runtime creation and invoke of every model");
  command.add_option("--threads", options->threads, "Threads per runtime")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  command.add_option("--runs", options->runs, "Timed invokes per model")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  command.add_option("--warmup", options->warmup, "Untimed invokes first")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  command.add_flag("--json", options->json, "Print JSON instead of a table");
  command.add_option("--precision", options->precisions,
                     "Precisions to time, alternating invoke by invoke: f32, int8 (several: --precision f32 int8)")
      ->transform(CLI::CheckedTransformer(precision_names()))
      ->capture_default_str();
  command.add_flag("--profile", options->profile, "Per XNNPACK operator kind, its time in the median invoke");
  add_models_flag(command, options->models_dir);
  command.callback([options] {
    options->load_average = load_average();
    const std::vector<Row> rows = measure_all(*options);
    if (options->json) {
      bench_models::print_json(rows, *options);
    } else {
      bench_models::print_table(rows, *options);
    }
  });
}

}  // namespace posestream::app
