// sgemm with fuzzed shapes, transposes, leading dimensions and batch strides: buffers are
// exactly as large as the arguments say, so any read or write past them is an ASan report,
// and the packed / threaded kernel must equal the plain three loops.
#include <cmath>

#include "../../../native/common/errors.h"
#include "../../../native/kernels/cpu/gemm.h"
#include "fuzz_input.h"

using deepgen::GemmArgs;

static int64_t extent(int64_t batch, int64_t stride, int64_t rows, int64_t ld, int64_t cols) {
  if (batch == 0 || rows == 0 || cols == 0) return 0;
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  GemmArgs g;
  g.trans_a = in.flag();
  g.trans_b = in.flag();
  g.m = in.range(0, 40);
  g.n = in.range(0, 40);
  g.k = in.range(0, 40);
  g.batch = in.range(0, 3);
  const float scalars[] = {0.0f, 1.0f, -0.5f, 2.0f};
  g.alpha = scalars[in.range(0, 3)];
  g.beta = scalars[in.range(0, 3)];
  const int64_t a_rows = g.trans_a ? g.k : g.m, a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_rows = g.trans_b ? g.n : g.k, b_cols = g.trans_b ? g.k : g.n;
  // Mostly valid leading dimensions, sometimes one too small (the check must refuse it).
  g.lda = a_cols + in.range(-1, 3);
  g.ldb = b_cols + in.range(-1, 3);
  g.ldc = g.n + in.range(-1, 3);
  try {
    deepgen::sgemm_check(g);
  } catch (const deepgen::KernelError&) {
    return 0;
  }
  // C blocks never overlap (overlapping outputs have no order-free meaning).
  g.stride_a =
      std::max<int64_t>(0, (a_rows - 1) * g.lda + a_cols) * in.range(0, 1) + in.range(0, 5);
  g.stride_b =
      std::max<int64_t>(0, (b_rows - 1) * g.ldb + b_cols) * in.range(0, 1) + in.range(0, 5);
  g.stride_c = std::max<int64_t>(0, (g.m - 1) * g.ldc + g.n) + in.range(0, 5);
  ++fuzz::reached;
  std::vector<float> a = in.values(extent(g.batch, g.stride_a, a_rows, g.lda, a_cols));
  std::vector<float> b = in.values(extent(g.batch, g.stride_b, b_rows, g.ldb, b_cols));
  std::vector<float> c0 = in.values(extent(g.batch, g.stride_c, g.m, g.ldc, g.n));
  std::vector<float> fast = c0, plain = c0;
  g.a = a.data();
  g.b = b.data();
  g.c = fast.data();
  deepgen::sgemm(g, static_cast<int>(in.range(1, 3)));
  g.c = plain.data();
  deepgen::sgemm_plain(g);
  fuzz::expect_close("sgemm vs sgemm_plain", fast, plain);
  return 0;
}
