// The RNADE per-sample kernels, compiled twice like nade_impl.h: by rnade.cc (namespace
// rnade_portable) and by rnade_avx2.cc with -mavx2 -mfma (namespace rnade_avx2). No include
// guard on purpose; no library templates (see NadeWorkspace in nade.h for why).
#ifndef RNADE_IMPL_NAMESPACE
#error "define RNADE_IMPL_NAMESPACE before including rnade_impl.h"
#endif

#include <cmath>
#include <cstdint>

#include "../../common/fast_math.h"
#include "../../common/philox.h"
#include "dot_lanes.h"
#include "rnade.h"

namespace deepgen {
namespace RNADE_IMPL_NAMESPACE {
namespace {

constexpr double kHalfLog2Pi = 0.91893853320467274178;
constexpr double kTwoPiD = 6.283185307179586476925286766559;

// Scratch layout inside `work`: a [H], h [H], acc [H], dh [H], then z, mu, s, r, pi [K] each.
struct Scratch {
  float *a, *h, *acc, *dh, *z, *mu, *s, *r, *pi;
  Scratch(const RnadeParams& p, float* w)
      : a(w),
        h(w + p.h),
        acc(w + 2 * p.h),
        dh(w + 3 * p.h),
        z(w + 4 * p.h),
        mu(z + p.k),
        s(mu + p.k),
        r(s + p.k),
        pi(r + p.k) {}
};

// The mixture parameters of step d from h.
inline void heads(const RnadeParams& p, int64_t d, const Scratch& w) {
  const int64_t base = d * p.k;
  for (int64_t j = 0; j < p.k; ++j) {
    const int64_t row = (base + j) * p.h;
    w.z[j] = p.ba[base + j] + dot_lanes(p.va + row, w.h, p.h);
    w.mu[j] = p.bm[base + j] + dot_lanes(p.vm + row, w.h, p.h);
    w.s[j] = p.bs[base + j] + dot_lanes(p.vs + row, w.h, p.h);
  }
}

// log N(x; mu_j, e^{s_j}) + z_j, in double.
inline double joint_log_weight(double x, const Scratch& w, int64_t j) {
  const double t = (x - w.mu[j]) * std::exp(-static_cast<double>(w.s[j]));
  return w.z[j] - 0.5 * t * t - w.s[j] - kHalfLog2Pi;
}

// log p(x_d | .) for the current heads; fills pi = softmax(z) and r = softmax(z + log N).
// The joint log-weights are recomputed rather than stored, to stay in double precision.
inline double step_log_prob(const RnadeParams& p, double x, const Scratch& w) {
  double zmax = -INFINITY, jmax = -INFINITY;
  for (int64_t j = 0; j < p.k; ++j) {
    zmax = std::fmax(zmax, static_cast<double>(w.z[j]));
    jmax = std::fmax(jmax, joint_log_weight(x, w, j));
  }
  double zsum = 0.0, jsum = 0.0;
  for (int64_t j = 0; j < p.k; ++j) {
    zsum += std::exp(w.z[j] - zmax);
    jsum += std::exp(joint_log_weight(x, w, j) - jmax);
  }
  const double lz = zmax + std::log(zsum), lj = jmax + std::log(jsum);
  for (int64_t j = 0; j < p.k; ++j) {
    w.pi[j] = static_cast<float>(std::exp(w.z[j] - lz));
    w.r[j] = static_cast<float>(std::exp(joint_log_weight(x, w, j) - lj));
  }
  return lj - lz;
}

inline void refresh_hidden(const RnadeParams& p, const Scratch& w) {
  for (int64_t j = 0; j < p.h; ++j) w.h[j] = sigmoid_poly(w.a[j]);
}

inline void axpy(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t j = 0; j < n; ++j) y[j] += alpha * x[j];
}

}  // namespace

double log_prob_one(const RnadeParams& p, const float* x, float* work) {
  const Scratch w(p, work);
  for (int64_t j = 0; j < p.h; ++j) w.a[j] = p.c[j];
  double total = 0.0;
  for (int64_t d = 0; d < p.d; ++d) {
    refresh_hidden(p, w);
    heads(p, d, w);
    total += step_log_prob(p, x[d], w);
    axpy(x[d], p.wt + d * p.h, w.a, p.h);
  }
  return total;
}

double backward_one(const RnadeParams& p, const float* x, float scale, float* work,
                    const RnadeGrads& g) {
  // The forward pass leaves a = c + sum_d WT[d] x_d in the scratch; walk back from there.
  const double total = log_prob_one(p, x, work);
  const Scratch w(p, work);
  for (int64_t j = 0; j < p.h; ++j) w.acc[j] = 0.0f;
  for (int64_t d = p.d - 1; d >= 0; --d) {
    // WT[d] fed a_{d+1..D}: its gradient is x_d times the sum of their dL/da (acc now).
    axpy(x[d], w.acc, g.wt + d * p.h, p.h);
    axpy(-x[d], p.wt + d * p.h, w.a, p.h);
    refresh_hidden(p, w);
    heads(p, d, w);
    step_log_prob(p, x[d], w);
    for (int64_t j = 0; j < p.h; ++j) w.dh[j] = 0.0f;
    const int64_t base = d * p.k;
    for (int64_t j = 0; j < p.k; ++j) {
      const double inv_var = std::exp(-2.0 * static_cast<double>(w.s[j]));
      const double diff = x[d] - static_cast<double>(w.mu[j]);
      const float dz = static_cast<float>((w.pi[j] - w.r[j]) * scale);
      const float dmu = static_cast<float>(-w.r[j] * diff * inv_var * scale);
      const float ds = static_cast<float>(-w.r[j] * (diff * diff * inv_var - 1.0) * scale);
      const int64_t row = (base + j) * p.h;
      g.ba[base + j] += dz;
      g.bm[base + j] += dmu;
      g.bs[base + j] += ds;
      axpy(dz, w.h, g.va + row, p.h);
      axpy(dmu, w.h, g.vm + row, p.h);
      axpy(ds, w.h, g.vs + row, p.h);
      axpy(dz, p.va + row, w.dh, p.h);
      axpy(dmu, p.vm + row, w.dh, p.h);
      axpy(ds, p.vs + row, w.dh, p.h);
    }
    for (int64_t j = 0; j < p.h; ++j) w.acc[j] += w.dh[j] * w.h[j] * (1.0f - w.h[j]);
  }
  axpy(1.0f, w.acc, g.c, p.h);
  return total;
}

void sample_one(const RnadeParams& p, uint64_t index, uint32_t key0, uint32_t key1, uint32_t stream,
                float* x, float* work) {
  const Scratch w(p, work);
  for (int64_t j = 0; j < p.h; ++j) w.a[j] = p.c[j];
  for (int64_t d = 0; d < p.d; ++d) {
    refresh_hidden(p, w);
    heads(p, d, w);
    step_log_prob(p, 0.0, w);  // fills pi
    const PhiloxBlock b = philox4x32_10(static_cast<uint32_t>(d), static_cast<uint32_t>(index),
                                        stream, static_cast<uint32_t>(index >> 32), key0, key1);
    const double u = philox_uniform_f64(b.v[0]);
    int64_t comp = p.k - 1;
    double cum = 0.0;
    for (int64_t j = 0; j < p.k; ++j) {
      cum += w.pi[j];
      if (u < cum) {
        comp = j;
        break;
      }
    }
    const double radius = std::sqrt(-2.0 * std::log(philox_uniform_f64(b.v[1])));
    const double normal = radius * std::cos(kTwoPiD * philox_uniform_f64(b.v[2]));
    const float value =
        static_cast<float>(w.mu[comp] + std::exp(static_cast<double>(w.s[comp])) * normal);
    x[d] = value;
    axpy(value, p.wt + d * p.h, w.a, p.h);
  }
}

}  // namespace RNADE_IMPL_NAMESPACE
}  // namespace deepgen
