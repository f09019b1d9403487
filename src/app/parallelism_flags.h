// `serve`'s flags for the parallelism governor (stream/parallelism.h): when a lone stream may use the
// inference pool and helper thread.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>

#include "stream/parallelism.h"

namespace posestream::app {

// In plain units on the command line; apply() converts them into the options' types.
struct ParallelismFlags {
  std::string mode = "adaptive";  // adaptive | always
  double cpu_slack = stream::ParallelismOptions{}.cpu_slack;
  double max_cpu_wait_share = stream::ParallelismOptions{}.max_cpu_wait_share;
  std::int64_t hold_ms = stream::ParallelismOptions{}.hold.count();
  std::int64_t sample_ms = stream::ParallelismOptions{}.sample_interval.count();
  int busy_samples = stream::ParallelismOptions{}.busy_samples;

  void apply(stream::ParallelismOptions& options) const;
};

// Adds --parallelism, --parallel-cpu-slack, --parallel-max-cpu-wait, --parallel-hold-ms,
// --cpu-sample-ms and --parallel-busy-samples (group "Parallelism"), with the ranges stream::validate(ParallelismOptions) accepts.
void add_parallelism_flags(CLI::App& command, ParallelismFlags& flags);

}  // namespace posestream::app
