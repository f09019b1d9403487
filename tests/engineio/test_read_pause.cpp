// Socket::pause_reading against a real server: WebSocket and polling backpressure, order, heartbeats
// across pauses, the upgrade, closed sessions. Only lower bounds on time are asserted (a loaded machine).
#include <future>

#include "engineio/engineio_test_support.h"

namespace posestream::server::engineio::testing {
namespace {

using Clock = std::chrono::steady_clock;

// What the handlers saw: each message with the time it was handed on, the sockets, the close reasons.
struct PauseLog {
  std::mutex mutex;
  std::vector<std::pair<Clock::time_point, std::string>> received;
  std::vector<std::shared_ptr<Socket>> sockets;
  std::vector<std::string> closes;

  std::vector<std::string> messages() {
    const std::lock_guard lock(mutex);
    std::vector<std::string> out;
    for (const auto& [at, data] : received) out.push_back(data);
    return out;
  }
  std::vector<Clock::time_point> times() {
    const std::lock_guard lock(mutex);
    std::vector<Clock::time_point> out;
    for (const auto& [at, data] : received) out.push_back(at);
    return out;
  }
  std::shared_ptr<Socket> socket(std::size_t index = 0) {
    const std::lock_guard lock(mutex);
    return index < sockets.size() ? sockets[index] : nullptr;
  }
  std::vector<std::string> close_reasons() {
    const std::lock_guard lock(mutex);
    return closes;
  }
};

// Echoes every message, then pauses reading for `pause` (as a rate limit does after each message).
class PausingHandler : public SocketHandler {
 public:
  PausingHandler(std::weak_ptr<Socket> socket, std::shared_ptr<PauseLog> log, Clock::duration pause)
      : socket_(std::move(socket)), log_(std::move(log)), pause_(pause) {}
  void on_message(Message message) override {
    {
      const std::lock_guard lock(log_->mutex);
      log_->received.emplace_back(Clock::now(), message.data);  // Before the pause: the bound is exact.
    }
    if (const auto socket = socket_.lock()) {
      socket->send(std::move(message));
      socket->pause_reading(pause_);
    }
  }
  void on_close(std::string_view reason) override {
    const std::lock_guard lock(log_->mutex);
    log_->closes.emplace_back(reason);
  }

 private:
  std::weak_ptr<Socket> socket_;
  std::shared_ptr<PauseLog> log_;
  Clock::duration pause_;
};

// A posestream Server with only the pausing handler installed, run on a thread.
class PausingServer {
 public:
  PausingServer(Clock::duration pause, Options options = calm_options()) : server_(server_options({"*"})) {
    server_.add_engine_server(std::move(options), [log = log_, pause](std::shared_ptr<Socket> socket, const Handshake&) {
      {
        const std::lock_guard lock(log->mutex);
        log->sockets.push_back(socket);  // Kept: tests pause and use it from their own thread.
      }
      return std::make_unique<PausingHandler>(socket, log, pause);
    });
    thread_ = std::thread([this] { server_.run(); });
  }
  ~PausingServer() {
    server_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return server_.port(); }
  PauseLog& log() { return *log_; }

