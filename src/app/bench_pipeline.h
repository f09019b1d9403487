// `posestream bench pipeline`'s report printing (bench_pipeline_report.cpp), apart from its measuring.
#pragma once

#include <nlohmann/json.hpp>

#include <vector>

namespace posestream::app {

// The median of `values` (the mean of the middle two for an even count); 0 when empty.
double median(std::vector<double> values);

// One measurement: per-stage medians in tracking and static modes, runs, standalone invokes.
void print_pipeline_table(const nlohmann::ordered_json& report);

// Several precisions measured in alternating rounds: each precision's last round as a table, then each
// precision against the first by the median over rounds of the frame totals and standalone invokes.
void print_precision_comparison(const nlohmann::ordered_json& report);

}  // namespace posestream::app
