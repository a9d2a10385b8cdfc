// AVX2/FMA versions of vmath.h, 8 floats at a time. Compiled with -mavx2 -mfma in its own
// library; called only when use_avx2_fma(). The plain twins are in vmath.cc.
//
// The exp and log kernels are the Cephes single-precision algorithms (S. Moshier), as also
// used by avx_mathfun, with two changes for the whole float range: exp scales by 2^n in two
// steps so results between FLT_MIN and 2^-149 come out as correctly scaled denormals (and
// values past the overflow threshold as +inf), and log rescales denormal inputs by 2^23
// before splitting mantissa and exponent.
#include "vmath.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include <cmath>

namespace deepgen {
namespace {

inline __m256 abs256(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
inline __m256 is_nan256(__m256 x) { return _mm256_cmp_ps(x, x, _CMP_UNORD_Q); }

// 2^k for integer k in [-126, 127], built from the exponent bits.
inline __m256 pow2i256(__m256i k) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23));
}

// exp(x): x = n ln2 + r with |r| <= ln2 / 2, exp(r) by a degree-7 polynomial, times 2^n.
inline __m256 exp256(__m256 x) {
  // Beyond these bounds the result is 0 / +inf whatever the polynomial says; clamping keeps
  // n within [-151, 129] so both halves of the 2^n scaling below stay normal numbers.
  const __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-104.0f)), _mm256_set1_ps(89.0f));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // ln2 = C1 + C2 with C1 = 0.693359375 (9 bits): n * C1 and xc - n * C1 are exact.
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
  p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
  // p * 2^n = (p * 2^n1) * 2^n2 with n1 = floor(n / 2): the first product is exact, the
  // second rounds once, into a denormal or to +inf where the true result lies there.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, pow2i256(n1)), pow2i256(n2));
  return _mm256_blendv_ps(y, x, is_nan256(x));
}

// e ln2 + log(1 + f) for f in [-0.293, 0.414]: log(1 + f) = f - f^2/2 + f^3 P(f).
inline __m256 log_core256(__m256 f, __m256 e) {
  const __m256 z = _mm256_mul_ps(f, f);
  __m256 p = _mm256_set1_ps(7.0376836292e-2f);
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-1.1514610310e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.1676998740e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-1.2420140846e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(1.4249322787e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-1.6668057665e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(2.0000714765e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(-2.4999993993e-1f));
  p = _mm256_fmadd_ps(p, f, _mm256_set1_ps(3.3333331174e-1f));
  p = _mm256_mul_ps(_mm256_mul_ps(p, f), z);
  // ln2 = C1 + C2 as in exp; add the small terms first, the big ones last.
  p = _mm256_fmadd_ps(e, _mm256_set1_ps(-2.12194440e-4f), p);
  p = _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), z, p);
  const __m256 y = _mm256_add_ps(f, p);
  return _mm256_fmadd_ps(e, _mm256_set1_ps(0.693359375f), y);
}

