// The NADE block kernels, written once and compiled three times: by nade.cc for the baseline
// ISA (namespace nade_portable), by nade_avx2.cc with -mavx2 -mfma (namespace nade_avx2) and by
// nade_avx512.cc for AVX-512F (namespace nade_avx512).
// No include guard on purpose. Shapes and semantics: see nade.h.
#ifndef NADE_IMPL_NAMESPACE
#error "define NADE_IMPL_NAMESPACE before including nade_impl.h"
#endif

#include <cmath>
#include <cstdint>

#include "../../common/fast_math.h"
#include "../../common/philox.h"
#include "dot_lanes.h"
#include "nade.h"

namespace deepgen {
namespace NADE_IMPL_NAMESPACE {
namespace {

inline void sigmoid_into(const float* a, float* h, int64_t n) {
  for (int64_t j = 0; j < n; ++j) h[j] = sigmoid_poly(a[j]);
}

inline void axpy(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t j = 0; j < n; ++j) y[j] += alpha * x[j];
}

inline double sigmoid_d(double l) { return 1.0 / (1.0 + std::exp(-l)); }

// Per-block state over the caller's workspace: a and h for each sample, and whether h is
// stale. a starts at c.
struct BlockState {
  const NadeParams& p;
  const NadeWorkspace& w;
  BlockState(const NadeParams& params, const NadeWorkspace& work, int64_t nb) : p(params), w(work) {
    for (int64_t s = 0; s < nb; ++s) {
      for (int64_t j = 0; j < p.h; ++j) w.a[s * p.h + j] = p.c[j];
      w.stale[s] = 1;
    }
  }
  // h of sample s, recomputed from a only if a changed since the last call.
  const float* hidden(int64_t s) {
    float* hs = w.h + s * p.h;
    if (w.stale[s]) {
      sigmoid_into(w.a + s * p.h, hs, p.h);
      w.stale[s] = 0;
    }
    return hs;
  }
  // Brings h of every sample of the block up to date; returns h [nb, H].
  const float* hidden_all(int64_t nb) {
    for (int64_t s = 0; s < nb; ++s) hidden(s);
    return w.h;
  }
  void add_row(int64_t s, const float* row, float sign) {
    axpy(sign, row, w.a + s * p.h, p.h);
    w.stale[s] = 1;
  }
};

}  // namespace

// log p(x_s) from the signed logits z[s, d] = (x ? -l : l) of a block: -sum softplus(z),
// vectorized in float, summed in double.
inline void sum_log_bernoulli(const float* z, int64_t nb, int64_t d, float* tmp, float* logp) {
  for (int64_t s = 0; s < nb; ++s) {
    const float* zs = z + s * d;
    for (int64_t i = 0; i < d; ++i) tmp[i] = softplus_poly(zs[i]);
    double total = 0.0;
    for (int64_t i = 0; i < d; ++i) total += tmp[i];
    logp[s] = static_cast<float>(-total);
  }
}

void log_prob_block(const NadeParams& p, const NadeWorkspace& w, const float* x, int64_t nb,
                    float* logp) {
  BlockState st(p, w, nb);
  for (int64_t d = 0; d < p.d; ++d) {
    const int64_t o = p.order[d];
    const float* v = p.v + o * p.h;
    dots(v, st.hidden_all(nb), nb, p.h, w.l);
    for (int64_t s = 0; s < nb; ++s) {
      const float l = p.b[o] + w.l[s];
      const bool one = x[s * p.d + o] > 0.5f;
      w.z[s * p.d + d] = one ? -l : l;
      if (one) st.add_row(s, p.wt + o * p.h, 1.0f);
    }
  }
  sum_log_bernoulli(w.z, nb, p.d, w.tmp, logp);
}

void sample_block(const NadeParams& p, const NadeWorkspace& w, int64_t nb, const RowStream* rows,
                  uint32_t stream, int64_t known, float* x, float* probs) {
  BlockState st(p, w, nb);
  for (int64_t d = 0; d < p.d; ++d) {
    const int64_t o = p.order[d];
    const float* v = p.v + o * p.h;
    dots(v, st.hidden_all(nb), nb, p.h, w.l);
    for (int64_t s = 0; s < nb; ++s) {
      const double l = static_cast<double>(p.b[o]) + w.l[s];
      const double prob = sigmoid_d(l);
      if (probs != nullptr) probs[s * p.d + o] = static_cast<float>(prob);
      bool one;
      if (d < known) {
        one = x[s * p.d + o] > 0.5f;
      } else {
        const RowStream& rs = rows[s];
        uint32_t* words = w.rng + 4 * s;
        if (d == known || (d & 3) == 0) {
          const PhiloxBlock blk =
              philox4x32_10(static_cast<uint32_t>(d >> 2), static_cast<uint32_t>(rs.index), stream,
                            static_cast<uint32_t>(rs.index >> 32), rs.key0, rs.key1);
          for (int k = 0; k < 4; ++k) words[k] = blk.v[k];
        }
        one = philox_uniform_f64(words[d & 3]) < prob;
        x[s * p.d + o] = one ? 1.0f : 0.0f;
      }
      if (one) st.add_row(s, p.wt + o * p.h, 1.0f);
    }
  }
}

void backward_block(const NadeParams& p, const NadeWorkspace& w, const float* x, int64_t nb,
                    float scale, float* logp, float* dwt, float* dc, float* dv, float* db) {
  BlockState st(p, w, nb);
  // Forward: the final pre-activation c + sum_o WT[o] x_o (and the log-likelihood).
  for (int64_t d = 0; d < p.d; ++d) {
    const int64_t o = p.order[d];
    const float* v = p.v + o * p.h;
    if (logp != nullptr) dots(v, st.hidden_all(nb), nb, p.h, w.l);
    for (int64_t s = 0; s < nb; ++s) {
      const bool one = x[s * p.d + o] > 0.5f;
      if (logp != nullptr) {
        const float l = p.b[o] + w.l[s];
        w.z[s * p.d + d] = one ? -l : l;
      }
      if (one) st.add_row(s, p.wt + o * p.h, 1.0f);
    }
  }
  if (logp != nullptr) sum_log_bernoulli(w.z, nb, p.d, w.tmp, logp);
  // Backward, last step first. acc[s] = sum over later steps of dL/da_d; a is walked back
  // by subtracting the rows added on the way forward.
  float* acc = w.acc;
  for (int64_t i = 0; i < nb * p.h; ++i) acc[i] = 0.0f;
  for (int64_t d = p.d - 1; d >= 0; --d) {
    const int64_t o = p.order[d];
    const float* v = p.v + o * p.h;
    float* dv_row = dv + o * p.h;
    float* dwt_row = dwt + o * p.h;
    for (int64_t s = 0; s < nb; ++s) {
      if (x[s * p.d + o] > 0.5f) {
        // WT[o] fed a_{d+1..D}: its gradient is the sum of their dL/da, i.e. acc now.
        axpy(1.0f, acc + s * p.h, dwt_row, p.h);
        st.add_row(s, p.wt + o * p.h, -1.0f);
      }
    }
    dots(v, st.hidden_all(nb), nb, p.h, w.l);
    for (int64_t s = 0; s < nb; ++s) {
      float* acc_s = acc + s * p.h;
      const bool one = x[s * p.d + o] > 0.5f;
      const float* hs = w.h + s * p.h;
      const double l = static_cast<double>(p.b[o]) + w.l[s];
      const float dl = static_cast<float>((sigmoid_d(l) - (one ? 1.0 : 0.0)) * scale);
      db[o] += dl;
      axpy(dl, hs, dv_row, p.h);
      for (int64_t j = 0; j < p.h; ++j) acc_s[j] += dl * v[j] * hs[j] * (1.0f - hs[j]);
    }
  }
  for (int64_t s = 0; s < nb; ++s) axpy(1.0f, acc + s * p.h, dc, p.h);
}

}  // namespace NADE_IMPL_NAMESPACE
}  // namespace deepgen
