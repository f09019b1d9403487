// `serve`'s parallelism flags: their help texts, ranges and conversion into stream::ParallelismOptions.
#include "app/parallelism_flags.h"

#include <chrono>

namespace posestream::app {

void ParallelismFlags::apply(stream::ParallelismOptions& options) const {
  options.mode = mode == "always" ? stream::ParallelismOptions::Mode::always : stream::ParallelismOptions::Mode::adaptive;
  options.cpu_slack = cpu_slack;
  options.max_cpu_wait_share = max_cpu_wait_share;
  options.hold = std::chrono::milliseconds{hold_ms};
  options.sample_interval = std::chrono::milliseconds{sample_ms};
  options.busy_samples = busy_samples;
}

void add_parallelism_flags(CLI::App& command, ParallelismFlags& flags) {
  const char* group = "Parallelism (a lone stream's inference pool and helper thread; docs/ARCHITECTURE.md)";
  command.add_option("--parallelism", flags.mode,
                     "adaptive: use them only while other processes leave their CPUs free, else run on the "
                     "worker's own thread; always: whenever one worker is busy")
      ->capture_default_str()->check(CLI::IsMember({"adaptive", "always"}))->group(group);
  command.add_option("--parallel-cpu-slack", flags.cpu_slack,
                     "CPUs of the ones the parallel path needs that other processes may keep busy")
      ->capture_default_str()->check(CLI::Range(0.0, 256.0))->group(group);
  command.add_option("--parallel-max-cpu-wait", flags.max_cpu_wait_share,
                     "A parallel frame whose threads waited for CPU longer than this share of its time turns "
                     "the parallel path off")
      ->capture_default_str()->check(CLI::Range(0.01, 256.0))->group(group);
  command.add_option("--parallel-hold-ms", flags.hold_ms, "How long the parallel path stays off after contention")
      ->capture_default_str()->check(CLI::Range(std::int64_t{0}, std::int64_t{3'600'000}))->group(group);
  command.add_option("--cpu-sample-ms", flags.sample_ms, "How often the machine's CPU use is sampled while frames run")
      ->capture_default_str()->check(CLI::Range(std::int64_t{20}, std::int64_t{60'000}))->group(group);
  command.add_option("--parallel-busy-samples", flags.busy_samples,
                     "Consecutive busy CPU samples before the parallel path is turned off (1: at the first)")
      ->capture_default_str()->check(CLI::Range(1, 100))->group(group);
}

}  // namespace posestream::app
