// Readiness and drain: /readyz at max_sessions and during a drain; SIGTERM and drain() answer the frames
// in flight, close WebSockets with 1012 and return; drain_timeout bounds a client that never closes.
#include <atomic>
#include <csignal>

#include "server/server_test_support.h"

namespace posestream::server::testing {
namespace {

json readiness(std::uint16_t port, unsigned expected_status) {
  const HttpReply reply = http_request(port, http::verb::get, "/readyz");
  EXPECT_EQ(reply.status, expected_status) << reply.body;
  return json::parse(reply.body);
}

// Nothing else closes a session in these tests before the drain does.
ServerOptions patient_options() {
  ServerOptions options = test_options();
  options.limits.handshake_timeout = std::chrono::milliseconds{120'000};
  options.drain_timeout = std::chrono::milliseconds{120'000};
  options.limits.gap_timeout = std::chrono::milliseconds{10'000};  // Frames wait for 0 until the drain.
  return options;
}

bool port_closed(std::uint16_t port) {
  net::io_context io;
  net::ip::tcp::socket socket(io);
  beast::error_code error;
  socket.connect({net::ip::make_address("127.0.0.1"), port}, error);
  return static_cast<bool>(error);
}

TEST(Readiness, ReadyUntilMaxSessionsAreOpen) {
  ServerOptions options = test_options();
  options.limits.max_sessions = 1;
  RunningServer server(options);
  EXPECT_EQ(readiness(server.port(), 200)["status"], "ready");
  {
    WsClient client(server.port());
    ASSERT_EQ((*client.read())["type"], "hello");
    const json full = readiness(server.port(), 503);
    EXPECT_EQ(full["status"], "full");
    EXPECT_EQ(full["sessions"], 1);
    EXPECT_EQ(http_request(server.port(), http::verb::get, "/healthz").status, 200u);  // Liveness is not readiness.
    client.close();
  }
  EXPECT_TRUE(eventually([&] { return http_request(server.port(), http::verb::get, "/readyz").status == 200; }));
}

// While a drain waits for a WebSocket (its client has not yet read the close), the port still answers:
// readiness 503 at once, liveness 200, no new WebSocket or /v1/detect.
TEST(Drain, ReadinessIs503AndNothingNewIsAdmitted) {
  RunningServer server(patient_options());
  const std::uint16_t port = server.port();
  WsClient client(port);
  ASSERT_EQ((*client.read())["type"], "hello");
  server.drain();
  EXPECT_EQ(readiness(port, 503)["status"], "draining");
  const HttpReply health = http_request(port, http::verb::get, "/healthz");
  EXPECT_EQ(health.status, 200u);
  EXPECT_EQ(json::parse(health.body)["status"], "draining");
  EXPECT_EQ(http_request(port, http::verb::get, "/ws", {}, true).status, 503u);
  const Bytes image = jpeg(32, 32);
  EXPECT_EQ(http_request(port, http::verb::post, "/v1/detect?pose=off&hands=off", std::string(image.begin(), image.end())).status,
            503u);
  EXPECT_FALSE(client.read().has_value());
  EXPECT_EQ(client.close_code(), 1012);
  EXPECT_EQ(client.close_reason(), "server restarting");
  server.join();
  EXPECT_TRUE(port_closed(port));
}

TEST(Drain, HeldFramesAreAnsweredThenTheClientGets1012) {
  auto server = std::make_unique<RunningServer>(patient_options());
  const std::uint16_t port = server->port();
  WsClient client(port);
  client.send_text(kDecodeOnlyConfig);
  for (std::uint64_t sequence = 1; sequence <= 3; ++sequence) client.send_binary(psf1(sequence, sequence, jpeg(16, 16)));
  ASSERT_TRUE(eventually([&] { return metric(port, "posestream_queue_depth{queue=\"reorder\"}") == 3; }));
  server->drain();
  ASSERT_EQ((*client.read())["type"], "hello");
  EXPECT_EQ((*client.read())["reason"], "lost");  // 0, never sent.
  for (std::uint64_t sequence = 1; sequence <= 3; ++sequence) {
    const std::optional<json> answer = client.read();
    ASSERT_TRUE(answer.has_value()) << sequence;
    EXPECT_EQ((*answer)["sequence"], sequence);
  }
  EXPECT_FALSE(client.read().has_value());
  EXPECT_EQ(client.close_code(), 1012);
  server->join();
}

// The signal itself: run(handle_signals) drains on SIGTERM. A frame running on a worker gets its result.
TEST(Drain, SigtermAnswersTheRunningFrameThenCloses1012AndReturns) {
  const std::filesystem::path photo = posestream::testing::test_data_dir() / "images" / "messi5.jpg";
  if (!std::filesystem::exists(photo)) GTEST_SKIP() << "no " << photo;
  auto server = std::make_unique<RunningServer>(patient_options(), /*handle_signals=*/true);
  const std::uint16_t port = server->port();
  // Answered only once run() is serving, which is after it took the signals.
  ASSERT_EQ(http_request(port, http::verb::get, "/readyz").status, 200u);
  WsClient client(port);
  client.send_text(R"({"type":"config","pose":"heavy","hands":"full"})");
  client.send_binary(psf1(0, 1, read_bytes(photo)));
  ASSERT_TRUE(eventually([&] { return metric(port, "posestream_workers_busy") == 1; }));
  ASSERT_EQ(std::raise(SIGTERM), 0);
  const std::optional<json> answer = client.read_answer();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ((*answer)["type"], "result");
  EXPECT_FALSE(client.read().has_value());
  EXPECT_EQ(client.close_code(), 1012);
  server->join();
  EXPECT_TRUE(port_closed(port));
}

TEST(Drain, SigintStillClosesWith1001) {
  auto server = std::make_unique<RunningServer>(patient_options(), /*handle_signals=*/true);
  ASSERT_EQ(http_request(server->port(), http::verb::get, "/readyz").status, 200u);
  WsClient client(server->port());
  ASSERT_EQ((*client.read())["type"], "hello");
  ASSERT_EQ(std::raise(SIGINT), 0);
  EXPECT_FALSE(client.read().has_value());
  EXPECT_EQ(client.close_code(), 1001);
  EXPECT_EQ(client.close_reason(), "server shutting down");
  server->join();
}

// A client that never answers the close frame (it does not read) holds the drain only until
// drain_timeout: run() returns although the WebSocket is still open.
TEST(Drain, DrainTimeoutBoundsAClientThatNeverCloses) {
  ServerOptions options = patient_options();
  options.drain_timeout = std::chrono::milliseconds{200};
  auto server = std::make_unique<RunningServer>(options);
  WsClient client(server->port());
  ASSERT_EQ((*client.read())["type"], "hello");
  server->drain();
  std::atomic<bool> returned{false};
  std::thread joiner([&] {
    server->join();
    returned = true;
  });
  // Without drain_timeout, run() would wait for the close handshake's timeout (120 s), beyond this bound.
  EXPECT_TRUE(eventually([&] { return returned.load(); }, std::chrono::milliseconds{60'000}));
  client.drop();  // Lets a server that is still waiting for this client finish.
  joiner.join();
  EXPECT_TRUE(port_closed(server->port()));
}

}  // namespace
}  // namespace posestream::server::testing
