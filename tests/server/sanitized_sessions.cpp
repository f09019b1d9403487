// The session machinery under ASan+UBSan: concurrent streams, bad input, vanishing clients, shutdown.
#include "server/server_test_support.h"

namespace posestream::server::testing {
namespace {

void stream_then(std::uint16_t port, int index, bool vanish) {
  WsClient client(port);
  client.send_text(R"({"type":"config","pose":"off","hands":"off","drop_policy":"all"})");
  const Bytes image = jpeg(32 + index, 24, index);
  for (std::uint64_t sequence = 0; sequence < 30; ++sequence) {
    client.send_binary(psf1(sequence ^ 1, 100 + (sequence ^ 1), image));  // Pairwise swapped.
    if (sequence % 10 == 3) client.send_text("{\"sequence\":");            // Truncated JSON.
  }
  if (vanish) return client.drop();
  int answers = 0;
  while (answers < 30) {
    const std::optional<json> answer = client.read_answer();
    ASSERT_TRUE(answer.has_value());
    if ((*answer)["type"] != "error") ++answers;
  }
  client.close();
}

TEST(SanitizedSessions, StreamsBadInputVanishingClientsAndShutdown) {
  ServerOptions options = test_options();
  options.limits.gap_timeout = std::chrono::milliseconds{10'000};  // The held frame waits until shutdown.
  RunningServer server(options);
  std::vector<std::thread> clients;
  for (int i = 0; i < 6; ++i) clients.emplace_back([&, i] { stream_then(server.port(), i, i % 2 == 1); });
  for (std::thread& client : clients) client.join();
  // One left open with frames held (waiting for sequence 0) when the server stops.
  WsClient held(server.port());
  held.send_text(kDecodeOnlyConfig);
  held.send_binary(psf1(3, 1, jpeg(8, 8)));
  ASSERT_TRUE(eventually([&] { return metric(server.port(), "posestream_queue_depth{queue=\"reorder\"}") == 1; }));
  std::thread stopper([&] { server.stop(); });  // The client must read meanwhile, to answer the close.
  int answers = 0;
  while (held.read()) ++answers;
  stopper.join();
  EXPECT_EQ(answers, 5);  // hello; 0, 1, 2 lost; 3 superseded.
  EXPECT_EQ(held.close_code(), 1001);
}

}  // namespace
}  // namespace posestream::server::testing
