// Measuring helpers the benchmarks and the load client share (measure.h).
#include "app/measure.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <fstream>

namespace posestream::app {

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

double percentile(std::vector<double>& values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(fraction * static_cast<double>(values.size())));
  return values[std::clamp<std::size_t>(rank, 1, values.size()) - 1];
}

std::optional<double> load_average() {
  std::ifstream file("/proc/loadavg");
  double value = 0;
  if (file >> value) return value;
  return std::nullopt;
}

}  // namespace posestream::app
