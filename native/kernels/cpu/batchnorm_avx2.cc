// AVX2/FMA row loops of batchnorm.h; the plain twins are in batchnorm.cc.
// Compiled with -mavx2 -mfma in its own library; called only when use_avx2_fma().
#include "batchnorm.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include <cmath>

namespace deepgen {

void batchnorm_affine_row_avx2(const float* x, float* y, int64_t n, float center, float scale,
                               float shift) {
  const __m256 c = _mm256_set1_ps(center), s = _mm256_set1_ps(scale), b = _mm256_set1_ps(shift);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), c), s, b));
  }
  for (; i < n; ++i) y[i] = __builtin_fmaf(x[i] - center, scale, shift);
}

void batchnorm_backward_row_avx2(const float* x, const float* dy, float* dx, int64_t n,
                                 float center, float a, float b, float k) {
  const __m256 c = _mm256_set1_ps(center), va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b),
               vk = _mm256_set1_ps(k);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 xc = _mm256_sub_ps(_mm256_loadu_ps(x + i), c);
    _mm256_storeu_ps(dx + i,
                     _mm256_fmadd_ps(va, _mm256_loadu_ps(dy + i), _mm256_fmadd_ps(vb, xc, vk)));
  }
  for (; i < n; ++i) dx[i] = __builtin_fmaf(a, dy[i], __builtin_fmaf(b, x[i] - center, k));
}

namespace {
inline __m256d lo_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
inline __m256d hi_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }
}  // namespace

void batchnorm_col_sum_sq_avx2(double* acc, const float* x, const double* center, int64_t w) {
  int64_t j = 0;
  for (; j + 8 <= w; j += 8) {
    const __m256 v = _mm256_loadu_ps(x + j);
    const __m256d d0 = _mm256_sub_pd(lo_pd(v), _mm256_loadu_pd(center + j));
    const __m256d d1 = _mm256_sub_pd(hi_pd(v), _mm256_loadu_pd(center + j + 4));
    _mm256_storeu_pd(acc + j, _mm256_fmadd_pd(d0, d0, _mm256_loadu_pd(acc + j)));
    _mm256_storeu_pd(acc + j + 4, _mm256_fmadd_pd(d1, d1, _mm256_loadu_pd(acc + j + 4)));
  }
  for (; j < w; ++j) {
    const double d = x[j] - center[j];
    acc[j] += d * d;
  }
}

void batchnorm_col_grad_sums_avx2(double* sum_dy, double* sum_dyc, const float* dy, const float* x,
                                  const float* mean, int64_t w) {
  int64_t j = 0;
  for (; j + 8 <= w; j += 8) {
    const __m256 g = _mm256_loadu_ps(dy + j);
    const __m256 v = _mm256_loadu_ps(x + j);
    const __m256 m = _mm256_loadu_ps(mean + j);
    const __m256d g0 = lo_pd(g), g1 = hi_pd(g);
    _mm256_storeu_pd(sum_dy + j, _mm256_add_pd(_mm256_loadu_pd(sum_dy + j), g0));
    _mm256_storeu_pd(sum_dy + j + 4, _mm256_add_pd(_mm256_loadu_pd(sum_dy + j + 4), g1));
    const __m256d c0 = _mm256_sub_pd(lo_pd(v), lo_pd(m)), c1 = _mm256_sub_pd(hi_pd(v), hi_pd(m));
    _mm256_storeu_pd(sum_dyc + j, _mm256_fmadd_pd(g0, c0, _mm256_loadu_pd(sum_dyc + j)));
    _mm256_storeu_pd(sum_dyc + j + 4, _mm256_fmadd_pd(g1, c1, _mm256_loadu_pd(sum_dyc + j + 4)));
  }
  for (; j < w; ++j) {
    sum_dy[j] += dy[j];
    sum_dyc[j] += static_cast<double>(dy[j]) * (static_cast<double>(x[j]) - mean[j]);
  }
}

void batchnorm_col_affine_avx2(const float* x, float* y, const float* center, const float* scale,
                               const float* shift, int64_t w) {
  int64_t j = 0;
  for (; j + 8 <= w; j += 8) {
    const __m256 xc = _mm256_sub_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(center + j));
    _mm256_storeu_ps(y + j,
                     _mm256_fmadd_ps(xc, _mm256_loadu_ps(scale + j), _mm256_loadu_ps(shift + j)));
  }
  for (; j < w; ++j) y[j] = __builtin_fmaf(x[j] - center[j], scale[j], shift[j]);
}

void batchnorm_col_backward_avx2(const float* x, const float* dy, float* dx, const float* center,
                                 const float* a, const float* b, const float* k, int64_t w) {
  int64_t j = 0;
  for (; j + 8 <= w; j += 8) {
    const __m256 xc = _mm256_sub_ps(_mm256_loadu_ps(x + j), _mm256_loadu_ps(center + j));
    const __m256 t = _mm256_fmadd_ps(_mm256_loadu_ps(b + j), xc, _mm256_loadu_ps(k + j));
    _mm256_storeu_ps(dx + j, _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(dy + j), t));
  }
  for (; j < w; ++j)
    dx[j] = __builtin_fmaf(a[j], dy[j], __builtin_fmaf(b[j], x[j] - center[j], k[j]));
}

}  // namespace deepgen

#else  // not an x86 build with AVX2/FMA: never selected at run time, but must link

namespace deepgen {
void batchnorm_affine_row_avx2(const float* x, float* y, int64_t n, float center, float scale,
                               float shift) {
  batchnorm_affine_row_plain(x, y, n, center, scale, shift);
}
void batchnorm_backward_row_avx2(const float* x, const float* dy, float* dx, int64_t n,
                                 float center, float a, float b, float k) {
  batchnorm_backward_row_plain(x, dy, dx, n, center, a, b, k);
}
void batchnorm_col_sum_sq_avx2(double* acc, const float* x, const double* center, int64_t w) {
  batchnorm_col_sum_sq_plain(acc, x, center, w);
}
void batchnorm_col_grad_sums_avx2(double* sum_dy, double* sum_dyc, const float* dy, const float* x,
                                  const float* mean, int64_t w) {
  batchnorm_col_grad_sums_plain(sum_dy, sum_dyc, dy, x, mean, w);
}
void batchnorm_col_affine_avx2(const float* x, float* y, const float* center, const float* scale,
                               const float* shift, int64_t w) {
  batchnorm_col_affine_plain(x, y, center, scale, shift, w);
}
void batchnorm_col_backward_avx2(const float* x, const float* dy, float* dx, const float* center,
                                 const float* a, const float* b, const float* k, int64_t w) {
  batchnorm_col_backward_plain(x, dy, dx, center, a, b, k, w);
}
}  // namespace deepgen

#endif
