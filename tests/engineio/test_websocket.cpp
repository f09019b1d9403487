// Engine.IO over WebSocket against a real server: SOCKETIO_FACTS.md 3.1 items 5, 6, 13-15, 18, 19, 21-24,
// and the message size limit.
#include <nlohmann/json.hpp>

#include <future>

#include "engineio/engineio_test_support.h"

namespace posestream::server::engineio::testing {
namespace {

using nlohmann::json;

// Whether a WebSocket to this query ends without a session: refused before the 101, or closed after it.
bool refused_or_closed(std::uint16_t port, const std::string& query) {
  try {
    WsPeer peer(port, query);
    return peer.closes_within(kWait);
  } catch (const beast::system_error&) {
    return true;
  }
}

// A polling session upgraded to WebSocket: 2probe, 3probe, 5.
std::unique_ptr<WsPeer> upgraded(std::uint16_t port, const std::string& sid) {
  auto peer = std::make_unique<WsPeer>(port, "EIO=4&transport=websocket&sid=" + sid);
  peer->text("2probe");
  EXPECT_EQ(peer->read(), (Frame{false, "3probe"}));
  peer->text("5");
  return peer;
}

TEST(EngineIoWebSocket, Item5TheFirstMessageIsTheOpenPacketWithoutUpgrades) {
  EchoServer server;
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  const std::optional<Frame> open = peer.read();
  ASSERT_TRUE(open);
  EXPECT_FALSE(open->binary);
  ASSERT_EQ(open->data.front(), '0');
  const json packet = json::parse(open->data.substr(1));
  EXPECT_EQ(packet.size(), 5u);
  EXPECT_EQ(packet["upgrades"], json::array());
  EXPECT_EQ(packet["pingInterval"], 300);
  EXPECT_EQ(packet["pingTimeout"], 200);
  EXPECT_EQ(packet["maxPayload"], 1000000);
  EXPECT_TRUE(packet["sid"].is_string());
}

TEST(EngineIoWebSocket, Item6BadParametersEndTheWebSocket) {
  EchoServer server;
  EXPECT_TRUE(refused_or_closed(server.port(), "transport=websocket"));
  EXPECT_TRUE(refused_or_closed(server.port(), "EIO=abc&transport=websocket"));
  EXPECT_TRUE(refused_or_closed(server.port(), "EIO=4"));
  EXPECT_TRUE(refused_or_closed(server.port(), "EIO=4&transport=abc"));
  EXPECT_TRUE(refused_or_closed(server.port(), "EIO=4&transport=websocket&sid=nosuchsession"));
  EXPECT_EQ(server.engine().session_count(), 0u);
}

TEST(EngineIoWebSocket, Items13And14TextAndBinaryAreEchoed) {
  EchoServer server(calm_options());
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  peer.text("4hello");
  EXPECT_EQ(peer.read(), (Frame{false, "4hello"}));
  peer.binary(std::string("\x01\x02\x03\x04", 4));
  EXPECT_EQ(peer.read(), (Frame{true, std::string("\x01\x02\x03\x04", 4)}));
}

TEST(EngineIoWebSocket, Item15AnInvalidPacketClosesTheWebSocket) {
  EchoServer server(calm_options());
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  peer.text("abc");
  EXPECT_TRUE(peer.closes_within(kWait));
  EXPECT_TRUE(eventually([&] { return server.closes() == std::vector<std::string>{"parse error"}; }));
}

TEST(EngineIoWebSocket, Item18TheServerPingsAndPongsKeepTheSession) {
  EchoServer server;
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(peer.read(), (Frame{false, "2"})) << "ping " << i;
    peer.text("3");
  }
  EXPECT_TRUE(server.closes().empty());
}

TEST(EngineIoWebSocket, Item19WithoutAPongTheServerClosesTheWebSocket) {
  EchoServer server;
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  EXPECT_EQ(peer.read(), (Frame{false, "2"}));
  EXPECT_TRUE(peer.closes_within(5s));  // The suite's limit.
  EXPECT_TRUE(eventually([&] { return server.closes() == std::vector<std::string>{"ping timeout"}; }));
}

TEST(EngineIoWebSocket, Item21AClosePacketClosesTheWebSocket) {
  EchoServer server(calm_options());
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  peer.text("1");
  EXPECT_TRUE(peer.closes_within(kWait));
  EXPECT_EQ(server.closes(), std::vector<std::string>{"client close"});
}

TEST(EngineIoWebSocket, Item22TheUpgradeAnswersGetsWithANoopThenMovesToTheWebSocket) {
  EchoServer server(calm_options());
  const std::string sid = open_polling(server.port());
  WsPeer peer(server.port(), "EIO=4&transport=websocket&sid=" + sid);
  peer.text("2probe");
  EXPECT_EQ(peer.read(), (Frame{false, "3probe"}));
  const Reply noop = get(server.port(), polling(sid));
  EXPECT_EQ(noop.result_int(), 200u);
  EXPECT_EQ(noop.body(), "6");
  peer.text("5");
  peer.text("4hello");
  EXPECT_EQ(peer.read(), (Frame{false, "4hello"}));
}

// A GET held when the probe is answered gets its noop too (the JS client's case).
TEST(EngineIoWebSocket, AHeldGetIsAnsweredWithANoopWhenTheProbeIs) {
  EchoServer server(calm_options());
  const std::string sid = open_polling(server.port());
  auto held = std::async(std::launch::async, [&] { return get(server.port(), polling(sid)); });
  std::this_thread::sleep_for(50ms);
  WsPeer peer(server.port(), "EIO=4&transport=websocket&sid=" + sid);
  peer.text("2probe");
  EXPECT_EQ(peer.read(), (Frame{false, "3probe"}));
  EXPECT_EQ(held.get().body(), "6");
  EXPECT_EQ(post(server.port(), polling(sid), "4queued").body(), "ok");  // Still polling until "5".
  peer.text("5");
  EXPECT_EQ(peer.read(), (Frame{false, "4queued"}));  // Queued during the upgrade, sent after it.
}

TEST(EngineIoWebSocket, Item23PollingAfterTheUpgradeIsABadRequest) {
  EchoServer server(calm_options());
  const std::string sid = open_polling(server.port());
  std::unique_ptr<WsPeer> peer = upgraded(server.port(), sid);
  peer->text("4hello");
  EXPECT_EQ(peer->read(), (Frame{false, "4hello"}));  // After "5" arrived.
  const Reply after = get(server.port(), polling(sid));
  EXPECT_EQ(after.result_int(), 400u);
  EXPECT_EQ(after.body(), "{\"code\":3,\"message\":\"Bad request\"}");
  peer->text("4again");
  EXPECT_EQ(peer->read(), (Frame{false, "4again"}));
}

TEST(EngineIoWebSocket, Item24ASecondWebSocketAfterTheUpgradeIsClosed) {
  EchoServer server(calm_options());
  const std::string sid = open_polling(server.port());
  std::unique_ptr<WsPeer> peer = upgraded(server.port(), sid);
  peer->text("4hello");
  EXPECT_EQ(peer->read(), (Frame{false, "4hello"}));
  EXPECT_TRUE(refused_or_closed(server.port(), "EIO=4&transport=websocket&sid=" + sid));
  peer->text("4still");
  EXPECT_EQ(peer->read(), (Frame{false, "4still"}));
}

TEST(EngineIoWebSocket, AMessageOverMaxPayloadClosesTheWebSocket) {
  Options options = calm_options();
  options.max_payload = 1000;
  EchoServer server(options);
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  peer.text("4" + std::string(999, 'x'));
  EXPECT_EQ(peer.read(), (Frame{false, "4" + std::string(999, 'x')}));
  peer.text("4" + std::string(1000, 'x'));
  EXPECT_TRUE(peer.closes_within(kWait));
  EXPECT_TRUE(eventually([&] { return server.engine().session_count() == 0; }));
}

TEST(EngineIoWebSocket, AServerCloseEndsTheWebSocketAfterQueuedMessages) {
  EchoServer server(calm_options());
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  peer.text("4last");
  EXPECT_EQ(peer.read(), (Frame{false, "4last"}));
  server.engine().close_all({});
  EXPECT_TRUE(peer.closes_within(kWait));
  EXPECT_EQ(server.closes(), std::vector<std::string>{"server close"});
}

}  // namespace
}  // namespace posestream::server::engineio::testing
