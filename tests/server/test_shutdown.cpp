// Graceful shutdown: frames the server holds are answered, then sockets close with 1001, run() returns.
#include "server/server_test_support.h"

namespace posestream::server::testing {
namespace {

TEST(Shutdown, AnswersHeldFramesThenClosesWith1001) {
  ServerOptions options = test_options();
  options.limits.gap_timeout = std::chrono::milliseconds{10'000};  // Frames wait for 0 until shutdown.
  auto server = std::make_unique<RunningServer>(options);
  const std::uint16_t port = server->port();
  WsClient client(port);
  client.send_text(kDecodeOnlyConfig);
  for (std::uint64_t sequence = 1; sequence <= 4; ++sequence) client.send_binary(psf1(sequence, sequence, jpeg(16, 16)));
  // Held in the reorder buffer, waiting for 0: observable, so the shutdown below surely finds them.
  ASSERT_TRUE(eventually([&] { return metric(port, "posestream_queue_depth{queue=\"reorder\"}") == 4; }));

  std::thread stopper([&] { server->stop(); });  // Returns once run() has returned.
  ASSERT_EQ((*client.read())["type"], "hello");
  const json lost = *client.read();
  EXPECT_EQ(lost["sequence"], 0);
  EXPECT_EQ(lost["reason"], "lost");
  for (std::uint64_t sequence = 1; sequence <= 4; ++sequence) {
    const std::optional<json> answer = client.read();
    ASSERT_TRUE(answer.has_value()) << sequence;
    EXPECT_EQ((*answer)["sequence"], sequence);
    EXPECT_EQ((*answer)["reason"], "superseded");
  }
  EXPECT_FALSE(client.read().has_value());
  EXPECT_EQ(client.close_code(), 1001);
  EXPECT_EQ(client.close_reason(), "server shutting down");
  stopper.join();
  // The port is no longer served.
  net::io_context io;
  net::ip::tcp::socket socket(io);
  beast::error_code error;
  socket.connect({net::ip::make_address("127.0.0.1"), port}, error);
  EXPECT_TRUE(error);
}

TEST(Shutdown, RunningFramesFinishWithResults) {
  const std::filesystem::path photo = posestream::testing::test_data_dir() / "images" / "messi5.jpg";
  if (!std::filesystem::exists(photo)) GTEST_SKIP() << "no " << photo;
  auto server = std::make_unique<RunningServer>();
  WsClient client(server->port());
  client.send_text(R"({"type":"config","pose":"heavy","hands":"full"})");
  client.send_binary(psf1(0, 1, read_bytes(photo)));
  ASSERT_TRUE(eventually([&] { return metric(server->port(), "posestream_workers_busy") == 1; }));
  std::thread stopper([&] { server->stop(); });
  const std::optional<json> answer = client.read_answer();
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ((*answer)["type"], "result");
  EXPECT_FALSE(client.read().has_value());
  EXPECT_EQ(client.close_code(), 1001);
  stopper.join();
}

}  // namespace
}  // namespace posestream::server::testing
