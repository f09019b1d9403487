// The server's pure parts: the slow-reader answer queue, the message rate, static file mapping, limit validation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "server/answer_queue.h"
#include "server/limits.h"
#include "server/message_rate.h"
#include "server/protocol.h"
#include "server/static_files.h"

namespace posestream::server {
namespace {

std::string text_of(std::size_t bytes, char fill) { return std::string(bytes, fill); }

using std::chrono::milliseconds;

double in_ms(MessageRate::Clock::duration pause) { return std::chrono::duration<double, std::milli>(pause).count(); }

// 10 messages a second, bursts of 3: worked by hand from the token bucket's definition.
TEST(MessageRate, LetsABurstThroughThenPausesUntilATokenAccrues) {
  const MessageRate::Clock::time_point start{};
  MessageRate rate(10.0, 3.0, start);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(rate.pause_after_message(start), MessageRate::Clock::duration::zero());
  EXPECT_NEAR(in_ms(rate.pause_after_message(start)), 100.0, 1e-3);  // One token short: 1 / 10 s.
  // The reader waited the 100 ms: the debt of -1 was repaid, and this message owes one more.
  EXPECT_NEAR(in_ms(rate.pause_after_message(start + milliseconds(100))), 100.0, 1e-3);
  // 150 ms later 1.5 tokens accrued: -1 + 1.5 - 1 = -0.5 tokens, 50 ms short.
  EXPECT_NEAR(in_ms(rate.pause_after_message(start + milliseconds(250))), 50.0, 1e-3);
}

TEST(MessageRate, RefillsToTheBurstAndNoFurther) {
  const MessageRate::Clock::time_point start{};
  MessageRate rate(10.0, 2.0, start);
  rate.pause_after_message(start);
  rate.pause_after_message(start);
  const auto later = start + std::chrono::seconds(60);  // 600 tokens' worth of time, capped at 2.
  EXPECT_EQ(rate.pause_after_message(later), MessageRate::Clock::duration::zero());
  EXPECT_EQ(rate.pause_after_message(later), MessageRate::Clock::duration::zero());
  EXPECT_NEAR(in_ms(rate.pause_after_message(later)), 100.0, 1e-3);
}

TEST(MessageRate, ZeroMeansNoLimit) {
  const MessageRate::Clock::time_point start{};
  MessageRate rate(0.0, 1.0, start);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(rate.pause_after_message(start), MessageRate::Clock::duration::zero());
}

TEST(AnswerQueue, KeepsOrderAndCountsBytes) {
  AnswerQueue queue(1000);
  EXPECT_TRUE(queue.push_other("a"));
  EXPECT_TRUE(queue.push_result("bb", 1, "superseded"));
  EXPECT_TRUE(queue.push_other("ccc"));
  EXPECT_EQ(queue.bytes(), 6u);
  EXPECT_EQ(queue.pop(), "a");
  EXPECT_EQ(queue.pop(), "bb");
  EXPECT_EQ(queue.bytes(), 3u);
  EXPECT_EQ(queue.pop(), "ccc");
  EXPECT_TRUE(queue.empty());
}

TEST(AnswerQueue, OldestResultGivesWayToItsDroppedAnswer) {
  // 420 bytes allowed. Results of 150 bytes; their dropped answers 53 and 51 (checked below).
  AnswerQueue queue(420);
  const std::string dropped_4 = encode_dropped(4, 4, "superseded");
  const std::string dropped_5 = encode_dropped(5, 5, "overflow");
  ASSERT_EQ(dropped_4.size(), 53u);
  ASSERT_EQ(dropped_5.size(), 51u);
  EXPECT_TRUE(queue.push_other("hello"));
  EXPECT_TRUE(queue.push_result(text_of(150, '4'), 4, "superseded"));
  EXPECT_TRUE(queue.push_result(text_of(150, '5'), 5, "overflow"));
  EXPECT_EQ(queue.downgraded(), 0u);
  // 5 + 150 + 150 + 150 = 455 > 420: result 4 (the oldest) becomes its dropped answer: 358.
  EXPECT_TRUE(queue.push_result(text_of(150, '6'), 6, "superseded"));
  EXPECT_EQ(queue.downgraded(), 1u);
  EXPECT_EQ(queue.bytes(), 5 + dropped_4.size() + 300);
  // Another 150: 508 > 420, so result 5 goes too: 5 + 53 + 51 + 150 + 150 = 409.
  EXPECT_TRUE(queue.push_result(text_of(150, '7'), 7, "superseded"));
  EXPECT_EQ(queue.downgraded(), 2u);
  EXPECT_EQ(queue.bytes(), 409u);
  EXPECT_EQ(queue.pop(), "hello");
  EXPECT_EQ(queue.pop(), dropped_4);
  EXPECT_EQ(queue.pop(), dropped_5);
  EXPECT_EQ(queue.pop(), text_of(150, '6'));
  EXPECT_EQ(queue.pop(), text_of(150, '7'));
}

TEST(AnswerQueue, AResultLargerThanTheLimitIsDowngradedAtOnce) {
  AnswerQueue queue(100);
  EXPECT_TRUE(queue.push_result(text_of(500, 'r'), 9, "superseded"));
  EXPECT_EQ(queue.pop(), encode_dropped(9, 9, "superseded"));
}

TEST(AnswerQueue, OnlyDroppedAnswersLeftAndFullMeansNotReading) {
  AnswerQueue queue(100);
  EXPECT_TRUE(queue.push_other(text_of(60, 'd')));
  EXPECT_FALSE(queue.push_other(text_of(60, 'e')));  // 120 > 100, nothing can give way.
}

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() / ("posestream_static_" + std::to_string(::getpid()));
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "web" / "sub");
    write(root_ / "web" / "index.html");
    write(root_ / "web" / "app.js");
    write(root_ / "web" / "sub" / "index.html");
    write(root_ / "web" / ".hidden");
    write(root_ / "secret.txt");
    std::filesystem::create_symlink(root_ / "secret.txt", root_ / "web" / "escape.txt");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  static void write(const std::filesystem::path& path) { std::ofstream(path) << path.filename().string(); }
  std::optional<std::filesystem::path> resolve(std::string_view target) const {
    return resolve_static_path(root_ / "web", target);
  }
  std::filesystem::path web(const std::string& relative) const {
    return std::filesystem::canonical(root_ / "web" / relative);
  }

