#include "nade.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/thread_pool.h"

#define NADE_IMPL_NAMESPACE nade_portable
#include "nade_impl.h"
#undef NADE_IMPL_NAMESPACE

namespace deepgen {

void nade_check(const NadeParams& p) {
  if (p.d <= 0 || p.h <= 0) throw KernelError("E_ARG", "nade: D and H must be positive");
  std::vector<char> seen(static_cast<size_t>(p.d), 0);
  for (int64_t i = 0; i < p.d; ++i) {
    const int32_t o = p.order[i];
    if (o < 0 || o >= p.d || seen[static_cast<size_t>(o)]) {
      throw KernelError("E_ARG", "nade: order must be a permutation of 0..D-1");
    }
    seen[static_cast<size_t>(o)] = 1;
  }
}

namespace {

// Owns the scratch memory of one block (see NadeWorkspace).
struct WorkspaceBuffers {
  std::vector<float> a, h, acc;
  std::vector<char> stale;
  std::vector<float> z, tmp, l;
  std::vector<uint32_t> rng;
  NadeWorkspace view;
  WorkspaceBuffers(const NadeParams& p, bool backward)
      : a(static_cast<size_t>(kNadeBlock * p.h)), h(a.size()),
        acc(backward ? a.size() : 0), stale(kNadeBlock),
        z(static_cast<size_t>(kNadeBlock * p.d)), tmp(static_cast<size_t>(p.d)), l(kNadeBlock),
        rng(4 * kNadeBlock) {
    view = {a.data(), h.data(), acc.data(), stale.data(), z.data(), tmp.data(), l.data(), rng.data()};
  }
};

// Runs fn(first_sample, count) over blocks of kNadeBlock samples in parallel, polling the
// cancel flag and reporting progress between blocks.
template <typename Fn>
void for_blocks(int64_t n, const JobHooks& hooks, Fn&& fn) {
  const int64_t blocks = (n + kNadeBlock - 1) / kNadeBlock;
  std::atomic<int64_t> done{0};
  parallel_for(blocks, [&](int64_t blk) {
    hooks.throw_if_cancelled();
    const int64_t first = blk * kNadeBlock;
    fn(first, std::min(kNadeBlock, n - first));
    hooks.report(static_cast<double>(++done) / static_cast<double>(blocks));
  });
}

}  // namespace

void nade_log_prob(const NadeParams& p, const float* x, int64_t n, float* logp,
                   const JobHooks& hooks) {
  nade_check(p);
  const bool simd = use_avx2_fma();
  for_blocks(n, hooks, [&](int64_t first, int64_t count) {
    WorkspaceBuffers ws(p, false);
    const float* xb = x + first * p.d;
    if (simd) nade_avx2::log_prob_block(p, ws.view, xb, count, logp + first);
    else nade_portable::log_prob_block(p, ws.view, xb, count, logp + first);
  });
}

void nade_sample(const NadeParams& p, int64_t n, uint64_t sample_offset, uint32_t key0,
                 uint32_t key1, uint32_t stream, int64_t known, float* x, float* probs,
                 const JobHooks& hooks) {
  nade_check(p);
  if (known < 0 || known > p.d) throw KernelError("E_ARG", "nade_sample: known must be in [0, D]");
  const bool simd = use_avx2_fma();
  for_blocks(n, hooks, [&](int64_t first, int64_t count) {
    float* xb = x + first * p.d;
    float* pb = probs == nullptr ? nullptr : probs + first * p.d;
    const uint64_t index = sample_offset + static_cast<uint64_t>(first);
    WorkspaceBuffers ws(p, false);
    if (simd) nade_avx2::sample_block(p, ws.view, count, index, key0, key1, stream, known, xb, pb);
    else nade_portable::sample_block(p, ws.view, count, index, key0, key1, stream, known, xb, pb);
  });
}

void nade_backward(const NadeParams& p, const float* x, int64_t n, float scale, float* logp,
                   float* dwt, float* dc, float* dv, float* db, const JobHooks& hooks) {
  nade_check(p);
  const int64_t dh = p.d * p.h;
  const int64_t blocks = (n + kNadeBlock - 1) / kNadeBlock;
  // Each block writes its own gradient buffers; they are summed in block order afterwards,
  // so the result is the same for any thread count.
  const int64_t per_block = 2 * dh + p.h + p.d;
  std::vector<float> grads(static_cast<size_t>(std::max<int64_t>(blocks, 1) * per_block), 0.0f);
  const bool simd = use_avx2_fma();
  for_blocks(n, hooks, [&](int64_t first, int64_t count) {
    float* g = grads.data() + (first / kNadeBlock) * per_block;
    float* lp = logp == nullptr ? nullptr : logp + first;
    const float* xb = x + first * p.d;
    WorkspaceBuffers ws(p, true);
    float* dc_b = g + dh;
    float* dv_b = g + dh + p.h;
    float* db_b = g + 2 * dh + p.h;
    if (simd) nade_avx2::backward_block(p, ws.view, xb, count, scale, lp, g, dc_b, dv_b, db_b);
    else nade_portable::backward_block(p, ws.view, xb, count, scale, lp, g, dc_b, dv_b, db_b);
  });
  // Reduce in fixed block order, in parallel over slices of the gradient vector.
  constexpr int64_t kSlice = 1 << 14;
  const int64_t slices = (per_block + kSlice - 1) / kSlice;
  std::vector<float> total(static_cast<size_t>(per_block));
  parallel_for(slices, [&](int64_t sl) {
    const int64_t begin = sl * kSlice, end = std::min(per_block, begin + kSlice);
    for (int64_t i = begin; i < end; ++i) {
      float s = 0.0f;
      for (int64_t blk = 0; blk < blocks; ++blk) s += grads[static_cast<size_t>(blk * per_block + i)];
      total[static_cast<size_t>(i)] = s;
    }
  });
  std::memcpy(dwt, total.data(), sizeof(float) * dh);
  std::memcpy(dc, total.data() + dh, sizeof(float) * p.h);
  std::memcpy(dv, total.data() + dh + p.h, sizeof(float) * dh);
  std::memcpy(db, total.data() + 2 * dh + p.h, sizeof(float) * p.d);
}

}  // namespace deepgen
