// Vectorized float32 math used by the activation and normalization kernels.
//
// Every function comes as a pair:
//   *_plain: the readable reference, one element at a time through libm in double precision,
//            rounded once to float (so it is correctly rounded up to libm's own error).
//   *_avx2:  8 floats at a time (vmath_avx2.cc, AVX2 + FMA), polynomial approximations.
// and a dispatcher without suffix that picks the AVX2 version when use_avx2_fma().
//
// Accuracy of the AVX2 versions: within 2 ulp of the exact result over the whole float range.
// Measured against double-precision libm on every 3rd float32 bit pattern (all 2^32 / 3):
//   exp 1.01, log 0.82, sigmoid 1.96, tanh 1.33, softplus 1.65, 1 - exp(-x) 1.15 ulp;
// test_activation.cc re-measures a sparser sweep and prints the numbers.
// Special values follow IEEE/libm: exp(-inf) = 0, exp(+inf) = +inf, exp underflows to 0 below
// about -103.97 (denormal results are produced, not flushed) and overflows to +inf above
// about 88.7228; log(0) = log(-0) = -inf, log(x < 0) = NaN, log(+inf) = +inf; NaN in gives
// NaN out everywhere.
//
// Span functions process y[i] = f(x[i]) for i in [0, n) on the calling thread; y may equal x
// (in place). The threaded whole-array versions (vexp, vlog) split the range into fixed
// chunks, so results never depend on the thread count.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "../../common/thread_pool.h"

namespace deepgen {

// ---- elementwise spans -------------------------------------------------------------------
void exp_span_plain(const float* x, float* y, int64_t n);
void exp_span_avx2(const float* x, float* y, int64_t n);
void exp_span(const float* x, float* y, int64_t n);

void log_span_plain(const float* x, float* y, int64_t n);
void log_span_avx2(const float* x, float* y, int64_t n);
void log_span(const float* x, float* y, int64_t n);

// sigmoid(x) = 1 / (1 + exp(-x)), evaluated as e / (1 + e) with e = exp(-|x|) for x < 0 so
// that tiny results (down to denormals) keep their relative accuracy.
void sigmoid_span_plain(const float* x, float* y, int64_t n);
void sigmoid_span_avx2(const float* x, float* y, int64_t n);
void sigmoid_span(const float* x, float* y, int64_t n);

void tanh_span_plain(const float* x, float* y, int64_t n);
void tanh_span_avx2(const float* x, float* y, int64_t n);
void tanh_span(const float* x, float* y, int64_t n);

// softplus(x) = max(x, 0) + log1p(exp(-|x|)): never overflows, exact asymptotes.
void softplus_span_plain(const float* x, float* y, int64_t n);
void softplus_span_avx2(const float* x, float* y, int64_t n);
void softplus_span(const float* x, float* y, int64_t n);

// y = 1 - exp(-x) = -expm1(-x) for x >= 0, accurate for tiny x. This is the derivative of
// softplus written in terms of its output: sigmoid(t) = 1 - exp(-softplus(t)).
void one_minus_exp_neg_span_plain(const float* x, float* y, int64_t n);
void one_minus_exp_neg_span_avx2(const float* x, float* y, int64_t n);
void one_minus_exp_neg_span(const float* x, float* y, int64_t n);

// ---- row reductions in double precision ----------------------------------------------------
// The summation order is fixed by the code (never by threads); plain and AVX2 versions add
// in different orders, so they agree to double rounding, not bit for bit.
double sum_f64_plain(const float* x, int64_t n);
double sum_f64_avx2(const float* x, int64_t n);
double sum_f64(const float* x, int64_t n);

// sum_i (x[i] - center)^2, the difference formed in double.
double sum_sq_centered_f64_plain(const float* x, int64_t n, double center);
double sum_sq_centered_f64_avx2(const float* x, int64_t n, double center);
double sum_sq_centered_f64(const float* x, int64_t n, double center);

// sum_i a[i] * (b[i] - center), in double.
double dot_centered_f64_plain(const float* a, const float* b, int64_t n, double center);
double dot_centered_f64_avx2(const float* a, const float* b, int64_t n, double center);
double dot_centered_f64(const float* a, const float* b, int64_t n, double center);

// acc[i] += x[i] (widened to double): one row of a column-wise sum over rows.
void accumulate_f64_plain(double* acc, const float* x, int64_t n);
void accumulate_f64_avx2(double* acc, const float* x, int64_t n);
void accumulate_f64(double* acc, const float* x, int64_t n);

// ---- threaded kernels over whole arrays (exposed to JS as vexp / vlog) --------------------
void vexp(const float* x, float* y, int64_t n);
void vlog(const float* x, float* y, int64_t n);

// Elements per parallel_for chunk of the elementwise kernels: big enough that the chunk's
// work dwarfs the scheduling cost, small enough to spread a layer's output over the threads.
constexpr int64_t kElementwiseChunk = 1 << 14;

// Column sums over the rows of a row-major [rows, cols] computation, thread-count independent.
// The sums are `n_acc` arrays of `cols` doubles, stored one after another in out. Rows are
// taken in fixed blocks (the block size depends on `rows` only); one task per block calls
// add_row(acc, row, j0, j1), which adds the row's contributions for columns [j0, j1) into
// acc[k * cols + j] (k < n_acc), and the block buffers are then added in block order.
// Inside a block the columns go tile by tile (all the block's rows for one tile, then the
// next) so the tile's accumulators stay in L1 while each task still streams contiguous row
// segments; a tile covers all columns when `tile` is 0 (for row functions that need whole
// rows). The tiling never changes which values are added in which order.
template <typename AddRow>
void column_sums_f64(int64_t rows, int64_t cols, int n_acc, double* out, AddRow add_row,
                     int64_t tile = 512) {
  constexpr int64_t kMaxBlocks = 32, kMinBlockRows = 8;
  const int64_t block_rows = std::max(kMinBlockRows, (rows + kMaxBlocks - 1) / kMaxBlocks);
  const int64_t blocks = (rows + block_rows - 1) / block_rows;
  const int64_t width = n_acc * cols;
  if (tile <= 0 || tile > cols) tile = cols;
  std::vector<double> partial(static_cast<size_t>(blocks * width), 0.0);
  parallel_for(blocks, [&](int64_t b) {
    double* acc = partial.data() + b * width;
    const int64_t end = std::min(rows, (b + 1) * block_rows);
    for (int64_t j0 = 0; j0 < cols; j0 += tile) {
      const int64_t j1 = std::min(cols, j0 + tile);
      for (int64_t r = b * block_rows; r < end; ++r) add_row(acc, r, j0, j1);
    }
  });
  // Block b is added to every column before block b + 1 (contiguous, vectorizable loops; a
  // column-by-column walk down the blocks would stride by the buffer width).
  constexpr int64_t kCombineChunk = 4096;
  parallel_for((width + kCombineChunk - 1) / kCombineChunk, [&](int64_t t) {
    const int64_t j0 = t * kCombineChunk, j1 = std::min(width, j0 + kCombineChunk);
    std::fill(out + j0, out + j1, 0.0);
    for (int64_t b = 0; b < blocks; ++b) {
      const double* p = partial.data() + b * width;
      for (int64_t j = j0; j < j1; ++j) out[j] += p[j];
    }
  });
}

}  // namespace deepgen
