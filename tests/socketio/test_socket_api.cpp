// The application API over a fake Engine.IO socket: emits from threads, acks both ways, refusals,
// server disconnect, handler failures.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "server/socketio/connection.h"
#include "socketio/fake_engineio.h"

namespace posestream::server::socketio {
namespace {

using testing::FakeEngineSocket;

// What the handlers of one connection saw, shared with the test.
struct Log {
  std::vector<Socket> sockets;
  std::vector<std::string> events;  // "<nsp> <name> <args>"
  std::vector<Ack> acks;
  std::vector<std::string> disconnects;
};

class RecordingHandler final : public SocketHandler {
 public:
  RecordingHandler(Socket socket, std::shared_ptr<Log> log) : socket_(std::move(socket)), log_(std::move(log)) {}
  void on_event(std::string_view event, Json args, Ack ack) override {
    if (event == "throw") throw std::runtime_error("handler failed");
    log_->events.push_back(socket_.nsp() + " " + std::string(event) + " " + dump_json(args));
    log_->acks.push_back(ack);
  }
  void on_disconnect(std::string_view reason) override {
    log_->disconnects.push_back(socket_.nsp() + " " + std::string(reason));
  }

 private:
  Socket socket_;
  std::shared_ptr<Log> log_;
};

class SocketApi : public ::testing::Test {
 protected:
  SocketApi() {
    auto recording = [log = log_](const ConnectRequest& request) -> ConnectResult {
      EXPECT_FALSE(request.socket.emit("early"));  // Not connected before the CONNECT answer.
      log->sockets.push_back(request.socket);
      return std::make_unique<RecordingHandler>(request.socket, log);
    };
    auto refusing = [](const ConnectRequest& request) -> ConnectResult {
      return Refusal{"no token " + request.auth.value("token", std::string("none"))};
    };
    auto null_handler = [](const ConnectRequest&) -> ConnectResult { return std::unique_ptr<SocketHandler>(); };
    auto namespaces = std::make_shared<const Namespaces>(Namespaces{
        {"/", recording}, {"/admin", recording}, {"/private", refusing}, {"/null", null_handler}});
    Options options;
    options.max_pending_acks = 2;
    handshake_.sid = socket_->sid();
    connection_ = std::make_unique<Connection>(socket_, handshake_, namespaces, options, io_.get_executor());
  }
  ~SocketApi() override {
    if (connection_) connection_->on_close("transport close");
  }
  void text(const std::string& data) { connection_->on_message({false, data}); }
  void binary(const std::string& data) { connection_->on_message({true, data}); }
  std::vector<std::string> texts() {
    std::vector<std::string> out;
    for (auto& message : socket_->take()) out.push_back((message.binary ? "<bin>" : "") + message.data);
    return out;
  }
  Socket join(const std::string& connect) {
    text(connect);
    texts();
    return log_->sockets.back();
  }

