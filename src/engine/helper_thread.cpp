// HelperThread: the persistent second thread of engine/helper_thread.h and its hand-over.
#include "engine/helper_thread.h"

#include <utility>

namespace posestream::engine {
namespace {

// Runs `task`; what it throws comes back instead, to be rethrown on the thread that waits for both.
std::exception_ptr run_capturing(const std::function<void()>& task) {
  try {
    task();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}

}  // namespace

HelperThread::HelperThread() : thread_([this] { loop(); }) {}

HelperThread::~HelperThread() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void HelperThread::run_alongside(const std::function<void()>& here, const std::function<void()>& there) {
  {
    const std::lock_guard lock(mutex_);
    task_ = &there;
    finished_ = false;
    error_ = nullptr;
  }
  wake_.notify_one();
  const std::exception_ptr here_error = run_capturing(here);
  std::exception_ptr there_error;
  {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return finished_; });
    task_ = nullptr;
    there_error = std::exchange(error_, nullptr);
  }
  if (here_error) std::rethrow_exception(here_error);
  if (there_error) std::rethrow_exception(there_error);
}

void HelperThread::loop() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || (task_ != nullptr && !finished_); });
    if (stopping_) return;
    const std::function<void()>& task = *task_;
    lock.unlock();
    std::exception_ptr error = run_capturing(task);
    lock.lock();
    error_ = std::move(error);
    finished_ = true;
    done_.notify_one();
  }
}

}  // namespace posestream::engine
