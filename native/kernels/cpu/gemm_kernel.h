// The SGEMM micro-kernel contract shared by gemm.cc and gemm_avx2.cc.
//
// A micro-kernel computes one MR x NR tile of C from a packed A sliver and a packed B sliver:
//   a: kc steps of MR values (A[i0 + r, p] at a[p * MR + r])
//   b: kc steps of NR values (B[p, j0 + c] at b[p * NR + c])
//   c[r * ldc + col] = alpha * sum_p a[p*MR + r] * b[p*NR + col] + beta * c[r * ldc + col]
// with beta == 0 meaning C is not read. The sum runs over p in increasing order, so a given
// element of C always sees the same arithmetic whatever the tiling across threads.
#pragma once
#include <cstdint>

namespace deepgen {

constexpr int kGemmMR = 6;
constexpr int kGemmNR = 16;

void sgemm_micro_portable(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                          float alpha, float beta);
void sgemm_micro_avx2(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                      float alpha, float beta);
#if defined(__aarch64__) && defined(__ARM_NEON)
// arm64 builds: the portable kernel's arithmetic with its accumulators in registers.
void sgemm_micro_neon(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                      float alpha, float beta);
#endif

// The C update of a tile, shared by the portable and NEON kernels (one compiled copy, so the
// two round it alike): c[r * ldc + col] = alpha * acc[r * NR + col] (+ beta * c when beta != 0).
void sgemm_tile_store(const float* acc, float* c, int64_t ldc, float alpha, float beta);

// The AVX2 micro-kernel for the first `rows` (1 .. MR) rows of a tile only: each element sees
// exactly sgemm_micro_avx2's arithmetic (the same FMA chain over p), so an edge tile, or a
// product of one row, costs its own rows and still equals the full kernel bit for bit.
void sgemm_micro_rows_avx2(int rows, int64_t kc, const float* a, const float* b, float* c,
                           int64_t ldc, float alpha, float beta);

// The first `rows` (1 .. MR) rows of an MR x 2NR tile on AVX-512F: two adjacent packed B
// slivers (b0 for columns [0, NR), b1 for [NR, 2NR)) against one A sliver, one zmm per row
// and sliver. Each element sees exactly sgemm_micro_avx2's arithmetic (the same FMA chain
// over p, the same alpha/beta update), so the wide path's C equals the AVX2 path's bit for
// bit; it only does the work of two AVX2 tiles in the instructions of one. Called only when
// use_avx512().
void sgemm_micro_pair_avx512(int rows, int64_t kc, const float* a, const float* b0, const float* b1,
                             float* c, int64_t ldc, float alpha, float beta);

// Packs a full sliver of a transposed B: column c of the sliver is the stored row b + c * ldb,
// read for p in [0, kc); out[p * NR + c] = b[c * ldb + p]. 8 x 8 register transposes instead of
// NR * kc scattered stores (the forward product x W^T of every dense layer packs W this way).
void sgemm_pack_b_trans_avx2(const float* b, int64_t ldb, int64_t kc, float* out);

// out[s] = v . h_s for the nb contiguous rows h_s of h [nb, n] (dot_lanes.h dots): the
// product of a few rows of A with a transposed B, which packing would only slow down.
void sgemm_dots_portable(const float* v, const float* h, int64_t nb, int64_t n, float* out);
void sgemm_dots_avx2(const float* v, const float* h, int64_t nb, int64_t n, float* out);

}  // namespace deepgen
