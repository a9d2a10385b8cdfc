#include "loss.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/thread_pool.h"

namespace deepgen {
namespace {

constexpr double kLog2Pi = 1.8378770664093454835606594728112;
constexpr int64_t kChunkElements = int64_t{1} << 14;  // work per parallel chunk

void check_sizes(const char* fn, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0) throw KernelError("E_ARG", std::string(fn) + ": negative size");
  if (cols > 0 && rows > std::numeric_limits<int64_t>::max() / cols) {
    throw KernelError("E_SHAPE", std::string(fn) + ": rows * cols overflows");
  }
}

// Runs fn(r0, r1) over chunks of whole rows, ~kChunkElements each. A row is handled by one
// thread, so per-row results are the same for any thread count.
template <typename Fn>
void for_row_chunks(int64_t rows, int64_t cols, Fn&& fn) {
  const int64_t per = std::max<int64_t>(1, kChunkElements / std::max<int64_t>(1, cols));
  parallel_for((rows + per - 1) / per, [&](int64_t chunk) {
    const int64_t r0 = chunk * per;
    fn(r0, std::min(rows, r0 + per));
  });
}

// The forward pattern: per-row float64 values from rows_fn(sums + r0, r0, r1), stored to
// row_out (if any) and added in row order for the total.
template <typename Fn>
double row_forward(float* row_out, int64_t rows, int64_t cols, Fn&& rows_fn) {
  std::vector<double> sums(static_cast<size_t>(rows));
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t r1) { rows_fn(sums.data() + r0, r0, r1); });
  double total = 0;
  for (int64_t r = 0; r < rows; ++r) {
    total += sums[static_cast<size_t>(r)];
    if (row_out != nullptr) row_out[r] = static_cast<float>(sums[static_cast<size_t>(r)]);
  }
  return total;
}

inline double row_factor(double scale, const float* row_scale, int64_t r) {
  return row_scale != nullptr ? scale * static_cast<double>(row_scale[r]) : scale;
}

inline float bce_element(float z, float x) {
  return (std::fmax(z, 0.0f) - x * z) + std::log1p(std::exp(-std::fabs(z)));
}

inline float sigmoid(float z) { return 1.0f / (1.0f + std::exp(-z)); }

}  // namespace

// ---- reductions ----------------------------------------------------------------------------

double reduce_block_sum(const float* x, int64_t n) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    for (int l = 0; l < 8; ++l) a[l] += static_cast<double>(x[k + l]);
  }
  for (int l = 0; k < n; ++k, ++l) a[l] += static_cast<double>(x[k]);
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

double reduce_block_sum_squares(const float* x, int64_t n) {
  double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8) {
    for (int l = 0; l < 8; ++l) {
      const double v = x[k + l];
      a[l] += v * v;
    }
  }
  for (int l = 0; k < n; ++k, ++l) {
    const double v = x[k];
    a[l] += v * v;
  }
  return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

