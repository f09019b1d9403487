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
  RunningServer server;
  std::vector<std::thread> clients;
  for (int i = 0; i < 6; ++i) clients.emplace_back([&, i] { stream_then(server.port(), i, i % 2 == 1); });
  for (std::thread& client : clients) client.join();
  // One left open with frames held (waiting for sequence 0) when the server stops.
  WsClient held(server.port());
  held.send_text(kDecodeOnlyConfig);
  held.send_binary(psf1(3, 1, jpeg(8, 8)));
  server.stop();
  for (;;) {
    const std::optional<json> answer = held.read();
    if (!answer) break;
  }
  EXPECT_EQ(held.close_code(), 1001);
}

}  // namespace
}  // namespace posestream::server::testing