// log(x): x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(m) = f - f^2/2 + f^3 P(f), f = m - 1.
inline __m256 log256(__m256 x) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 invalid = _mm256_cmp_ps(x, zero, _CMP_NGE_UQ);  // x < 0 or NaN
  const __m256 is_zero = _mm256_cmp_ps(x, zero, _CMP_EQ_OQ);   // +0 and -0
  const __m256 is_inf = _mm256_cmp_ps(x, _mm256_set1_ps(INFINITY), _CMP_EQ_OQ);
  // Denormals have no implicit leading 1: scale them into the normal range first.
  const __m256 denormal = _mm256_cmp_ps(x, _mm256_set1_ps(1.17549435e-38f), _CMP_LT_OQ);
  __m256 v = _mm256_blendv_ps(x, _mm256_mul_ps(x, _mm256_set1_ps(8388608.0f)), denormal);
  const __m256 e_shift = _mm256_and_ps(denormal, _mm256_set1_ps(23.0f));

  const __m256i bits = _mm256_castps_si256(v);
  __m256 e =
      _mm256_cvtepi32_ps(_mm256_sub_epi32(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(126)));
  e = _mm256_sub_ps(e, e_shift);
  // Mantissa in [0.5, 1).
  v = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff)),
                                          _mm256_set1_epi32(0x3f000000)));
  // m < sqrt(1/2): use 2m and e - 1, so f = m - 1 lies in [-0.293, 0.414]. Both branches
  // compute f exactly (Sterbenz).
  const __m256 small = _mm256_cmp_ps(v, _mm256_set1_ps(0.707106781186547524f), _CMP_LT_OQ);
  const __m256 add_back = _mm256_and_ps(v, small);
  __m256 f = _mm256_sub_ps(v, one);
  e = _mm256_sub_ps(e, _mm256_and_ps(one, small));
  f = _mm256_add_ps(f, add_back);

  __m256 y = log_core256(f, e);
  y = _mm256_blendv_ps(y, _mm256_set1_ps(NAN), invalid);
  y = _mm256_blendv_ps(y, _mm256_set1_ps(-INFINITY), is_zero);
  return _mm256_blendv_ps(y, x, is_inf);
}

// 1 / (1 + exp(-x)) for x >= 0 and e / (1 + e), e = exp(x), for x < 0: e = exp(-|x|) <= 1
// never overflows, and small negative-side results keep full relative precision. The
// rounding error of d = 1 + e is recovered exactly (Fast2Sum, 1 >= e) and divided out in a
// first-order correction, which takes about half an ulp off the worst case.
inline __m256 sigmoid256(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = exp256(_mm256_xor_ps(abs256(x), _mm256_set1_ps(-0.0f)));
  const __m256 nonneg = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
  const __m256 num = _mm256_blendv_ps(e, one, nonneg);
  const __m256 d = _mm256_add_ps(one, e);
  const __m256 d_err = _mm256_add_ps(_mm256_sub_ps(one, d), e);  // (1 + e) - d, exactly
  const __m256 q = _mm256_div_ps(num, d);
  // num / (d + d_err) = q (1 - d_err / d + ...); the correction needs only a few bits of
  // 1 / d, which is q itself for x >= 0 and 1 - q for x < 0 (as (1 + e) / d = 1).
  const __m256 inv_d = _mm256_blendv_ps(_mm256_sub_ps(one, q), q, nonneg);
  return _mm256_fnmadd_ps(_mm256_mul_ps(q, d_err), inv_d, q);
}

