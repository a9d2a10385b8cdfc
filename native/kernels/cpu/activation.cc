#include "activation.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/thread_pool.h"
#include "vmath.h"

namespace deepgen {

// ---- plain spans -----------------------------------------------------------------------------
// The smooth kinds are computed in double and rounded once, like the JS twin.

void activation_forward_span_plain(Activation kind, const float* x, float* y, int64_t n,
                                   float slope) {
  switch (kind) {
    case Activation::kIdentity:
      if (y != x) std::copy(x, x + n, y);
      break;
    case Activation::kRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? 0.0f : x[i];
      break;
    case Activation::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) y[i] = x[i] < 0.0f ? slope * x[i] : x[i];
      break;
    case Activation::kTanh:
      tanh_span_plain(x, y, n);
      break;
    case Activation::kSigmoid:
      sigmoid_span_plain(x, y, n);
      break;
    case Activation::kSoftplus:
      softplus_span_plain(x, y, n);
      break;
  }
}

void activation_backward_span_plain(Activation kind, const float* y, const float* dy, float* dx,
                                    int64_t n, float slope) {
  switch (kind) {
    case Activation::kIdentity:
      if (dx != dy) std::copy(dy, dy + n, dx);
      break;
    case Activation::kRelu:
      for (int64_t i = 0; i < n; ++i) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
      break;
    case Activation::kLeakyRelu:
      for (int64_t i = 0; i < n; ++i) dx[i] = y[i] > 0.0f ? dy[i] : slope * dy[i];
      break;
    case Activation::kTanh:
      for (int64_t i = 0; i < n; ++i) {
        const double v = y[i];
        dx[i] = static_cast<float>(dy[i] * (1.0 - v * v));
      }
      break;
    case Activation::kSigmoid:
      for (int64_t i = 0; i < n; ++i) {
        const double v = y[i];
        dx[i] = static_cast<float>(dy[i] * (v * (1.0 - v)));
      }
      break;
    case Activation::kSoftplus:
      // sigmoid(x) = 1 - exp(-softplus(x)) = -expm1(-y): accurate at both ends.
      for (int64_t i = 0; i < n; ++i) {
        dx[i] = static_cast<float>(dy[i] * -std::expm1(-static_cast<double>(y[i])));
      }
      break;
  }
}

