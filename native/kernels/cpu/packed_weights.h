// A layer's weight matrix packed once for products with new inputs: C [m, N] = A [m, K] B,
// with B the weights. Where the CPU has AVX-512F, a 12 x 32 micro-kernel (24 zmm accumulators:
// twice the AVX2 kernel's work per loaded value) runs over B packed in 32-wide slivers; else
// the shared blocked GEMM's packing and kernels (gemm_packed).
//
// Every element of C is one FMA chain over k in increasing order within fixed K slices, so row
// i of C depends only on row i of A, bit for bit, whatever m, the tiling and the threads: a
// batch never changes a row (the property prepared networks promise).
#pragma once
#include <cstdint>

#include "../../common/aligned_buffer.h"
#include "activation.h"

namespace deepgen {

class PackedWeights {
 public:
  // op(B) [k, n]: B [k, n] row-major (ldb), or B [n, k] when trans_b.
  PackedWeights(const float* b, int64_t k, int64_t n, int64_t ldb, bool trans_b);
  PackedWeights(const PackedWeights&) = delete;
  PackedWeights& operator=(const PackedWeights&) = delete;

  int64_t k() const { return k_; }
  int64_t n() const { return n_; }

  // Where A's values lie: A(row, p) = a[(row / group_rows) * group_stride +
  // (row % group_rows) * row_stride + p * k_stride]. Row-major A is {lda, 1, m, 0}; the pixels
  // of images stored [image, channel, pixel] as rows are {1, pixels, pixels, k * pixels}.
  struct Layout {
    int64_t row_stride, k_stride, group_rows, group_stride;
  };

  // What follows the product on each output value: y = act(y + bias[column]) (bias may be
  // null). Applied to spans of a row whose bounds depend only on n, so a row's values never
  // depend on the batch.
  struct Epilogue {
    const float* bias = nullptr;
    Activation act = Activation::kIdentity;
    float slope = 0.01f;
    void apply(float* y, int64_t j0, int64_t len) const;  // columns [j0, j0 + len) of one row
  };

  // C [m, n] (leading dimension ldc, overwritten) = A [m, k] times B, then the epilogue if
  // any, with at most `threads` threads (0: the pool's limit).
  void multiply(const float* a, const Layout& layout, int64_t m, float* c, int64_t ldc, int threads,
                const Epilogue* epilogue = nullptr) const;

 private:
  void multiply_wide(const float* a, const Layout& layout, int64_t m, float* c, int64_t ldc,
                     int threads, const Epilogue* epilogue) const;
  bool wide_;  // the AVX-512 layout and kernel
  int64_t k_, n_, k_step_;
  AlignedBuffer<float> data_;
};

}  // namespace deepgen
