// posestream's Socket.IO endpoint on a real Server: frames answered over WebSocket and over TLS, a full
// server's CONNECT_ERROR, the drain's order (answers, then the DISCONNECT), and the slow-reader policy
// for a polling client that stops polling.
#include <map>
#include <set>

#include "server/tls_test_support.h"
#include "socketio_server/socketio_test_client.h"

namespace posestream::server::testing {
namespace {

const json kDecodeOnly = {{"pose", "off"}, {"hands", "off"}, {"drop_policy", "all"}};

// Reads events until every sequence in [0, count) has one answer (result or dropped); returns the kind
// of answer per sequence, and fails the test on a second answer.
template <class Client>
std::map<std::uint64_t, std::string> answers_for(Client& client, std::uint64_t count) {
  std::map<std::uint64_t, std::string> kinds;
  while (kinds.size() < count) {
    const auto event = client.read_event();
    if (!event) break;
    const auto& [name, body] = *event;
    if (name != "result" && name != "dropped") continue;
    const std::uint64_t first = body.at("sequence");
    const std::uint64_t last = body.value("last_sequence", first);
    for (std::uint64_t sequence = first; sequence <= last; ++sequence) {
      EXPECT_TRUE(kinds.emplace(sequence, name).second) << "sequence " << sequence << " answered twice";
    }
  }
  return kinds;
}

TEST(SocketIoServer, FramesOverWebSocketAreAnsweredInOrderOnce) {
  RunningServer server;
  PlainSocketIoClient client(server.port());
  const std::optional<std::string> joined = client.join();
  ASSERT_TRUE(joined && joined->starts_with("0{")) << joined.value_or("(nothing)");
  const auto hello = client.read_event();
  ASSERT_TRUE(hello && hello->first == "hello");
  client.emit("config", kDecodeOnly);
  for (std::uint64_t sequence = 0; sequence < 5; ++sequence) client.emit_frame(sequence, jpeg(64, 48, static_cast<int>(sequence)));
  const auto kinds = answers_for(client, 5);
  ASSERT_EQ(kinds.size(), 5u);
  for (const auto& [sequence, kind] : kinds) EXPECT_EQ(kind, "result") << sequence;
}

TEST(SocketIoServer, AFullServerRefusesTheNamespaceWithConnectError) {
  ServerOptions options = test_options();
  options.limits.max_sessions = 1;
  RunningServer server(options);
  WsClient holder(server.port());
  ASSERT_TRUE(holder.read());  // Its hello: the one session is taken.
  PlainSocketIoClient client(server.port());
  const std::optional<std::string> answer = client.join();
  ASSERT_TRUE(answer) << "no answer to the CONNECT";
  ASSERT_TRUE(answer->starts_with("4{")) << *answer;  // CONNECT_ERROR with {"message": ...}.
  EXPECT_FALSE(json::parse(answer->substr(1)).value("message", "").empty()) << *answer;
  // The /ws session is unaffected.
  holder.send_text(kDecodeOnlyConfig);
  holder.send_binary(psf1(0, 1, jpeg(64, 48)));
  const std::optional<json> result = holder.read_answer();
  ASSERT_TRUE(result);
  EXPECT_EQ((*result)["type"], "result");
}

// A drain answers every frame the server has read before its DISCONNECT; frames still in the socket
// buffers when it began were never received, and the client learns that from the DISCONNECT (as on
// /ws, where the close follows the answers). So: answers for a prefix of the frames, each once, all
// before the DISCONNECT, and nothing after it.
TEST(SocketIoServer, ADrainAnswersTheFramesItReadBeforeTheServerDisconnect) {
  RunningServer server;
  PlainSocketIoClient client(server.port());
  ASSERT_TRUE(client.join());
  ASSERT_TRUE(client.read_event());  // hello
  client.emit("config", kDecodeOnly);
  constexpr std::uint64_t kFrames = 12;
  const Bytes image = jpeg(1280, 720);  // Large enough that frames are still in flight at the drain.
  for (std::uint64_t sequence = 0; sequence < kFrames; ++sequence) client.emit_frame(sequence, image);
  server.drain();
  const auto kinds = answers_for(client, kFrames);
  EXPECT_EQ(client.last_packet(), "1") << "the events must end with the server's DISCONNECT";
  // None may have been read yet when the drain began (then none is owed an answer).
  if (!kinds.empty()) {
    EXPECT_EQ(kinds.rbegin()->first + 1, kinds.size()) << "the answered frames are not a prefix";
  }
  client.close();
  server.join();
}

// max_messages_per_second: a client sending faster is read no faster than the limit (its sends wait),
// and every frame still gets its answer; the pauses are counted as on /ws.
TEST(SocketIoServer, AFloodIsReadAtTheMessageRateAndEveryFrameAnswered) {
  ServerOptions options = test_options();
  options.limits.max_messages_per_second = 20;
  options.limits.message_burst = 1;
  RunningServer server(options);
  PlainSocketIoClient client(server.port());
  ASSERT_TRUE(client.join());
  ASSERT_TRUE(client.read_event());  // hello
  client.emit("config", kDecodeOnly);
  constexpr std::uint64_t kFrames = 10;
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t sequence = 0; sequence < kFrames; ++sequence) client.emit_frame(sequence, jpeg(64, 48));
  const auto kinds = answers_for(client, kFrames);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(kinds.size(), kFrames);
  // 11 events (config and 10 frames) at 20/s with a burst of 1: the last is read >= 0.5 s after the first.
  EXPECT_GE(seconds, 0.45) << "the events were read faster than max_messages_per_second";
  EXPECT_GE(metric(server.port(), "posestream_read_pauses_total"), 5.0);
}

// idle_timeout: a stream with no event for that long gets an `error` idle_timeout, then the server's
// DISCONNECT; its max_sessions slot is free again.
TEST(SocketIoServer, AnIdleStreamIsDisconnectedWithItsReason) {
  ServerOptions options = test_options();
  options.limits.idle_timeout = std::chrono::milliseconds{300};
  options.limits.max_sessions = 1;
  RunningServer server(options);
  {
    PlainSocketIoClient client(server.port());
    ASSERT_TRUE(client.join());
    ASSERT_TRUE(client.read_event());  // hello
    const auto error = client.read_event();
    ASSERT_TRUE(error) << "no error event before the disconnect";
    EXPECT_EQ(error->first, "error");
    EXPECT_EQ(error->second.value("code", ""), "idle_timeout");
    EXPECT_FALSE(client.read_event());
    EXPECT_EQ(client.last_packet(), "1");
  }
  // The slot is released once the server has let the stream go: retried for a while, not timed.
  std::optional<std::string> joined;
  for (int attempt = 0; attempt < 100 && !(joined && joined->starts_with("0{")); ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    PlainSocketIoClient next(server.port());
    joined = next.join();
  }
  EXPECT_TRUE(joined && joined->starts_with("0{")) << joined.value_or("(nothing)");
}

TEST(SocketIoServer, WebSocketAndPollingWorkOverTls) {
  const PemPair pair = self_signed("127.0.0.1");
  const auto dir = std::filesystem::temp_directory_path() / ("posestream-sio-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "cert.pem") << pair.cert;
  std::ofstream(dir / "key.pem") << pair.key;
  ServerOptions options = test_options();
  options.tls_cert_file = dir / "cert.pem";
  options.tls_key_file = dir / "key.pem";
  RunningServer server(options);
  net::ssl::context context(net::ssl::context::tls_client);
  context.add_certificate_authority(net::buffer(pair.cert));
  context.set_verify_mode(net::ssl::verify_peer);

  // Polling: the Engine.IO handshake over HTTPS.
  {
    net::io_context io;
    beast::ssl_stream<beast::tcp_stream> stream(io, context);
    beast::get_lowest_layer(stream).connect({net::ip::make_address("127.0.0.1"), server.port()});
    stream.handshake(net::ssl::stream_base::client);
    http::request<http::string_body> request{http::verb::get, "/socket.io/?EIO=4&transport=polling", 11};
    request.set(http::field::host, "127.0.0.1");
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    EXPECT_EQ(response.result_int(), 200u);
    EXPECT_TRUE(response.body().starts_with("0{\"sid\":")) << response.body();
  }
  // WebSocket: a frame and its result.
  TlsSocketIoClient client(server.port(), context);
  const std::optional<std::string> joined = client.join();
  ASSERT_TRUE(joined && joined->starts_with("0{")) << joined.value_or("(nothing)");
  ASSERT_TRUE(client.read_event());  // hello
  client.emit("config", kDecodeOnly);
  client.emit_frame(0, jpeg(64, 48));
  const auto kinds = answers_for(client, 1);
  EXPECT_EQ(kinds.size(), 1u);
  EXPECT_EQ(kinds.begin()->second, "result");
  server.stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace posestream::server::testing