double reduce_sum(const float* x, int64_t n) {
  if (n < 0) throw KernelError("E_ARG", "reduce_sum: negative size");
  if (n == 0) return 0.0;
  if (x == nullptr) throw KernelError("E_ARG", "reduce_sum: null array");
  const int64_t blocks = (n + kReduceBlock - 1) / kReduceBlock;
  std::vector<double> partial(static_cast<size_t>(blocks));
  constexpr int64_t kBlocksPerChunk = 16;
  parallel_for((blocks + kBlocksPerChunk - 1) / kBlocksPerChunk, [&](int64_t chunk) {
    const int64_t b1 = std::min(blocks, (chunk + 1) * kBlocksPerChunk);
    for (int64_t b = chunk * kBlocksPerChunk; b < b1; ++b) {
      const int64_t begin = b * kReduceBlock;
      partial[static_cast<size_t>(b)] =
          reduce_block_sum(x + begin, std::min(kReduceBlock, n - begin));
    }
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

double reduce_mean(const float* x, int64_t n) {
  if (n == 0) throw KernelError("E_SHAPE", "reduce_mean: the mean of an empty array is undefined");
  return reduce_sum(x, n) / static_cast<double>(n);
}

// ---- binary cross-entropy with logits --------------------------------------------------------

void bce_forward_rows_plain(double* sums, const float* logits, const float* targets, int64_t cols,
                            int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* z = logits + r * cols;
    const float* x = targets + r * cols;
    double acc = 0;
    for (int64_t d = 0; d < cols; ++d) acc += static_cast<double>(bce_element(z[d], x[d]));
    sums[r - r0] = acc;
  }
}

void bce_backward_rows_plain(float* dlogits, const float* logits, const float* targets,
                             int64_t cols, int64_t r0, int64_t r1, double scale,
                             const float* row_scale) {
  for (int64_t r = r0; r < r1; ++r) {
    const float s = static_cast<float>(row_factor(scale, row_scale, r));
    const int64_t off = r * cols;
    for (int64_t d = 0; d < cols; ++d) {
      dlogits[off + d] = (sigmoid(logits[off + d]) - targets[off + d]) * s;
    }
  }
}

double bce_with_logits_forward(float* row_loss, const float* logits, const float* targets,
                               int64_t rows, int64_t cols) {
  check_sizes("bce_with_logits_forward", rows, cols);
  if (rows > 0 && cols > 0 && (!logits || !targets)) {
    throw KernelError("E_ARG", "bce_with_logits_forward: null array");
  }
  const bool simd = use_avx2_fma();
  return row_forward(row_loss, rows, cols, [&](double* sums, int64_t r0, int64_t r1) {
    if (simd)
      bce_forward_rows_avx2(sums, logits, targets, cols, r0, r1);
    else
      bce_forward_rows_plain(sums, logits, targets, cols, r0, r1);
  });
}

void bce_with_logits_backward(float* dlogits, const float* logits, const float* targets,
                              int64_t rows, int64_t cols, double scale, const float* row_scale) {
  check_sizes("bce_with_logits_backward", rows, cols);
  if (rows == 0 || cols == 0) return;
  if (!dlogits || !logits || !targets)
    throw KernelError("E_ARG", "bce_with_logits_backward: null array");
  const bool simd = use_avx2_fma();
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t r1) {
    if (simd)
      bce_backward_rows_avx2(dlogits, logits, targets, cols, r0, r1, scale, row_scale);
    else
      bce_backward_rows_plain(dlogits, logits, targets, cols, r0, r1, scale, row_scale);
  });
}

// ---- continuous Bernoulli ----------------------------------------------------------------------

namespace {

// log C(z) of the continuous Bernoulli with logit z (see loss.h).
double cb_log_norm(double z) {
  const double a = std::fabs(z);
  if (a < kCbTaylor) {
    const double z2 = z * z;
    return 0.69314718055994530942 + z2 * (1.0 / 12 + z2 * (-7.0 / 1440 + z2 * (31.0 / 90720)));
  }
  // tanh(a / 2) = -expm1(-a) / (1 + exp(-a)), accurate for every a > 0
  const double e = std::exp(-a);
  return std::log(a) - std::log(-std::expm1(-a)) + std::log1p(e);
}

// d log C / dz = 1/z - 1/sinh z.
double cb_log_norm_grad(double z) {
  if (std::fabs(z) < kCbTaylor) {
    const double z2 = z * z;
    return z * (1.0 / 6 + z2 * (-7.0 / 360 + z2 * (31.0 / 15120)));
  }
  return 1.0 / z - 1.0 / std::sinh(z);  // sinh overflows to Inf past |z| ~ 710: 1/Inf = 0
}

double softplus(double z) { return std::fmax(z, 0.0) + std::log1p(std::exp(-std::fabs(z))); }

}  // namespace

double cbernoulli_nll_forward(float* row_nll, const float* logits, const float* targets,
                              int64_t rows, int64_t cols) {
  check_sizes("cbernoulli_nll_forward", rows, cols);
  if (rows > 0 && cols > 0 && (!logits || !targets)) {
    throw KernelError("E_ARG", "cbernoulli_nll_forward: null array");
  }
  return row_forward(row_nll, rows, cols, [&](double* sums, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      double acc = 0;
      for (int64_t d = r * cols; d < (r + 1) * cols; ++d) {
        const double z = logits[d], x = targets[d];
        const double a = std::fabs(z);
        // |z| >= kCbTaylor: softplus(z) - log C(z) = max(z, 0) - log(a / (1 - e^-a)) (the
        // log1p(e^-a) of softplus and of log C cancel): two libm calls instead of five
        acc += (a < kCbTaylor ? softplus(z) - cb_log_norm(z)
                              : std::fmax(z, 0.0) - std::log(a / -std::expm1(-a))) -
               x * z;
      }
      sums[r - r0] = acc;
    }
  });
}

