// socketio::Connection over a fake Engine.IO socket: the SOCKETIO_FACTS 3.2 obligations of this layer.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "server/socketio/connection.h"
#include "socketio/conformance_handlers.h"
#include "socketio/fake_engineio.h"

namespace posestream::server::socketio {
namespace {

using testing::FakeEngineSocket;

const std::string kPlaceholders = R"({"_placeholder":true,"num":0},{"_placeholder":true,"num":1})";

// One Engine.IO session with the suite's namespaces. Messages are the Engine.IO message data: the
// wire's "42[...]" is "2[...]" here.
class SuiteConnection : public ::testing::Test {
 protected:
  explicit SuiteConnection(Options options = conformance::suite_options(),
                           std::shared_ptr<const Namespaces> namespaces = conformance::make_namespaces()) {
    handshake_.sid = socket_->sid();
    handshake_.transport = "websocket";
    connection_ = std::make_unique<Connection>(socket_, handshake_, std::move(namespaces), options,
                                               io_.get_executor());
  }
  ~SuiteConnection() override {
    if (connection_) connection_->on_close("transport close");
  }

  void text(const std::string& data) { connection_->on_message({false, data}); }
  void binary(const std::string& data) { connection_->on_message({true, data}); }
  std::vector<std::string> texts() {
    std::vector<std::string> out;
    for (auto& message : socket_->take()) out.push_back((message.binary ? "<bin>" : "") + message.data);
    return out;
  }
  // Joins `nsp_prefix` ("" or "/custom,") and checks the two answers of the suite: the CONNECT answer
  // with exactly a string sid, then the auth event.
  void expect_joined(const std::string& connect, const std::string& answer_prefix, const std::string& auth_event) {
    text(connect);
    const auto sent = texts();
    ASSERT_EQ(sent.size(), 2u) << connect;
    ASSERT_EQ(sent[0].rfind(answer_prefix, 0), 0u) << sent[0];
    const Json answer = Json::parse(sent[0].substr(answer_prefix.size()));
    ASSERT_TRUE(answer.is_object());
    EXPECT_EQ(answer.size(), 1u);
    EXPECT_TRUE(answer.at("sid").is_string());
    EXPECT_EQ(sent[1], auth_event);
    EXPECT_FALSE(socket_->closed());
  }

