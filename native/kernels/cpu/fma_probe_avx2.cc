// Compiled with -mavx2 -mfma (its own static library); called only when use_avx2_fma().
#include "fma_probe.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

namespace deepgen {

void fma_probe_lanes_avx2(float* acc, int64_t iters) {
  static_assert(kFmaProbeLanes == 96, "12 registers of 8 lanes");
  const __m256 m = _mm256_set1_ps(kFmaProbeM);
  const __m256 a = _mm256_set1_ps(kFmaProbeA);
  __m256 r0 = _mm256_load_ps(acc + 0), r1 = _mm256_load_ps(acc + 8);
  __m256 r2 = _mm256_load_ps(acc + 16), r3 = _mm256_load_ps(acc + 24);
  __m256 r4 = _mm256_load_ps(acc + 32), r5 = _mm256_load_ps(acc + 40);
  __m256 r6 = _mm256_load_ps(acc + 48), r7 = _mm256_load_ps(acc + 56);
  __m256 r8 = _mm256_load_ps(acc + 64), r9 = _mm256_load_ps(acc + 72);
  __m256 r10 = _mm256_load_ps(acc + 80), r11 = _mm256_load_ps(acc + 88);
  for (int64_t it = 0; it < iters; ++it) {
    r0 = _mm256_fmadd_ps(r0, m, a);
    r1 = _mm256_fmadd_ps(r1, m, a);
    r2 = _mm256_fmadd_ps(r2, m, a);
    r3 = _mm256_fmadd_ps(r3, m, a);
    r4 = _mm256_fmadd_ps(r4, m, a);
    r5 = _mm256_fmadd_ps(r5, m, a);
    r6 = _mm256_fmadd_ps(r6, m, a);
    r7 = _mm256_fmadd_ps(r7, m, a);
    r8 = _mm256_fmadd_ps(r8, m, a);
    r9 = _mm256_fmadd_ps(r9, m, a);
    r10 = _mm256_fmadd_ps(r10, m, a);
    r11 = _mm256_fmadd_ps(r11, m, a);
  }
  _mm256_store_ps(acc + 0, r0);
  _mm256_store_ps(acc + 8, r1);
  _mm256_store_ps(acc + 16, r2);
  _mm256_store_ps(acc + 24, r3);
  _mm256_store_ps(acc + 32, r4);
  _mm256_store_ps(acc + 40, r5);
  _mm256_store_ps(acc + 48, r6);
  _mm256_store_ps(acc + 56, r7);
  _mm256_store_ps(acc + 64, r8);
  _mm256_store_ps(acc + 72, r9);
  _mm256_store_ps(acc + 80, r10);
  _mm256_store_ps(acc + 88, r11);
}

}  // namespace deepgen

#else  // not an x86 build with AVX2/FMA: never selected at run time, but must link

namespace deepgen {
void fma_probe_lanes_avx2(float* acc, int64_t iters) { fma_probe_lanes_portable(acc, iters); }
}  // namespace deepgen

#endif
