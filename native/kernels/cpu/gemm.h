// SGEMM: C = alpha * op(A) @ op(B) + beta * C, row-major, fp32, optionally batched.
//   op(A) is [M, K]: A is [M, K] (lda >= K), or [K, M] when trans_a (lda >= M)
//   op(B) is [K, N]: B is [K, N] (ldb >= N), or [N, K] when trans_b (ldb >= K)
//   C is [M, N] (ldc >= N). beta == 0 overwrites C (NaN/Inf already in C are ignored).
// Batched: matrix b uses a + b * stride_a, b + b * stride_b, c + b * stride_c.
// Results do not depend on the thread count: each element of C is accumulated over K in a
// fixed order by exactly one thread.
#pragma once
#include <cstdint>

namespace deepgen {

struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f, beta = 0.0f;
  const float* a = nullptr;
  int64_t lda = 0;
  const float* b = nullptr;
  int64_t ldb = 0;
  float* c = nullptr;
  int64_t ldc = 0;
  int64_t batch = 1;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
};

// Checks leading dimensions and sizes; throws KernelError(E_ARG) on nonsense.
void sgemm_check(const GemmArgs& g);

// The fast path: packed, cache-blocked, AVX2/FMA micro-kernel when available, threaded.
void sgemm(const GemmArgs& g, int max_threads = 0);

// The plain reference: three loops, one thread. Same semantics.
void sgemm_plain(const GemmArgs& g);

// Operands packed once (a layer's weights), for products repeated with the other operand new
// each time. The packing and the tile order are sgemm's blocked path's, so a product through
// gemm_packed equals that path's bit for bit, and row i of C depends only on row i of op(A)
// (column j only on column j of op(B)): the batch a row comes in never changes it.
//   packed A: op(A) [M, K] cut into gemm_k_step(K)-deep slices of MR-tall slivers;
//   packed B: op(B) [K, N] cut into the same slices of NR-wide slivers.
// The slice depth for K: equal slices of at most max_kc (0: the blocked path's own limit).
int64_t gemm_k_step(int64_t k, int64_t max_kc = 0);
int64_t gemm_packed_a_size(int64_t m, int64_t k);
int64_t gemm_packed_b_size(int64_t n, int64_t k);
// g.m, g.k, g.a, g.lda, g.trans_a (A) or g.k, g.n, g.b, g.ldb, g.trans_b (B) give the operand.
void gemm_pack_a(const GemmArgs& g, float* out, int max_threads = 0);
void gemm_pack_b(const GemmArgs& g, float* out, int max_threads = 0);
// C [M, N] (leading dimension ldc) = packed A times packed B (overwritten).
void gemm_packed(int64_t m, int64_t n, int64_t k, const float* packed_a, const float* packed_b,
                 float* c, int64_t ldc, int max_threads = 0);

// Convenience for C++ callers (conv, models): one matrix, default leading dimensions.
inline void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, const float* b, float beta, float* c, int max_threads = 0) {
  GemmArgs g;
  g.trans_a = trans_a;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = alpha;
  g.beta = beta;
  g.a = a;
  g.lda = trans_a ? m : k;
  g.b = b;
  g.ldb = trans_b ? k : n;
  g.c = c;
  g.ldc = n;
  sgemm(g, max_threads);
}

}  // namespace deepgen
