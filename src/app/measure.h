// Measuring helpers the benchmarks and the load client share: elapsed time, percentiles, machine load.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

namespace posestream::app {

// Milliseconds from `start` to now, on the steady clock.
double milliseconds_since(std::chrono::steady_clock::time_point start);

// Percentile (nearest rank) of `values`, which it sorts; 0 if empty.
double percentile(std::vector<double>& values, double fraction);

// The 1-minute load average (/proc/loadavg) before measuring, printed beside timings: on a busy machine
// they are not comparable. Empty where the file cannot be read.
std::optional<double> load_average();

}  // namespace posestream::app
