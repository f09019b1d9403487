// The `posestream bench models` report: a table (with int8/f32 ratios and per-operator profiles) or JSON.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <iostream>

#include "app/bench_models.h"

namespace posestream::app::bench_models {
namespace {

void print_header(const Options& options) {
  std::printf("threads %d, %d runs after %d warm-up", options.threads, options.runs, options.warmup);
  if (options.precisions.size() > 1) std::printf(", precisions alternating invoke by invoke");
  if (options.load_average) std::printf(", load average %.2f before the run", *options.load_average);
  std::printf("\n%-40s %9s %9s %6s %10s %11s %9s %8s\n", "model", "load ms", "GMAC", "prec", "create ms", "median ms",
              "p90 ms", "GFLOP/s");
}

void print_profile(const Timing& timing) {
  for (const OperatorKind& kind : timing.operators) {
    std::printf("      %8.3f ms %4d x %s\n", kind.milliseconds, kind.count, kind.name.c_str());
  }
}

}  // namespace

double gflops(int64_t macs, double milliseconds) {
  return milliseconds > 0 ? 2.0 * static_cast<double>(macs) / (milliseconds * 1e6) : 0;
}

void print_table(const std::vector<Row>& rows, const Options& options) {
  print_header(options);
  for (const Row& row : rows) {
    char load[32] = "-";
    if (row.load_ms) std::snprintf(load, sizeof load, "%.1f", *row.load_ms);
    for (size_t i = 0; i < row.timings.size(); ++i) {
      const Timing& timing = row.timings[i];
      std::printf("%-40s %9s %9.3f %6s %10.1f %11.2f %9.2f %8.1f", i == 0 ? row.name.c_str() : "", i == 0 ? load : "",
                  static_cast<double>(row.macs) / 1e9, engine::precision_name(timing.precision), timing.create_ms,
                  timing.median_ms, timing.p90_ms, gflops(row.macs, timing.median_ms));
      // Every later precision against the first, from the same interleaved run.
      if (i > 0 && timing.median_ms > 0) {
        std::printf("   %.2fx the speed of %s", row.timings[0].median_ms / timing.median_ms,
                    engine::precision_name(row.timings[0].precision));
      }
      std::printf("\n");
      if (options.profile) print_profile(timing);
    }
  }
}

void print_json(const std::vector<Row>& rows, const Options& options) {
  nlohmann::json models = nlohmann::json::array();
  for (const Row& row : rows) {
    nlohmann::json timings = nlohmann::json::array();
    for (const Timing& timing : row.timings) {
      nlohmann::json operators = nlohmann::json::array();
      for (const OperatorKind& kind : timing.operators) {
        operators.push_back({{"name", kind.name}, {"count", kind.count}, {"ms", kind.milliseconds}});
      }
      timings.push_back({{"precision", engine::precision_name(timing.precision)},
                         {"create_ms", timing.create_ms},
                         {"invoke_median_ms", timing.median_ms},
                         {"invoke_p90_ms", timing.p90_ms},
                         {"gflops", gflops(row.macs, timing.median_ms)},
                         {"operators", operators}});
    }
    models.push_back({{"name", row.name},
                      {"load_ms", row.load_ms ? nlohmann::json(*row.load_ms) : nlohmann::json(nullptr)},
                      {"macs", row.macs},
                      {"timings", timings}});
  }
  const nlohmann::json report = {
      {"threads", options.threads},
      {"runs", options.runs},
      {"warmup", options.warmup},
      {"load_average", options.load_average ? nlohmann::json(*options.load_average) : nlohmann::json(nullptr)},
      {"models", models}};
  std::cout << report.dump(2) << '\n';
}

}  // namespace posestream::app::bench_models
