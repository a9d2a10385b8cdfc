// Running a per-sample kernel over a batch in fixed blocks of samples, in parallel, with
// cancellation and progress between blocks; and the same with per-block gradient buffers
// summed in block order. Used by the fused autoregressive models (NADE, RNADE): because the
// blocks and their order do not depend on the thread count, neither do the results.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

#include "../../common/job.h"
#include "../../common/thread_pool.h"

namespace deepgen {

// fn(first_sample, count) for every block of `block` samples.
template <typename Fn>
void for_sample_blocks(int64_t n, int64_t block, const JobHooks& hooks, Fn&& fn) {
  const int64_t blocks = (n + block - 1) / block;
  std::atomic<int64_t> done{0};
  parallel_for(blocks, [&](int64_t blk) {
    hooks.throw_if_cancelled();
    const int64_t first = blk * block;
    fn(first, std::min(block, n - first));
    hooks.report(static_cast<double>(++done) / static_cast<double>(blocks));
  });
}

// fn(first_sample, count, grads) where grads is a zeroed buffer of `size` floats private to
// the block; afterwards out[i] = sum over blocks (in block order) of grads[i].
template <typename Fn>
void for_sample_blocks_with_grads(int64_t n, int64_t block, int64_t size, float* out,
                                  const JobHooks& hooks, Fn&& fn) {
  const int64_t blocks = std::max<int64_t>(1, (n + block - 1) / block);
  std::vector<float> grads(static_cast<size_t>(blocks * size), 0.0f);
  for_sample_blocks(n, block, hooks, [&](int64_t first, int64_t count) {
    fn(first, count, grads.data() + (first / block) * size);
  });
  constexpr int64_t kSlice = 1 << 14;
  parallel_for((size + kSlice - 1) / kSlice, [&](int64_t sl) {
    const int64_t begin = sl * kSlice, end = std::min(size, begin + kSlice);
    for (int64_t i = begin; i < end; ++i) {
      float s = 0.0f;
      for (int64_t blk = 0; blk < blocks; ++blk) s += grads[static_cast<size_t>(blk * size + i)];
      out[i] = s;
    }
  });
}

}  // namespace deepgen