void cbernoulli_nll_backward(float* dlogits, const float* logits, const float* targets,
                             int64_t rows, int64_t cols, double scale, const float* row_scale) {
  check_sizes("cbernoulli_nll_backward", rows, cols);
  if (rows == 0 || cols == 0) return;
  if (!dlogits || !logits || !targets)
    throw KernelError("E_ARG", "cbernoulli_nll_backward: null array");
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const double s = row_factor(scale, row_scale, r);
      for (int64_t d = r * cols; d < (r + 1) * cols; ++d) {
        const double z = logits[d];
        const double a = std::fabs(z);
        const double e = std::exp(-a);  // one exp serves the sigmoid and 1 / sinh
        const double sig = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        // 1/z - 1/sinh z with 1/sinh a = 2 e / (1 - e^2) (0 once e underflows)
        const double g = a < kCbTaylor
                             ? cb_log_norm_grad(z)
                             : 1.0 / z - std::copysign(2.0 * e / ((1.0 - e) * (1.0 + e)), z);
        dlogits[d] = static_cast<float>(s * (sig - static_cast<double>(targets[d]) - g));
      }
    }
  });
}

// ---- KL( N(mu, exp(logvar)) || N(0, I) ) -----------------------------------------------------

double gaussian_kl_forward(float* row_kl, const float* mu, const float* logvar, int64_t rows,
                           int64_t cols) {
  check_sizes("gaussian_kl_forward", rows, cols);
  if (rows > 0 && cols > 0 && (!mu || !logvar))
    throw KernelError("E_ARG", "gaussian_kl_forward: null array");
  return row_forward(row_kl, rows, cols, [&](double* sums, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      double acc = 0;
      for (int64_t d = r * cols; d < (r + 1) * cols; ++d) {
        const double m = mu[d], lv = logvar[d];
        acc += m * m + std::expm1(lv) - lv;
      }
      sums[r - r0] = 0.5 * acc;
    }
  });
}

void gaussian_kl_backward(float* dmu, float* dlogvar, const float* mu, const float* logvar,
                          int64_t rows, int64_t cols, double scale, const float* row_scale) {
  check_sizes("gaussian_kl_backward", rows, cols);
  if (rows == 0 || cols == 0) return;
  if (!dmu || !dlogvar || !mu || !logvar)
    throw KernelError("E_ARG", "gaussian_kl_backward: null array");
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const double s = row_factor(scale, row_scale, r);
      for (int64_t d = r * cols; d < (r + 1) * cols; ++d) {
        dmu[d] = static_cast<float>(s * static_cast<double>(mu[d]));
        dlogvar[d] = static_cast<float>(s * 0.5 * std::expm1(static_cast<double>(logvar[d])));
      }
    }
  });
}

// ---- diagonal Gaussian log-density -------------------------------------------------------------

double gaussian_log_prob_forward(float* row_logp, const float* x, const float* mu,
                                 const float* logvar, int64_t rows, int64_t cols) {
  check_sizes("gaussian_log_prob_forward", rows, cols);
  if (rows > 0 && cols > 0 && (!x || !mu || !logvar)) {
    throw KernelError("E_ARG", "gaussian_log_prob_forward: null array");
  }
  return row_forward(row_logp, rows, cols, [&](double* sums, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      double acc = 0;
      for (int64_t d = r * cols; d < (r + 1) * cols; ++d) {
        const double diff = static_cast<double>(x[d]) - static_cast<double>(mu[d]);
        const double lv = logvar[d];
        acc += kLog2Pi + lv + diff * diff * std::exp(-lv);
      }
      sums[r - r0] = -0.5 * acc;
    }
  });
}

void gaussian_log_prob_backward(float* dx, float* dmu, float* dlogvar, const float* x,
                                const float* mu, const float* logvar, int64_t rows, int64_t cols,
                                double scale, const float* row_scale) {
  check_sizes("gaussian_log_prob_backward", rows, cols);
  if (rows == 0 || cols == 0 || (!dx && !dmu && !dlogvar)) return;
  if (!x || !mu || !logvar) throw KernelError("E_ARG", "gaussian_log_prob_backward: null array");
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const double s = row_factor(scale, row_scale, r);
      for (int64_t d = r * cols; d < (r + 1) * cols; ++d) {
        const double diff = static_cast<double>(x[d]) - static_cast<double>(mu[d]);
        const double w = diff * std::exp(-static_cast<double>(logvar[d]));
        if (dx) dx[d] = static_cast<float>(-s * w);
        if (dmu) dmu[d] = static_cast<float>(s * w);
        if (dlogvar) dlogvar[d] = static_cast<float>(0.5 * s * (diff * w - 1.0));
      }
    }
  });
}

// ---- softmax cross-entropy -------------------------------------------------------------------

namespace {

// max-shifted log-sum-exp of one row in float64 (cols > 0).
double row_lse(const float* z, int64_t cols) {
  double m = z[0];
  for (int64_t c = 1; c < cols; ++c) m = std::max(m, static_cast<double>(z[c]));
  if (std::isinf(m)) return m;  // all -Inf: -Inf; any +Inf: +Inf
  double s = 0;
  for (int64_t c = 0; c < cols; ++c) s += std::exp(static_cast<double>(z[c]) - m);
  return m + std::log(s);
}

}  // namespace