  std::filesystem::path root_;
};

TEST_F(StaticFiles, PlainPathsAndIndexes) {
  EXPECT_EQ(resolve("/"), web("index.html"));
  EXPECT_EQ(resolve("/app.js?v=3"), web("app.js"));
  EXPECT_EQ(resolve("/sub/"), web("sub/index.html"));
  EXPECT_EQ(resolve("/sub/index.html#top"), web("sub/index.html"));
}

TEST_F(StaticFiles, NothingOutsideTheRoot) {
  for (const char* target : {"/../secret.txt", "/sub/../../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
                             "/.hidden", "/sub/./index.html", "//etc/passwd", "/sub\\..\\..\\secret.txt",
                             "/escape.txt", "/missing.js", "/sub", "relative.js", "", "/app.js\n"}) {
    EXPECT_FALSE(resolve(target).has_value()) << target;
  }
  EXPECT_FALSE(resolve("/" + std::string(2000, 'a')).has_value());
}

TEST(StaticFileTypes, ByExtension) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("client.MJS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("photo.jpeg"), "image/jpeg");
  EXPECT_EQ(content_type_for("archive.tar"), "application/octet-stream");
  EXPECT_EQ(content_type_for("Makefile"), "application/octet-stream");
}

TEST(LimitsValidation, DefaultsAreValidAndEachBadValueIsNamed) {
  EXPECT_FALSE(validate(Limits{}).has_value());
  Limits tiny_messages;
  tiny_messages.max_message_bytes = 10;
  ASSERT_TRUE(validate(tiny_messages).has_value());
  EXPECT_NE(validate(tiny_messages)->find("max_message_bytes"), std::string::npos);
  Limits no_reordering;
  no_reordering.reorder_capacity = 0;
  EXPECT_NE(validate(no_reordering).value_or("").find("reorder_capacity"), std::string::npos);
  Limits negative_gap;
  negative_gap.gap_timeout = std::chrono::milliseconds{-1};
  EXPECT_NE(validate(negative_gap).value_or("").find("gap_timeout_ms"), std::string::npos);
  Limits small_queue;
  small_queue.max_write_queue_bytes = 100;
  EXPECT_NE(validate(small_queue).value_or("").find("max_write_queue_bytes"), std::string::npos);
}

}  // namespace
}  // namespace posestream::server
