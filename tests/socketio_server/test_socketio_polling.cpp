// posestream over Socket.IO's polling transport: a client that posts frames but stops polling gets its
// later answers as `dropped` (overflow) instead of results, once its unsent answers pass
// max_write_queue_bytes, as /ws does for a slow reader; each frame still gets exactly one answer.
#include <openssl/evp.h>

#include <algorithm>
#include <map>

#include "server/server_test_support.h"

namespace posestream::server::testing {
namespace {

// One Engine.IO polling session over plain HTTP requests.
class PollingClient {
 public:
  explicit PollingClient(std::uint16_t port) : port_(port) {
    const HttpReply open = http_request(port_, http::verb::get, "/socket.io/?EIO=4&transport=polling");
    if (open.status != 200 || !open.body.starts_with("0{")) throw std::runtime_error("handshake: " + open.body);
    sid_ = json::parse(open.body.substr(1)).at("sid");
  }
  unsigned post(const std::vector<std::string>& packets) {
    std::string body;
    for (const std::string& packet : packets) body += (body.empty() ? "" : "\x1e") + packet;
    return http_request(port_, http::verb::post, target(), body).status;
  }
  // One GET's packets (the server answers at once when it has some, else holds the GET until a ping).
  std::vector<std::string> get() {
    const HttpReply reply = http_request(port_, http::verb::get, target());
    std::vector<std::string> packets;
    std::size_t from = 0;
    while (from <= reply.body.size() && !reply.body.empty()) {
      const std::size_t to = std::min(reply.body.find('\x1e', from), reply.body.size());
      packets.push_back(reply.body.substr(from, to - from));
      from = to + 1;
    }
    return packets;
  }

 private:
  std::string target() const { return "/socket.io/?EIO=4&transport=polling&sid=" + sid_; }
  std::uint16_t port_;
  std::string sid_;
};

std::string data_url(const Bytes& image) {
  std::string base64(4 * ((image.size() + 2) / 3) + 1, '\0');
  base64.resize(static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()), image.data(),
                                                         static_cast<int>(image.size()))));
  return "data:image/jpeg;base64," + base64;
}

std::string frame_packet(std::uint64_t sequence, const std::string& data_url) {
  return "42" + json::array({"frame", {{"sequence", sequence}, {"image", data_url}}}).dump();
}

TEST(SocketIoPolling, AClientThatStopsPollingGetsDroppedAnswersOncePastTheWriteQueueLimit) {
  ServerOptions options = test_options();
  options.limits.max_write_queue_bytes = 16 * 1024;  // The smallest allowed: ~60 decode-only results.
  RunningServer server(options);
  PollingClient client(server.port());
  ASSERT_EQ(client.post({"40"}), 200u);
  ASSERT_EQ(client.post({"42" + json::array({"config", {{"pose", "off"}, {"hands", "off"}, {"drop_policy", "all"}}})
                                     .dump()}),
            200u);
  const std::string image = data_url(jpeg(64, 48));
  // Far more answers than 16 KiB holds as results, posted in batches below max_queued_frames (32) so
  // that the stream's own queue takes them all.
  constexpr std::uint64_t kFrames = 200;
  constexpr std::uint64_t kBatch = 20;
  for (std::uint64_t first = 0; first < kFrames; first += kBatch) {
    std::vector<std::string> frames;
    for (std::uint64_t sequence = first; sequence < first + kBatch; ++sequence) frames.push_back(frame_packet(sequence, image));
    ASSERT_EQ(client.post(frames), 200u);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  // Let the server answer everything into the session's queue before polling again.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  std::map<std::uint64_t, std::string> kinds;
  for (int polls = 0; polls < 200 && kinds.size() < kFrames; ++polls) {
    for (const std::string& packet : client.get()) {
      if (!packet.starts_with("42")) continue;
      const json event = json::parse(packet.substr(2));
      const std::string name = event.at(0);
      if (name != "result" && name != "dropped") continue;
      const std::uint64_t first = event.at(1).at("sequence");
      const std::uint64_t last = event.at(1).value("last_sequence", first);
      if (name == "dropped") {
        EXPECT_EQ(event.at(1).value("reason", ""), "overflow") << packet;
      }
      for (std::uint64_t sequence = first; sequence <= last; ++sequence) {
        EXPECT_TRUE(kinds.emplace(sequence, name).second) << "sequence " << sequence << " answered twice";
      }
    }
  }
  ASSERT_EQ(kinds.size(), kFrames) << "every frame gets one answer";
  const auto dropped = std::count_if(kinds.begin(), kinds.end(), [](const auto& k) { return k.second == "dropped"; });
  EXPECT_LT(dropped, static_cast<long>(kFrames)) << "the first results fit the queue and are sent as results";
  // The slow-reader downgrade, not the stream's own overflow: only the former counts here.
  const double downgraded = metric(server.port(), "posestream_answers_downgraded_total");
  EXPECT_GT(downgraded, 0) << "with nothing polled, results past 16 KiB must be downgraded";
  EXPECT_LE(downgraded, static_cast<double>(dropped));
}

}  // namespace
}  // namespace posestream::server::testing