 private:
  std::shared_ptr<PauseLog> log_ = std::make_shared<PauseLog>();
  Server server_;
  std::thread thread_;
};

// Every consecutive pair of times at least `gap` apart.
void expect_spaced(const std::vector<Clock::time_point>& times, Clock::duration gap) {
  for (std::size_t i = 1; i < times.size(); ++i) {
    EXPECT_GE(times[i] - times[i - 1], gap) << "messages " << i - 1 << " and " << i;
  }
}

TEST(EngineIoReadPause, WebSocketMessagesAreHandedOnNoFasterThanThePausesAllowAllInOrder) {
  constexpr auto kPause = 150ms;
  PausingServer server(kPause);
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());  // The open packet.
  const auto sent_at = Clock::now();
  std::vector<std::string> sent;
  for (int i = 0; i < 6; ++i) {  // Back to back: the kernel takes them all at once.
    sent.push_back("m" + std::to_string(i));
    peer.text("4" + sent.back());
  }
  for (const std::string& data : sent) EXPECT_EQ(peer.read(), (Frame{false, "4" + data}));
  EXPECT_GE(Clock::now() - sent_at, 5 * kPause);
  EXPECT_EQ(server.log().messages(), sent);
  expect_spaced(server.log().times(), kPause);
  EXPECT_TRUE(server.log().close_reasons().empty());
}

// The pause asked while handling the first packet of a POST holds the rest of that POST, and its answer.
TEST(EngineIoReadPause, APausedPostIsAnsweredAfterThePausesAndItsPacketsHandedOnInOrder) {
  constexpr auto kPause = 200ms;
  PausingServer server(kPause);
  const std::string sid = open_polling(server.port());
  ASSERT_FALSE(sid.empty());
  const std::string three = "4a\x1e" "4b\x1e" "4c";
  const auto sent_at = Clock::now();
  EXPECT_EQ(post(server.port(), polling(sid), three).body(), "ok");
  EXPECT_GE(Clock::now() - sent_at, 3 * kPause);  // After c's pause too.
  EXPECT_EQ(server.log().messages(), (std::vector<std::string>{"a", "b", "c"}));
  expect_spaced(server.log().times(), kPause);
  EXPECT_EQ(get(server.port(), polling(sid)).body(), three);
}

// A pause asked from another thread holds a POST that arrives during it: packets and answer.
TEST(EngineIoReadPause, APostArrivingDuringAPauseFromAnotherThreadWaitsForItsEnd) {
  PausingServer server(Clock::duration::zero());
  const std::string sid = open_polling(server.port());
  ASSERT_TRUE(server.log().socket());
  const auto paused_at = Clock::now();
  server.log().socket()->pause_reading(600ms);
  server.log().socket()->pause_reading(50ms);  // Pauses extend, never shorten.
  EXPECT_EQ(post(server.port(), polling(sid), "4x").body(), "ok");
  EXPECT_GE(Clock::now() - paused_at, 600ms);
  ASSERT_EQ(server.log().messages(), std::vector<std::string>{"x"});
  EXPECT_GE(server.log().times()[0] - paused_at, 600ms);
  EXPECT_EQ(get(server.port(), polling(sid)).body(), "4x");
  EXPECT_TRUE(server.log().close_reasons().empty());
}

TEST(EngineIoReadPause, APauseFromAnotherThreadHoldsTheNextWebSocketMessage) {
  PausingServer server(Clock::duration::zero());
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  peer.text("4first");
  EXPECT_EQ(peer.read(), (Frame{false, "4first"}));
  const auto paused_at = Clock::now();
  server.log().socket()->pause_reading(500ms);
  peer.text("4second");
  EXPECT_EQ(peer.read(), (Frame{false, "4second"}));
  ASSERT_EQ(server.log().times().size(), 2u);
  EXPECT_GE(server.log().times()[1] - paused_at, 500ms);
  EXPECT_GE(Clock::now() - paused_at, 500ms);
}

// A compliant client never overlaps POSTs; one that does while its first is held gets the reference's
// answer to an overlap (400, the session closes); the held one is answered.
TEST(EngineIoReadPause, ASecondPostWhileOneIsHeldIsAnOverlap) {
  PausingServer server(Clock::duration::zero());
  const std::string sid = open_polling(server.port());
  server.log().socket()->pause_reading(2s);
  auto first = std::async(std::launch::async, [&] { return post(server.port(), polling(sid), "4one"); });
  std::this_thread::sleep_for(200ms);  // Held by then: the pause lasts far longer.
  const Reply second = post(server.port(), polling(sid), "4two");
  const Reply held = first.get();
  EXPECT_EQ(second.result_int() + held.result_int(), 400u + 200u) << second.body() << " / " << held.body();
  EXPECT_TRUE(eventually([&] { return server.log().close_reasons() == std::vector<std::string>{"transport error"}; }));
  EXPECT_TRUE(server.log().messages().empty());  // Dropped with the session, never handed on.
  EXPECT_EQ(get(server.port(), polling(sid)).result_int(), 400u);
}

// Pauses longer than ping_timeout, each holding the pong behind a message: the session lives (without
// counting the wait for the pong from the pause's end it times out at the first ping).
Options short_heartbeat() {
  Options options = suite_options();
  options.ping_interval = 300ms;
  options.ping_timeout = 300ms;
  return options;
}
constexpr auto kLongPause = 800ms;

TEST(EngineIoReadPause, WebSocketHeartbeatsKeepTheSessionAcrossPausesLongerThanThePingTimeout) {
  PausingServer server(kLongPause, short_heartbeat());
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  int pings = 0;
  int echoes = 0;
  while (pings < 3 || echoes < 3) {
    const std::optional<Frame> frame = peer.read();
    ASSERT_TRUE(frame) << "closed after " << pings << " pings: " << ::testing::PrintToString(server.log().close_reasons());
    if (frame->data == "2") {
      peer.text("4m" + std::to_string(pings++));  // Read at once, then a pause...
      peer.text("3");                              // ...holding the pong past ping_timeout.
    } else {
      EXPECT_EQ(frame->data, "4m" + std::to_string(echoes++));
    }
  }
  EXPECT_TRUE(server.log().close_reasons().empty());
  expect_spaced(server.log().times(), kLongPause);
}

TEST(EngineIoReadPause, PollingHeartbeatsKeepTheSessionAcrossPausesLongerThanThePingTimeout) {
  PausingServer server(kLongPause, short_heartbeat());
  const std::string sid = open_polling(server.port());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(get(server.port(), polling(sid)).body(), "2") << "ping " << i;
    const std::string message = "4m" + std::to_string(i);
    const auto sent_at = Clock::now();
    EXPECT_EQ(post(server.port(), polling(sid), message + "\x1e" "3").body(), "ok") << "pong " << i;
    EXPECT_GE(Clock::now() - sent_at, kLongPause);
    EXPECT_EQ(get(server.port(), polling(sid)).body(), message);
  }
  EXPECT_TRUE(server.log().close_reasons().empty());
}

