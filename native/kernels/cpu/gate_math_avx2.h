// Vectorized exp / log / sigmoid / tanh on 8 floats, for the AVX2 kernels of the lstm and loss
// groups (lstm_gates_avx2.cc, loss_avx2.cc). Include only from *_avx2.cc files: everything
// here exists only when the translation unit is compiled with -mavx2 -mfma.
//
// The polynomials are Cephes' single-precision ones (expf, logf, tanhf), the same that
// avx_mathfun and many SIMD libraries use; each is within a few float ulps of libm over the
// ranges the kernels feed them (test/native/test_lstm_gates.cc and test_loss.cc check that
// against std:: functions). Out-of-range inputs saturate instead of producing garbage or
// Inf: exp(x) is 0 for x <= -88.376 and stays at exp(88.376) ~ 2.4e38 above it, so
// 1 / (1 + exp(-x)) is 0 or a tiny denormal for x < -88, and NaN stays NaN.
// (vmath.h of the activation group has span-level functions; these are inline primitives
// for fused loops, which spans cannot serve without temporaries.)
#pragma once

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include <cstdint>

namespace deepgen {
namespace vmath {

inline __m256 splat(float v) { return _mm256_set1_ps(v); }

// The lanes of a row segment: all 8, or the first n of a row's tail. Masked loads read no
// memory past the end of the row and masked stores write none, so every element of a row
// goes through the same vector math, tail included.
struct Lanes {
  bool full;
  __m256i mask;
};

inline Lanes lanes(int64_t left) {
  if (left >= 8) return {true, _mm256_set1_epi32(-1)};
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return {false, _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(left)), idx)};
}

inline __m256 load(const float* p, const Lanes& l) {
  return l.full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, l.mask);
}

inline void store(float* p, __m256 v, const Lanes& l) {
  if (l.full)
    _mm256_storeu_ps(p, v);
  else
    _mm256_maskstore_ps(p, l.mask, v);
}

