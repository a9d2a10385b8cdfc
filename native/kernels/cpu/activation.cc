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

// Bias layouts. [N, C, S] with S > 1: each (n, c) plane of S contiguous elements shares the
// scalar bias[c]. Dense (S == 1): the bias is a vector along each sample row of C; short rows
// are grouped, g = max(1, kBiasBlock / C) consecutive rows forming one contiguous segment
// against the bias tiled g times, so a narrow layer (C = 1, a discriminator's output) does not
// pay a per-row overhead. The bias is added into y a block at a time, and the activation runs
// in place on the block while it is still in L1.
constexpr int64_t kBiasBlock = 512;

struct DenseGroups {
  int64_t g;       // rows per segment
  int64_t seg;     // g * C elements
  int64_t groups;  // ceil(N / g); the last segment may be short
};

DenseGroups dense_groups(int64_t N, int64_t C) {
  DenseGroups d;
  d.g = std::max<int64_t>(1, kBiasBlock / C);
  d.seg = d.g * C;
  d.groups = (N + d.g - 1) / d.g;
  return d;
}

std::vector<float> tiled_bias(const float* bias, int64_t C, int64_t g) {
  std::vector<float> t(static_cast<size_t>(g * C));
  for (int64_t k = 0; k < g; ++k) std::copy(bias, bias + C, t.begin() + k * C);
  return t;
}

// Runs fn(i) for i in [0, count), grouped into tasks of about kElementwiseChunk elements when
// each item has `item_len` elements.
template <typename F>
void for_each_item(int64_t count, int64_t item_len, F fn) {
  const int64_t per_task = std::max<int64_t>(1, kElementwiseChunk / item_len);
  parallel_for((count + per_task - 1) / per_task, [&](int64_t t) {
    const int64_t end = std::min(count, (t + 1) * per_task);
    for (int64_t i = t * per_task; i < end; ++i) fn(i);
  });
}

// y[0..len) = f(x + b) with a bias vector b[0..len) or, when b is null, the scalar b0.
void add_bias_activate(Activation kind, const float* x, const float* b, float b0, float* y,
                       int64_t len, float slope, ForwardSpan span) {
  for (int64_t off = 0; off < len; off += kBiasBlock) {
    const int64_t m = std::min(kBiasBlock, len - off);
    if (b != nullptr) {
      for (int64_t i = 0; i < m; ++i) y[off + i] = x[off + i] + b[off + i];
    } else {
      for (int64_t i = 0; i < m; ++i) y[off + i] = x[off + i] + b0;
    }
    span(kind, y + off, y + off, m, slope);
  }
}

void bias_forward_impl(Activation kind, const float* x, const float* bias, float* y, int64_t N,
                       int64_t C, int64_t S, float slope, ForwardSpan span) {
  const char* fn = "bias_activation_forward";
  check_kind(fn, kind, slope);
  const int64_t total = checked_numel(fn, N, C, S);
  if (total == 0) return;
  check_array(fn, x, "x");
  check_array(fn, bias, "bias");
  check_array(fn, y, "y");
  if (S == 1) {
    const DenseGroups d = dense_groups(N, C);
    const std::vector<float> tiled = tiled_bias(bias, C, d.g);
    for_each_item(d.groups, d.seg, [&](int64_t i) {
      const int64_t begin = i * d.seg;
      add_bias_activate(kind, x + begin, tiled.data(), 0.0f, y + begin,
                        std::min(d.seg, total - begin), slope, span);
    });
  } else {
    for_each_item(N * C, S, [&](int64_t r) {
      add_bias_activate(kind, x + r * S, nullptr, bias[r % C], y + r * S, S, slope, span);
    });
  }
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
  if (S == 1) {
    // One pass over the segments: dx, added into the segment-wide column sums (vmath.h
    // column_sums_f64: fixed blocks of segments, added in block order); then the g copies of
    // each channel in the segment are added in order.
    const DenseGroups d = dense_groups(N, C);
    std::vector<double> sums(static_cast<size_t>(d.seg));
    column_sums_f64(
        d.groups, d.seg, 1, sums.data(), [&](double* acc, int64_t i, int64_t j0, int64_t j1) {
          const int64_t begin = i * d.seg;
          const int64_t end = std::min(j1, total - begin);  // the last segment may be short
          if (end <= j0) return;
          span(kind, y + begin + j0, dy + begin + j0, dx + begin + j0, end - j0, slope);
          accumulate(acc + j0, dx + begin + j0, end - j0);
        });
    for (int64_t c = 0; c < C; ++c) {
      double s = 0;
      for (int64_t k = 0; k < d.g; ++k) s += sums[static_cast<size_t>(k * C + c)];
      dbias[c] = static_cast<float>(s);
    }
    return;
  }
  // Per (n, c) plane: dx, then its sum in double; then the planes of each channel in n order.
  std::vector<double> plane_sum(static_cast<size_t>(N * C));
  for_each_item(N * C, S, [&](int64_t r) {
    span(kind, y + r * S, dy + r * S, dx + r * S, S, slope);
    plane_sum[static_cast<size_t>(r)] = row_sum(dx + r * S, S);
  });
  for (int64_t c = 0; c < C; ++c) {
    double s = 0;
    for (int64_t n = 0; n < N; ++n) s += plane_sum[static_cast<size_t>(n * C + c)];
    dbias[c] = static_cast<float>(s);
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

void activation_forward_span(Activation kind, const float* x, float* y, int64_t n, float slope) {
  if (use_avx2_fma()) {
    activation_forward_span_avx2(kind, x, y, n, slope);
  } else {
    activation_forward_span_plain(kind, x, y, n, slope);
  }
}

void activation_forward(Activation kind, const float* x, float* y, int64_t n, float slope) {
  forward_impl(kind, x, y, n, slope, activation_forward_span);
}
void activation_backward(Activation kind, const float* y, const float* dy, float* dx, int64_t n,
                         float slope) {
  backward_impl(kind, y, dy, dx, n, slope, backward_span_fast);
}
void bias_activation_forward(Activation kind, const float* x, const float* bias, float* y,
                             int64_t N, int64_t C, int64_t S, float slope) {
  bias_forward_impl(kind, x, bias, y, N, C, S, slope, activation_forward_span);
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
