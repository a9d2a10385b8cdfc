// Running a per-sample kernel over a batch in fixed blocks of samples, in parallel, with
// cancellation and progress between blocks; and the same with a bounded number of gradient
// buffers summed in a fixed order. Used by the fused autoregressive models (NADE, RNADE): because
// the blocks and their order do not depend on the thread count, neither do the results.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <initializer_list>

#include "../../common/scratch.h"

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

// At most this many gradient buffers, and at most about kGradBufferBudget floats of them:
// each buffer is zeroed and summed once per call, so for big models (NADE H = 500 has 0.8M
// parameters) a few buffers beat one per block (that traffic cost ~20% of an epoch).
constexpr int64_t kMaxGradBuffers = 16;
constexpr int64_t kGradBufferBudget = int64_t{4} << 20;  // 16 MB of floats

// Where the summed gradients go: `size` floats to `out`, the segments one after another.
struct GradSegment {
  float* out;
  int64_t size;
};

// fn(first_sample, count, grads) for every block; grads is one of a few zeroed buffers holding
// the segments one after another: buffer g serves a fixed run of consecutive blocks, in order.
// Afterwards every segment's out[i] = sum over buffers (in order) of that segment's grads[i].
// The grouping depends only on n, block and the sizes, so the result does not depend on the
// thread count. The buffers come from a pool (scratch.h: at NADE's sizes fresh ones cost page
// faults on every training step) and each is zeroed by the thread that fills it.
template <typename Fn>
void for_sample_blocks_with_grads(int64_t n, int64_t block, std::initializer_list<GradSegment> segs,
                                  const JobHooks& hooks, Fn&& fn) {
  int64_t size = 0;
  for (const GradSegment& sg : segs) size += sg.size;
  const int64_t blocks = (n + block - 1) / block;
  const int64_t budget = std::max<int64_t>(2, kGradBufferBudget / std::max<int64_t>(size, 1));
  const int64_t buffers = std::max<int64_t>(1, std::min({blocks, kMaxGradBuffers, budget}));
  const int64_t per_buffer = (blocks + buffers - 1) / buffers;
  const PooledBuffer pooled(PoolKind::kGradBuffers, static_cast<size_t>(buffers * size));
  float* const grads = pooled.data();
  std::atomic<int64_t> done{0};
  parallel_for(buffers, [&](int64_t g) {
    float* const buf = grads + g * size;
    std::fill(buf, buf + size, 0.0f);
    for (int64_t blk = g * per_buffer; blk < std::min(blocks, (g + 1) * per_buffer); ++blk) {
      hooks.throw_if_cancelled();
      const int64_t first = blk * block;
      fn(first, std::min(block, n - first), buf);
      hooks.report(static_cast<double>(++done) / static_cast<double>(blocks));
    }
  });
  // A buffer whose run of blocks starts past the last block (buffers * per_buffer > blocks)
  // stays zero and adds nothing.
  constexpr int64_t kSlice = 1 << 14;
  int64_t base = 0;
  for (const GradSegment& sg : segs) {
    parallel_for((sg.size + kSlice - 1) / kSlice, [&](int64_t sl) {
      const int64_t begin = sl * kSlice, end = std::min(sg.size, begin + kSlice);
      for (int64_t i = begin; i < end; ++i) {
        float s = 0.0f;
        for (int64_t g = 0; g < buffers; ++g) s += grads[g * size + base + i];
        sg.out[i] = s;
      }
    });
    base += sg.size;
  }
}

}  // namespace deepgen
