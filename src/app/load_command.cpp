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
#include "app/load_report.h"
#include "pose/people.h"

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
  int num_poses = 0;  // 0: not sent (the server's default, 1).
  std::string protocol = "ws";
  std::string token_file;
  std::string ca_file;
  bool insecure = false;
  std::size_t reconnect_backoff_ms = 50;
  std::size_t reconnect_backoff_max_ms = 1'000;
  LoadPlan plan;
};

// ws://HOST[:PORT]/PATH or wss://... into the target (IPv4 or a name).
void parse_url(const std::string& url, LoadTarget& target) {
  const std::size_t scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if (scheme != "ws" && scheme != "wss") {
    throw std::invalid_argument("load: --url must start with ws:// or wss://, got '" + url + "'");
  }
  target.tls = scheme == "wss";
  const std::string rest = url.substr(scheme_end + 3);
  const std::size_t slash = rest.find('/');
  const std::string authority = rest.substr(0, slash);
  target.path = slash == std::string::npos ? "/" : rest.substr(slash);
  const std::size_t colon = authority.rfind(':');
  target.host = authority.substr(0, colon);
  target.port = colon == std::string::npos ? (target.tls ? "443" : "80") : authority.substr(colon + 1);
  if (target.host.empty() || target.port.empty()) throw std::invalid_argument("load: no host or port in '" + url + "'");
}

// The token file's first line that is not blank or a comment, trimmed (the server's file format).
std::string read_token(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("load: cannot read --token-file " + path);
  for (std::string line; std::getline(file, line);) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    return line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
  }
  throw std::runtime_error("load: no token in --token-file " + path);
}

// Verifies servers against the system's CAs, or --ca-file's, or (--insecure) not at all.
void configure_tls(const LoadFlags& flags, ssl::context& context) {
  if (flags.insecure) {
    context.set_verify_mode(ssl::verify_none);
    return;
  }
  context.set_verify_mode(ssl::verify_peer);
  beast::error_code error;
  if (flags.ca_file.empty()) {
    context.set_default_verify_paths(error);
  } else {
    context.load_verify_file(flags.ca_file, error);
  }
  if (error) throw std::runtime_error("load: TLS certificates " + (flags.ca_file.empty() ? std::string("(system)") : flags.ca_file) + ": " + error.message());
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
  if (flags.num_poses > 0) config["num_poses"] = flags.num_poses;
  if (config.size() == 1) return std::nullopt;
  return config.dump();
}

void run_load(LoadFlags& flags) {
  parse_url(flags.url, flags.plan.target);
  const std::optional<LoadProtocol> protocol = parse_load_protocol(flags.protocol);
  if (!protocol) throw std::invalid_argument("load: --protocol must be ws, socketio-binary or socketio-dataurl, got '" + flags.protocol + "'");
  flags.plan.protocol = *protocol;
  if (*protocol != LoadProtocol::ws) flags.plan.target.path = socketio_websocket_path(flags.plan.target.path);
  if (!flags.token_file.empty()) flags.plan.target.token = read_token(flags.token_file);
  flags.plan.target.tls_verify = !flags.insecure;
  flags.plan.duration = std::chrono::milliseconds(static_cast<std::int64_t>(flags.duration_s * 1000));
  flags.plan.reconnect_backoff = std::chrono::milliseconds(flags.reconnect_backoff_ms);
  flags.plan.reconnect_backoff_max = std::chrono::milliseconds(std::max(flags.reconnect_backoff_max_ms, flags.reconnect_backoff_ms));
  flags.plan.config_json = config_message(flags);
  const std::vector<std::string> frames = load_frames(flags);
  ssl::context tls_context(ssl::context::tls_client);
  if (flags.plan.target.tls) configure_tls(flags, tls_context);
  net::io_context io;
  std::vector<std::shared_ptr<LoadStream>> streams;
  for (std::size_t i = 0; i < flags.streams; ++i) {
    streams.push_back(std::make_shared<LoadStream>(io, tls_context, flags.plan, frames, flags.seed + static_cast<std::uint32_t>(i)));
    streams.back()->run();
  }
  const auto started = std::chrono::steady_clock::now();
  io.run();
  const double elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const nlohmann::json report =
      summarize({flags.url, flags.streams, flags.plan.fps, flags.duration_s, elapsed_s}, streams);
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
  command.add_option("--url", flags->url, "WebSocket URL: ws:// or wss://")->capture_default_str();
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
  command.add_option("--num-poses", flags->num_poses, "Send a config first: up to N people per frame")
      ->check(CLI::Range(1, pose::kMaxNumPoses));
  command.add_option("--protocol", flags->protocol,
                     "ws: PSF1 frames on /ws; socketio-binary | socketio-dataurl: Socket.IO `frame` events over "
                     "WebSocket at /socket.io/ (or the URL's path), the image an attachment or a data URL")
      ->capture_default_str();
  command.add_flag("--json", flags->json, "Print the report as JSON");
  command.add_option("--token-file", flags->token_file, "Send the file's first token as Authorization: Bearer");
  command.add_option("--ca-file", flags->ca_file, "wss://: trust these CA certificates (PEM) instead of the system's");
  command.add_flag("--insecure", flags->insecure, "wss://: do not verify the server's certificate");
  command.add_flag("--reconnect", flags->plan.reconnect, "Continue a stream on a new connection when one drops");
  command.add_option("--reconnect-attempts", flags->plan.reconnect_attempts, "Failed connects in a row before a stream gives up")
      ->capture_default_str()->check(CLI::Range(1, 1000));
  command.add_option("--reconnect-backoff-ms", flags->reconnect_backoff_ms, "First wait before reconnecting (doubles each failure)")
      ->capture_default_str()->check(CLI::Range(1, 60'000));
  command.add_option("--reconnect-backoff-max-ms", flags->reconnect_backoff_max_ms, "Longest wait before reconnecting")
      ->capture_default_str()->check(CLI::Range(1, 600'000));
  command.callback([flags] { run_load(*flags); });
}

}  // namespace posestream::app
