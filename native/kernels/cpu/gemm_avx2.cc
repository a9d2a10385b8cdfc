// The 6x16 AVX2/FMA SGEMM micro-kernel: 12 ymm accumulators, two B vectors, one broadcast
// A value per row; 12 independent FMAs per k step keep both FMA ports busy.
#include "gemm_kernel.h"

#include "dot_lanes.h"

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "transpose_avx2.h"

namespace deepgen {

void sgemm_micro_avx2(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                      float alpha, float beta) {
  static_assert(kGemmMR == 6 && kGemmNR == 16, "tile shape");
  // C is touched only after the k loop: start fetching its lines now (also when beta = 0:
  // the stores need the lines too) so the final update does not stall on cache misses.
  for (int r = 0; r < kGemmMR; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + kGemmNR - 1), _MM_HINT_T0);
  }
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    __m256 ar = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(ar, b0, c00);
    c01 = _mm256_fmadd_ps(ar, b1, c01);
    ar = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ar, b0, c10);
    c11 = _mm256_fmadd_ps(ar, b1, c11);
    ar = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ar, b0, c20);
    c21 = _mm256_fmadd_ps(ar, b1, c21);
    ar = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ar, b0, c30);
    c31 = _mm256_fmadd_ps(ar, b1, c31);
    ar = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ar, b0, c40);
    c41 = _mm256_fmadd_ps(ar, b1, c41);
    ar = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ar, b0, c50);
    c51 = _mm256_fmadd_ps(ar, b1, c51);
    a += kGemmMR;
    b += kGemmNR;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  const __m256 vb = _mm256_set1_ps(beta);
  const __m256 rows[kGemmMR][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                                   {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < kGemmMR; ++r) {
    float* cr = c + r * ldc;
    __m256 lo = _mm256_mul_ps(va, rows[r][0]);
    __m256 hi = _mm256_mul_ps(va, rows[r][1]);
    if (beta != 0.0f) {
      lo = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), lo);
      hi = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), hi);
    }
    _mm256_storeu_ps(cr, lo);
    _mm256_storeu_ps(cr + 8, hi);
  }
}

namespace {

template <int R>
void micro_rows(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, float alpha,
                float beta) {
  __m256 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    for (int r = 0; r < R; ++r) {
      const __m256 ar = _mm256_broadcast_ss(a + r);
      acc[r][0] = _mm256_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(ar, b1, acc[r][1]);
    }
    a += kGemmMR;
    b += kGemmNR;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  const __m256 vb = _mm256_set1_ps(beta);
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
    __m256 lo = _mm256_mul_ps(va, acc[r][0]);
    __m256 hi = _mm256_mul_ps(va, acc[r][1]);
    if (beta != 0.0f) {
      lo = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr), lo);
      hi = _mm256_fmadd_ps(vb, _mm256_loadu_ps(cr + 8), hi);
    }
    _mm256_storeu_ps(cr, lo);
    _mm256_storeu_ps(cr + 8, hi);
  }
}

}  // namespace

void sgemm_micro_rows_avx2(int rows, int64_t kc, const float* a, const float* b, float* c,
                           int64_t ldc, float alpha, float beta) {
  static_assert(kGemmMR == 6, "one case per row count");
  switch (rows) {
    case 1:
      return micro_rows<1>(kc, a, b, c, ldc, alpha, beta);
    case 2:
      return micro_rows<2>(kc, a, b, c, ldc, alpha, beta);
    case 3:
      return micro_rows<3>(kc, a, b, c, ldc, alpha, beta);
    case 4:
      return micro_rows<4>(kc, a, b, c, ldc, alpha, beta);
    case 5:
      return micro_rows<5>(kc, a, b, c, ldc, alpha, beta);
    default:
      return sgemm_micro_avx2(kc, a, b, c, ldc, alpha, beta);
  }
}