  boost::asio::io_context io_;
  std::shared_ptr<FakeEngineSocket> socket_ = std::make_shared<FakeEngineSocket>();
  engineio::Handshake handshake_;
  std::shared_ptr<Log> log_ = std::make_shared<Log>();
  std::unique_ptr<Connection> connection_;
};

TEST_F(SocketApi, EventsReachTheHandlerWithTheirArguments) {
  join("0");
  join("0/admin,");
  text(R"(2["frame",{"sequence":1,"image":"data:x"}])");
  text(R"(2/admin,7["cfg"])");
  text(R"(2[42,"numbered"])");
  EXPECT_EQ(log_->events, (std::vector<std::string>{R"(/ frame [{"sequence":1,"image":"data:x"}])",
                                                    "/admin cfg []", R"(/ 42 ["numbered"])"}));
  EXPECT_FALSE(log_->acks[0].requested());
  EXPECT_TRUE(log_->acks[1].requested());
}

TEST_F(SocketApi, EmitsEncodeBinaryArgumentsAndStopAfterDisconnect) {
  Socket main = join("0");
  EXPECT_TRUE(main.connected());
  EXPECT_EQ(main.id().size(), 20u);
  EXPECT_TRUE(main.emit("result", Json::array({Json{{"sequence", 3}}})));
  EXPECT_TRUE(main.emit("hello"));
  EXPECT_TRUE(main.emit("bin", Json::array({make_binary("\x01\x02"), "x"})));
  EXPECT_EQ(texts(), (std::vector<std::string>{R"(2["result",{"sequence":3}])", R"(2["hello"])",
                                               R"(51-["bin",{"_placeholder":true,"num":0},"x"])",
                                               "<bin>\x01\x02"}));
  text("1");
  EXPECT_FALSE(main.connected());
  EXPECT_FALSE(main.emit("late"));
  EXPECT_TRUE(texts().empty());
  EXPECT_EQ(log_->disconnects, std::vector<std::string>{"/ client namespace disconnect"});
}

TEST_F(SocketApi, AckIsSentOnceFromAnyThread) {
  join("0");
  text(R"(25["frame",1])");
  const Ack ack = log_->acks.at(0);
  std::atomic<int> sent{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] { sent += ack(Json::array({make_binary("r")})) ? 1 : 0; });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(sent.load(), 1);
  EXPECT_EQ(texts(), (std::vector<std::string>{R"(61-5[{"_placeholder":true,"num":0}])", "<bin>r"}));
}

TEST_F(SocketApi, ConcurrentBinaryEmitsKeepTheirAttachmentsTogether) {
  Socket main = join("0");
  constexpr int kThreads = 4;
  constexpr int kEmits = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEmits; ++i) {
        const std::string tag = std::to_string(t) + ":" + std::to_string(i);
        main.emit("b", Json::array({tag, make_binary(tag + "a"), make_binary(tag + "b")}));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const auto sent = texts();
  ASSERT_EQ(sent.size(), std::size_t{kThreads * kEmits * 3});
  for (std::size_t i = 0; i < sent.size(); i += 3) {
    const Json args = Json::parse(sent[i].substr(3));
    const std::string tag = args.at(1).get<std::string>();
    EXPECT_EQ(sent[i + 1], "<bin>" + tag + "a");
    EXPECT_EQ(sent[i + 2], "<bin>" + tag + "b");
  }
}

TEST_F(SocketApi, ServerEmitWithAckGetsTheClientsAck) {
  Socket admin = join("0/admin");
  std::vector<std::string> answers;
  EXPECT_TRUE(admin.emit_with_ack("ask", Json::array({1}), [&](Json args) { answers.push_back(dump_json(args)); }));
  EXPECT_TRUE(admin.emit_with_ack("ask", Json::array(), [&](Json args) {
    answers.push_back(std::string(binary_bytes(args.at(0))));
  }));
  EXPECT_FALSE(admin.emit_with_ack("ask", Json::array(), [](Json) {}));  // max_pending_acks 2.
  EXPECT_EQ(texts(), (std::vector<std::string>{R"(2/admin,0["ask",1])", R"(2/admin,1["ask"])"}));
  text(R"(3/admin,0["ok",{"a":1}])");
  text(R"(3/admin,0["again"])");  // Already answered: ignored.
  text(R"(3/admin,9[])");         // Unknown: ignored.
  text(R"(61-/admin,1[{"_placeholder":true,"num":0}])");
  binary("\x07");
  EXPECT_EQ(answers, (std::vector<std::string>{R"(["ok",{"a":1}])", "\x07"}));
  EXPECT_FALSE(socket_->closed());
}

TEST_F(SocketApi, RefusalAnswersConnectErrorAndKeepsTheSession) {
  text(R"(0/private,{"token":"t"})");
  EXPECT_EQ(texts(), std::vector<std::string>{R"(4/private,{"message":"no token t"})"});
  EXPECT_FALSE(socket_->closed());
  text("0/null");
  EXPECT_EQ(texts(), std::vector<std::string>{R"(4/null,{"message":"Connection rejected by server"})"});
  join("0");
  EXPECT_EQ(log_->sockets.size(), 1u);
}

TEST_F(SocketApi, ServerDisconnectLeavesEveryNamespaceThenCloses) {
  Socket main = join("0");
  join("0/admin");
  main.disconnect();
  EXPECT_EQ(texts(), (std::vector<std::string>{"1", "1/admin,"}));
  EXPECT_EQ(socket_->close_reason().value_or(""), "server namespace disconnect");
  EXPECT_FALSE(main.emit("late"));
  connection_->on_close("server namespace disconnect");
  connection_.reset();
  EXPECT_EQ(log_->disconnects, (std::vector<std::string>{"/ server namespace disconnect",
                                                         "/admin server namespace disconnect"}));
}

TEST_F(SocketApi, SessionCloseReachesEveryHandlerOnce) {
  join("0");
  join("0/admin");
  connection_->on_close("ping timeout");
  connection_.reset();
  EXPECT_EQ(log_->disconnects, (std::vector<std::string>{"/ ping timeout", "/admin ping timeout"}));
  EXPECT_FALSE(log_->sockets[0].connected());
}

TEST_F(SocketApi, AThrowingHandlerClosesTheSession) {
  join("0");
  text(R"(2["throw"])");
  EXPECT_EQ(socket_->close_reason().value_or(""), "server error");
}

TEST_F(SocketApi, PauseReadingPausesTheEngineIoSessionWhileConnected) {
  using std::chrono::steady_clock;
  using namespace std::chrono_literals;
  Socket main = join("0");
  main.pause_reading(300ms);
  main.pause_reading(50ms);  // Forwarded as asked: the Engine.IO layer keeps the longer one.
  Socket().pause_reading(1s);
  EXPECT_EQ(socket_->pauses(), (std::vector<steady_clock::duration>{300ms, 50ms}));
  text("1");  // The client left "/": its handle no longer pauses the session.
  main.pause_reading(1s);
  EXPECT_EQ(socket_->pauses().size(), 2u);
  Socket admin = join("0/admin");
  connection_->on_close("transport close");
  connection_.reset();
  admin.pause_reading(1s);  // The session closed.
  EXPECT_EQ(socket_->pauses().size(), 2u);
}

TEST_F(SocketApi, HandlesOutliveTheConnection) {
  Socket main = join("0");
  text(R"(21["frame"])");
  const Ack ack = log_->acks.at(0);
  connection_->on_close("transport close");
  connection_.reset();
  socket_.reset();
  EXPECT_FALSE(main.emit("late"));
  EXPECT_FALSE(ack());
  main.disconnect();
  main.pause_reading(std::chrono::seconds{1});
  EXPECT_FALSE(Socket().emit("x"));
  EXPECT_FALSE(Ack()());
}

}  // namespace
}  // namespace posestream::server::socketio
