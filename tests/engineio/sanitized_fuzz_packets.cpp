// Fuzzes the Engine.IO packet and payload decoders under ASan+UBSan: random and mutated inputs.
#include <gtest/gtest.h>

#include <random>

#include "server/engineio/packet.h"

namespace posestream::server::engineio {
namespace {

// Bounded: a few seconds under the sanitizers on a small machine.
constexpr int kIterations = 60'000;
constexpr std::size_t kMaxInputBytes = 512;

std::string random_bytes(std::mt19937& random, std::size_t size) {
  std::uniform_int_distribution<int> byte(0, 255);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(byte(random));
  return bytes;
}

// Valid payloads, then a few bytes flipped, inserted, removed or turned into separators.
std::string mutated_payload(std::mt19937& random) {
  std::vector<Packet> packets;
  const int count = std::uniform_int_distribution<int>(1, 6)(random);
  for (int i = 0; i < count; ++i) {
    const int kind = std::uniform_int_distribution<int>(0, 7)(random);
    const std::string data = random_bytes(random, std::uniform_int_distribution<std::size_t>(0, 24)(random));
    packets.push_back(kind == 7 ? binary_message(data) : Packet{static_cast<PacketType>(kind), false, data});
  }
  std::string text = encode_payload(packets);
  const int edits = std::uniform_int_distribution<int>(0, 4)(random);
  for (int i = 0; i < edits && !text.empty(); ++i) {
    const std::size_t at = std::uniform_int_distribution<std::size_t>(0, text.size() - 1)(random);
    switch (std::uniform_int_distribution<int>(0, 3)(random)) {
      case 0: text[at] = static_cast<char>(random() & 0xff); break;
      case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), static_cast<char>(random() & 0xff)); break;
      case 2: text.erase(at, 1); break;
      default: text[at] = kRecordSeparator; break;
    }
  }
  return text;
}

void check_decoders(const std::string& input) {
  const DecodedPayload payload = decode_payload(input);
  // Whatever decoded re-encodes and decodes to the same packets.
  const DecodedPayload again = decode_payload(encode_payload(payload.packets));
  if (!payload.packets.empty()) {
    ASSERT_TRUE(again.valid);
    ASSERT_EQ(again.packets, payload.packets);
  }
  if (std::optional<Packet> packet = decode_packet(input)) {
    ASSERT_EQ(decode_packet(encode_packet(*packet)), packet);
  }
  (void)decode_base64(input);
}

TEST(EngineIoFuzz, DecodersSurviveRandomAndMutatedInput) {
  std::mt19937 random(20261206);  // Fixed: a failure reproduces.
  for (int i = 0; i < kIterations; ++i) {
    const bool mutate = (i % 2) == 0;
    const std::string input = mutate ? mutated_payload(random)
                                     : random_bytes(random, std::uniform_int_distribution<std::size_t>(0, kMaxInputBytes)(random));
    check_decoders(input);
    if (::testing::Test::HasFatalFailure()) {
      ADD_FAILURE() << "iteration " << i << ", input of " << input.size() << " bytes";
      return;
    }
  }
}

}  // namespace
}  // namespace posestream::server::engineio
