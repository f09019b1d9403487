// `posestream bench people`: frame time of tracking K = 1, 2, 4 people (pose::track_people) against K x one
// person's landmark time, and the detector's runs per second on the multi-person golden sequence.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "app/commands.h"
#include "app/pipeline_flags.h"
#include "pose/people.h"
#include "vision/decode.h"

namespace posestream::app {
namespace {

using Clock = std::chrono::steady_clock;

// Relative to the shared folder beside the models (/work/main/models -> /work/shared): a 640x480 webcam
// JPEG of one person, tiled into mosaics of 2 and 4 people; and the 60-frame multi-person sequence.
constexpr const char* kDefaultFrame = "golden/sequences/frames_seq_gesture_four_06aa/frame_000.jpg";
constexpr const char* kDefaultSequence = "golden/multi/sequences/frames_seq_aic_ff945ae2";
constexpr int64_t kFrameIntervalUs = 33'333;  // 30 frames/s, as a webcam and the golden sequence.

struct BenchOptions {
  int threads = 1;
  int runs = 30;
  int warmup = 3;
  std::string image;
  std::string sequence;
  std::string models_dir;
};

std::filesystem::path shared_path(const std::filesystem::path& models_dir, const char* relative) {
  for (const char* shared : {"../../shared", "../shared", "shared"}) {
    const std::filesystem::path candidate = models_dir / shared / relative;
    if (std::filesystem::exists(candidate)) return candidate.lexically_normal();
  }
  throw std::runtime_error(std::string("bench people: shared/") + relative + " is not beside the models directory " +
                           models_dir.string() + "; pass --image / --sequence");
}

vision::Image load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  vision::DecodeResult decoded = vision::decode_image(bytes);
  if (!decoded.ok()) throw std::runtime_error("bench people: " + path.string() + ": " + decoded.error);
  return std::move(decoded.image);
}

// `columns` x `rows` copies of `tile` side by side: one person per tile, each as large as in the tile.
vision::Image mosaic(const vision::Image& tile, int columns, int rows) {
  vision::Image image = vision::Image::allocate(tile.width * columns, tile.height * rows);
  for (int y = 0; y < image.height; ++y) {
    const auto source = tile.row(y % tile.height);
    for (int column = 0; column < columns; ++column) {
      std::copy(source.begin(), source.end(), image.row(y).begin() + column * static_cast<long>(tile.row_bytes()));
    }
  }
  return image;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

struct KResult {
  int people = 0;  // Wanted.
  int width = 0, height = 0;
  double frame_ms = 0;           // Median wall time of track_people on a tracking frame.
  double landmarks_ms = 0;       // Median of the frame's landmark runs (PeopleTiming::landmarks_ms).
  double tracked = 0;            // Median people returned.
  int detector_runs = 0;         // Over the timed frames (0 while all K are tracked).
};

// The tile's person, tracked (VIDEO mode) into every tile of a columns x rows mosaic: the pose detector,
// letterboxed to 224x224, does not find people half or a quarter of their size, so the mosaic's people
// start from the tile's tracked ROI moved into each tile and are then tracked from their own landmarks.
pose::PeopleState seeded_state(const pose::PeopleState& tile_state, int columns, int rows) {
  if (tile_state.people.empty() || !tile_state.people.front().pose.previous_roi) {
    throw std::runtime_error("bench people: no person tracked in the tile; pass --image with one person");
  }
  pose::PeopleState state;
  for (int row = 0; row < rows; ++row) {
    for (int column = 0; column < columns; ++column) {
      pose::PeopleState::TrackedPerson person = tile_state.people.front();
      vision::NormalizedRect& roi = *person.pose.previous_roi;
      roi.x_center = (static_cast<float>(column) + roi.x_center) / static_cast<float>(columns);
      roi.y_center = (static_cast<float>(row) + roi.y_center) / static_cast<float>(rows);
      roi.width /= static_cast<float>(columns);
      roi.height /= static_cast<float>(rows);
      person.id = state.next_id++;
      state.people.push_back(std::move(person));
    }
  }
  return state;
}

// VIDEO mode with num_poses K, smoothing on (the stream default), everyone tracked from the start (so no
// detector run): the timed frames are K landmark runs each plus the frame's own bookkeeping.
KResult measure_k(const vision::Image& image, int people, pose::PeopleState state, pose::PoseRuntimes& runtimes,
                  const pose::PoseModel model, const BenchOptions& options) {
  pose::PeopleOptions people_options;
  people_options.pose.model = model;
  people_options.num_poses = people;
  int64_t timestamp_us = 0;
  for (int i = 0; i < options.warmup; ++i, timestamp_us += kFrameIntervalUs) {
    pose::track_people(image, timestamp_us, state, runtimes, people_options);
  }
  KResult result{people, image.width, image.height};
  std::vector<double> frame_ms, landmarks_ms, tracked;
  for (int i = 0; i < options.runs; ++i, timestamp_us += kFrameIntervalUs) {
    pose::PeopleTiming timing;
    const Clock::time_point start = Clock::now();
    const auto found = pose::track_people(image, timestamp_us, state, runtimes, people_options, &timing);
    frame_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    landmarks_ms.push_back(timing.landmarks_ms);
    tracked.push_back(static_cast<double>(found.size()));
    result.detector_runs += timing.detector_runs;
  }
  result.frame_ms = median(frame_ms);
  result.landmarks_ms = median(landmarks_ms);
  result.tracked = median(tracked);
  return result;
}

struct SequenceRuns {
  int runs = 0;                // Every detector invocation: the whole frame and each zoomed tile.
  double search_frame_ms = 0;  // Median frame time of the frames where the detector ran.
  double other_frame_ms = 0;   // ... and of the others.
};

// The golden multi-person sequence in VIDEO mode with num_poses 4: detector runs with `interval_ms` and
// `tile_runs` zoomed tiles per search (people_search.h), and what the frames cost.
SequenceRuns sequence_detector_runs(const std::vector<vision::Image>& frames, double interval_ms, int tile_runs,
                                    pose::PoseRuntimes& runtimes, pose::PoseModel model) {
  pose::PeopleOptions options;
  options.pose.model = model;
  options.pose.smoothing = false;
  options.num_poses = 4;
  options.detector_interval_ms = interval_ms;
  options.newcomer_tile_runs = tile_runs;
  pose::PeopleState state;
  SequenceRuns result;
  std::vector<double> search_ms, other_ms;
  for (size_t i = 0; i < frames.size(); ++i) {
    pose::PeopleTiming timing;
    const Clock::time_point start = Clock::now();
    pose::track_people(frames[i], static_cast<int64_t>(i) * kFrameIntervalUs, state, runtimes, options, &timing);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    (timing.detector_runs > 0 ? search_ms : other_ms).push_back(ms);
    result.runs += timing.detector_runs;
  }
  result.search_frame_ms = median(search_ms);
  result.other_frame_ms = median(other_ms);
  return result;
}

std::vector<vision::Image> load_sequence(const std::filesystem::path& folder) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() == ".jpg") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<vision::Image> frames;
  for (const auto& file : files) frames.push_back(load(file));
  if (frames.empty()) throw std::runtime_error("bench people: no .jpg frames in " + folder.string());
  return frames;
}

