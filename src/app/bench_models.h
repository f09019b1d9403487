// `posestream bench models`: the measured rows and their report (bench_models_report.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace posestream::app::bench_models {

struct Options {
  int threads = 1;
  int runs = 100;
  int warmup = 10;
  bool json = false;
  bool profile = false;
  std::vector<engine::Precision> precisions = {engine::Precision::kFloat32};
  std::string models_dir;
  std::optional<double> load_average;  // Measured, not a flag.
};

// One operator kind's share of an invoke: the median invoke's operators of that XNNPACK name, summed.
struct OperatorKind {
  std::string name;
  int count = 0;
  double milliseconds = 0;
};

// One model at one precision.
struct Timing {
  engine::Precision precision = engine::Precision::kFloat32;
  double create_ms = 0;
  double median_ms = 0;
  double p90_ms = 0;
  std::vector<OperatorKind> operators;  // With --profile, slowest first.
};

struct Row {
  std::string name;
  std::optional<double> load_ms;  // Absent for rows that reuse another row's loaded model.
  int64_t macs = 0;
  std::vector<Timing> timings;  // One per precision, in Options::precisions order.
};

double gflops(int64_t macs, double milliseconds);

void print_table(const std::vector<Row>& rows, const Options& options);
void print_json(const std::vector<Row>& rows, const Options& options);

}  // namespace posestream::app::bench_models
