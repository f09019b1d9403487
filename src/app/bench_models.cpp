// `posestream bench models`: per model, load and runtime-creation times, invoke median/p90, MACs, GFLOP/s.
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

#include "app/commands.h"
#include "engine/engine.h"

namespace posestream::app {
namespace {

using Clock = std::chrono::steady_clock;

const char* const kModels[] = {"pose_detection",      "pose_landmark_lite",  "pose_landmark_full",
                               "pose_landmark_heavy", "palm_detection_lite", "palm_detection_full",
                               "hand_landmark_lite",  "hand_landmark_full"};

struct Options {
  int threads = 1;
  int runs = 100;
  int warmup = 10;
  bool json = false;
  std::string models_dir;
  std::optional<double> load_average;  // Measured, not a flag.
};

struct Row {
  std::string name;
  std::optional<double> load_ms;  // Absent for rows that reuse another row's loaded model.
  double create_ms = 0;
  double median_ms = 0;
  double p90_ms = 0;
  int64_t macs = 0;
  double gflops() const { return median_ms > 0 ? 2.0 * static_cast<double>(macs) / (median_ms * 1e6) : 0; }
};

// The 1-minute load average before measuring: timings on a busy machine are not comparable.
std::optional<double> load_average() {
  std::ifstream file("/proc/loadavg");
  double value = 0;
  if (file >> value) return value;
  return std::nullopt;
}

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Nearest-rank percentile of a sorted, non-empty sample.
double percentile(const std::vector<double>& sorted, double fraction) {
  const auto rank = static_cast<size_t>(std::ceil(fraction * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

// Inputs get a fixed pattern in [0, 1], like a normalized image; the values do not change the work.
void fill_inputs(engine::Runtime& runtime) {
  for (size_t i = 0; i < runtime.input_count(); ++i) {
    const std::span<float> input = runtime.input(i);
    for (size_t j = 0; j < input.size(); ++j) input[j] = static_cast<float>((j * 2654435761u) % 1000) / 1000.0f;
  }
}

Row measure(const std::shared_ptr<const engine::Model>& model, const std::string& row_name,
            const std::vector<std::string>& outputs, const Options& options) {
  Row row{.name = row_name};
  const Clock::time_point create_start = Clock::now();
  engine::Runtime runtime(model, {.threads = options.threads, .outputs = outputs});
  row.create_ms = milliseconds_since(create_start);
  row.macs = runtime.macs();
  fill_inputs(runtime);
  for (int i = 0; i < options.warmup; ++i) runtime.invoke();
  std::vector<double> times;
  times.reserve(static_cast<size_t>(options.runs));
  for (int i = 0; i < options.runs; ++i) {
    const Clock::time_point start = Clock::now();
    runtime.invoke();
    times.push_back(milliseconds_since(start));
  }
  std::sort(times.begin(), times.end());
  row.median_ms = percentile(times, 0.5);
  row.p90_ms = percentile(times, 0.9);
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

void print_table(const std::vector<Row>& rows, const Options& options) {
  std::printf("threads %d, %d runs after %d warm-up", options.threads, options.runs, options.warmup);
  if (options.load_average) std::printf(", load average %.2f before the run", *options.load_average);
  std::printf("\n");
  std::printf("%-40s %9s %10s %11s %9s %9s %8s\n", "model", "load ms", "create ms", "median ms", "p90 ms", "GMAC",
              "GFLOP/s");
  for (const Row& row : rows) {
    char load[32] = "-";
    if (row.load_ms) std::snprintf(load, sizeof load, "%.1f", *row.load_ms);
    std::printf("%-40s %9s %10.1f %11.2f %9.2f %9.3f %8.1f\n", row.name.c_str(), load, row.create_ms, row.median_ms,
                row.p90_ms, static_cast<double>(row.macs) / 1e9, row.gflops());
  }
}

void print_json(const std::vector<Row>& rows, const Options& options) {
  nlohmann::json models = nlohmann::json::array();
  for (const Row& row : rows) {
    models.push_back({{"name", row.name},
                      {"load_ms", row.load_ms ? nlohmann::json(*row.load_ms) : nlohmann::json(nullptr)},
                      {"create_ms", row.create_ms},
                      {"invoke_median_ms", row.median_ms},
                      {"invoke_p90_ms", row.p90_ms},
                      {"macs", row.macs},
                      {"gflops", row.gflops()}});
  }
  const nlohmann::json report = {
      {"threads", options.threads},
      {"runs", options.runs},
      {"warmup", options.warmup},
      {"load_average", options.load_average ? nlohmann::json(*options.load_average) : nlohmann::json(nullptr)},
      {"models", models}};
  std::cout << report.dump(2) << '\n';
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
  add_models_flag(command, options->models_dir);
  command.callback([options] {
    options->load_average = load_average();
    const std::vector<Row> rows = measure_all(*options);
    if (options->json) {
      print_json(rows, *options);
    } else {
      print_table(rows, *options);
    }
  });
}

}  // namespace posestream::app
