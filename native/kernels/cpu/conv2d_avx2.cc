// Compiled with -mavx2 -mfma in its own library; called only when use_avx2_fma().
#include "conv2d.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "transpose_avx2.h"

namespace deepgen {

// 6 pixels x 16 channels = 12 accumulators. Per (channel, tap) pair: two weight loads, six
// broadcasts of the pixels' inputs, twelve FMAs, the same shape as a 6x16 GEMM micro-kernel
// whose A operand is read in place from the padded image instead of from an im2col copy.
void conv2d_tile_avx2(int64_t kc, const float* x, const int64_t* pix, const int64_t* koff,
                      const float* w, float* c, int64_t ldc, bool accumulate) {
  static_assert(kConvTilePixels == 6 && kConvTileChannels == 16, "6 x 16 tile");
  __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
  if (accumulate) {
    c00 = _mm256_loadu_ps(c + 0 * ldc);
    c01 = _mm256_loadu_ps(c + 0 * ldc + 8);
    c10 = _mm256_loadu_ps(c + 1 * ldc);
    c11 = _mm256_loadu_ps(c + 1 * ldc + 8);
    c20 = _mm256_loadu_ps(c + 2 * ldc);
    c21 = _mm256_loadu_ps(c + 2 * ldc + 8);
    c30 = _mm256_loadu_ps(c + 3 * ldc);
    c31 = _mm256_loadu_ps(c + 3 * ldc + 8);
    c40 = _mm256_loadu_ps(c + 4 * ldc);
    c41 = _mm256_loadu_ps(c + 4 * ldc + 8);
    c50 = _mm256_loadu_ps(c + 5 * ldc);
    c51 = _mm256_loadu_ps(c + 5 * ldc + 8);
  } else {
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = c40 = c41 = c50 = c51 = _mm256_setzero_ps();
  }
  const float* x0 = x + pix[0];
  const float* x1 = x + pix[1];
  const float* x2 = x + pix[2];
  const float* x3 = x + pix[3];
  const float* x4 = x + pix[4];
  const float* x5 = x + pix[5];
  for (int64_t k = 0; k < kc; ++k) {
    const int64_t o = koff[k];
    const __m256 w0 = _mm256_loadu_ps(w + k * 16);
    const __m256 w1 = _mm256_loadu_ps(w + k * 16 + 8);
    __m256 a = _mm256_broadcast_ss(x0 + o);
    c00 = _mm256_fmadd_ps(a, w0, c00);
    c01 = _mm256_fmadd_ps(a, w1, c01);
    a = _mm256_broadcast_ss(x1 + o);
    c10 = _mm256_fmadd_ps(a, w0, c10);
    c11 = _mm256_fmadd_ps(a, w1, c11);
    a = _mm256_broadcast_ss(x2 + o);
    c20 = _mm256_fmadd_ps(a, w0, c20);
    c21 = _mm256_fmadd_ps(a, w1, c21);
    a = _mm256_broadcast_ss(x3 + o);
    c30 = _mm256_fmadd_ps(a, w0, c30);
    c31 = _mm256_fmadd_ps(a, w1, c31);
    a = _mm256_broadcast_ss(x4 + o);
    c40 = _mm256_fmadd_ps(a, w0, c40);
    c41 = _mm256_fmadd_ps(a, w1, c41);
    a = _mm256_broadcast_ss(x5 + o);
    c50 = _mm256_fmadd_ps(a, w0, c50);
    c51 = _mm256_fmadd_ps(a, w1, c51);
  }
  _mm256_storeu_ps(c + 0 * ldc, c00);
  _mm256_storeu_ps(c + 0 * ldc + 8, c01);
  _mm256_storeu_ps(c + 1 * ldc, c10);
  _mm256_storeu_ps(c + 1 * ldc + 8, c11);
  _mm256_storeu_ps(c + 2 * ldc, c20);
  _mm256_storeu_ps(c + 2 * ldc + 8, c21);
  _mm256_storeu_ps(c + 3 * ldc, c30);
  _mm256_storeu_ps(c + 3 * ldc + 8, c31);
  _mm256_storeu_ps(c + 4 * ldc, c40);
  _mm256_storeu_ps(c + 4 * ldc + 8, c41);
  _mm256_storeu_ps(c + 5 * ldc, c50);
  _mm256_storeu_ps(c + 5 * ldc + 8, c51);
}

__attribute__((target("avx512f"))) void conv2d_tile_pair_avx512(
    int64_t kc, const float* x, const int64_t* pix, const int64_t* koff, const float* w0,
    const float* w1, float* c, int64_t ldc, bool accumulate) {
  static_assert(kConvTilePixels == 6 && kConvTileChannels == 16, "6 x 32 tile");
  __m512 acc[6][2];
  for (int r = 0; r < 6; ++r) {
    acc[r][0] = accumulate ? _mm512_loadu_ps(c + r * ldc) : _mm512_setzero_ps();
    acc[r][1] = accumulate ? _mm512_loadu_ps(c + r * ldc + 16) : _mm512_setzero_ps();
  }
  const float* xr[6];
  for (int r = 0; r < 6; ++r) xr[r] = x + pix[r];
  for (int64_t k = 0; k < kc; ++k) {
    const int64_t o = koff[k];
    const __m512 v0 = _mm512_loadu_ps(w0 + k * 16);
    const __m512 v1 = _mm512_loadu_ps(w1 + k * 16);
    for (int r = 0; r < 6; ++r) {
      const __m512 a = _mm512_set1_ps(xr[r][o]);
      acc[r][0] = _mm512_fmadd_ps(a, v0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a, v1, acc[r][1]);
    }
  }
  for (int r = 0; r < 6; ++r) {
    _mm512_storeu_ps(c + r * ldc, acc[r][0]);
    _mm512_storeu_ps(c + r * ldc + 16, acc[r][1]);
  }
}

// Four 8 x 8 transposes.
void transpose16_avx2(const float* slab, float* const* dst) {
  for (int j0 = 0; j0 < 16; j0 += 8) {
    for (int q0 = 0; q0 < 16; q0 += 8) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(slab + (j0 + i) * 16 + q0);
      transpose8x8_avx2(r);
      for (int i = 0; i < 8; ++i) _mm256_storeu_ps(dst[q0 + i] + j0, r[i]);
    }
  }
}

}  // namespace deepgen

#else  // not an x86 build with AVX2/FMA: never selected at run time, but must link

namespace deepgen {
void conv2d_tile_avx2(int64_t kc, const float* x, const int64_t* pix, const int64_t* koff,
                      const float* w, float* c, int64_t ldc, bool accumulate) {
  conv2d_tile_portable(kc, x, pix, koff, w, c, ldc, accumulate);
}
void transpose16_avx2(const float* slab, float* const* dst) { transpose16_portable(slab, dst); }
void conv2d_tile_pair_avx512(int64_t kc, const float* x, const int64_t* pix, const int64_t* koff,
                             const float* w0, const float* w1, float* c, int64_t ldc,
                             bool accumulate) {
  conv2d_tile_portable(kc, x, pix, koff, w0, c, ldc, accumulate);
  conv2d_tile_portable(kc, x, pix, koff, w1, c + kConvTileChannels, ldc, accumulate);
}
}  // namespace deepgen

#endif
