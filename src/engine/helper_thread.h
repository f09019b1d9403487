// HelperThread: one persistent thread that runs one task alongside the caller's (task parallelism).
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace posestream::engine {

// Two independent pieces of work on two cores: the calling thread runs one, this object's thread the
// other. Unlike an engine::ThreadPool (which splits every operator over all its threads, so each
// operator waits for the slowest thread), the two tasks only meet at the end: a descheduled helper
// delays its own task, not every operator of the other.
// The thread sleeps on a condition variable between calls (no spinning). The intended tasks invoke
// runtimes of threads 1 (the two tasks on different runtimes); runtimes on a shared engine::ThreadPool
// would take turns operator by operator and gain nothing.
// One caller at a time (not thread-safe); the tasks must not call run_alongside on the same object.
class HelperThread {
 public:
  HelperThread();  // Throws std::system_error when the thread cannot be started.
  ~HelperThread();  // Joins the thread (after the task in flight, if any).
  HelperThread(const HelperThread&) = delete;
  HelperThread& operator=(const HelperThread&) = delete;

  // Runs `there` on the helper thread and `here` on the calling thread; returns once both are done.
  // Rethrows the first exception of `here`, else of `there`, after both finished (so tasks may share
  // the caller's locals). Does not retain either function.
  void run_alongside(const std::function<void()>& here, const std::function<void()>& there);

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  const std::function<void()>* task_ = nullptr;  // Set while a task waits or runs; guarded by mutex_.
  bool finished_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
  std::thread thread_;  // Last: started after the members it uses.
};

}  // namespace posestream::engine
