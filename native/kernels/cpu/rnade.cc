#include "rnade.h"

#include <vector>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "sample_blocks.h"

#define RNADE_IMPL_NAMESPACE rnade_portable
#include "rnade_impl.h"
#undef RNADE_IMPL_NAMESPACE

namespace deepgen {

namespace {
constexpr int64_t kRnadeBlock = 8;
}

void rnade_check(const RnadeParams& p) {
  if (p.d <= 0 || p.h <= 0 || p.k <= 0)
    throw KernelError("E_ARG", "rnade: D, H and K must be positive");
}

int64_t rnade_work_floats(const RnadeParams& p) { return 4 * p.h + 5 * p.k; }

void rnade_log_prob(const RnadeParams& p, const float* x, int64_t n, float* logp,
                    const JobHooks& hooks) {
  rnade_check(p);
  const bool simd = use_avx2_fma();
  for_sample_blocks(n, kRnadeBlock, hooks, [&](int64_t first, int64_t count) {
    std::vector<float> work(static_cast<size_t>(rnade_work_floats(p)));
    for (int64_t i = first; i < first + count; ++i) {
      const float* xi = x + i * p.d;
      logp[i] = static_cast<float>(simd ? rnade_avx2::log_prob_one(p, xi, work.data())
                                        : rnade_portable::log_prob_one(p, xi, work.data()));
    }
  });
}

void rnade_backward(const RnadeParams& p, const float* x, int64_t n, float scale, float* logp,
                    const RnadeGrads& g, const JobHooks& hooks) {
  rnade_check(p);
  const int64_t dh = p.d * p.h, dkh = p.d * p.k * p.h, dk = p.d * p.k;
  // One buffer [wt | c | va | vm | vs | ba | bm | bs] per block of samples.
  const bool simd = use_avx2_fma();
  for_sample_blocks_with_grads(
      n, kRnadeBlock,
      {{g.wt, dh},
       {g.c, p.h},
       {g.va, dkh},
       {g.vm, dkh},
       {g.vs, dkh},
       {g.ba, dk},
       {g.bm, dk},
       {g.bs, dk}},
      hooks, [&](int64_t first, int64_t count, float* buf) {
        const RnadeGrads gb{buf,
                            buf + dh,
                            buf + dh + p.h,
                            buf + dh + p.h + dkh,
                            buf + dh + p.h + 2 * dkh,
                            buf + dh + p.h + 3 * dkh,
                            buf + dh + p.h + 3 * dkh + dk,
                            buf + dh + p.h + 3 * dkh + 2 * dk};
        std::vector<float> work(static_cast<size_t>(rnade_work_floats(p)));
        for (int64_t i = first; i < first + count; ++i) {
          const float* xi = x + i * p.d;
          const double lp = simd ? rnade_avx2::backward_one(p, xi, scale, work.data(), gb)
                                 : rnade_portable::backward_one(p, xi, scale, work.data(), gb);
          if (logp != nullptr) logp[i] = static_cast<float>(lp);
        }
      });
}

void rnade_sample(const RnadeParams& p, int64_t n, uint64_t sample_offset, uint32_t key0,
                  uint32_t key1, uint32_t stream, float* x, const JobHooks& hooks) {
  SampleStreams streams;
  streams.offset = sample_offset;
  streams.key0 = key0;
  streams.key1 = key1;
  streams.stream = stream;
  rnade_sample(p, n, streams, x, hooks);
}

void rnade_sample(const RnadeParams& p, int64_t n, const SampleStreams& streams, float* x,
                  const JobHooks& hooks) {
  rnade_check(p);
  const bool simd = use_avx2_fma();
  const uint32_t stream = streams.stream;
  for_sample_blocks(n, kRnadeBlock, hooks, [&](int64_t first, int64_t count) {
    std::vector<float> work(static_cast<size_t>(rnade_work_floats(p)));
    for (int64_t i = first; i < first + count; ++i) {
      const RowStream rs = streams.row(i);
      if (simd)
        rnade_avx2::sample_one(p, rs.index, rs.key0, rs.key1, stream, x + i * p.d, work.data());
      else
        rnade_portable::sample_one(p, rs.index, rs.key0, rs.key1, stream, x + i * p.d, work.data());
    }
  });
}

}  // namespace deepgen
