// AVX2/FMA row loops of layernorm.h; the plain twins are in layernorm.cc.
// Compiled with -mavx2 -mfma in its own library; called only when use_avx2_fma().
#include "layernorm.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include <cmath>

namespace deepgen {
namespace {

inline __m256d lo_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
inline __m256d hi_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }

inline double hsum256d(__m256d v) {
  alignas(32) double t[4];
  _mm256_store_pd(t, v);
  return (t[0] + t[1]) + (t[2] + t[3]);
}

// acc[0..8) += v, widened to double.
inline void add_to_f64(double* acc, __m256 v) {
  _mm256_storeu_pd(acc, _mm256_add_pd(_mm256_loadu_pd(acc), lo_pd(v)));
  _mm256_storeu_pd(acc + 4, _mm256_add_pd(_mm256_loadu_pd(acc + 4), hi_pd(v)));
}

}  // namespace

void layernorm_forward_row_avx2(const float* x, const float* gamma, const float* beta, float* y,
                                int64_t D, float mean, float rstd) {
  const __m256 m = _mm256_set1_ps(mean), r = _mm256_set1_ps(rstd);
  int64_t d = 0;
  for (; d + 8 <= D; d += 8) {
    const __m256 xhat = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + d), m), r);
    _mm256_storeu_ps(y + d,
                     _mm256_fmadd_ps(xhat, _mm256_loadu_ps(gamma + d), _mm256_loadu_ps(beta + d)));
  }
  for (; d < D; ++d) y[d] = __builtin_fmaf((x[d] - mean) * rstd, gamma[d], beta[d]);
}

// Two passes over the row: (1) the row sums of g and g xhat (in double) and the column
// accumulators; (2) dx. xhat and g are formed in float, as the forward formed y.
void layernorm_backward_row_avx2(const float* x, const float* dy, const float* gamma, float* dx,
                                 double* dgamma_acc, double* dbeta_acc, int64_t D, float mean,
                                 float rstd) {
  const __m256 m = _mm256_set1_ps(mean), r = _mm256_set1_ps(rstd);
  __m256d sg0 = _mm256_setzero_pd(), sg1 = sg0, sx0 = sg0, sx1 = sg0;
  int64_t d = 0;
  for (; d + 8 <= D; d += 8) {
    const __m256 xhat = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + d), m), r);
    const __m256 g_out = _mm256_loadu_ps(dy + d);
    const __m256 g = _mm256_mul_ps(g_out, _mm256_loadu_ps(gamma + d));
    sg0 = _mm256_add_pd(sg0, lo_pd(g));
    sg1 = _mm256_add_pd(sg1, hi_pd(g));
    sx0 = _mm256_fmadd_pd(lo_pd(g), lo_pd(xhat), sx0);
    sx1 = _mm256_fmadd_pd(hi_pd(g), hi_pd(xhat), sx1);
    add_to_f64(dgamma_acc + d, _mm256_mul_ps(g_out, xhat));
    add_to_f64(dbeta_acc + d, g_out);
  }
  double sum_g = hsum256d(_mm256_add_pd(sg0, sg1));
  double sum_gx = hsum256d(_mm256_add_pd(sx0, sx1));
  for (int64_t t = d; t < D; ++t) {
    const float xhat = (x[t] - mean) * rstd;
    const float g = dy[t] * gamma[t];
    sum_g += g;
    sum_gx += static_cast<double>(g) * xhat;
    dgamma_acc[t] += dy[t] * xhat;
    dbeta_acc[t] += dy[t];
  }
  const float mean_g = static_cast<float>(sum_g / static_cast<double>(D));
  const float mean_gx = static_cast<float>(sum_gx / static_cast<double>(D));
  const __m256 vmg = _mm256_set1_ps(mean_g), vmgx = _mm256_set1_ps(mean_gx);
  d = 0;
  for (; d + 8 <= D; d += 8) {
    const __m256 xhat = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + d), m), r);
    const __m256 g = _mm256_mul_ps(_mm256_loadu_ps(dy + d), _mm256_loadu_ps(gamma + d));
    const __m256 t = _mm256_fnmadd_ps(xhat, vmgx, _mm256_sub_ps(g, vmg));
    _mm256_storeu_ps(dx + d, _mm256_mul_ps(r, t));
  }
  for (; d < D; ++d) {
    const float xhat = (x[d] - mean) * rstd;
    const float g = dy[d] * gamma[d];
    dx[d] = rstd * __builtin_fmaf(-xhat, mean_gx, g - mean_g);
  }
}

}  // namespace deepgen

#else  // not an x86 build with AVX2/FMA: never selected at run time, but must link

namespace deepgen {
void layernorm_forward_row_avx2(const float* x, const float* gamma, const float* beta, float* y,
                                int64_t D, float mean, float rstd) {
  layernorm_forward_row_plain(x, gamma, beta, y, D, mean, rstd);
}
void layernorm_backward_row_avx2(const float* x, const float* dy, const float* gamma, float* dx,
                                 double* dgamma_acc, double* dbeta_acc, int64_t D, float mean,
                                 float rstd) {
  layernorm_backward_row_plain(x, dy, gamma, dx, dgamma_acc, dbeta_acc, D, mean, rstd);
}
}  // namespace deepgen

#endif