double softmax_cross_entropy_forward(float* row_loss, const float* logits, const float* targets,
                                     int64_t rows, int64_t cols) {
  check_sizes("softmax_cross_entropy_forward", rows, cols);
  if (rows > 0 && cols > 0 && (!logits || !targets)) {
    throw KernelError("E_ARG", "softmax_cross_entropy_forward: null array");
  }
  return row_forward(row_loss, rows, cols, [&](double* sums, int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      double acc = 0;
      if (cols > 0) {
        const float* z = logits + r * cols;
        const float* t = targets + r * cols;
        const double lse = row_lse(z, cols);
        for (int64_t c = 0; c < cols; ++c) {
          if (t[c] != 0.0f) acc += static_cast<double>(t[c]) * (lse - static_cast<double>(z[c]));
        }
      }
      sums[r - r0] = acc;
    }
  });
}

void softmax_cross_entropy_backward(float* dlogits, const float* logits, const float* targets,
                                    int64_t rows, int64_t cols, double scale,
                                    const float* row_scale) {
  check_sizes("softmax_cross_entropy_backward", rows, cols);
  if (rows == 0 || cols == 0) return;
  if (!dlogits || !logits || !targets) {
    throw KernelError("E_ARG", "softmax_cross_entropy_backward: null array");
  }
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const double s = row_factor(scale, row_scale, r);
      const float* z = logits + r * cols;
      const float* t = targets + r * cols;
      float* dz = dlogits + r * cols;
      const double lse = row_lse(z, cols);
      double total = 0;
      for (int64_t c = 0; c < cols; ++c) total += static_cast<double>(t[c]);
      for (int64_t c = 0; c < cols; ++c) {
        const double p = std::exp(static_cast<double>(z[c]) - lse);
        dz[c] = static_cast<float>(s * (total * p - static_cast<double>(t[c])));
      }
    }
  });
}

// ---- log-sum-exp
// ---------------------------------------------------------------------------------

void lse_forward_rows_plain(float* out, const float* x, int64_t cols, int64_t r0, int64_t r1) {
  const float inf = std::numeric_limits<float>::infinity();
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * cols;
    float m = -inf;
    bool nan = false;
    for (int64_t d = 0; d < cols; ++d) {
      if (xr[d] > m)
        m = xr[d];
      else if (std::isnan(xr[d]))
        nan = true;
    }
    if (nan) {
      out[r] = std::numeric_limits<float>::quiet_NaN();
    } else if (std::isinf(m)) {
      out[r] = m;  // all -Inf (or empty): -Inf; any +Inf: +Inf
    } else {
      double s = 0;
      for (int64_t d = 0; d < cols; ++d) s += std::exp(static_cast<double>(xr[d]) - m);
      out[r] = static_cast<float>(m + std::log(s));
    }
  }
}

void lse_backward_rows_plain(float* dx, const float* x, const float* lse, const float* dout,
                             int64_t cols, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; ++r) {
    const double l = lse[r], g = dout[r];
    for (int64_t d = r * cols; d < (r + 1) * cols; ++d) {
      dx[d] = l == -std::numeric_limits<double>::infinity()
                  ? 0.0f
                  : static_cast<float>(g * std::exp(static_cast<double>(x[d]) - l));
    }
  }
}

void log_sum_exp_forward(float* out, const float* x, int64_t rows, int64_t cols) {
  check_sizes("log_sum_exp_forward", rows, cols);
  if (rows == 0) return;
  if (!out || (cols > 0 && !x)) throw KernelError("E_ARG", "log_sum_exp_forward: null array");
  const bool simd = use_avx2_fma();
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t r1) {
    if (simd)
      lse_forward_rows_avx2(out, x, cols, r0, r1);
    else
      lse_forward_rows_plain(out, x, cols, r0, r1);
  });
}

void log_sum_exp_backward(float* dx, const float* x, const float* lse, const float* dout,
                          int64_t rows, int64_t cols) {
  check_sizes("log_sum_exp_backward", rows, cols);
  if (rows == 0 || cols == 0) return;
  if (!dx || !x || !lse || !dout) throw KernelError("E_ARG", "log_sum_exp_backward: null array");
  const bool simd = use_avx2_fma();
  for_row_chunks(rows, cols, [&](int64_t r0, int64_t r1) {
    if (simd)
      lse_backward_rows_avx2(dx, x, lse, dout, cols, r0, r1);
    else
      lse_backward_rows_plain(dx, x, lse, dout, cols, r0, r1);
  });
}

}  // namespace deepgen