  boost::asio::io_context io_;
  std::shared_ptr<FakeEngineSocket> socket_ = std::make_shared<FakeEngineSocket>();
  engineio::Handshake handshake_;
  std::unique_ptr<Connection> connection_;
};

TEST_F(SuiteConnection, ConnectsToMainNamespace) { expect_joined("0", "0", R"(2["auth",{}])"); }

TEST_F(SuiteConnection, ConnectsToMainNamespaceWithAuth) {
  expect_joined(R"(0{"token":"123"})", "0", R"(2["auth",{"token":"123"}])");
}

TEST_F(SuiteConnection, ConnectsToCustomNamespace) {
  expect_joined("0/custom,", "0/custom,", R"(2/custom,["auth",{}])");
}

TEST_F(SuiteConnection, ConnectsToCustomNamespaceWithAuth) {
  expect_joined(R"(0/custom,{"token":"abc"})", "0/custom,", R"(2/custom,["auth",{"token":"abc"}])");
}

TEST_F(SuiteConnection, EachNamespaceSocketGetsItsOwnSid) {
  text("0");
  text("0/custom");
  const auto sent = texts();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_NE(Json::parse(sent[0].substr(1)).at("sid"), Json::parse(sent[2].substr(9)).at("sid"));
}

TEST_F(SuiteConnection, RefusesUnknownNamespace) {
  text("0/random");
  EXPECT_EQ(texts(), std::vector<std::string>{R"(4/random,{"message":"Invalid namespace"})"});
  EXPECT_FALSE(socket_->closed());
}

TEST_F(SuiteConnection, InvalidHandshakeCloses) {
  text("abc");
  EXPECT_TRUE(socket_->closed());
  EXPECT_TRUE(texts().empty());
}

TEST_F(SuiteConnection, DisconnectFromMainIsNotAnsweredAndKeepsTheSession) {
  expect_joined("0", "0", R"(2["auth",{}])");
  text("1");
  EXPECT_TRUE(texts().empty());
  EXPECT_FALSE(socket_->closed());
  text(R"(2["message",1])");  // No longer joined: invalid state, as the reference.
  EXPECT_TRUE(socket_->closed());
}

TEST_F(SuiteConnection, DisconnectFromCustomThenMessageToMain) {
  expect_joined("0", "0", R"(2["auth",{}])");
  expect_joined("0/custom", "0/custom,", R"(2/custom,["auth",{}])");
  text("1/custom");
  text(R"(2["message","message to main namespace"])");
  EXPECT_EQ(texts(), std::vector<std::string>{R"(2["message-back","message to main namespace"])"});
  EXPECT_FALSE(socket_->closed());
}

TEST_F(SuiteConnection, EchoesMessageByteIdentical) {
  expect_joined("0", "0", R"(2["auth",{}])");
  text(R"(2["message",1,"2",{"3":[true]}])");
  EXPECT_EQ(texts(), std::vector<std::string>{R"(2["message-back",1,"2",{"3":[true]}])"});
}

TEST_F(SuiteConnection, EchoesBinaryMessageWithTwoAttachments) {
  expect_joined("0", "0", R"(2["auth",{}])");
  text(R"(52-["message",)" + kPlaceholders + "]");
  EXPECT_TRUE(texts().empty());
  binary("\x01\x02\x03");
  binary("\x04\x05\x06");
  EXPECT_EQ(texts(), (std::vector<std::string>{R"(52-["message-back",)" + kPlaceholders + "]",
                                               "<bin>\x01\x02\x03", "<bin>\x04\x05\x06"}));
}

TEST_F(SuiteConnection, AcksWithTheArguments) {
  expect_joined("0", "0", R"(2["auth",{}])");
  text(R"(2456["message-with-ack",1,"2",{"3":[false]}])");
  EXPECT_EQ(texts(), std::vector<std::string>{R"(3456[1,"2",{"3":[false]}])"});
}

TEST_F(SuiteConnection, AcksBinaryAsBinaryAck) {
  expect_joined("0", "0", R"(2["auth",{}])");
  text(R"(52-789["message-with-ack",)" + kPlaceholders + "]");
  binary("\x01\x02\x03");
  binary("\x04\x05\x06");
  EXPECT_EQ(texts(), (std::vector<std::string>{"62-789[" + kPlaceholders + "]", "<bin>\x01\x02\x03",
                                               "<bin>\x04\x05\x06"}));
}

TEST_F(SuiteConnection, InvalidPacketsOfTheSuiteClose) {
  for (const std::string bad : {"abc", "2{}", R"(2abc["message-with-ack",1,"2",{"3":[false]}])"}) {
    socket_ = std::make_shared<FakeEngineSocket>();
    connection_ = std::make_unique<Connection>(socket_, handshake_, conformance::make_namespaces(),
                                               conformance::suite_options(), io_.get_executor());
    expect_joined("0", "0", R"(2["auth",{}])");
    text(bad);
    EXPECT_EQ(socket_->close_reason().value_or(""), "parse error") << bad;
    text(R"(2["message",1])");  // Ignored once closing.
    EXPECT_TRUE(texts().empty()) << bad;
  }
}

TEST_F(SuiteConnection, InvalidStatesClose) {
  for (const std::string bad : {"0", R"(4{"message":"x"})", "1/custom,", R"(2/custom,["message"])"}) {
    socket_ = std::make_shared<FakeEngineSocket>();
    connection_ = std::make_unique<Connection>(socket_, handshake_, conformance::make_namespaces(),
                                               conformance::suite_options(), io_.get_executor());
    text("0");
    texts();
    text(bad);
    EXPECT_EQ(socket_->close_reason().value_or(""), "invalid state") << bad;
  }
}

TEST_F(SuiteConnection, AttachmentOrderViolationsClose) {
  expect_joined("0", "0", R"(2["auth",{}])");
  binary("\x01");  // None announced.
  EXPECT_TRUE(socket_->closed());

  socket_ = std::make_shared<FakeEngineSocket>();
  connection_ = std::make_unique<Connection>(socket_, handshake_, conformance::make_namespaces(),
                                             conformance::suite_options(), io_.get_executor());
  text("0");
  text(R"(52-["message",)" + kPlaceholders + "]");
  binary("\x01");
  text(R"(2["message",1])");  // Text while the second attachment is awaited.
  EXPECT_TRUE(socket_->closed());
}

TEST_F(SuiteConnection, AttachmentBytesAreBounded) {
  Options options = conformance::suite_options();
  options.max_attachment_bytes = 10;
  connection_ = std::make_unique<Connection>(socket_, handshake_, conformance::make_namespaces(), options,
                                             io_.get_executor());
  text("0");
  text(R"(52-["message",)" + kPlaceholders + "]");
  binary(std::string(6, 'a'));
  EXPECT_FALSE(socket_->closed());
  binary(std::string(6, 'b'));
  EXPECT_TRUE(socket_->closed());
}

TEST_F(SuiteConnection, ConnectTimeoutClosesTheSession) {
  Options options = conformance::suite_options();
  options.connect_timeout = std::chrono::milliseconds{30};
  connection_ = std::make_unique<Connection>(socket_, handshake_, conformance::make_namespaces(), options,
                                             io_.get_executor());
  io_.run_for(std::chrono::milliseconds{10});
  EXPECT_FALSE(socket_->closed());
  io_.run_for(std::chrono::milliseconds{500});
  EXPECT_EQ(socket_->close_reason().value_or(""), "connect timeout");
}

TEST_F(SuiteConnection, JoiningCancelsTheConnectTimeout) {
  Options options = conformance::suite_options();
  options.connect_timeout = std::chrono::milliseconds{2000};
  connection_ = std::make_unique<Connection>(socket_, handshake_, conformance::make_namespaces(), options,
                                             io_.get_executor());
  text("0/random");  // A refusal does not count as joining...
  text("0/custom");  // ...a join does.
  const auto start = std::chrono::steady_clock::now();
  io_.run();  // Returns once the cancelled timer's handler ran: nothing else is pending.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds{1000});
  EXPECT_FALSE(socket_->closed());
}

TEST_F(SuiteConnection, SessionCloseEndsEverySocket) {
  text("0");
  texts();
  connection_->on_close("ping timeout");
  text(R"(2["message",1])");
  EXPECT_TRUE(texts().empty());
  connection_.reset();
  io_.run();  // The connect deadline was settled: nothing waits.
}

}  // namespace
}  // namespace posestream::server::socketio