// tanh: an odd polynomial for |x| < 0.625 (where 1 - 2 / (e + 1) would cancel), else
// 1 - 2 / (exp(2|x|) + 1) with the sign of x. exp overflowing to +inf gives exactly 1.
inline __m256 tanh256(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 a = abs256(x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(-5.70498872745e-3f);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422e-1f));
  const __m256 small_res = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
  const __m256 e = exp256(_mm256_add_ps(a, a));
  const __m256 t = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
  const __m256 large_res = _mm256_or_ps(t, _mm256_and_ps(x, _mm256_set1_ps(-0.0f)));
  return _mm256_blendv_ps(large_res, small_res,
                          _mm256_cmp_ps(a, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

// log1p(t) for t in [0, 1]: for t < sqrt(2) - 1 the log polynomial takes f = t directly
// (no rounding of 1 + t at all); above, 1 + t = 2 m with f = m - 1 = (t - 1) / 2.
inline __m256 log1p_unit256(__m256 t) {
  const __m256 big = _mm256_cmp_ps(t, _mm256_set1_ps(0.414213562373095f), _CMP_GE_OQ);
  const __m256 f = _mm256_blendv_ps(
      t, _mm256_mul_ps(_mm256_sub_ps(t, _mm256_set1_ps(1.0f)), _mm256_set1_ps(0.5f)), big);
  return log_core256(f, _mm256_and_ps(big, _mm256_set1_ps(1.0f)));
}

// softplus(x) = max(x, 0) + log1p(exp(-|x|)).
inline __m256 softplus256(__m256 x) {
  const __m256 t = exp256(_mm256_xor_ps(abs256(x), _mm256_set1_ps(-0.0f)));  // (0, 1]
  const __m256 y = _mm256_add_ps(_mm256_max_ps(x, _mm256_setzero_ps()), log1p_unit256(t));
  return _mm256_blendv_ps(y, x, is_nan256(x));  // max(NaN, 0) would have given 0
}

// 1 - exp(-x): for |x| < 1 the Taylor series of -expm1(-x) to degree 11 (truncation below
// 2^-27 relative), else 1 - exp(-x), where the cancellation costs at most a factor 0.6.
inline __m256 one_minus_exp_neg256(__m256 x) {
  const __m256 t = _mm256_xor_ps(x, _mm256_set1_ps(-0.0f));  // -x
  __m256 p = _mm256_set1_ps(1.0f / 479001600.0f);            // 1/12!
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 39916800.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 3628800.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 362880.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 40320.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 5040.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 720.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 120.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 24.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.0f / 6.0f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.5f));
  const __m256 expm1_t = _mm256_fmadd_ps(_mm256_mul_ps(p, t), t, t);
  const __m256 small_res = _mm256_xor_ps(expm1_t, _mm256_set1_ps(-0.0f));
  const __m256 large_res = _mm256_sub_ps(_mm256_set1_ps(1.0f), exp256(t));
  const __m256 small = _mm256_cmp_ps(abs256(x), _mm256_set1_ps(1.0f), _CMP_LT_OQ);
  return _mm256_blendv_ps(large_res, small_res, small);
}

// Applies f to x[0..n) 8 at a time; the tail goes through the same vector code via a small
// buffer, so every element gets the same result wherever it sits in the array.
template <typename F>
void span256(F f, const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    const int64_t r = n - i;
    for (int64_t k = 0; k < r; ++k) buf[k] = x[i + k];
    _mm256_store_ps(buf, f(_mm256_load_ps(buf)));
    for (int64_t k = 0; k < r; ++k) y[i + k] = buf[k];
  }
}

// Horizontal sum of 4 doubles in a fixed order.
inline double hsum256d(__m256d v) {
  alignas(32) double t[4];
  _mm256_store_pd(t, v);
  return (t[0] + t[1]) + (t[2] + t[3]);
}

inline __m256d lo_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
inline __m256d hi_pd(__m256 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }

}  // namespace

void exp_span_avx2(const float* x, float* y, int64_t n) {
  span256([](__m256 v) { return exp256(v); }, x, y, n);
}
void log_span_avx2(const float* x, float* y, int64_t n) {
  span256([](__m256 v) { return log256(v); }, x, y, n);
}
void sigmoid_span_avx2(const float* x, float* y, int64_t n) {
  span256([](__m256 v) { return sigmoid256(v); }, x, y, n);
}
void tanh_span_avx2(const float* x, float* y, int64_t n) {
  span256([](__m256 v) { return tanh256(v); }, x, y, n);
}
void softplus_span_avx2(const float* x, float* y, int64_t n) {
  span256([](__m256 v) { return softplus256(v); }, x, y, n);
}
void one_minus_exp_neg_span_avx2(const float* x, float* y, int64_t n) {
  span256([](__m256 v) { return one_minus_exp_neg256(v); }, x, y, n);
}

// Reductions: four double accumulators (16 floats per step) hide the add latency.
double sum_f64_avx2(const float* x, int64_t n) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 u = _mm256_loadu_ps(x + i), v = _mm256_loadu_ps(x + i + 8);
    a0 = _mm256_add_pd(a0, lo_pd(u));
    a1 = _mm256_add_pd(a1, hi_pd(u));
    a2 = _mm256_add_pd(a2, lo_pd(v));
    a3 = _mm256_add_pd(a3, hi_pd(v));
  }
  double s = hsum256d(_mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  for (; i < n; ++i) s += x[i];
  return s;
}

