// Compiled with -mavx2 -mfma (its own static library); called only when use_avx2_fma().
// adam_step_plain in 4-lane float64 vectors, 8 elements per iteration: the scalar loop cannot
// vectorize (std::sqrt keeps its errno path), and vsqrtpd / vdivpd are what Adam costs.
// Same operations in the same order as the plain loop; the tail runs the plain loop itself.
#include "optim.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

// No multiply-add contraction here (this library is built with -mfma, and GNU mode allows
// fusing): the plain loop, built without FMA, and the JS twin round every product, so this
// loop must too for the three to agree to the bit.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace deepgen {

namespace {

struct AdamLanes {
  __m256d decay, step_size, inv_bc2, b1, b2, one_b1, one_b2, eps;
};

// One group of 4: m, v, p in float64, stored back as float.
inline void adam4(float* params, const float* grads, float* m, float* v, const AdamLanes& k) {
  const __m256d g = _mm256_cvtps_pd(_mm_loadu_ps(grads));
  const __m256d mi = _mm256_add_pd(_mm256_mul_pd(k.b1, _mm256_cvtps_pd(_mm_loadu_ps(m))),
                                   _mm256_mul_pd(k.one_b1, g));
  const __m256d vi = _mm256_add_pd(_mm256_mul_pd(k.b2, _mm256_cvtps_pd(_mm_loadu_ps(v))),
                                   _mm256_mul_pd(k.one_b2, _mm256_mul_pd(g, g)));
  _mm_storeu_ps(m, _mm256_cvtpd_ps(mi));
  _mm_storeu_ps(v, _mm256_cvtpd_ps(vi));
  const __m256d p = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(params)), k.decay);
  const __m256d denom = _mm256_add_pd(_mm256_sqrt_pd(_mm256_mul_pd(vi, k.inv_bc2)), k.eps);
  const __m256d upd = _mm256_div_pd(_mm256_mul_pd(k.step_size, mi), denom);
  _mm_storeu_ps(params, _mm256_cvtpd_ps(_mm256_sub_pd(p, upd)));
}

}  // namespace

void adam_step_avx2(float* params, const float* grads, float* m, float* v, int64_t begin,
                    int64_t end, const AdamConfig& c) {
  const AdamScalars s = adam_scalars(c);
  const AdamLanes k{_mm256_set1_pd(s.decay),   _mm256_set1_pd(s.step_size),
                    _mm256_set1_pd(s.inv_bc2), _mm256_set1_pd(s.b1),
                    _mm256_set1_pd(s.b2),      _mm256_set1_pd(s.one_b1),
                    _mm256_set1_pd(s.one_b2),  _mm256_set1_pd(s.eps)};
  int64_t i = begin;
  for (; i + 8 <= end; i += 8) {
    adam4(params + i, grads + i, m + i, v + i, k);
    adam4(params + i + 4, grads + i + 4, m + i + 4, v + i + 4, k);
  }
  adam_step_plain(params, grads, m, v, i, end, c);
}

namespace {

struct AdamLanes8 {
  __m512d decay, step_size, inv_bc2, b1, b2, one_b1, one_b2, eps;
};

__attribute__((target("avx512f"))) inline void adam8(float* params, const float* grads, float* m,
                                                     float* v, const AdamLanes8& k) {
  const __m512d g = _mm512_cvtps_pd(_mm256_loadu_ps(grads));
  const __m512d mi = _mm512_add_pd(_mm512_mul_pd(k.b1, _mm512_cvtps_pd(_mm256_loadu_ps(m))),
                                   _mm512_mul_pd(k.one_b1, g));
  const __m512d vi = _mm512_add_pd(_mm512_mul_pd(k.b2, _mm512_cvtps_pd(_mm256_loadu_ps(v))),
                                   _mm512_mul_pd(k.one_b2, _mm512_mul_pd(g, g)));
  _mm256_storeu_ps(m, _mm512_cvtpd_ps(mi));
  _mm256_storeu_ps(v, _mm512_cvtpd_ps(vi));
  const __m512d p = _mm512_mul_pd(_mm512_cvtps_pd(_mm256_loadu_ps(params)), k.decay);
  const __m512d denom = _mm512_add_pd(_mm512_sqrt_pd(_mm512_mul_pd(vi, k.inv_bc2)), k.eps);
  const __m512d upd = _mm512_div_pd(_mm512_mul_pd(k.step_size, mi), denom);
  _mm256_storeu_ps(params, _mm512_cvtpd_ps(_mm512_sub_pd(p, upd)));
}

}  // namespace

__attribute__((target("avx512f"))) void adam_step_avx512(float* params, const float* grads,
                                                         float* m, float* v, int64_t begin,
                                                         int64_t end, const AdamConfig& c) {
  const AdamScalars s = adam_scalars(c);
  const AdamLanes8 k{_mm512_set1_pd(s.decay),   _mm512_set1_pd(s.step_size),
                     _mm512_set1_pd(s.inv_bc2), _mm512_set1_pd(s.b1),
                     _mm512_set1_pd(s.b2),      _mm512_set1_pd(s.one_b1),
                     _mm512_set1_pd(s.one_b2),  _mm512_set1_pd(s.eps)};
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) {
    adam8(params + i, grads + i, m + i, v + i, k);
    adam8(params + i + 8, grads + i + 8, m + i + 8, v + i + 8, k);
  }
  adam_step_plain(params, grads, m, v, i, end, c);
}

}  // namespace deepgen

#else  // not an x86 build with AVX2/FMA: never selected at run time, but must link

namespace deepgen {
void adam_step_avx2(float* params, const float* grads, float* m, float* v, int64_t begin,
                    int64_t end, const AdamConfig& c) {
  adam_step_plain(params, grads, m, v, begin, end, c);
}
void adam_step_avx512(float* params, const float* grads, float* m, float* v, int64_t begin,
                      int64_t end, const AdamConfig& c) {
  adam_step_plain(params, grads, m, v, begin, end, c);
}
}  // namespace deepgen

#endif