void run(const BenchOptions& options) {
  const std::filesystem::path models_dir = resolve_models_dir(options.models_dir);
  const std::filesystem::path image_path =
      options.image.empty() ? shared_path(models_dir, kDefaultFrame) : std::filesystem::path(options.image);
  const std::filesystem::path sequence_path =
      options.sequence.empty() ? shared_path(models_dir, kDefaultSequence) : std::filesystem::path(options.sequence);
  const pose::PoseModel model = pose::PoseModel::full;
  pose::PoseRuntimes runtimes(pose::load_pose_models(models_dir, model), options.threads);
  const vision::Image tile = load(image_path);
  std::printf("bench people: pose full, %d thread(s), %d timed frames after %d warm-up per K\n", options.threads,
              options.runs, options.warmup);
  std::printf("input: %s (%dx%d), tiled 1x1, 2x1 and 2x2 for K = 1, 2, 4 (one person per tile, each tracked from "
              "the tile's ROI moved into its tile: the detector misses people that small)\n",
              image_path.string().c_str(), tile.width, tile.height);
  pose::PeopleOptions tile_options;
  tile_options.pose.model = model;
  pose::PeopleState tile_state;
  pose::track_people(tile, 0, tile_state, runtimes, tile_options);  // Finds the tile's person.
  std::vector<KResult> results;
  for (const auto& [people, columns, rows] : {std::tuple{1, 1, 1}, std::tuple{2, 2, 1}, std::tuple{4, 2, 2}}) {
    results.push_back(measure_k(mosaic(tile, columns, rows), people, seeded_state(tile_state, columns, rows), runtimes,
                                model, options));
  }
  const double one_person_ms = results.front().landmarks_ms;
  std::printf("%-3s %-10s %8s %14s %16s %14s %10s\n", "K", "image", "tracked", "frame ms", "landmarks ms",
              "K x 1 person", "ratio");
  for (const KResult& result : results) {
    const std::string size = std::to_string(result.width) + "x" + std::to_string(result.height);
    std::printf("%-3d %-10s %8.0f %14.2f %16.2f %14.2f %10.3f%s\n", result.people, size.c_str(), result.tracked,
                result.frame_ms, result.landmarks_ms, result.people * one_person_ms,
                result.frame_ms / (result.people * one_person_ms),
                result.tracked < result.people ? "  (fewer tracked than K: lost in the mosaic)" : "");
  }
  std::printf("ratio = frame time / (K x one person's landmark time, the K=1 frame's landmark runs); target <= 1.10\n");

  const std::vector<vision::Image> frames = load_sequence(sequence_path);
  const double seconds = static_cast<double>(frames.size()) * kFrameIntervalUs / 1e6;
  const pose::PeopleOptions defaults;
  const SequenceRuns ours =
      sequence_detector_runs(frames, defaults.detector_interval_ms, defaults.newcomer_tile_runs, runtimes, model);
  const SequenceRuns theirs = sequence_detector_runs(frames, 0, 0, runtimes, model);  // Whole frame, every frame.
  std::printf("sequence %s: %zu frames at 30/s, num_poses 4: detector runs %d (%.1f/s) with detector_interval_ms "
              "%.0f (the whole frame, a zoom on a hint, %d tiles per search), %d (%.1f/s) with MediaPipe's "
              "policy (interval 0, whole frame): %.1fx fewer\n",
              sequence_path.filename().string().c_str(), frames.size(), ours.runs, ours.runs / seconds,
              defaults.detector_interval_ms, defaults.newcomer_tile_runs, theirs.runs, theirs.runs / seconds,
              ours.runs > 0 ? static_cast<double>(theirs.runs) / ours.runs : 0.0);
  std::printf("frame time (median ms), ours: %.2f with a detector run, %.2f without; MediaPipe's policy: %.2f\n",
              ours.search_frame_ms, ours.other_frame_ms, theirs.search_frame_ms);
}

}  // namespace

void add_bench_people(CLI::App& bench) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App& command = *bench.add_subcommand(
      "people", "Frame time of tracking 1, 2 and 4 people against one person's landmark time; detector runs/s");
  command.add_option("--threads", options->threads, "Threads of each pose runtime (1: the calling thread only)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  command.add_option("--runs", options->runs, "Timed frames per K")->capture_default_str()->check(CLI::Range(1, 100000));
  command.add_option("--warmup", options->warmup, "Untimed frames first, per K")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  command.add_option("--image", options->image, "One person's JPEG or PNG frame, tiled (default: a golden webcam frame)")
      ->type_name("FILE");
  command.add_option("--sequence", options->sequence,
                     "Folder of a multi-person sequence's .jpg frames (default: the multi golden's)")
      ->type_name("DIR");
  add_models_flag(command, options->models_dir);
  command.callback([options] {
    use_one_opencv_thread();
    run(*options);
  });
}

}  // namespace posestream::app
