// Seeded mutation fuzzing of the protocol parser under ASan+UBSan: every input yields one parsed message.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "server/protocol.h"

namespace posestream::server {
namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr int kIterationsPerSeed = 4000;

std::vector<std::string> text_seeds() {
  return {R"({"sequence":42,"timestamp":12.5,"image":"data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ=="})",
          R"({"sequence":0,"image":"iVBORw0KGgoAAAANSUhEUg"})",
          R"({"type":"config","pose":"lite","hands":"off","smoothing":false,"drop_policy":"all"})",
          R"({"type":"reset"})",
          R"({"type":"frame","sequence":18446744073709551615,"image":"Zm9vYmFy","extra":[1,{"a":[2]}]})",
          "data:image/png;base64,Zm9vYmE=",
          "\"Zm9vYg==\"",
          "Zm9v"};
}

Bytes binary_seed(std::uint64_t sequence, std::size_t image_bytes) {
  Bytes bytes = {'P', 'S', 'F', '1'};
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(sequence >> (8 * i)));
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>((sequence * 33'333) >> (8 * i)));
  for (std::size_t i = 0; i < image_bytes; ++i) bytes.push_back(static_cast<std::uint8_t>(0xD8 + i));
  return bytes;
}

// Characters that steer the JSON and base64 parsers into their interesting branches.
constexpr char kInterestingChars[] = "{}[]\":,=\\-.eE0123456789+/ \t\nnulltruefalse\xff\x00";
constexpr std::string_view kInteresting(kInterestingChars, sizeof kInterestingChars - 1);  // Keeps the NUL.

template <typename Buffer>
void mutate(Buffer& bytes, std::mt19937& random) {
  const auto position = [&] { return bytes.empty() ? std::size_t{0} : random() % bytes.size(); };
  const auto interesting = [&] { return static_cast<typename Buffer::value_type>(kInteresting[random() % kInteresting.size()]); };
  switch (random() % 6) {
    case 0:
      for (int i = 0, n = 1 + random() % 4; i < n && !bytes.empty(); ++i) bytes[position()] ^= 1u << (random() % 8);
      break;
    case 1:
      for (int i = 0, n = 1 + random() % 3; i < n && !bytes.empty(); ++i) bytes[position()] = interesting();
      break;
    case 2:
      bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(position()), interesting());
      break;
    case 3:
      if (!bytes.empty()) bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(position()));
      break;
    case 4:
      bytes.resize(position());  // Truncate.
      break;
    default: {  // Duplicate a slice.
      const std::size_t start = position();
      const std::size_t length = std::min<std::size_t>(bytes.size() - start, random() % 16);
      const Buffer slice(bytes.begin() + static_cast<std::ptrdiff_t>(start),
                         bytes.begin() + static_cast<std::ptrdiff_t>(start + length));
      bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(position()), slice.begin(), slice.end());
    }
  }
}

// What every parse must satisfy, whatever the input.
void check(const ClientMessage& message) {
  if (const auto* frame = std::get_if<FrameMessage>(&message)) {
    if (frame->problem.empty()) {
      EXPECT_FALSE(frame->image.empty());
    }
    if (frame->timestamp_us) {
      EXPECT_GE(*frame->timestamp_us, 0);
    }
  } else if (const auto* bad = std::get_if<BadMessage>(&message)) {
    EXPECT_FALSE(bad->code.empty());
    EXPECT_FALSE(bad->message.empty());
  }
  // A parsed message can always be answered: the error answer encodes any message text.
  if (const auto* bad = std::get_if<BadMessage>(&message)) {
    EXPECT_FALSE(encode_error(bad->code, bad->message).empty());
  }
}

TEST(FuzzProtocol, MutatedTextMessages) {
  std::mt19937 random(20240501);
  for (const std::string& seed : text_seeds()) {
    std::string text = seed;
    for (int i = 0; i < kIterationsPerSeed; ++i) {
      if (i % 8 == 0) text = seed;  // Stay near valid messages, where the deeper branches are.
      mutate(text, random);
      check(parse_text_message(text));
    }
  }
}

TEST(FuzzProtocol, MutatedBinaryMessages) {
  std::mt19937 random(7);
  for (const Bytes& seed : {binary_seed(5, 12), binary_seed(0xFFFF'FFFF'FFFF'FFFF, 0), binary_seed(1, 1)}) {
    Bytes bytes = seed;
    for (int i = 0; i < kIterationsPerSeed; ++i) {
      if (i % 8 == 0) bytes = seed;
      mutate(bytes, random);
      check(parse_binary_message(bytes));
    }
  }
}

TEST(FuzzProtocol, RandomBytesAsTextAndBinary) {
  std::mt19937 random(99);
  for (int i = 0; i < kIterationsPerSeed; ++i) {
    Bytes bytes(random() % 64);
    for (std::uint8_t& byte : bytes) byte = static_cast<std::uint8_t>(random());
    check(parse_binary_message(bytes));
    check(parse_text_message(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())));
    check(parse_text_message(std::string(bytes.begin(), bytes.end()) + "\"}"));
  }
}

TEST(FuzzProtocol, Base64RoundTripsAndNumbering) {
  std::mt19937 random(3);
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < kIterationsPerSeed; ++i) {
    std::string text(random() % 40, 'A');
    for (char& c : text) c = kAlphabet[random() % 64];
    const auto bytes = decode_base64(text);
    EXPECT_EQ(bytes.has_value(), text.size() % 4 != 1) << text;
    if (bytes) {
      EXPECT_EQ(bytes->size(), text.size() * 3 / 4) << text;
    }
  }
  FrameNumbering numbering;
  std::uint64_t highest = 0;
  for (int i = 0; i < kIterationsPerSeed; ++i) {
    FrameMessage frame;
    if (random() % 2 == 0) frame.sequence = random() % 1000;
    const bool implicit = !frame.sequence.has_value();
    const std::uint64_t sequence = numbering.number(frame);
    if (implicit) {
      EXPECT_EQ(sequence, i == 0 ? 0 : highest + 1);
    }
    highest = i == 0 ? sequence : std::max(highest, sequence);
  }
}

}  // namespace
}  // namespace posestream::server
