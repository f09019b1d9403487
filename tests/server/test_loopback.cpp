// WebSocket streams over loopback: ordering and exactly-once answers, isolation, floods, disconnects.
#include "server/server_test_support.h"

#include <boost/beast/core/detail/base64.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>

namespace posestream::server::testing {
namespace {

struct StreamLog {
  std::map<std::uint64_t, std::vector<std::string>> answers;  // Sequence -> every answer kind it got.
  std::vector<std::uint64_t> result_order;
  std::vector<std::string> problems;
};

// Reads answers until every sequence in [0, count) has one (and `extra` more answers arrived).
StreamLog collect(WsClient& client, std::uint64_t count, std::size_t extra, int width, int height,
                  const std::map<std::uint64_t, std::uint64_t>& timestamps) {
  StreamLog log;
  std::size_t received = 0;
  while (log.answers.size() < count || received < count + extra) {
    const std::optional<json> answer = client.read_answer();
    if (!answer) {
      log.problems.push_back("connection ended after " + std::to_string(received) + " answers");
      break;
    }
    ++received;
    const std::uint64_t sequence = (*answer)["sequence"];
    const std::string type = (*answer)["type"];
    if (type == "result") {
      log.answers[sequence].push_back("result");
      log.result_order.push_back(sequence);
      // Isolation: each stream sends its own image size, so another stream's result would show here.
      if ((*answer)["image"]["width"] != width || (*answer)["image"]["height"] != height) {
        log.problems.push_back("result " + std::to_string(sequence) + " has another stream's image size");
      }
      if ((*answer)["timestamp_us"] != timestamps.at(sequence)) {
        log.problems.push_back("result " + std::to_string(sequence) + " has another frame's timestamp");
      }
    } else {
      log.answers[sequence].push_back((*answer)["reason"]);
    }
  }
  return log;
}

// One stream: frames 0..count-1 shuffled in windows of 4, one frame sent twice; policy `all` so that
// every frame runs.
StreamLog run_shuffled_stream(std::uint16_t port, int index, std::uint64_t count) {
  WsClient client(port);
  client.send_text(R"({"type":"config","pose":"off","hands":"off","drop_policy":"all"})");
  const int width = 40 + 8 * index;
  const int height = 30 + 4 * index;
  const Bytes image = jpeg(width, height, index);
  std::vector<std::uint64_t> order(count);
  for (std::uint64_t i = 0; i < count; ++i) order[i] = i;
  std::mt19937 random(static_cast<unsigned>(index) + 17);
  for (std::uint64_t start = 0; start < count; start += 4) {
    std::shuffle(order.begin() + static_cast<std::ptrdiff_t>(start),
                 order.begin() + static_cast<std::ptrdiff_t>(std::min(start + 4, count)), random);
  }
  std::map<std::uint64_t, std::uint64_t> timestamps;
  for (std::uint64_t sequence : order) {
    timestamps[sequence] = 1'000 + sequence * 33'333;
    client.send_binary(psf1(sequence, timestamps[sequence], image));
    if (sequence == 5) client.send_binary(psf1(sequence, timestamps[sequence], image));  // A copy.
  }
  StreamLog log = collect(client, count, 1, width, height, timestamps);
  client.close();
  return log;
}

TEST(Loopback, ConcurrentShuffledStreamsEachGetTheirOwnAnswersOnceInOrder) {
  ServerOptions options = test_options();
  options.limits.max_queued_frames = 64;  // Room for a whole stream, so every frame runs (policy all).
  RunningServer server(options);
  constexpr int kStreams = 4;
  constexpr std::uint64_t kFrames = 40;
  std::vector<StreamLog> logs(kStreams);
  std::vector<std::thread> threads;
  for (int i = 0; i < kStreams; ++i) {
    threads.emplace_back([&, i] { logs[i] = run_shuffled_stream(server.port(), i, kFrames); });
  }
  for (std::thread& thread : threads) thread.join();
  for (int i = 0; i < kStreams; ++i) {
    SCOPED_TRACE("stream " + std::to_string(i));
    const StreamLog& log = logs[i];
    EXPECT_EQ(log.problems, std::vector<std::string>{});
    ASSERT_EQ(log.answers.size(), kFrames);
    for (const auto& [sequence, kinds] : log.answers) {
      // The copy of frame 5 gets `duplicate`; every number gets exactly one answer of its own.
      const std::vector<std::string> expected =
          sequence == 5 ? std::vector<std::string>{"result", "duplicate"} : std::vector<std::string>{"result"};
      std::vector<std::string> sorted = kinds;
      std::sort(sorted.begin(), sorted.end(), std::greater<>());
      EXPECT_EQ(sorted, expected) << "sequence " << sequence;
    }
    EXPECT_TRUE(std::is_sorted(log.result_order.begin(), log.result_order.end()));
  }
}

TEST(Loopback, TextFramesJsonAndBareBase64) {
  RunningServer server;
  WsClient client(server.port());
  client.send_text(R"({"type":"config","pose":"off","hands":"off","drop_policy":"all"})");
  const Bytes image = jpeg(32, 16);
  std::string base64(((image.size() + 2) / 3) * 4, '\0');
  base64.resize(beast::detail::base64::encode(base64.data(), image.data(), image.size()));
  // 0.004 ms = 4 us: below the arrival time (microseconds since the connection opened) that the next
  // frame, sent without a timestamp, gets.
  client.send_text(json({{"sequence", 0}, {"timestamp", 0.004}, {"image", "data:image/jpeg;base64," + base64}}).dump());
  client.send_text(base64);  // Implicit sequence 1, arrival-time timestamp.
  const json first = *client.read_answer();
  EXPECT_EQ(first["type"], "result");
  EXPECT_EQ(first["sequence"], 0);
  EXPECT_EQ(first["timestamp_us"], 4);
  const json second = *client.read_answer();
  EXPECT_EQ(second["type"], "result");
  EXPECT_EQ(second["sequence"], 1);
  EXPECT_EQ(second["image"]["width"], 32);
}

TEST(Loopback, BadMessagesAreAnsweredAndTheStreamGoesOn) {
  RunningServer server;
  WsClient client(server.port());
  const json hello = *client.read();
  EXPECT_EQ(hello["type"], "hello");
  EXPECT_EQ(hello["limits"]["reorder_capacity"], 8);
  client.send_text(kDecodeOnlyConfig);
  client.send_binary({'n', 'o', 'p', 'e'});
  EXPECT_EQ((*client.read())["code"], "bad_magic");
  client.send_text(R"({"type":"config","pose":"gigantic"})");
  EXPECT_EQ((*client.read())["code"], "bad_config");
  client.send_binary(psf1(0, 10, {0x01, 0x02}));  // Not an image: its number is answered invalid.
  const json invalid = *client.read();
  EXPECT_EQ(invalid["type"], "dropped");
  EXPECT_EQ(invalid["reason"], "invalid");
  EXPECT_EQ(invalid["sequence"], 0);
  client.send_binary(psf1(1, 20, jpeg(16, 16)));
  EXPECT_EQ((*client.read())["type"], "result");
  client.send_binary(psf1(2, 20, jpeg(16, 16)));  // Same timestamp as frame 1: invalid.
  EXPECT_EQ((*client.read())["reason"], "invalid");
}

TEST(Loopback, ResetStartsTheSequenceOver) {
  RunningServer server;
  WsClient client(server.port());
  client.send_text(kDecodeOnlyConfig);
  const Bytes image = jpeg(24, 24);
  client.send_binary(psf1(0, 100, image));
  EXPECT_EQ((*client.read_answer())["type"], "result");
  client.send_text(R"({"type":"reset"})");
  client.send_binary(psf1(0, 50, image));  // 0 again, and an earlier timestamp: fine after a reset.
  const json after = *client.read_answer();
  EXPECT_EQ(after["type"], "result");
  EXPECT_EQ(after["sequence"], 0);
}

TEST(Loopback, FloodingStreamDoesNotStarveAnother) {
  RunningServer server;
  const Bytes big = jpeg(640, 480, 3);
  constexpr std::uint64_t kFlood = 600;
  StreamLog flood_log;
  std::thread flood([&] {
    WsClient client(server.port());
    client.send_text(kDecodeOnlyConfig);
    std::map<std::uint64_t, std::uint64_t> timestamps;
    for (std::uint64_t sequence = 0; sequence < kFlood; ++sequence) {
      timestamps[sequence] = 1 + sequence;
      client.send_binary(psf1(sequence, timestamps[sequence], big));
    }
    flood_log = collect(client, kFlood, 0, 640, 480, timestamps);
  });
  // Meanwhile, a polite stream: one frame at a time, each answered before the next.
  WsClient polite(server.port());
  polite.send_text(kDecodeOnlyConfig);
  const Bytes small = jpeg(48, 32, 9);
  for (std::uint64_t sequence = 0; sequence < 20; ++sequence) {
    polite.send_binary(psf1(sequence, 1 + sequence, small));
    const std::optional<json> answer = polite.read_answer();
    ASSERT_TRUE(answer.has_value());
    EXPECT_EQ((*answer)["type"], "result");
    EXPECT_EQ((*answer)["sequence"], sequence);
    EXPECT_EQ((*answer)["image"]["width"], 48);
  }
  flood.join();
  EXPECT_EQ(flood_log.problems, std::vector<std::string>{});
  ASSERT_EQ(flood_log.answers.size(), kFlood);  // Every flooded frame answered once: result or superseded.
  for (const auto& [sequence, kinds] : flood_log.answers) {
    ASSERT_EQ(kinds.size(), 1u) << sequence;
    EXPECT_TRUE(kinds[0] == "result" || kinds[0] == "superseded") << sequence << " " << kinds[0];
  }
}

TEST(Loopback, ClientVanishingMidFrameLeavesOthersServed) {
  RunningServer server;
  {
    WsClient vanishing(server.port());
    vanishing.read();  // hello
    // A binary frame header announcing 34464 bytes (126: a 16-bit length follows; then the mask key,
    // as clients must mask), then only 10 of them, then the TCP connection goes.
    const std::uint8_t header[] = {0x82, 0xFE, 0x86, 0xA0, 1, 2, 3, 4, 'P', 'S', 'F', '1', 0, 0, 0, 0, 0, 0};
    net::write(vanishing.socket(), net::buffer(header));
    vanishing.drop();
  }
  {
    WsClient leaving(server.port());  // Sends frames with work in flight, then leaves without a close.
    leaving.send_text(R"({"type":"config","pose":"lite","hands":"off"})");
    for (std::uint64_t sequence = 0; sequence < 5; ++sequence) leaving.send_binary(psf1(sequence, sequence + 1, jpeg(320, 240)));
    leaving.drop();
  }
  EXPECT_TRUE(eventually([&] { return json::parse(http_request(server.port(), http::verb::get, "/healthz").body)["sessions"] == 0; }));
  WsClient next(server.port());
  next.send_text(kDecodeOnlyConfig);
  next.send_binary(psf1(0, 1, jpeg(16, 16)));
  EXPECT_EQ((*next.read_answer())["type"], "result");
}

TEST(Loopback, RealModelsFindThePose) {
  const std::filesystem::path photo = posestream::testing::test_data_dir() / "images" / "messi5.jpg";
  if (!std::filesystem::exists(photo)) GTEST_SKIP() << "no " << photo;
  RunningServer server;
  WsClient client(server.port());
  client.send_text(R"({"type":"config","pose":"lite","hands":"lite"})");
  const Bytes image = read_bytes(photo);
  for (std::uint64_t sequence = 0; sequence < 3; ++sequence) client.send_binary(psf1(sequence, 1'000 * (sequence + 1), image));
  std::set<std::uint64_t> answered;
  bool pose_seen = false;
  while (answered.size() < 3) {
    const std::optional<json> answer = client.read_answer();
    ASSERT_TRUE(answer.has_value());
    answered.insert((*answer)["sequence"].get<std::uint64_t>());
    if ((*answer)["type"] == "result" && (*answer)["pose"].is_object()) {
      pose_seen = true;
      EXPECT_EQ((*answer)["pose"]["landmarks"].size(), 33u);
      EXPECT_GE((*answer)["timing_ms"]["total"].get<double>(), (*answer)["timing_ms"]["pose"].get<double>());
    }
  }
  EXPECT_TRUE(pose_seen);
}

}  // namespace
}  // namespace posestream::server::testing
