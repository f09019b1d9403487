// ParallelismGovernor: the rule that turns the parallel path off under CPU contention and back on after.
#include "stream/parallelism.h"

#include <algorithm>
#include <cmath>

namespace posestream::stream {
namespace {

// A frame shorter than this says little about contention: a single time slice lost to the load
// generator or a network thread would read as a large share of it.
constexpr double kMinCpuWaitMs = 1.0;

bool within(double value, double low, double high) { return std::isfinite(value) && value >= low && value <= high; }

}  // namespace

std::optional<std::string> validate(const ParallelismOptions& options) {
  const auto bad = [](const std::string& name, const std::string& value, const std::string& range) {
    return std::optional<std::string>("parallelism: " + name + " " + value + " is outside " + range);
  };
  if (!within(options.cpu_slack, 0, 256)) return bad("cpu_slack", std::to_string(options.cpu_slack), "[0, 256]");
  if (!within(options.max_cpu_wait_share, 0.01, 256)) {
    return bad("max_cpu_wait_share", std::to_string(options.max_cpu_wait_share), "[0.01, 256]");
  }
  if (options.hold.count() < 0 || options.hold.count() > 3'600'000) {
    return bad("hold", std::to_string(options.hold.count()) + " ms", "[0, 3600000] ms");
  }
  if (options.sample_interval.count() < 20 || options.sample_interval.count() > 60'000) {
    return bad("sample_interval", std::to_string(options.sample_interval.count()) + " ms", "[20, 60000] ms");
  }
  if (options.busy_samples < 1 || options.busy_samples > 100) {
    return bad("busy_samples", std::to_string(options.busy_samples), "[1, 100]");
  }
  return std::nullopt;
}

const char* to_string(ParallelismOptions::Mode mode) {
  return mode == ParallelismOptions::Mode::always ? "always" : "adaptive";
}

ParallelismGovernor::ParallelismGovernor(ParallelismOptions options, ParallelismCpus cpus)
    : options_(options), cpus_(cpus) {}

bool ParallelismGovernor::parallel_allowed(Clock::time_point now) const {
  if (options_.mode == ParallelismOptions::Mode::always) return true;
  const std::lock_guard lock(mutex_);
  return !blocked_until_ || now >= *blocked_until_;
}

bool ParallelismGovernor::sample_due(Clock::time_point now) const {
  const std::lock_guard lock(mutex_);
  return !last_sample_ || now - last_sample_->at >= options_.sample_interval;
}

void ParallelismGovernor::observe_sample(const CpuSample& sample) {
  const std::lock_guard lock(mutex_);
  if (last_sample_ && sample.at > last_sample_->at) {
    const double seconds = std::chrono::duration<double>(sample.at - last_sample_->at).count();
    const double others = (sample.busy_cpu_seconds - last_sample_->busy_cpu_seconds) -
                          (sample.own_cpu_seconds - last_sample_->own_cpu_seconds);
    // /proc/stat counts in clock ticks and this process's time in nanoseconds: clamp the rounding.
    other_cpus_ = std::clamp(others / seconds, 0.0, cpus_.affinity);
    const double free_cpus = std::min(cpus_.budget, cpus_.affinity - other_cpus_);
    // A verdict of busy_samples busy samples in a row stands at least until the next sample. A busy
    // period is one fallback, however many samples it spans.
    busy_samples_in_a_row_ = free_cpus < cpus_.needed - options_.cpu_slack ? busy_samples_in_a_row_ + 1 : 0;
    const bool busy = busy_samples_in_a_row_ >= options_.busy_samples;
    if (busy) block(sample.at, std::max(options_.hold, options_.sample_interval));
    if (busy && !machine_busy_) ++machine_fallbacks_;
    machine_busy_ = busy;
  }
  if (!last_sample_ || sample.at > last_sample_->at) last_sample_ = sample;
}

void ParallelismGovernor::observe_parallel_frame(double wall_ms, double cpu_wait_ms, Clock::time_point now) {
  if (cpu_wait_ms < kMinCpuWaitMs || cpu_wait_ms <= options_.max_cpu_wait_share * wall_ms) return;
  const std::lock_guard lock(mutex_);
  block(now, options_.hold);
  ++frame_fallbacks_;  // Only a parallel frame, run while the path was on, gets here.
}

void ParallelismGovernor::block(Clock::time_point at, std::chrono::milliseconds hold) {
  const Clock::time_point until = at + hold;
  if (!blocked_until_ || until > *blocked_until_) blocked_until_ = until;
}

ParallelismStatus ParallelismGovernor::status(Clock::time_point now) const {
  const bool allowed = parallel_allowed(now);
  const std::lock_guard lock(mutex_);
  return {allowed, other_cpus_, machine_fallbacks_, frame_fallbacks_};
}

}  // namespace posestream::stream
