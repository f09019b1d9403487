// `posestream bench pipeline`'s tables: one measurement, or several precisions side by side with their ratios.
#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "app/bench_pipeline.h"

namespace posestream::app {
namespace {

double number_or_zero(const nlohmann::ordered_json& value) { return value.is_number() ? value.get<double>() : 0.0; }

// One table row per key: the tracking value, then the static one.
void print_row(const char* label, const nlohmann::ordered_json& tracking, const nlohmann::ordered_json& still,
               const char* format = "%-32s %10.2f %10.2f\n") {
  std::printf(format, label, number_or_zero(tracking), number_or_zero(still));
}

double median_of_rounds(const nlohmann::ordered_json& rounds,
                        const std::function<double(const nlohmann::ordered_json&)>& value) {
  std::vector<double> values;
  for (const auto& round : rounds) values.push_back(value(round));
  return median(std::move(values));
}

// The compared quantities: frame totals of both modes, then each model's standalone invoke.
std::vector<std::pair<std::string, std::function<double(const nlohmann::ordered_json&)>>> compared_values(
    const nlohmann::ordered_json& round) {
  std::vector<std::pair<std::string, std::function<double(const nlohmann::ordered_json&)>>> values;
  for (const char* mode : {"tracking", "static"}) {
    values.emplace_back(std::string(mode) + " frame total",
                        [mode](const nlohmann::ordered_json& r) { return number_or_zero(r["modes"][mode]["median_ms"]["total"]); });
  }
  for (const auto& [model, unused] : round["invoke_median_ms"].items()) {
    values.emplace_back(model + " invoke",
                        [model](const nlohmann::ordered_json& r) { return number_or_zero(r["invoke_median_ms"][model]); });
  }
  return values;
}

}  // namespace

void print_pipeline_table(const nlohmann::ordered_json& report) {
  const auto& image = report["image"];
  std::printf("%s (%dx%d), pose full + hands full, %s, %d inference thread(s)%s, %d runs after %d warm-up",
              image["path"].get<std::string>().c_str(), image["width"].get<int>(), image["height"].get<int>(),
              report["precision"].get<std::string>().c_str(), report["threads"].get<int>(),
              report["concurrent"].get<bool>() ? " + pose beside the tracked hands (concurrent)" : "",
              report["runs"].get<int>(), report["warmup"].get<int>());
  if (report["load_average"].is_number()) {
    std::printf(", load average %.2f before the run", report["load_average"].get<double>());
  }
  const auto& tracking = report["modes"]["tracking"];
  const auto& still = report["modes"]["static"];
  std::printf("\n%-32s %10s %10s\n", "median ms", "tracking", "static");
  for (const auto& [stage, value] : tracking["median_ms"].items()) {
    print_row(stage.c_str(), value, still["median_ms"][stage]);
  }
  print_row("model invocations", tracking["invocations_median_ms"], still["invocations_median_ms"]);
  const char* ratio_format = "%-32s %10.3f %10.3f\n";
  print_row("overhead ratio (total/invokes)", tracking["overhead_ratio"], still["overhead_ratio"], ratio_format);
  print_row("  without decode", tracking["overhead_ratio_without_decode"], still["overhead_ratio_without_decode"],
            ratio_format);
  print_row("total, thread CPU", tracking["total_cpu_median_ms"], still["total_cpu_median_ms"]);
  print_row("total, process CPU", tracking["total_process_cpu_median_ms"], still["total_process_cpu_median_ms"]);
  print_row("model invocations, thread CPU", tracking["invocations_cpu_median_ms"], still["invocations_cpu_median_ms"]);
  print_row("overhead ratio, thread CPU", tracking["overhead_ratio_cpu"], still["overhead_ratio_cpu"], ratio_format);
  std::printf("runs over the timed frames:\n");
  const char* count_format = "%-32s %10.0f %10.0f\n";
  for (const auto& [model, count] : tracking["runs"].items()) {
    print_row(("  " + model).c_str(), count, still["runs"][model], count_format);
  }
  print_row("frames with a pose", tracking["frames_with_pose"], still["frames_with_pose"], count_format);
  print_row("hands found", tracking["hands_found"], still["hands_found"], count_format);
  for (const char* clock : {"invoke_median_ms", "invoke_cpu_median_ms"}) {
    std::printf("standalone %s:", clock);
    for (const auto& [model, value] : report[clock].items())
      std::printf(" %s %.2f", model.c_str(), value.get<double>());
    std::printf("\n");
  }
}

void print_precision_comparison(const nlohmann::ordered_json& report) {
  const auto& precisions = report["precisions"];
  for (const auto& precision : precisions) {
    std::printf("== %s, last of %zu rounds\n", precision["precision"].get<std::string>().c_str(),
                precision["rounds"].size());
    print_pipeline_table(precision["rounds"].back());
  }
  const auto& first = precisions.front();
  std::printf("== medians over %d alternating rounds, ms\n%-32s", report["rounds"].get<int>(), "");
  for (const auto& precision : precisions) std::printf(" %10s", precision["precision"].get<std::string>().c_str());
  for (size_t k = 1; k < precisions.size(); ++k) {
    std::printf("  %s/%s", first["precision"].get<std::string>().c_str(),
                precisions[k]["precision"].get<std::string>().c_str());
  }
  std::printf("\n");
  for (const auto& [label, value] : compared_values(first["rounds"].front())) {
    std::printf("%-32s", label.c_str());
    std::vector<double> medians;
    for (const auto& precision : precisions) medians.push_back(median_of_rounds(precision["rounds"], value));
    for (double median : medians) std::printf(" %10.2f", median);
    for (size_t k = 1; k < medians.size(); ++k) std::printf("  %8.2fx", medians[k] > 0 ? medians[0] / medians[k] : 0.0);
    std::printf("\n");
  }
}

}  // namespace posestream::app