namespace {

using ForwardSpan = void (*)(Activation, const float*, float*, int64_t, float);
using BackwardSpan = void (*)(Activation, const float*, const float*, float*, int64_t, float);
using RowSum = double (*)(const float*, int64_t);
using Accumulate = void (*)(double*, const float*, int64_t);

void check_kind(const char* fn, Activation kind, float slope) {
  const int k = static_cast<int>(kind);
  if (k < 0 || k >= kActivationCount) {
    throw KernelError("E_ARG", std::string(fn) + ": unknown activation kind " + std::to_string(k));
  }
  if (!std::isfinite(slope) || slope < 0.0f) {
    throw KernelError("E_ARG", std::string(fn) + ": slope must be finite and >= 0");
  }
}

void check_array(const char* fn, const void* p, const char* name) {
  if (p == nullptr) throw KernelError("E_ARG", std::string(fn) + ": null " + name);
}

// N * C * S, refusing negative sizes and products beyond 2^53 (no JS array is that long).
int64_t checked_numel(const char* fn, int64_t N, int64_t C, int64_t S) {
  if (N < 0 || C < 0 || S < 0) throw KernelError("E_ARG", std::string(fn) + ": negative size");
  constexpr int64_t kMax = int64_t{1} << 53;
  if (N == 0 || C == 0 || S == 0) return 0;
  if (C > kMax / S || N > kMax / (C * S)) {
    throw KernelError("E_ARG", std::string(fn) + ": N * C * S is too large");
  }
  return N * C * S;
}

void forward_impl(Activation kind, const float* x, float* y, int64_t n, float slope,
                  ForwardSpan span) {
  check_kind("activation_forward", kind, slope);
  if (n < 0) throw KernelError("E_ARG", "activation_forward: negative length");
  if (n == 0) return;
  check_array("activation_forward", x, "x");
  check_array("activation_forward", y, "y");
  const int64_t chunks = (n + kElementwiseChunk - 1) / kElementwiseChunk;
  parallel_for(chunks, [&](int64_t c) {
    const int64_t begin = c * kElementwiseChunk;
    span(kind, x + begin, y + begin, std::min(kElementwiseChunk, n - begin), slope);
  });
}

void backward_impl(Activation kind, const float* y, const float* dy, float* dx, int64_t n,
                   float slope, BackwardSpan span) {
  check_kind("activation_backward", kind, slope);
  if (n < 0) throw KernelError("E_ARG", "activation_backward: negative length");
  if (n == 0) return;
  check_array("activation_backward", y, "y");
  check_array("activation_backward", dy, "dy");
  check_array("activation_backward", dx, "dx");
  const int64_t chunks = (n + kElementwiseChunk - 1) / kElementwiseChunk;
  parallel_for(chunks, [&](int64_t c) {
    const int64_t begin = c * kElementwiseChunk;
    span(kind, y + begin, dy + begin, dx + begin, std::min(kElementwiseChunk, n - begin), slope);
  });
}

// [N, C, S] is walked as rows of contiguous elements: for S == 1 (dense) a row is one sample's
// C channels and the bias is a vector along the row; otherwise a row is one (n, c) plane of
// S elements sharing the scalar bias[c].
struct RowLayout {
  int64_t rows, len;
  bool dense;
  int64_t rows_per_task;
  int64_t tasks;
};

RowLayout row_layout(int64_t N, int64_t C, int64_t S) {
  RowLayout l;
  l.dense = S == 1;
  l.rows = l.dense ? N : N * C;
  l.len = l.dense ? C : S;
  l.rows_per_task = std::max<int64_t>(1, kElementwiseChunk / l.len);
  l.tasks = (l.rows + l.rows_per_task - 1) / l.rows_per_task;
  return l;
}

// The bias is added into y a block at a time, then the activation runs in place on the block
// while it is still in L1.
constexpr int64_t kBiasBlock = 512;

void bias_forward_impl(Activation kind, const float* x, const float* bias, float* y, int64_t N,
                       int64_t C, int64_t S, float slope, ForwardSpan span) {
  const char* fn = "bias_activation_forward";
  check_kind(fn, kind, slope);
  if (checked_numel(fn, N, C, S) == 0) return;
  check_array(fn, x, "x");
  check_array(fn, bias, "bias");
  check_array(fn, y, "y");
  const RowLayout l = row_layout(N, C, S);
  parallel_for(l.tasks, [&](int64_t t) {
    const int64_t r_end = std::min(l.rows, (t + 1) * l.rows_per_task);
    for (int64_t r = t * l.rows_per_task; r < r_end; ++r) {
      const float* xr = x + r * l.len;
      float* yr = y + r * l.len;
      const float b = l.dense ? 0.0f : bias[r % C];
      for (int64_t off = 0; off < l.len; off += kBiasBlock) {
        const int64_t m = std::min(kBiasBlock, l.len - off);
        if (l.dense) {
          for (int64_t i = 0; i < m; ++i) yr[off + i] = xr[off + i] + bias[off + i];
        } else {
          for (int64_t i = 0; i < m; ++i) yr[off + i] = xr[off + i] + b;
        }
        span(kind, yr + off, yr + off, m, slope);
      }
    }
  });
}

void bias_backward_impl(Activation kind, const float* y, const float* dy, float* dx, float* dbias,
                        int64_t N, int64_t C, int64_t S, float slope, BackwardSpan span,
                        RowSum row_sum, Accumulate accumulate) {
  const char* fn = "bias_activation_backward";
  check_kind(fn, kind, slope);
  const int64_t total = checked_numel(fn, N, C, S);
  if (C > 0) check_array(fn, dbias, "dbias");
  if (total == 0) {
    std::fill(dbias, dbias + C, 0.0f);  // an empty sum
    return;
  }
  check_array(fn, y, "y");
  check_array(fn, dy, "dy");
  check_array(fn, dx, "dx");
  const RowLayout l = row_layout(N, C, S);
  if (l.dense) {
    // One pass over the sample rows: dx of the row, then the row added into its block's
    // column sums (vmath.h column_sums_f64: fixed row blocks, added in block order).
    std::vector<double> sums(static_cast<size_t>(C));
    column_sums_f64(N, C, 1, sums.data(), [&](double* acc, int64_t n, int64_t j0, int64_t j1) {
      const int64_t o = n * C + j0;
      span(kind, y + o, dy + o, dx + o, j1 - j0, slope);
      accumulate(acc + j0, dx + o, j1 - j0);
    });
    for (int64_t c = 0; c < C; ++c) dbias[c] = static_cast<float>(sums[static_cast<size_t>(c)]);
    return;
  }
  // Per (n, c) plane: dx, then its sum in double; then the planes of each channel in n order.
  std::vector<double> plane_sum(static_cast<size_t>(l.rows));
  parallel_for(l.tasks, [&](int64_t t) {
    const int64_t r_end = std::min(l.rows, (t + 1) * l.rows_per_task);
    for (int64_t r = t * l.rows_per_task; r < r_end; ++r) {
      const int64_t off = r * l.len;
      span(kind, y + off, dy + off, dx + off, l.len, slope);
      plane_sum[static_cast<size_t>(r)] = row_sum(dx + off, l.len);
    }
  });
  for (int64_t c = 0; c < C; ++c) {
    double s = 0;
    for (int64_t n = 0; n < N; ++n) s += plane_sum[static_cast<size_t>(n * C + c)];
    dbias[c] = static_cast<float>(s);
  }
}

void forward_span_fast(Activation kind, const float* x, float* y, int64_t n, float slope) {
  if (use_avx2_fma()) {
    activation_forward_span_avx2(kind, x, y, n, slope);
  } else {
    activation_forward_span_plain(kind, x, y, n, slope);
  }
}

void backward_span_fast(Activation kind, const float* y, const float* dy, float* dx, int64_t n,
                        float slope) {
  if (use_avx2_fma()) {
    activation_backward_span_avx2(kind, y, dy, dx, n, slope);
  } else {
    activation_backward_span_plain(kind, y, dy, dx, n, slope);
  }
}

}  // namespace

