#include "nade.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "sample_blocks.h"

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

enum class Isa { kPortable, kAvx2, kAvx512 };

Isa nade_isa() {
  if (use_avx512()) return Isa::kAvx512;
  return use_avx2_fma() ? Isa::kAvx2 : Isa::kPortable;
}

// Owns the scratch memory of one block (see NadeWorkspace), sized for the block's samples
// and for what the kernel uses: sampling needs no logits (z, tmp) and only backward needs acc.
struct WorkspaceBuffers {
  std::vector<float> a, h, acc;
  std::vector<char> stale;
  std::vector<float> z, tmp, l;
  std::vector<uint32_t> rng;
  NadeWorkspace view;
  WorkspaceBuffers(const NadeParams& p, int64_t nb, bool logits, bool backward)
      : a(static_cast<size_t>(nb * p.h)),
        h(a.size()),
        acc(backward ? a.size() : 0),
        stale(static_cast<size_t>(nb)),
        z(logits ? static_cast<size_t>(nb * p.d) : 0),
        tmp(logits ? static_cast<size_t>(p.d) : 0),
        l(static_cast<size_t>(nb)),
        rng(static_cast<size_t>(4 * nb)) {
    view = {a.data(), h.data(),   acc.data(), stale.data(),
            z.data(), tmp.data(), l.data(),   rng.data()};
  }
};

}  // namespace

void nade_log_prob(const NadeParams& p, const float* x, int64_t n, float* logp,
                   const JobHooks& hooks) {
  nade_check(p);
  const Isa isa = nade_isa();
  for_sample_blocks(n, kNadeBlock, hooks, [&](int64_t first, int64_t count) {
    WorkspaceBuffers ws(p, count, true, false);
    const float* xb = x + first * p.d;
    if (isa == Isa::kAvx512)
      nade_avx512::log_prob_block(p, ws.view, xb, count, logp + first);
    else if (isa == Isa::kAvx2)
      nade_avx2::log_prob_block(p, ws.view, xb, count, logp + first);
    else
      nade_portable::log_prob_block(p, ws.view, xb, count, logp + first);
  });
}

void nade_sample(const NadeParams& p, int64_t n, uint64_t sample_offset, uint32_t key0,
                 uint32_t key1, uint32_t stream, int64_t known, float* x, float* probs,
                 const JobHooks& hooks) {
  SampleStreams streams;
  streams.offset = sample_offset;
  streams.key0 = key0;
  streams.key1 = key1;
  streams.stream = stream;
  nade_sample(p, n, streams, known, x, probs, hooks);
}

void nade_sample(const NadeParams& p, int64_t n, const SampleStreams& streams, int64_t known,
                 float* x, float* probs, const JobHooks& hooks) {
  nade_check(p);
  if (known < 0 || known > p.d) throw KernelError("E_ARG", "nade_sample: known must be in [0, D]");
  const Isa isa = nade_isa();
  for_sample_blocks(n, kNadeBlock, hooks, [&](int64_t first, int64_t count) {
    float* xb = x + first * p.d;
    float* pb = probs == nullptr ? nullptr : probs + first * p.d;
    RowStream rows[kNadeBlock];
    for (int64_t s = 0; s < count; ++s) rows[s] = streams.row(first + s);
    WorkspaceBuffers ws(p, count, false, false);
    const uint32_t st = streams.stream;
    if (isa == Isa::kAvx512)
      nade_avx512::sample_block(p, ws.view, count, rows, st, known, xb, pb);
    else if (isa == Isa::kAvx2)
      nade_avx2::sample_block(p, ws.view, count, rows, st, known, xb, pb);
    else
      nade_portable::sample_block(p, ws.view, count, rows, st, known, xb, pb);
  });
}

void nade_backward(const NadeParams& p, const float* x, int64_t n, float scale, float* logp,
                   float* dwt, float* dc, float* dv, float* db, const JobHooks& hooks) {
  nade_check(p);
  const int64_t dh = p.d * p.h;
  // Gradients of each block go to a private buffer [dwt | dc | dv | db], summed in block order.
  const Isa isa = nade_isa();
  for_sample_blocks_with_grads(
      n, kNadeBlock, {{dwt, dh}, {dc, p.h}, {dv, dh}, {db, p.d}}, hooks,
      [&](int64_t first, int64_t count, float* g) {
        float* lp = logp == nullptr ? nullptr : logp + first;
        const float* xb = x + first * p.d;
        WorkspaceBuffers ws(p, count, logp != nullptr, true);
        float* dc_b = g + dh;
        float* dv_b = g + dh + p.h;
        float* db_b = g + 2 * dh + p.h;
        if (isa == Isa::kAvx512)
          nade_avx512::backward_block(p, ws.view, xb, count, scale, lp, g, dc_b, dv_b, db_b);
        else if (isa == Isa::kAvx2)
          nade_avx2::backward_block(p, ws.view, xb, count, scale, lp, g, dc_b, dv_b, db_b);
        else
          nade_portable::backward_block(p, ws.view, xb, count, scale, lp, g, dc_b, dv_b, db_b);
      });
}

}  // namespace deepgen
