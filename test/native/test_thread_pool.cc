#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "../../native/common/thread_pool.h"
#include "check.h"

using namespace deepgen;

TEST(parallel_for_runs_every_chunk_once) {
  std::vector<std::atomic<int>> hits(1000);
  for (auto& h : hits) h = 0;
  parallel_for(
      1000, [&](int64_t c) { hits[c]++; }, 4);
  int bad = 0;
  for (auto& h : hits) bad += h.load() != 1;
  CHECK_EQ(bad, 0);
}

TEST(parallel_for_rethrows_first_error) {
  bool threw = false;
  try {
    parallel_for(
        64,
        [](int64_t c) {
          if (c == 17) throw std::runtime_error("chunk 17");
        },
        4);
  } catch (const std::runtime_error& e) {
    threw = std::string(e.what()) == "chunk 17";
  }
  CHECK(threw);
}

TEST(parallel_for_nested_and_concurrent_calls_finish) {
  std::atomic<int64_t> sum{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&] {
      parallel_for(
          8,
          [&](int64_t) {
            parallel_for(
                8, [&](int64_t c) { sum += c; }, 4);
          },
          4);
    });
  }
  for (auto& t : callers) t.join();
  CHECK_EQ(sum.load(), 3 * 8 * 28);
}

TEST(thread_limit_clamps) {
  set_thread_limit(0);
  CHECK_EQ(thread_limit(), 1);
  set_thread_limit(3);
  CHECK_EQ(thread_limit(), 3);
  set_thread_limit(default_thread_limit());
}
