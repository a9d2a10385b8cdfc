#include "thread_pool.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace deepgen {
namespace {

// Busy-wait rounds before a thread sleeps (a few tens of microseconds): a kernel runs several
// parallel loops back to back, and a sleeping helper's wake-up costs more than a small loop.
constexpr int kSpinRounds = 2000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// State shared by the caller and the helper tasks of one parallel_for call. Helpers may be
// dequeued after the call returned, so they hold it by shared_ptr and find no work left.
struct ParallelCall {
  const std::function<void(int64_t)>* fn = nullptr;
  int64_t total = 0;
  std::atomic<int64_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::condition_variable cv;
  int64_t finished = 0;
  std::exception_ptr error;

  void run_chunks() {
    for (;;) {
      const int64_t chunk = next.fetch_add(1);
      if (chunk >= total) return;
      if (!failed.load(std::memory_order_relaxed)) {
        try {
          (*fn)(chunk);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mu);
          if (!error) error = std::current_exception();
          failed.store(true);
        }
      }
      std::lock_guard<std::mutex> lock(mu);
      if (++finished == total) {
        all_done.store(true, std::memory_order_release);
        cv.notify_all();
      }
    }
  }

  // Waits for every chunk: spins a little first (the helpers' last chunks usually end within
  // microseconds of the caller's), then sleeps.
  void wait_all() {
    for (int i = 0; i < kSpinRounds && !all_done.load(std::memory_order_acquire); ++i) cpu_relax();
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return finished == total; });
  }

  std::atomic<bool> all_done{false};
};

class ThreadPool {
 public:
  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }

  void ensure_workers(int n) {
    std::lock_guard<std::mutex> lock(mu_);
    while (static_cast<int>(workers_.size()) < n) workers_.emplace_back([this] { loop(); });
  }

  void submit(std::shared_ptr<ParallelCall> call, int copies) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int i = 0; i < copies; ++i) queue_.push_back(call);
      queued_.fetch_add(copies, std::memory_order_release);
    }
    if (copies == 1)
      cv_.notify_one();
    else
      cv_.notify_all();
  }

 private:
  void loop() {
    for (;;) {
      // After a task, look for the next one for a while before sleeping.
      for (int i = 0; i < kSpinRounds && queued_.load(std::memory_order_acquire) == 0; ++i)
        cpu_relax();
      std::shared_ptr<ParallelCall> call;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_ && queue_.empty()) return;
        call = std::move(queue_.front());
        queue_.pop_front();
        queued_.fetch_sub(1, std::memory_order_relaxed);
      }
      call->run_chunks();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<ParallelCall>> queue_;
  std::atomic<int> queued_{0};  // queue_.size(), read without the lock by spinning workers
  std::vector<std::thread> workers_;
  bool stopping_ = false;
};

ThreadPool& pool() {
  // Intentionally leaked: joining threads during static destruction at process exit can
  // deadlock when Node tears down the addon while a worker is mid-task.
  static ThreadPool* p = new ThreadPool();
  return *p;
}

int compute_default_limit() {
  if (const char* env = std::getenv("DEEPGEN_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1 && n <= 1024) return static_cast<int>(n);
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

std::atomic<int> g_limit{0};

}  // namespace

int default_thread_limit() {
  static const int n = compute_default_limit();
  return n;
}

int thread_limit() {
  const int n = g_limit.load();
  return n > 0 ? n : default_thread_limit();
}

void set_thread_limit(int n) { g_limit.store(std::max(1, std::min(n, 1024))); }

void parallel_for(int64_t num_chunks, const std::function<void(int64_t)>& fn, int max_threads) {
  if (num_chunks <= 0) return;
  const int limit = max_threads > 0 ? max_threads : thread_limit();
  const int64_t threads = std::min<int64_t>(limit, num_chunks);
  if (threads <= 1) {
    for (int64_t c = 0; c < num_chunks; ++c) fn(c);
    return;
  }
  auto call = std::make_shared<ParallelCall>();
  call->fn = &fn;
  call->total = num_chunks;
  const int helpers = static_cast<int>(threads - 1);
  pool().ensure_workers(helpers);
  pool().submit(call, helpers);
  call->run_chunks();
  call->wait_all();
  if (call->error) std::rethrow_exception(call->error);
}

void deprioritize_compute_thread() {
#if defined(__linux__)
  thread_local bool done = false;
  if (done) return;
  done = true;
  static const int nice_step = [] {
    const char* v = std::getenv("DEEPGEN_COMPUTE_NICE");
    if (v == nullptr || *v == '\0') return 10;
    const int n = std::atoi(v);
    return std::clamp(n, 0, 19);
  }();
  if (nice_step == 0) return;
  // On Linux, PRIO_PROCESS with a thread id sets that one thread's nice value.
  const auto tid = static_cast<id_t>(syscall(SYS_gettid));
  errno = 0;
  const int current = getpriority(PRIO_PROCESS, tid);
  if (errno == 0) setpriority(PRIO_PROCESS, tid, std::min(19, current + nice_step));
#endif
}

}  // namespace deepgen
