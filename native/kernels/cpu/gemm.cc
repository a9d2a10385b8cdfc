#include "gemm.h"

#include "../../common/errors.h"

namespace deepgen {

void sgemm_check(const GemmArgs& g) {
  if (g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 0) throw KernelError("E_ARG", "sgemm: negative size");
  const int64_t a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_cols = g.trans_b ? g.k : g.n;
  if (g.lda < a_cols || g.ldb < b_cols || g.ldc < g.n) {
    throw KernelError("E_ARG", "sgemm: leading dimension smaller than the row length");
  }
  if (g.stride_a < 0 || g.stride_b < 0 || g.stride_c < 0) throw KernelError("E_ARG", "sgemm: negative stride");
}

void sgemm_plain(const GemmArgs& g) {
  sgemm_check(g);
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    const float* a = g.a + bi * g.stride_a;
    const float* b = g.b + bi * g.stride_b;
    float* c = g.c + bi * g.stride_c;
    for (int64_t i = 0; i < g.m; ++i) {
      for (int64_t j = 0; j < g.n; ++j) {
        float acc = 0.0f;
        for (int64_t p = 0; p < g.k; ++p) {
          const float av = g.trans_a ? a[p * g.lda + i] : a[i * g.lda + p];
          const float bv = g.trans_b ? b[j * g.ldb + p] : b[p * g.ldb + j];
          acc += av * bv;
        }
        float& out = c[i * g.ldc + j];
        out = g.beta == 0.0f ? g.alpha * acc : g.alpha * acc + g.beta * out;
      }
    }
  }
}

// Until the blocked version lands, the fast path is the plain one.
void sgemm(const GemmArgs& g, int) { sgemm_plain(g); }

}  // namespace deepgen
