// Compiled with -mavx2 -mfma (its own static library); called only when use_avx2_fma().
// The binary cross-entropy and log-sum-exp rows of loss.cc, 8 elements at a time; row sums in
// float64 (two 4-lane accumulators, so the order differs from the plain loop by float64
// rounding only).
#include "loss.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <cmath>

#include "gate_math_avx2.h"

namespace deepgen {

void bce_forward_rows_avx2(double* sums, const float* logits, const float* targets, int64_t cols,
                           int64_t r0, int64_t r1) {
  using namespace vmath;
  const __m256 sign_mask = splat(-0.0f);
  const __m256 zero = _mm256_setzero_ps();
  for (int64_t r = r0; r < r1; ++r) {
    const float* z_row = logits + r * cols;
    const float* x_row = targets + r * cols;
    __m256d acc_lo = _mm256_setzero_pd(), acc_hi = _mm256_setzero_pd();
    for (int64_t d = 0; d < cols; d += 8) {
      const Lanes l = lanes(cols - d);
      const __m256 z = load(z_row + d, l);
      const __m256 x = load(x_row + d, l);
      const __m256 e = exp_ps(_mm256_or_ps(z, sign_mask));  // exp(-|z|)
      __m256 v = _mm256_sub_ps(_mm256_max_ps(z, zero), _mm256_mul_ps(x, z));
      v = _mm256_add_ps(v, log1p_unit_ps(e));
      if (!l.full) v = _mm256_and_ps(v, _mm256_castsi256_ps(l.mask));  // idle lanes hold log 2
      acc_lo = _mm256_add_pd(acc_lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
      acc_hi = _mm256_add_pd(acc_hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    const __m256d acc = _mm256_add_pd(acc_lo, acc_hi);
    const __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(acc), _mm256_extractf128_pd(acc, 1));
    sums[r - r0] = _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
  }
}

void bce_backward_rows_avx2(float* dlogits, const float* logits, const float* targets, int64_t cols,
                            int64_t r0, int64_t r1, double scale, const float* row_scale) {
  using namespace vmath;
  for (int64_t r = r0; r < r1; ++r) {
    const double sr = row_scale != nullptr ? scale * static_cast<double>(row_scale[r]) : scale;
    const __m256 s = splat(static_cast<float>(sr));
    const int64_t off = r * cols;
    for (int64_t d = 0; d < cols; d += 8) {
      const Lanes l = lanes(cols - d);
      const __m256 p = sigmoid_ps(load(logits + off + d, l));
      store(dlogits + off + d, _mm256_mul_ps(_mm256_sub_ps(p, load(targets + off + d, l)), s), l);
    }
  }
}

namespace {

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

inline double hsum(__m256d lo, __m256d hi) {
  const __m256d acc = _mm256_add_pd(lo, hi);
  const __m128d pair = _mm_add_pd(_mm256_castpd256_pd128(acc), _mm256_extractf128_pd(acc, 1));
  return _mm_cvtsd_f64(_mm_add_sd(pair, _mm_unpackhi_pd(pair, pair)));
}

// The row segment at p with idle tail lanes set to -Inf (no weight in a log-sum-exp).
inline __m256 load_or_neg_inf(const float* p, const vmath::Lanes& l) {
  const __m256 v = vmath::load(p, l);
  if (l.full) return v;
  return _mm256_blendv_ps(vmath::splat(-INFINITY), v, _mm256_castsi256_ps(l.mask));
}

}  // namespace

void lse_forward_rows_avx2(float* out, const float* x, int64_t cols, int64_t r0, int64_t r1) {
  using namespace vmath;
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    __m256 mv = splat(-INFINITY);
    __m256 nan = _mm256_setzero_ps();
    for (int64_t d = 0; d < cols; d += 8) {
      const __m256 v = load_or_neg_inf(xr + d, lanes(cols - d));
      nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
      mv = _mm256_max_ps(mv, v);
    }
    const float m = hmax(mv);
    if (_mm256_movemask_ps(nan) != 0) {
      out[r] = NAN;
    } else if (m == INFINITY || m == -INFINITY) {
      out[r] = m;  // all -Inf (or empty): -Inf; any +Inf: +Inf
    } else {
      const __m256 ms = splat(m);
      __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();
      for (int64_t d = 0; d < cols; d += 8) {
        const __m256 e = exp_ps(_mm256_sub_ps(load_or_neg_inf(xr + d, lanes(cols - d)), ms));
        lo = _mm256_add_pd(lo, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        hi = _mm256_add_pd(hi, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
      }
      out[r] = static_cast<float>(static_cast<double>(m) + std::log(hsum(lo, hi)));
    }
  }
}

void lse_backward_rows_avx2(float* dx, const float* x, const float* lse, const float* dout,
                            int64_t cols, int64_t r0, int64_t r1) {
  using namespace vmath;
  for (int64_t r = r0; r < r1; ++r) {
    const int64_t off = r * cols;
    const bool empty_row = lse[r] == -INFINITY;  // no entry has any weight
    const __m256 l = splat(lse[r]), g = splat(dout[r]);
    for (int64_t d = 0; d < cols; d += 8) {
      const Lanes ln = lanes(cols - d);
      const __m256 v = empty_row
                           ? _mm256_setzero_ps()
                           : _mm256_mul_ps(g, exp_ps(_mm256_sub_ps(load(x + off + d, ln), l)));
      store(dx + off + d, v, ln);
    }
  }
}

}  // namespace deepgen

#else  // not an x86 build with AVX2/FMA: never selected at run time, but must link

namespace deepgen {
void bce_forward_rows_avx2(double* sums, const float* logits, const float* targets, int64_t cols,
                           int64_t r0, int64_t r1) {
  bce_forward_rows_plain(sums, logits, targets, cols, r0, r1);
}
void bce_backward_rows_avx2(float* dlogits, const float* logits, const float* targets, int64_t cols,
                            int64_t r0, int64_t r1, double scale, const float* row_scale) {
  bce_backward_rows_plain(dlogits, logits, targets, cols, r0, r1, scale, row_scale);
}
void lse_forward_rows_avx2(float* out, const float* x, int64_t cols, int64_t r0, int64_t r1) {
  lse_forward_rows_plain(out, x, cols, r0, r1);
}
void lse_backward_rows_avx2(float* dx, const float* x, const float* lse, const float* dout,
                            int64_t cols, int64_t r0, int64_t r1) {
  lse_backward_rows_plain(dx, x, lse, dout, cols, r0, r1);
}
}  // namespace deepgen

#endif
