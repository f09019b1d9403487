// ThreadPool shared between runtimes: concurrent invokes on one pool match a single-threaded runtime.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "engine/runtime_graphs.h"
#include "test_paths.h"

namespace posestream::engine {
namespace {

using testing::model_error_of;

constexpr int kInvokesPerThread = 12;

std::shared_ptr<const Model> hand_landmark_lite() {
  return Model::load(posestream::testing::models_dir() / "hand_landmark_lite.tflite");
}

// A fixed pseudo-random image in [0, 1]; different seeds give the two threads different inputs, so a
// pool that mixed up their work would show in the outputs.
std::vector<float> pseudo_random_image(size_t count, uint32_t seed) {
  std::vector<float> values(count);
  uint32_t state = seed;
  for (float& value : values) {
    state = state * 1664525u + 1013904223u;
    value = static_cast<float>(state >> 8) / static_cast<float>(1u << 24);
  }
  return values;
}

// Every output of `runtime` after one invoke on `image`, concatenated.
std::vector<float> outputs_of(Runtime& runtime, const std::vector<float>& image) {
  std::copy(image.begin(), image.end(), runtime.input(0).begin());
  runtime.invoke();
  std::vector<float> values;
  for (size_t i = 0; i < runtime.output_count(); ++i) {
    values.insert(values.end(), runtime.output(i).begin(), runtime.output(i).end());
  }
  return values;
}

// Relative 1e-5, with |expected| floored at 1 so that values near zero compare absolutely.
size_t mismatches(const std::vector<float>& actual, const std::vector<float>& expected) {
  if (actual.size() != expected.size()) return std::max(actual.size(), expected.size());
  size_t count = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const float tolerance = 1e-5f * std::max(1.0f, std::abs(expected[i]));
    if (!(std::abs(actual[i] - expected[i]) <= tolerance)) ++count;  // Also counts NaN.
  }
  return count;
}

TEST(ThreadPool, SizeIsWhatWasAsked) {
  EXPECT_EQ(ThreadPool(1).size(), 1u);
  EXPECT_EQ(ThreadPool(3).size(), 3u);
}

TEST(ThreadPool, ZeroThreadsIsRefused) { EXPECT_THROW(ThreadPool(0), std::invalid_argument); }

TEST(ThreadPool, TwoThreadsInvokingOnOneSharedPoolMatchOneThread) {
  const std::shared_ptr<const Model> model = hand_landmark_lite();
  const auto pool = std::make_shared<ThreadPool>(2);
  Runtime single(model);
  const size_t input_size = single.input(0).size();
  const std::vector<std::vector<float>> images = {pseudo_random_image(input_size, 1),
                                                  pseudo_random_image(input_size, 2)};
  const std::vector<std::vector<float>> expected = {outputs_of(single, images[0]), outputs_of(single, images[1])};
  ASSERT_NE(mismatches(expected[0], expected[1]), 0u) << "the two inputs must give different outputs";

  std::vector<Runtime> runtimes;
  for (int i = 0; i < 2; ++i) runtimes.emplace_back(model, RuntimeOptions{.pool = pool});
  std::vector<size_t> bad_invokes(2, 0);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kInvokesPerThread; ++i) {
        if (mismatches(outputs_of(runtimes[t], images[t]), expected[t]) != 0) ++bad_invokes[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(bad_invokes[0], 0u);
  EXPECT_EQ(bad_invokes[1], 0u);
}

TEST(ThreadPool, RuntimeKeepsItsSharedPoolAlive) {
  auto pool = std::make_shared<ThreadPool>(2);
  const std::weak_ptr<ThreadPool> watcher = pool;
  Runtime single(hand_landmark_lite());
  const std::vector<float> image = pseudo_random_image(single.input(0).size(), 3);
  const std::vector<float> expected = outputs_of(single, image);
  Runtime shared(hand_landmark_lite(), {.pool = std::move(pool)});
  EXPECT_FALSE(watcher.expired());
  EXPECT_EQ(mismatches(outputs_of(shared, image), expected), 0u);
  shared = Runtime(hand_landmark_lite());  // Drops the last owner.
  EXPECT_TRUE(watcher.expired());
}

TEST(ThreadPool, OwnThreadsAndASharedPoolTogetherAreRefused) {
  const auto pool = std::make_shared<ThreadPool>(2);
  const std::string message =
      model_error_of([&] { Runtime runtime(hand_landmark_lite(), {.threads = 2, .pool = pool}); });
  EXPECT_NE(message.find("hand_landmark_lite"), std::string::npos) << message;
  EXPECT_NE(message.find("own pool of 2 threads and a shared pool of 2"), std::string::npos) << message;
}

}  // namespace
}  // namespace posestream::engine