// A dead client is still found: ping_timeout after the last pause ended.
TEST(EngineIoReadPause, WithoutAPongTheSessionTimesOutAfterThePause) {
  PausingServer server(Clock::duration::zero(), short_heartbeat());
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  EXPECT_EQ(peer.read(), (Frame{false, "2"}));
  server.log().socket()->pause_reading(500ms);
  EXPECT_TRUE(peer.closes_within(kWait));
  EXPECT_EQ(server.log().close_reasons(), std::vector<std::string>{"ping timeout"});
}

// The probe's own packets are not held; after "5" the WebSocket reads only when the pause has ended.
TEST(EngineIoReadPause, AnUpgradeDuringAPauseCompletesAndTheWebSocketWaitsForThePause) {
  PausingServer server(Clock::duration::zero());
  const std::string sid = open_polling(server.port());
  const auto paused_at = Clock::now();
  server.log().socket()->pause_reading(700ms);
  WsPeer peer(server.port(), "EIO=4&transport=websocket&sid=" + sid);
  peer.text("2probe");
  EXPECT_EQ(peer.read(), (Frame{false, "3probe"}));
  peer.text("5");
  peer.text("4after");
  EXPECT_EQ(peer.read(), (Frame{false, "4after"}));
  ASSERT_EQ(server.log().times().size(), 1u);
  EXPECT_GE(server.log().times()[0] - paused_at, 700ms);
  EXPECT_EQ(server.log().socket()->transport(), "websocket");
}

TEST(EngineIoReadPause, PausingAClosedSessionIsHarmless) {
  PausingServer server(Clock::duration::zero());
  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  peer.text("1");
  EXPECT_TRUE(peer.closes_within(kWait));
  ASSERT_TRUE(eventually([&] { return server.log().close_reasons().size() == 1u; }));
  const std::shared_ptr<Socket> closed = server.log().socket();
  closed->pause_reading(10s);
  closed->pause_reading(Clock::duration::max());  // Clamped: no overflow.
  closed->pause_reading(-1s);
  closed->send(Message{false, "late"});
  EXPECT_EQ(server.log().close_reasons(), std::vector<std::string>{"client close"});

  // Another session is not held by it.
  WsPeer other(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(other.read());
  other.text("4hello");
  EXPECT_EQ(other.read(), (Frame{false, "4hello"}));
}

// A client that closes during pauses: everything it sent before its close packet is handed on.
TEST(EngineIoReadPause, MessagesBeforeAClientCloseDuringPausesAreNotLost) {
  PausingServer server(100ms);
  const std::string sid = open_polling(server.port());
  EXPECT_EQ(post(server.port(), polling(sid), "4a\x1e" "4b\x1e" "1").body(), "ok");
  EXPECT_EQ(server.log().messages(), (std::vector<std::string>{"a", "b"}));

  WsPeer peer(server.port(), "EIO=4&transport=websocket");
  ASSERT_TRUE(peer.read());
  peer.text("4c");
  peer.text("4d");
  peer.text("1");
  EXPECT_TRUE(peer.closes_within(kWait));
  EXPECT_TRUE(eventually([&] { return server.log().close_reasons().size() == 2u; }));
  EXPECT_EQ(server.log().messages(), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(server.log().close_reasons(), (std::vector<std::string>{"client close", "client close"}));
}

}  // namespace
}  // namespace posestream::server::engineio::testing