double sum_sq_centered_f64_avx2(const float* x, int64_t n, double center) {
  const __m256d c = _mm256_set1_pd(center);
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 u = _mm256_loadu_ps(x + i), v = _mm256_loadu_ps(x + i + 8);
    const __m256d d0 = _mm256_sub_pd(lo_pd(u), c), d1 = _mm256_sub_pd(hi_pd(u), c);
    const __m256d d2 = _mm256_sub_pd(lo_pd(v), c), d3 = _mm256_sub_pd(hi_pd(v), c);
    a0 = _mm256_fmadd_pd(d0, d0, a0);
    a1 = _mm256_fmadd_pd(d1, d1, a1);
    a2 = _mm256_fmadd_pd(d2, d2, a2);
    a3 = _mm256_fmadd_pd(d3, d3, a3);
  }
  double s = hsum256d(_mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  for (; i < n; ++i) {
    const double d = x[i] - center;
    s += d * d;
  }
  return s;
}

double dot_centered_f64_avx2(const float* a, const float* b, int64_t n, double center) {
  const __m256d c = _mm256_set1_pd(center);
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 ua = _mm256_loadu_ps(a + i), va = _mm256_loadu_ps(a + i + 8);
    const __m256 ub = _mm256_loadu_ps(b + i), vb = _mm256_loadu_ps(b + i + 8);
    a0 = _mm256_fmadd_pd(lo_pd(ua), _mm256_sub_pd(lo_pd(ub), c), a0);
    a1 = _mm256_fmadd_pd(hi_pd(ua), _mm256_sub_pd(hi_pd(ub), c), a1);
    a2 = _mm256_fmadd_pd(lo_pd(va), _mm256_sub_pd(lo_pd(vb), c), a2);
    a3 = _mm256_fmadd_pd(hi_pd(va), _mm256_sub_pd(hi_pd(vb), c), a3);
  }
  double s = hsum256d(_mm256_add_pd(_mm256_add_pd(a0, a1), _mm256_add_pd(a2, a3)));
  for (; i < n; ++i) s += static_cast<double>(a[i]) * (b[i] - center);
  return s;
}

void accumulate_f64_avx2(double* acc, const float* x, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    _mm256_storeu_pd(acc + i, _mm256_add_pd(_mm256_loadu_pd(acc + i), lo_pd(v)));
    _mm256_storeu_pd(acc + i + 4, _mm256_add_pd(_mm256_loadu_pd(acc + i + 4), hi_pd(v)));
  }
  for (; i < n; ++i) acc[i] += x[i];
}

}  // namespace deepgen

#else  // not an x86 build with AVX2/FMA: never selected at run time, but must link

namespace deepgen {
void exp_span_avx2(const float* x, float* y, int64_t n) { exp_span_plain(x, y, n); }
void log_span_avx2(const float* x, float* y, int64_t n) { log_span_plain(x, y, n); }
void sigmoid_span_avx2(const float* x, float* y, int64_t n) { sigmoid_span_plain(x, y, n); }
void tanh_span_avx2(const float* x, float* y, int64_t n) { tanh_span_plain(x, y, n); }
void softplus_span_avx2(const float* x, float* y, int64_t n) { softplus_span_plain(x, y, n); }
void one_minus_exp_neg_span_avx2(const float* x, float* y, int64_t n) {
  one_minus_exp_neg_span_plain(x, y, n);
}
double sum_f64_avx2(const float* x, int64_t n) { return sum_f64_plain(x, n); }
double sum_sq_centered_f64_avx2(const float* x, int64_t n, double center) {
  return sum_sq_centered_f64_plain(x, n, center);
}
double dot_centered_f64_avx2(const float* a, const float* b, int64_t n, double center) {
  return dot_centered_f64_plain(a, b, n, center);
}
void accumulate_f64_avx2(double* acc, const float* x, int64_t n) {
  accumulate_f64_plain(acc, x, n);
}
}  // namespace deepgen

#endif