namespace {

template <int R>
__attribute__((target("avx512f"))) void pair_rows(int64_t kc, const float* a, const float* b0,
                                                  const float* b1, float* c, int64_t ldc,
                                                  float alpha, float beta) {
  for (int r = 0; r < R; ++r) {
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 2 * kGemmNR - 1), _MM_HINT_T0);
  }
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 v0 = _mm512_loadu_ps(b0);
    const __m512 v1 = _mm512_loadu_ps(b1);
    for (int r = 0; r < R; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(ar, v0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(ar, v1, acc[r][1]);
    }
    a += kGemmMR;
    b0 += kGemmNR;
    b1 += kGemmNR;
  }
  const __m512 va = _mm512_set1_ps(alpha);
  const __m512 vb = _mm512_set1_ps(beta);
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
    __m512 lo = _mm512_mul_ps(va, acc[r][0]);
    __m512 hi = _mm512_mul_ps(va, acc[r][1]);
    if (beta != 0.0f) {
      lo = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr), lo);
      hi = _mm512_fmadd_ps(vb, _mm512_loadu_ps(cr + kGemmNR), hi);
    }
    _mm512_storeu_ps(cr, lo);
    _mm512_storeu_ps(cr + kGemmNR, hi);
  }
}

}  // namespace

void sgemm_micro_pair_avx512(int rows, int64_t kc, const float* a, const float* b0, const float* b1,
                             float* c, int64_t ldc, float alpha, float beta) {
  static_assert(kGemmMR == 6 && kGemmNR == 16, "one zmm per row and sliver");
  switch (rows) {
    case 1:
      return pair_rows<1>(kc, a, b0, b1, c, ldc, alpha, beta);
    case 2:
      return pair_rows<2>(kc, a, b0, b1, c, ldc, alpha, beta);
    case 3:
      return pair_rows<3>(kc, a, b0, b1, c, ldc, alpha, beta);
    case 4:
      return pair_rows<4>(kc, a, b0, b1, c, ldc, alpha, beta);
    case 5:
      return pair_rows<5>(kc, a, b0, b1, c, ldc, alpha, beta);
    default:
      return pair_rows<6>(kc, a, b0, b1, c, ldc, alpha, beta);
  }
}

void sgemm_pack_b_trans_avx2(const float* b, int64_t ldb, int64_t kc, float* out) {
  static_assert(kGemmNR == 16, "two 8 x 8 blocks per step");
  int64_t p = 0;
  for (; p + 8 <= kc; p += 8) {
    for (int half = 0; half < 2; ++half) {
      __m256 r[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(b + (half * 8 + i) * ldb + p);
      transpose8x8_avx2(r);
      for (int j = 0; j < 8; ++j) _mm256_storeu_ps(out + (p + j) * kGemmNR + half * 8, r[j]);
    }
  }
  for (; p < kc; ++p) {
    for (int c = 0; c < kGemmNR; ++c) out[p * kGemmNR + c] = b[c * ldb + p];
  }
}

// dots compiled with AVX2/FMA: its 16-lane sums become two ymm FMA chains per row.
void sgemm_dots_avx2(const float* v, const float* h, int64_t nb, int64_t n, float* out) {
  dots(v, h, nb, n, out);
}

}  // namespace deepgen

#else  // not an x86 build with AVX2/FMA: never selected at run time, but must link

namespace deepgen {
void sgemm_micro_avx2(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                      float alpha, float beta) {
  sgemm_micro_portable(kc, a, b, c, ldc, alpha, beta);
}
void sgemm_dots_avx2(const float* v, const float* h, int64_t nb, int64_t n, float* out) {
  sgemm_dots_portable(v, h, nb, n, out);
}
void sgemm_micro_rows_avx2(int, int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                           float alpha, float beta) {
  sgemm_micro_portable(kc, a, b, c, ldc, alpha, beta);
}
void sgemm_pack_b_trans_avx2(const float* b, int64_t ldb, int64_t kc, float* out) {
  for (int64_t p = 0; p < kc; ++p) {
    for (int c = 0; c < kGemmNR; ++c) out[p * kGemmNR + c] = b[c * ldb + p];
  }
}
void sgemm_micro_pair_avx512(int rows, int64_t kc, const float* a, const float* b0, const float* b1,
                             float* c, int64_t ldc, float alpha, float beta) {
  // Through a full scratch tile, so that only the first `rows` rows of C are touched.
  for (int half = 0; half < 2; ++half) {
    float tile[kGemmMR * kGemmNR] = {};
    float* ch = c + half * kGemmNR;
    for (int r = 0; r < rows; ++r)
      for (int j = 0; j < kGemmNR; ++j) tile[r * kGemmNR + j] = ch[r * ldc + j];
    sgemm_micro_portable(kc, a, half == 0 ? b0 : b1, tile, kGemmNR, alpha, beta);
    for (int r = 0; r < rows; ++r)
      for (int j = 0; j < kGemmNR; ++j) ch[r * ldc + j] = tile[r * kGemmNR + j];
  }
}
}  // namespace deepgen

#endif
