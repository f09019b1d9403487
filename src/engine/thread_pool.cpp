// ThreadPool: an RAII pthreadpool that runtimes on any number of threads may share.
#include <pthreadpool.h>

#include <stdexcept>
#include <string>

#include "engine/engine.h"

namespace posestream::engine {

ThreadPool::ThreadPool(size_t threads) : size_(threads) {
  // pthreadpool_create reads 0 as "one per processor"; callers resolve that themselves, so 0 is a mistake.
  if (threads == 0) throw std::invalid_argument("engine: thread pool of 0 threads, expected >= 1");
  pool_ = pthreadpool_create(threads);
  if (pool_ == nullptr) {
    throw std::runtime_error("engine: cannot create a pool of " + std::to_string(threads) + " threads");
  }
}

ThreadPool::~ThreadPool() { pthreadpool_destroy(pool_); }

}  // namespace posestream::engine