void activation_forward(Activation kind, const float* x, float* y, int64_t n, float slope) {
  forward_impl(kind, x, y, n, slope, forward_span_fast);
}
void activation_backward(Activation kind, const float* y, const float* dy, float* dx, int64_t n,
                         float slope) {
  backward_impl(kind, y, dy, dx, n, slope, backward_span_fast);
}
void bias_activation_forward(Activation kind, const float* x, const float* bias, float* y,
                             int64_t N, int64_t C, int64_t S, float slope) {
  bias_forward_impl(kind, x, bias, y, N, C, S, slope, forward_span_fast);
}
void bias_activation_backward(Activation kind, const float* y, const float* dy, float* dx,
                              float* dbias, int64_t N, int64_t C, int64_t S, float slope) {
  bias_backward_impl(kind, y, dy, dx, dbias, N, C, S, slope, backward_span_fast, sum_f64,
                     accumulate_f64);
}

void activation_forward_plain(Activation kind, const float* x, float* y, int64_t n, float slope) {
  forward_impl(kind, x, y, n, slope, activation_forward_span_plain);
}
void activation_backward_plain(Activation kind, const float* y, const float* dy, float* dx,
                               int64_t n, float slope) {
  backward_impl(kind, y, dy, dx, n, slope, activation_backward_span_plain);
}
void bias_activation_forward_plain(Activation kind, const float* x, const float* bias, float* y,
                                   int64_t N, int64_t C, int64_t S, float slope) {
  bias_forward_impl(kind, x, bias, y, N, C, S, slope, activation_forward_span_plain);
}
void bias_activation_backward_plain(Activation kind, const float* y, const float* dy, float* dx,
                                    float* dbias, int64_t N, int64_t C, int64_t S, float slope) {
  bias_backward_impl(kind, y, dy, dx, dbias, N, C, S, slope, activation_backward_span_plain,
                     sum_f64_plain, accumulate_f64_plain);
}

}  // namespace deepgen