// exp(x): x = n ln2 + r with |r| <= ln2 / 2, exp(r) by a degree-6 polynomial, 2^n built in
// the exponent bits. ln2 is split in two (C1 exact in few bits) so r is accurate.
inline __m256 exp_ps(__m256 x) {
  // max(lo, x) / min(hi, x) with the bound first: the SSE min/max return the second operand
  // when one is NaN, so NaN passes through.
  x = _mm256_max_ps(splat(-88.3762626647949f), x);
  x = _mm256_min_ps(splat(88.3762626647949f), x);
  __m256 fx = _mm256_fmadd_ps(x, splat(1.44269504088896341f), splat(0.5f));
  fx = _mm256_floor_ps(fx);
  x = _mm256_fnmadd_ps(fx, splat(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, splat(-2.12194440e-4f), x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 y = splat(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, splat(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, splat(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, splat(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, splat(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, splat(5.0000001201e-1f));
  y = _mm256_fmadd_ps(y, z, x);
  y = _mm256_add_ps(y, splat(1.0f));
  // fx in [-127, 128]: -127 gives the bit pattern of 0.0f, 128 that of +Inf.
  __m256i n = _mm256_cvttps_epi32(fx);
  n = _mm256_add_epi32(n, _mm256_set1_epi32(127));
  n = _mm256_slli_epi32(n, 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(n));
}

// log(x) for finite x > 0 (denormals are treated as the smallest normal float).
inline __m256 log_ps(__m256 x) {
  x = _mm256_max_ps(splat(1.17549435e-38f), x);
  __m256i e_bits = _mm256_srli_epi32(_mm256_castps_si256(x), 23);
  // Mantissa in [0.5, 1).
  x = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32(~0x7f800000)));
  x = _mm256_or_ps(x, splat(0.5f));
  e_bits = _mm256_sub_epi32(e_bits, _mm256_set1_epi32(0x7f));
  __m256 e = _mm256_add_ps(_mm256_cvtepi32_ps(e_bits), splat(1.0f));
  // Move the mantissa to [sqrt(1/2), sqrt(2)) so the polynomial argument is small.
  const __m256 small = _mm256_cmp_ps(x, splat(0.707106781186547524f), _CMP_LT_OQ);
  const __m256 tmp = _mm256_and_ps(x, small);
  x = _mm256_sub_ps(x, splat(1.0f));
  e = _mm256_sub_ps(e, _mm256_and_ps(splat(1.0f), small));
  x = _mm256_add_ps(x, tmp);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 y = splat(7.0376836292e-2f);
  y = _mm256_fmadd_ps(y, x, splat(-1.1514610310e-1f));
  y = _mm256_fmadd_ps(y, x, splat(1.1676998740e-1f));
  y = _mm256_fmadd_ps(y, x, splat(-1.2420140846e-1f));
  y = _mm256_fmadd_ps(y, x, splat(1.4249322787e-1f));
  y = _mm256_fmadd_ps(y, x, splat(-1.6668057665e-1f));
  y = _mm256_fmadd_ps(y, x, splat(2.0000714765e-1f));
  y = _mm256_fmadd_ps(y, x, splat(-2.4999993993e-1f));
  y = _mm256_fmadd_ps(y, x, splat(3.3333331174e-1f));
  y = _mm256_mul_ps(_mm256_mul_ps(y, x), z);
  y = _mm256_fmadd_ps(e, splat(-2.12194440e-4f), y);
  y = _mm256_fnmadd_ps(z, splat(0.5f), y);
  x = _mm256_add_ps(x, y);
  return _mm256_fmadd_ps(e, splat(0.693359375f), x);
}

// log1p(e) for e in [0, 1]: log(1 + e) corrected by e / ((1 + e) - 1), which cancels the
// rounding of 1 + e (Goldberg's trick); when 1 + e rounds to 1, log1p(e) = e to float precision.
inline __m256 log1p_unit_ps(__m256 e) {
  const __m256 u = _mm256_add_ps(splat(1.0f), e);
  const __m256 d = _mm256_sub_ps(u, splat(1.0f));
  const __m256 exact = _mm256_cmp_ps(d, _mm256_setzero_ps(), _CMP_EQ_OQ);
  const __m256 r = _mm256_mul_ps(log_ps(u), _mm256_div_ps(e, d));
  return _mm256_blendv_ps(r, e, exact);
}

// 1 / (1 + exp(-x)): never NaN for finite x; 1 above ~17, at most ~4e-39 below -88.
inline __m256 sigmoid_ps(__m256 x) {
  const __m256 one = splat(1.0f);
  const __m256 e = exp_ps(_mm256_sub_ps(_mm256_setzero_ps(), x));
  return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

// tanh(x), Cephes tanhf: an odd polynomial for |x| < 0.625 (keeps the relative accuracy near
// 0, where 1 - 2 / (exp(2|x|) + 1) would cancel), that formula with the sign of x elsewhere.
inline __m256 tanh_ps(__m256 x) {
  const __m256 sign_mask = splat(-0.0f);
  const __m256 ax = _mm256_andnot_ps(sign_mask, x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 p = splat(-5.70498872745e-3f);
  p = _mm256_fmadd_ps(p, z, splat(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, z, splat(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, z, splat(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, z, splat(-3.33332819422e-1f));
  const __m256 near_zero = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
  const __m256 e = exp_ps(_mm256_add_ps(ax, ax));
  const __m256 t =
      _mm256_sub_ps(splat(1.0f), _mm256_div_ps(splat(2.0f), _mm256_add_ps(e, splat(1.0f))));
  const __m256 far = _mm256_or_ps(t, _mm256_and_ps(sign_mask, x));
  return _mm256_blendv_ps(far, near_zero, _mm256_cmp_ps(ax, splat(0.625f), _CMP_LT_OQ));
}

}  // namespace vmath
}  // namespace deepgen

#endif
