// Compiled with -mavx2 -mfma (its own static library); called only when use_avx2_fma()
// (the AVX-512F variant, compiled for that target by attribute, only when use_avx512()).
#include "fma_probe.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

namespace deepgen {

namespace {

// 12 independent chains of 8 lanes: enough to cover the FMA latency on both ports.
void twelve_ymm_chains(float* acc, int64_t iters) {
  const __m256 m = _mm256_set1_ps(kFmaProbeM);
  const __m256 a = _mm256_set1_ps(kFmaProbeA);
  __m256 r[12];
  for (int i = 0; i < 12; ++i) r[i] = _mm256_loadu_ps(acc + 8 * i);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) r[i] = _mm256_fmadd_ps(r[i], m, a);
  }
  for (int i = 0; i < 12; ++i) _mm256_storeu_ps(acc + 8 * i, r[i]);
}

}  // namespace

void fma_probe_lanes_avx2(float* acc, int64_t iters) {
  static_assert(kFmaProbeLanes == 192, "two halves of 12 registers of 8 lanes");
  twelve_ymm_chains(acc, iters);
  twelve_ymm_chains(acc + 96, iters);
}

__attribute__((target("avx512f"))) void fma_probe_lanes_avx512(float* acc, int64_t iters) {
  static_assert(kFmaProbeLanes == 192, "12 registers of 16 lanes");
  const __m512 m = _mm512_set1_ps(kFmaProbeM);
  const __m512 a = _mm512_set1_ps(kFmaProbeA);
  __m512 r[12];
  for (int i = 0; i < 12; ++i) r[i] = _mm512_loadu_ps(acc + 16 * i);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) r[i] = _mm512_fmadd_ps(r[i], m, a);
  }
  for (int i = 0; i < 12; ++i) _mm512_storeu_ps(acc + 16 * i, r[i]);
}

}  // namespace deepgen

#else  // not an x86 build with AVX2/FMA: never selected at run time, but must link

namespace deepgen {
void fma_probe_lanes_avx2(float* acc, int64_t iters) { fma_probe_lanes_portable(acc, iters); }
void fma_probe_lanes_avx512(float* acc, int64_t iters) { fma_probe_lanes_portable(acc, iters); }
}  // namespace deepgen

#endif
