// `posestream bench pipeline`: per-stage medians of one frame through decode, pose and hands, in
// tracking (VIDEO) and static (IMAGE) modes, against the bare model invocations those frames ran.
#include <nlohmann/json.hpp>

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/measure.h"
#include "app/bench_pipeline.h"
#include "app/pipeline_flags.h"
#include "app/precision_flag.h"
#include "engine/engine.h"
#include "stream/frame_pipeline.h"
#include "stream/model_library.h"
#include "vision/decode.h"

namespace posestream::app {
namespace {

using Clock = std::chrono::steady_clock;

// Where the default frame lives relative to the models directory (/work/main/models ->
// /work/shared/golden/...): a 640x480 webcam JPEG of one person showing a hand.
constexpr const char* kDefaultFrame = "golden/sequences/frames_seq_gesture_four_06aa/frame_000.jpg";
constexpr std::int64_t kFrameIntervalUs = 33'333;  // 30 frames/s, as a webcam.

struct BenchOptions {
  int threads = 1;  // Of the inference pool every runtime shares; 1: none, the calling thread only.
  // Pose beside the tracked hands' landmark runs on a helper thread, as PipelineOptions::concurrent_stages.
  bool concurrent = false;
  int runs = 30;
  int warmup = 3;
  bool json = false;
  std::string image;
  std::string models_dir;
  std::vector<engine::Precision> precisions = {engine::Precision::kFloat32};
  int rounds = 3;  // With several precisions: whole measurements, alternating precision.
};

// Standalone invoke medians of the four models, on runtimes like the pipeline's (the same threads, the
// pose landmark model without its segmentation head).
struct InvokeTimes {
  double pose_detector = 0;
  double pose_landmarks = 0;
  double palm_detector = 0;
  double hand_landmarks = 0;
};

// One timed frame: the pipeline's own timing, plus what the bench adds.
struct Sample {
  stream::FrameTiming timing;
  double total_cpu = 0;  // The calling thread's CPU time: what the frame cost without the machine's other load.
  double total_process_cpu = 0;  // All threads' CPU time, the inference pool's included.
  bool pose_found = false;
  std::size_t hands_found = 0;

