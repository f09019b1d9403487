// `posestream load`: N simulated cameras against a server; throughput, latency percentiles, answers by kind.
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <stdexcept>

#include "app/commands.h"
#include "app/load_client.h"

namespace posestream::app {
namespace {

struct LoadFlags {
  std::string url = "ws://127.0.0.1:8080/ws";
  std::size_t streams = 1;
  std::string input;
  double duration_s = 10;
  std::size_t max_video_frames = 300;
  std::uint32_t seed = 1;
  bool json = false;
  std::string pose;
  std::string hands;
  std::string drop_policy;
  LoadPlan plan;
};

// ws://HOST:PORT/PATH into the plan (IPv4 or a name; no TLS).
void parse_url(const std::string& url, LoadPlan& plan) {
  const std::string scheme = "ws://";
  if (!url.starts_with(scheme)) throw std::invalid_argument("load: --url must start with ws://, got '" + url + "'");
  const std::string rest = url.substr(scheme.size());
  const std::size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  plan.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const std::size_t colon = authority.rfind(':');
  plan.host = authority.substr(0, colon);
  plan.port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  if (plan.host.empty() || plan.port.empty()) throw std::invalid_argument("load: no host or port in '" + url + "'");
}

bool is_image_file(const std::filesystem::path& path) {
  std::string extension = path.extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
  return extension == ".jpg" || extension == ".jpeg" || extension == ".png";
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error("load: cannot read " + path.string());
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// A directory's JPEG/PNG files (sorted by name, sent as they are), one image, or a video's first frames
// re-encoded as JPEG.
std::vector<std::string> load_frames(const LoadFlags& flags) {
  const std::filesystem::path input = flags.input;
  std::vector<std::string> frames;
  if (std::filesystem::is_directory(input)) {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(input)) {
      if (entry.is_regular_file() && is_image_file(entry.path())) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) frames.push_back(read_file(file));
  } else if (is_image_file(input)) {
    frames.push_back(read_file(input));
  } else {
    cv::VideoCapture video(input.string());
    if (!video.isOpened()) throw std::runtime_error("load: cannot open video " + input.string());
    cv::Mat frame;
    std::vector<std::uint8_t> jpeg;
    while (frames.size() < flags.max_video_frames && video.read(frame)) {
      cv::imencode(".jpg", frame, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
      frames.emplace_back(jpeg.begin(), jpeg.end());
    }
  }
  if (frames.empty()) throw std::runtime_error("load: no JPEG/PNG images or video frames in " + input.string());
  return frames;
}

std::optional<std::string> config_message(const LoadFlags& flags) {
  nlohmann::json config = {{"type", "config"}};
  if (!flags.pose.empty()) config["pose"] = flags.pose;
  if (!flags.hands.empty()) config["hands"] = flags.hands;
  if (!flags.drop_policy.empty()) config["drop_policy"] = flags.drop_policy;
  if (config.size() == 1) return std::nullopt;
  return config.dump();
}

nlohmann::json summarize(const LoadFlags& flags, const std::vector<std::shared_ptr<LoadStream>>& streams,
                         double elapsed_s) {
  LoadStats total;
  nlohmann::json per_stream = nlohmann::json::array();
  for (const auto& stream : streams) {
    const LoadStats& stats = stream->stats();
    total.frames_sent += stats.frames_sent;
    total.frames_skipped += stats.frames_skipped;
    total.answered_twice += stats.answered_twice;
    total.results_out_of_order += stats.results_out_of_order;
    total.unanswered += stats.unanswered;
    for (const auto& [kind, count] : stats.answers) total.answers[kind] += count;
    total.latency_ms.insert(total.latency_ms.end(), stats.latency_ms.begin(), stats.latency_ms.end());
    total.pipeline_ms.insert(total.pipeline_ms.end(), stats.pipeline_ms.begin(), stats.pipeline_ms.end());
    total.server_total_ms.insert(total.server_total_ms.end(), stats.server_total_ms.begin(),
                                 stats.server_total_ms.end());
    per_stream.push_back({{"frames_sent", stats.frames_sent}, {"answers", stats.answers}, {"error", stats.error},
                          {"server_close", stats.close_reason}});
  }
  std::sort(total.latency_ms.begin(), total.latency_ms.end());
  const double results = static_cast<double>(total.answers["result"]);
  double mean = 0;
  for (double value : total.latency_ms) mean += value / static_cast<double>(total.latency_ms.size());
  return {{"url", flags.url},
          {"streams", flags.streams},
          {"fps", flags.plan.fps},
          {"duration_s", flags.duration_s},
          {"elapsed_s", elapsed_s},
          {"frames_sent", total.frames_sent},
          {"frames_skipped", total.frames_skipped},
          {"answers", total.answers},
          {"throughput_results_per_s", results / flags.duration_s},
          {"latency_ms",
           {{"p50", percentile(total.latency_ms, 0.50)},
            {"p95", percentile(total.latency_ms, 0.95)},
            {"p99", percentile(total.latency_ms, 0.99)},
            {"mean", mean},
            {"max", total.latency_ms.empty() ? 0.0 : total.latency_ms.back()}}},
          {"server_ms",
           {{"pipeline_p50", percentile(total.pipeline_ms, 0.50)},
            {"pipeline_p99", percentile(total.pipeline_ms, 0.99)},
            {"total_p50", percentile(total.server_total_ms, 0.50)},
            {"total_p99", percentile(total.server_total_ms, 0.99)}}},
          {"checks",
           {{"answered_twice", total.answered_twice},
            {"results_out_of_order", total.results_out_of_order},
            {"unanswered", total.unanswered}}},
          {"per_stream", per_stream}};
}

void print_text(const nlohmann::json& report) {
  std::cout << "posestream load: " << report["streams"] << " streams x " << report["fps"] << " fps for "
            << report["duration_s"] << " s -> " << report["url"].get<std::string>() << "\n";
  std::cout << "frames sent " << report["frames_sent"] << " (skipped " << report["frames_skipped"] << "); answers:";
  for (const auto& [kind, count] : report["answers"].items()) std::cout << " " << kind << " " << count;
  std::cout << "\nthroughput " << report["throughput_results_per_s"].get<double>() << " results/s\n";
  const auto& latency = report["latency_ms"];
  std::printf("latency send->result ms: p50 %.1f  p95 %.1f  p99 %.1f  mean %.1f  max %.1f\n",
              latency["p50"].get<double>(), latency["p95"].get<double>(), latency["p99"].get<double>(),
              latency["mean"].get<double>(), latency["max"].get<double>());
  const auto& server = report["server_ms"];
  std::printf("server ms: pipeline (total - queue) p50 %.1f  p99 %.1f; arrival->ready p50 %.1f  p99 %.1f\n",
              server["pipeline_p50"].get<double>(), server["pipeline_p99"].get<double>(),
              server["total_p50"].get<double>(), server["total_p99"].get<double>());
  const auto& checks = report["checks"];
  std::cout << "checks: answered twice " << checks["answered_twice"] << ", results out of order "
            << checks["results_out_of_order"] << ", unanswered " << checks["unanswered"] << "\n";
  for (std::size_t i = 0; i < report["per_stream"].size(); ++i) {
    const auto& stream = report["per_stream"][i];
    if (!stream["error"].get<std::string>().empty()) std::cout << "stream " << i << ": " << stream["error"] << "\n";
    if (!stream["server_close"].get<std::string>().empty()) {
      std::cout << "stream " << i << ": server closed: " << stream["server_close"] << "\n";
    }
  }
}

void run_load(LoadFlags& flags) {
  parse_url(flags.url, flags.plan);
  flags.plan.duration = std::chrono::milliseconds(static_cast<std::int64_t>(flags.duration_s * 1000));
  flags.plan.config_json = config_message(flags);
  const std::vector<std::string> frames = load_frames(flags);
  net::io_context io;
  std::vector<std::shared_ptr<LoadStream>> streams;
  for (std::size_t i = 0; i < flags.streams; ++i) {
    streams.push_back(std::make_shared<LoadStream>(io, flags.plan, frames, flags.seed + static_cast<std::uint32_t>(i)));
    streams.back()->run();
  }
  const auto started = std::chrono::steady_clock::now();
  io.run();
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const nlohmann::json report = summarize(flags, streams, elapsed_s);
  if (flags.json) {
    std::cout << report.dump(2) << "\n";
  } else {
    print_text(report);
  }
  const bool all_failed = std::all_of(streams.begin(), streams.end(), [](const auto& s) { return !s->stats().error.empty(); });
  if (all_failed) throw std::runtime_error("load: every stream failed: " + streams.front()->stats().error);
}

}  // namespace

void add_load(CLI::App& app) {
  auto flags = std::make_shared<LoadFlags>();
  CLI::App& command = *app.add_subcommand("load", "Drive a server with simulated cameras and report latency");
  command.add_option("--url", flags->url, "WebSocket URL")->capture_default_str();
  command.add_option("--streams", flags->streams, "Concurrent streams")->capture_default_str()->check(CLI::Range(1, 10000));
  command.add_option("--fps", flags->plan.fps, "Frames per second per stream")->capture_default_str()->check(CLI::Range(0.1, 1000.0));
  command.add_option("--input", flags->input, "Directory of JPEG/PNG images, one image, or a video")->required();
  command.add_option("--duration", flags->duration_s, "Seconds of sending")->capture_default_str()->check(CLI::Range(0.1, 86400.0));
  command.add_option("--shuffle-window", flags->plan.shuffle_window, "Shuffle send order within windows of K frames")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  command.add_option("--loss", flags->plan.loss, "Probability of not sending a frame")->capture_default_str()->check(CLI::Range(0.0, 1.0));
  command.add_option("--garbage", flags->plan.garbage, "Probability of sending a frame's image as random bytes")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  command.add_option("--max-video-frames", flags->max_video_frames, "Frames taken from a video")->capture_default_str();
  command.add_option("--seed", flags->seed, "Random seed (stream i uses seed + i)")->capture_default_str();
  command.add_option("--pose", flags->pose, "Send a config first: pose lite|full|heavy|off");
  command.add_option("--hands", flags->hands, "Send a config first: hands lite|full|off");
  command.add_option("--drop-policy", flags->drop_policy, "Send a config first: latest|all");
  command.add_flag("--json", flags->json, "Print the report as JSON");
  command.callback([flags] { run_load(*flags); });
}

}  // namespace posestream::app
