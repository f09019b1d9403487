// Black-box tests of `posestream load` against real servers. --reconnect: the server is drained (SIGTERM)
// mid-stream and a new one started on the same port; every stream must continue there, with honest
// per-connection counts. --num-poses: the config asks for several people and the report counts them.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "test_paths.h"

#ifndef POSESTREAM_BINARY
#error "POSESTREAM_BINARY must name the built posestream executable"
#endif

extern char** environ;

namespace posestream {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A port the kernel says is free now (it may be taken again before use: good enough on loopback).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// The status code of GET `path` on 127.0.0.1:`port`, or 0 if nothing answers.
int http_status(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int status = 0;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    const std::string request = "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buffer[64] = {};
      if (read(fd, buffer, sizeof buffer - 1) > 12) std::sscanf(buffer, "HTTP/1.1 %d", &status);
    }
  }
  close(fd);
  return status;
}

// `posestream serve` on `port`, one worker; returns its pid once /readyz answers 200 (or -1).
pid_t start_server(int port) {
  const std::string models = testing::models_dir().string();
  const std::string port_text = std::to_string(port);
  std::vector<std::string> arguments = {POSESTREAM_BINARY, "serve", "--host", "127.0.0.1", "--port", port_text,
                                        "--workers", "1", "--inference-threads", "1", "--models", models};
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, POSESTREAM_BINARY, nullptr, nullptr, argv.data(), environ) != 0) return -1;
  for (int i = 0; i < 300 && http_status(port, "/readyz") != 200; ++i) std::this_thread::sleep_for(50ms);
  return pid;
}

void stop_server(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
}

std::string run_capture(const std::string& command) {
  std::string output;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return output;
  char buffer[65536];
  for (std::size_t count; (count = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, count);
  pclose(pipe);
  return output;
}

// Two streams at 5 FPS for 8 s; at 2.5 s the server drains (1012) and a new one starts on the port.
TEST(LoadReconnect, ContinuesOnANewSessionAfterA1012Drain) {
  const int port = free_port();
  pid_t first = start_server(port);
  ASSERT_GT(first, 0);
  ASSERT_EQ(http_status(port, "/readyz"), 200) << "the first server never became ready";
  const std::string image = (testing::test_data_dir() / "images" / "messi5.jpg").string();
  const std::string load = std::string(POSESTREAM_BINARY) + " load --url ws://127.0.0.1:" + std::to_string(port) +
                           "/ws --reconnect --streams 2 --fps 5 --duration 8 --pose lite --hands off --json --input '" +
                           image + "'";
  auto report_text = std::async(std::launch::async, [&] { return run_capture(load); });
  std::this_thread::sleep_for(2500ms);
  stop_server(first);  // Returns once the drain is over and the process exited.
  const pid_t second = start_server(port);
  const std::string text = report_text.get();
  stop_server(second);

  const json report = json::parse(text, nullptr, false);
  ASSERT_TRUE(report.is_object()) << "load printed no JSON report:\n" << text;
  ASSERT_EQ(report["per_stream"].size(), 2u);
  EXPECT_EQ(report["checks"]["answered_twice"], 0);
  for (const json& stream : report["per_stream"]) {
    SCOPED_TRACE(stream.dump());
    EXPECT_EQ(stream["error"], "");
    EXPECT_EQ(stream["reconnects"], 1);
    ASSERT_EQ(stream["connections"].size(), 2u);
    const json& drained = stream["connections"][0];
    const json& after = stream["connections"][1];
    // The drain answers every frame sent before it closes with 1012 "server restarting".
    EXPECT_TRUE(drained["ended"].get<std::string>().starts_with("close 1012")) << drained["ended"];
    EXPECT_TRUE(drained["dropped"].get<bool>());
    EXPECT_EQ(drained["unanswered"], 0);
    EXPECT_GT(drained["frames_sent"], 0);
    EXPECT_EQ(drained["answered"], drained["frames_sent"]);
    // The new session: numbered from 0 again, every frame answered once, closed by the client at the end.
    EXPECT_GT(after["frames_sent"], 0);
    EXPECT_EQ(after["answered"], after["frames_sent"]);
    EXPECT_FALSE(after["dropped"].get<bool>());
    EXPECT_EQ(stream["unanswered"], 0);
    EXPECT_EQ(stream["unanswered_at_drop"], 0);
    EXPECT_EQ(stream["answered_twice"], 0);
    // While no server was up (the drain, then the new server's start-up) the camera's frames were skipped.
    EXPECT_GT(stream["frames_skipped_disconnected"], 0);
    EXPECT_EQ(stream["reconnect_gap_ms"]["count"], 1);
    EXPECT_GT(stream["reconnect_gap_ms"]["max"], 0.0);
  }
}

// Without --reconnect, the same drain ends the stream: one connection, the server's close reported.
TEST(LoadReconnect, WithoutTheFlagADrainEndsTheStream) {
  const int port = free_port();
  pid_t server = start_server(port);
  ASSERT_GT(server, 0);
  const std::string image = (testing::test_data_dir() / "images" / "messi5.jpg").string();
  const std::string load = std::string(POSESTREAM_BINARY) + " load --url ws://127.0.0.1:" + std::to_string(port) +
                           "/ws --streams 1 --fps 5 --duration 4 --pose lite --hands off --json --input '" + image + "'";
  auto report_text = std::async(std::launch::async, [&] { return run_capture(load); });
  std::this_thread::sleep_for(1500ms);
  stop_server(server);
  const json report = json::parse(report_text.get(), nullptr, false);
  ASSERT_TRUE(report.is_object());
  const json& stream = report["per_stream"][0];
  EXPECT_EQ(stream["reconnects"], 0);
  ASSERT_EQ(stream["connections"].size(), 1u);
  EXPECT_TRUE(stream["server_close"].get<std::string>().starts_with("1012")) << stream["server_close"];
  EXPECT_EQ(stream["unanswered"], 0);
}

// A photo of three people (MediaPipe's pose full finds 3: ../shared/golden/multi/summary.json): with
// --num-poses 4 the answers carry several people, without it one pose at most.
TEST(LoadPeople, NumPosesAsksForSeveralPeopleAndTheReportCountsThem) {
  const std::filesystem::path image =
      testing::shared_dir() / "golden" / "multi" / "images" / "coco_000000000241.jpg";
  if (!std::filesystem::exists(image)) GTEST_SKIP() << image << " is missing";
  const int port = free_port();
  const pid_t server = start_server(port);
  ASSERT_GT(server, 0);
  const std::string load = std::string(POSESTREAM_BINARY) + " load --url ws://127.0.0.1:" + std::to_string(port) +
                           "/ws --streams 1 --fps 5 --duration 2 --pose full --hands off --json --input '" +
                           image.string() + "'";
  const json several = json::parse(run_capture(load + " --num-poses 4"), nullptr, false);
  const json one = json::parse(run_capture(load), nullptr, false);
  stop_server(server);
  ASSERT_TRUE(several.is_object() && one.is_object());
  ASSERT_GT(several["answers"]["result"], 0);
  EXPECT_GE(several["people_per_result"].get<double>(), 2.0);
  EXPECT_LE(several["people_per_result"].get<double>(), 4.0);
  EXPECT_EQ(one["people_per_result"].get<double>(), 1.0);
}

}  // namespace
}  // namespace posestream
