// Fuzzing the Socket.IO decoder, reconstructor and Connection under ASan+UBSan: random and mutated
// packets, fixed seed, bounded in count and time.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "server/socketio/binary.h"
#include "server/socketio/connection.h"
#include "server/socketio/packet.h"
#include "socketio/fake_engineio.h"

namespace posestream::server::socketio {
namespace {

constexpr std::uint64_t kSeed = 20261206;
// Each test stops at whichever comes first: enough cases to cover the grammar, little wall time.
constexpr int kMaxCases = 200'000;
constexpr auto kMaxTime = std::chrono::seconds{3};

const std::vector<std::string> kSeeds = {
    "0", R"(0{"token":"123"})", "0/admin,", R"(0/admin,{"token":"123"})", "0/custom", "1", "1/admin,",
    R"(2["foo"])", R"(2/admin,["bar"])", R"(212["foo"])", R"(312["bar"])", R"(3/admin,13["bar"])",
    R"(4{"message":"Not authorized"})", R"(4/random,{"message":"Invalid namespace"})",
    R"(51-["baz",{"_placeholder":true,"num":0}])",
    R"(52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
    R"(61-15["bar",{"_placeholder":true,"num":0}])", R"(2["message",1,"2",{"3":[true]}])",
    R"(2456["message-with-ack",1,"2",{"3":[false]}])", R"(2["a",{"b":[1.5e300,-0,null,"\u00e9\"]"]}])",
    "abc", "2{}", R"(2abc["x"])",
};

// Characters the grammar gives a meaning to, plus some that break it.
// Characters are split into literals so that a hex escape does not swallow the letter after it.
constexpr char kAlphabetChars[] = "0123456789-/,[]{}\":_placeholdernumtrue\\ " "\x00" "\xff" "\xc3\xa9" "e.+";
constexpr std::string_view kAlphabet(kAlphabetChars, sizeof(kAlphabetChars) - 1);  // Keeps the NUL.

class Fuzzer {
 public:
  std::string random_packet() {
    std::string out;
    const std::size_t length = pick(40);
    for (std::size_t i = 0; i < length; ++i) out += kAlphabet[pick(kAlphabet.size() - 1)];
    return out;
  }
  std::string mutated_packet() {
    std::string out = kSeeds[pick(kSeeds.size() - 1)];
    const std::size_t edits = 1 + pick(4);
    for (std::size_t i = 0; i < edits; ++i) mutate(out);
    return out;
  }
  std::string next() { return pick(3) == 0 ? random_packet() : mutated_packet(); }
  std::string random_bytes() { return std::string(pick(16), static_cast<char>(pick(255))); }
  std::size_t pick(std::size_t max) { return std::uniform_int_distribution<std::size_t>(0, max)(generator_); }

 private:
  void mutate(std::string& text) {
    const std::size_t at = text.empty() ? 0 : pick(text.size() - 1);
    const char c = kAlphabet[pick(kAlphabet.size() - 1)];
    switch (pick(4)) {
      case 0: if (!text.empty()) text[at] = c; break;
      case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
      case 2: if (!text.empty()) text.erase(at, 1 + pick(3)); break;
      case 3: text.insert(at, text.substr(at, pick(8))); break;  // Repeat a slice (nesting, digits).
      default: change_a_digit(text); break;
    }
  }
  // Numbers carry the grammar's bounds (attachment counts, ack ids, placeholder nums): nudge one to a
  // nearby value, which a random character rarely does while keeping the rest valid.
  void change_a_digit(std::string& text) {
    std::vector<std::size_t> digits;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] >= '0' && text[i] <= '9') digits.push_back(i);
    }
    if (!digits.empty()) text[digits[pick(digits.size() - 1)]] = static_cast<char>('0' + pick(3));
  }
  std::mt19937_64 generator_{kSeed};
};

bool out_of_time(std::chrono::steady_clock::time_point start) {
  return std::chrono::steady_clock::now() - start > kMaxTime;
}

TEST(SocketioFuzz, DecoderAndReconstructorNeverMisbehave) {
  Fuzzer fuzzer;
  DecodeLimits limits;
  limits.max_json_depth = 8;
  const auto start = std::chrono::steady_clock::now();
  int decoded = 0;
  for (int i = 0; i < kMaxCases && !out_of_time(start); ++i) {
    const std::string text = fuzzer.next();
    auto result = decode_packet(text, limits);
    auto* packet = std::get_if<Packet>(&result);
    if (!packet) continue;
    ++decoded;
    // What decodes re-encodes to text that decodes to the same packet.
    const std::string encoded = encode_packet(*packet);
    auto again = decode_packet(encoded, limits);
    ASSERT_TRUE(std::holds_alternative<Packet>(again)) << text << " -> " << encoded;
    EXPECT_EQ(encode_packet(std::get<Packet>(again)), encoded);
    if (!is_binary_type(packet->type)) continue;
    Reconstructor reconstructor(64);
    reconstructor.start(*packet);
    for (std::size_t a = 0; a < packet->attachments + 1 && reconstructor.active(); ++a) {
      reconstructor.add(fuzzer.random_bytes());
    }
  }
  EXPECT_GT(decoded, 1000);  // The mutations keep enough inputs valid to reach past the header.
}

TEST(SocketioFuzz, ConnectionSurvivesRandomMessageSequences) {
  Fuzzer fuzzer;
  boost::asio::io_context io;
  auto echo = [](const ConnectRequest& request) -> ConnectResult {
    class Echo final : public SocketHandler {
     public:
      explicit Echo(Socket socket) : socket_(std::move(socket)) {}
      void on_event(std::string_view event, Json args, Ack ack) override {
        socket_.emit(event, args);
        ack(std::move(args));
      }
     private:
      Socket socket_;
    };
    return std::make_unique<Echo>(request.socket);
  };
  const auto namespaces = std::make_shared<const Namespaces>(Namespaces{{"/", echo}, {"/admin", echo}});
  const auto start = std::chrono::steady_clock::now();
  for (int session = 0; session < kMaxCases / 20 && !out_of_time(start); ++session) {
    auto socket = std::make_shared<testing::FakeEngineSocket>();
    Options options;
    options.max_attachment_bytes = 64;
    Connection connection(socket, engineio::Handshake{}, namespaces, options, io.get_executor());
    connection.on_message({false, "0"});
    for (int m = 0; m < 20 && !socket->closed(); ++m) {
      const bool binary = fuzzer.pick(4) == 0;
      connection.on_message({binary, binary ? fuzzer.random_bytes() : fuzzer.next()});
      socket->take();
    }
    connection.on_close("transport close");
  }
  io.run();
}

}  // namespace
}  // namespace posestream::server::socketio
