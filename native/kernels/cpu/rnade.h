// RNADE (Uria, Murray & Larochelle 2013): NADE for real-valued vectors, each conditional a
// mixture of K Gaussians whose parameters come from NADE's hidden state:
//   a_0 = c,  h_d = sigmoid(a_d),  a_{d+1} = a_d + WT[d] * x_d
//   alpha logits z = ba[d] + Va[d] h_d,  means mu = bm[d] + Vm[d] h_d,
//   log-scales s = bs[d] + Vs[d] h_d  (sigma = e^s)
//   log p(x_d | x_<d) = logsumexp_k(z_k + log N(x_d; mu_k, sigma_k)) - logsumexp_k(z_k)
// The ordering is the natural one (step d models dimension d).
//
// Shapes: WT [D, H] (the paper's W transposed), c [H], Va, Vm, Vs [D, K, H], ba, bm, bs [D, K].
// Unlike binary NADE, x_d is rarely exactly 0, so h is recomputed at every step: O(D H K).
#pragma once
#include <cstdint>

#include "../../common/job.h"
#include "row_streams.h"

namespace deepgen {

struct RnadeParams {
  int64_t d = 0, h = 0, k = 0;
  const float* wt = nullptr;
  const float* c = nullptr;
  const float* va = nullptr;
  const float* vm = nullptr;
  const float* vs = nullptr;
  const float* ba = nullptr;
  const float* bm = nullptr;
  const float* bs = nullptr;
};

// Gradient buffers, same shapes as the parameters.
struct RnadeGrads {
  float *wt, *c, *va, *vm, *vs, *ba, *bm, *bs;
};

void rnade_check(const RnadeParams& p);

// logp[i] = log p(x_i) (nats, a density), x [n, D].
void rnade_log_prob(const RnadeParams& p, const float* x, int64_t n, float* logp,
                    const JobHooks& hooks = no_hooks());

// Gradients of scale * sum_i -log p(x_i), written to g; logp (optional) gets log p(x_i).
void rnade_backward(const RnadeParams& p, const float* x, int64_t n, float scale, float* logp,
                    const RnadeGrads& g, const JobHooks& hooks = no_hooks());

// Draws n vectors into x [n, D]. Step d of sample i (global index sample_offset + i) uses the
// Philox block of counter (d, index mod 2^32, stream, index / 2^32): word 0 picks the
// component (first k whose cumulative weight exceeds u), words 1 and 2 give a Box-Muller
// normal (r = sqrt(-2 ln u1), cos(2 pi u2)), x = mu_k + sigma_k * normal.
void rnade_sample(const RnadeParams& p, int64_t n, uint64_t sample_offset, uint32_t key0,
                  uint32_t key1, uint32_t stream, float* x, const JobHooks& hooks = no_hooks());
// The same with each row's key and index from `streams` (row_streams.h), for coalesced
// batches of requests with their own seeds.
void rnade_sample(const RnadeParams& p, int64_t n, const SampleStreams& streams, float* x,
                  const JobHooks& hooks = no_hooks());

// Per-sample kernels (rnade_impl.h), built for the baseline ISA and with AVX2/FMA. `work` is
// scratch of rnade_work_floats(p) floats.
int64_t rnade_work_floats(const RnadeParams& p);
#define DEEPGEN_RNADE_SAMPLE_KERNELS                                                  \
  double log_prob_one(const RnadeParams& p, const float* x, float* work);             \
  double backward_one(const RnadeParams& p, const float* x, float scale, float* work, \
                      const RnadeGrads& g);                                           \
  void sample_one(const RnadeParams& p, uint64_t index, uint32_t key0, uint32_t key1, \
                  uint32_t stream, float* x, float* work);
namespace rnade_portable {
DEEPGEN_RNADE_SAMPLE_KERNELS
}  // namespace rnade_portable
namespace rnade_avx2 {
DEEPGEN_RNADE_SAMPLE_KERNELS
}  // namespace rnade_avx2

}  // namespace deepgen
