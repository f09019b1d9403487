// The `posestream load` report: every stream's stats summed into one JSON document, and its text form.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "app/load_client.h"

namespace posestream::app {

// What the report says about the run itself (not measured).
struct LoadRunInfo {
  std::string url;
  std::size_t streams = 0;
  double fps = 0;
  double duration_s = 0;
  double elapsed_s = 0;
};

// Totals, latency percentiles, the checks, reconnects, and one entry per stream (with its connections).
nlohmann::json summarize(const LoadRunInfo& run, const std::vector<std::shared_ptr<LoadStream>>& streams);

// The report as a few human-readable lines on stdout.
void print_text(const nlohmann::json& report);

}  // namespace posestream::app