  double invocations(const InvokeTimes& invoke) const {
    return timing.pose_detector_runs * invoke.pose_detector + timing.pose_landmark_runs * invoke.pose_landmarks +
           timing.palm_detector_runs * invoke.palm_detector + timing.hand_landmark_runs * invoke.hand_landmarks;
  }
};

double cpu_ms(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

// CPU time of the calling thread, ms. Without a pool the runtimes run on the caller only, so on a
// shared, loaded machine this is the frame's own cost while wall time also counts waiting for a core.
// With a pool it misses the pool threads' share: process_cpu_ms() has it (the process runs nothing else).
double thread_cpu_ms() { return cpu_ms(CLOCK_THREAD_CPUTIME_ID); }
double process_cpu_ms() { return cpu_ms(CLOCK_PROCESS_CPUTIME_ID); }

std::filesystem::path default_image(const std::filesystem::path& models_dir) {
  for (const char* shared : {"../../shared", "../shared", "shared"}) {
    const std::filesystem::path candidate = models_dir / shared / kDefaultFrame;
    if (std::filesystem::is_regular_file(candidate)) return candidate.lexically_normal();
  }
  throw std::runtime_error("bench pipeline: no --image given and shared/" + std::string(kDefaultFrame) +
                           " is not beside the models directory " + models_dir.string() + "; pass --image FILE");
}

// One frame through the server's FramePipeline, with the pose's detector/landmarks/smoothing split.
Sample run_frame(const std::vector<std::uint8_t>& bytes, std::int64_t timestamp_us, stream::StreamState& state,
                 stream::FramePipeline& pipeline) {
  Sample sample;
  const double start_cpu = thread_cpu_ms();
  const double start_process_cpu = process_cpu_ms();
  const stream::FrameResult result = pipeline.run(bytes, timestamp_us, state);
  sample.total_cpu = thread_cpu_ms() - start_cpu;
  sample.total_process_cpu = process_cpu_ms() - start_process_cpu;
  if (!result.ok()) throw std::runtime_error("bench pipeline: " + result.error);
  sample.timing = result.timing;
  sample.pose_found = result.pose.has_value();
  sample.hands_found = result.hands.size();
  return sample;
}

std::vector<Sample> run_mode(bool static_image_mode, const std::vector<std::uint8_t>& bytes,
                             stream::FramePipeline& pipeline, const BenchOptions& options) {
  stream::StreamState state;
  state.config.static_image_mode = static_image_mode;
  state.config.smoothing = !static_image_mode;
  std::int64_t timestamp_us = 0;
  for (int i = 0; i < options.warmup; ++i, timestamp_us += kFrameIntervalUs)
    run_frame(bytes, timestamp_us, state, pipeline);
  std::vector<Sample> samples;
  for (int i = 0; i < options.runs; ++i, timestamp_us += kFrameIntervalUs) {
    samples.push_back(run_frame(bytes, timestamp_us, state, pipeline));
  }
  return samples;
}

// Wall and thread-CPU medians of `runs` invokes, into one model's field of `wall` and `cpu`.
void invoke_medians(engine::Runtime& runtime, int runs, double& wall, double& cpu) {
  runtime.invoke();  // Warm.
  std::vector<double> wall_times, cpu_times;
  for (int i = 0; i < runs; ++i) {
    const double start_cpu = thread_cpu_ms();
    const Clock::time_point start = Clock::now();
    runtime.invoke();
    wall_times.push_back(milliseconds_since(start));
    cpu_times.push_back(thread_cpu_ms() - start_cpu);
  }
  wall = median(std::move(wall_times));
  cpu = median(std::move(cpu_times));
}

// Standalone invokes on runtimes of their own, like the pipeline's (same pool; the pose landmark model
// without its segmentation head; the hand models with all outputs, as the hand stages use them).
struct InvokeMedians {
  InvokeTimes wall;
  InvokeTimes cpu;
};

InvokeMedians measure_invokes(stream::ModelLibrary& library, int runs, const std::shared_ptr<engine::ThreadPool>& pool) {
  InvokeMedians times;
  pose::PoseRuntimes pose_runtimes(library.pose(pose::PoseModel::full), pool, false);
  invoke_medians(pose_runtimes.detector(), runs, times.wall.pose_detector, times.cpu.pose_detector);
  invoke_medians(pose_runtimes.landmarks(), runs, times.wall.pose_landmarks, times.cpu.pose_landmarks);
  const hands::HandModels hand_models = library.hands(hands::HandModel::full);
  engine::Runtime palm(hand_models.palm_detector, {.pool = pool});
  engine::Runtime landmarks(hand_models.landmarks, {.pool = pool});
  invoke_medians(palm, runs, times.wall.palm_detector, times.cpu.palm_detector);
  invoke_medians(landmarks, runs, times.wall.hand_landmarks, times.cpu.hand_landmarks);
  return times;
}

nlohmann::ordered_json invoke_json(const InvokeTimes& times) {
  return {{"pose_detection", times.pose_detector},
          {"pose_landmark_full", times.pose_landmarks},
          {"palm_detection_full", times.palm_detector},
          {"hand_landmark_full", times.hand_landmarks}};
}

double median_of(const std::vector<Sample>& samples, const std::function<double(const Sample&)>& value) {
  std::vector<double> values;
  for (const Sample& sample : samples) values.push_back(value(sample));
  return median(std::move(values));
}

double median_of(const std::vector<Sample>& samples, double Sample::*field) {
  return median_of(samples, [field](const Sample& sample) { return sample.*field; });
}

double median_of(const std::vector<Sample>& samples, double stream::FrameTiming::*field) {
  return median_of(samples, [field](const Sample& sample) { return sample.timing.*field; });
}

nlohmann::ordered_json ratio(double numerator, double denominator) {
  return denominator > 0 ? nlohmann::ordered_json(numerator / denominator) : nlohmann::ordered_json(nullptr);
}

// How often each model ran over the timed frames, and what was found.
nlohmann::ordered_json counts_json(const std::vector<Sample>& samples) {
  int detector = 0, landmarks = 0, palm = 0, hand_landmarks = 0, frames_with_pose = 0;
  std::size_t hands_found = 0;
  for (const Sample& sample : samples) {
    detector += sample.timing.pose_detector_runs;
    landmarks += sample.timing.pose_landmark_runs;
    palm += sample.timing.palm_detector_runs;
    hand_landmarks += sample.timing.hand_landmark_runs;
    frames_with_pose += sample.pose_found ? 1 : 0;
    hands_found += sample.hands_found;
  }
  return {{"runs",
           {{"pose_detector", detector},
            {"pose_landmarks", landmarks},
            {"palm_detector", palm},
            {"hand_landmarks", hand_landmarks}}},
          {"frames_with_pose", frames_with_pose},
          {"hands_found", hands_found}};
}

// One mode: stage medians, the model invocations its frames ran (their standalone medians summed per
// frame) and the ratio of the frame's total to that sum, in wall time and in thread CPU time.
nlohmann::ordered_json mode_json(const std::vector<Sample>& samples, const InvokeMedians& invoke) {
  const double invocations = median_of(samples, [&](const Sample& sample) { return sample.invocations(invoke.wall); });
  const double invocations_cpu =
      median_of(samples, [&](const Sample& sample) { return sample.invocations(invoke.cpu); });
  const double total = median_of(samples, &stream::FrameTiming::total_ms);
  const double without_decode = median_of(
      samples, [](const Sample& sample) { return sample.timing.total_ms - sample.timing.decode_ms; });
  nlohmann::ordered_json report = {
      {"median_ms",
       {{"decode", median_of(samples, &stream::FrameTiming::decode_ms)},
        {"pose_detector", median_of(samples, &stream::FrameTiming::pose_detector_ms)},
        {"pose_landmarks", median_of(samples, &stream::FrameTiming::pose_landmarks_ms)},
        {"hands", median_of(samples, &stream::FrameTiming::hands_ms)},
        {"smoothing", median_of(samples, &stream::FrameTiming::pose_smoothing_ms)},
        {"total", total}}},
      {"invocations_median_ms", invocations},
      {"overhead_ratio", ratio(total, invocations)},
      {"overhead_ratio_without_decode", ratio(without_decode, invocations)},
      {"total_cpu_median_ms", median_of(samples, &Sample::total_cpu)},
      {"total_process_cpu_median_ms", median_of(samples, &Sample::total_process_cpu)},
      {"invocations_cpu_median_ms", invocations_cpu},
      {"overhead_ratio_cpu", ratio(median_of(samples, &Sample::total_cpu), invocations_cpu)},
      {"frames", samples.size()}};
  const nlohmann::ordered_json counts = counts_json(samples);  // Named: items() does not keep a temporary alive.
  for (const auto& [key, value] : counts.items()) report[key] = value;
  return report;
}

nlohmann::ordered_json measure(const BenchOptions& options, engine::Precision precision) {
  const std::filesystem::path models_dir = resolve_models_dir(options.models_dir);
  const std::filesystem::path image =
      options.image.empty() ? default_image(models_dir) : std::filesystem::path(options.image);
  const std::vector<std::uint8_t> bytes = read_input_file(image);
  const vision::HeaderResult header = vision::read_image_header(bytes);
  if (!header.ok()) throw std::runtime_error("bench pipeline: " + image.string() + ": " + header.error);
  const auto library = std::make_shared<stream::ModelLibrary>(models_dir, precision);
  // One pool for every runtime, as the server's lone worker has (nullptr: the calling thread only).
  const std::shared_ptr<engine::ThreadPool> pool =
      options.threads > 1 ? std::make_shared<engine::ThreadPool>(static_cast<std::size_t>(options.threads)) : nullptr;
  stream::PipelineOptions pipeline_options;
  pipeline_options.inference_pool = pool;
  pipeline_options.concurrent_stages = options.concurrent;
  stream::FramePipeline pipeline(library, pipeline_options);
  const std::optional<double> load = load_average();
  const std::vector<Sample> tracking = run_mode(false, bytes, pipeline, options);
  const std::vector<Sample> still = run_mode(true, bytes, pipeline, options);
  const InvokeMedians invoke = measure_invokes(*library, std::max(options.runs, 5), pool);
  return {{"image", {{"path", image.string()}, {"width", header.header.width}, {"height", header.header.height}}},
          {"pose", "full"},
          {"hands", "full"},
          {"precision", engine::precision_name(precision)},
          {"threads", options.threads},
          {"concurrent", options.concurrent},
          {"runs", options.runs},
          {"warmup", options.warmup},
          {"load_average", load ? nlohmann::ordered_json(*load) : nlohmann::ordered_json(nullptr)},
          {"invoke_median_ms", invoke_json(invoke.wall)},
          {"invoke_cpu_median_ms", invoke_json(invoke.cpu)},
          {"modes", {{"tracking", mode_json(tracking, invoke)}, {"static", mode_json(still, invoke)}}}};
}

// Several precisions: whole measurements in rounds, the order rotating each round, so that all see the same
// machine; the report keeps every round and compares the precisions by their medians over the rounds.
nlohmann::ordered_json measure_precisions(const BenchOptions& options) {
  if (options.precisions.size() == 1) return measure(options, options.precisions.front());
  const size_t count = options.precisions.size();
  std::vector<nlohmann::ordered_json> rounds(count, nlohmann::ordered_json::array());
  for (int round = 0; round < options.rounds; ++round) {
    for (size_t turn = 0; turn < count; ++turn) {
      const size_t k = (turn + static_cast<size_t>(round)) % count;
      rounds[k].push_back(measure(options, options.precisions[k]));
    }
  }
  nlohmann::ordered_json report = {{"rounds", options.rounds}, {"precisions", nlohmann::ordered_json::array()}};
  for (size_t k = 0; k < count; ++k) {
    report["precisions"].push_back({{"precision", engine::precision_name(options.precisions[k])}, {"rounds", rounds[k]}});
  }
  return report;
}

}  // namespace

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

void add_bench_pipeline(CLI::App& bench) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App& command = *bench.add_subcommand(
      "pipeline", "Per-stage medians of one frame (decode, pose, hands) in tracking and static modes");
  command.add_option("--threads", options->threads,
                     "Threads of the inference pool every runtime shares, as serve --inference-threads (1: none)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  command.add_flag("--concurrent", options->concurrent,
                   "Run the pose beside the tracked hands' landmark runs on a helper thread, each on one-thread "
                   "runtimes (task parallelism); with --threads N the rest of the frame uses the pool, as serve's "
                   "lone worker does");
  command.add_option("--runs", options->runs, "Timed frames per mode")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  command.add_option("--warmup", options->warmup, "Untimed frames first, per mode")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  command.add_option("--image", options->image, "JPEG or PNG frame (default: the golden sequence's first frame)")
      ->type_name("FILE");
  command.add_flag("--json", options->json, "Print JSON instead of a table");
  command.add_option("--precision", options->precisions,
                     "Precisions to measure: f32, int8; several (--precision f32 int8) alternate whole "
                     "measurements, --rounds of each, and print their ratio")
      ->transform(CLI::CheckedTransformer(precision_names()))
      ->capture_default_str();
  command.add_option("--rounds", options->rounds, "With several precisions: measurements of each, alternating")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  add_models_flag(command, options->models_dir);
  command.callback([options] {
    use_one_opencv_thread();
    const nlohmann::ordered_json report = measure_precisions(*options);
    if (options->json) {
      std::cout << report.dump(2) << '\n';
    } else if (report.contains("precisions")) {
      print_precision_comparison(report);
    } else {
      print_pipeline_table(report);
    }
  });
}

}  // namespace posestream::app
