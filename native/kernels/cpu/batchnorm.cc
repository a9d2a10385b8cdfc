#include "batchnorm.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/thread_pool.h"
#include "vmath.h"

namespace deepgen {

// ---- plain row loops ---------------------------------------------------------------------

void batchnorm_affine_row_plain(const float* x, float* y, int64_t n, float center, float scale,
                                float shift) {
  for (int64_t i = 0; i < n; ++i) y[i] = (x[i] - center) * scale + shift;
}

void batchnorm_backward_row_plain(const float* x, const float* dy, float* dx, int64_t n,
                                  float center, float a, float b, float k) {
  for (int64_t i = 0; i < n; ++i) dx[i] = a * dy[i] + b * (x[i] - center) + k;
}

void batchnorm_col_sum_sq_plain(double* acc, const float* x, const double* center, int64_t w) {
  for (int64_t j = 0; j < w; ++j) {
    const double d = x[j] - center[j];
    acc[j] += d * d;
  }
}

void batchnorm_col_grad_sums_plain(double* sum_dy, double* sum_dyc, const float* dy, const float* x,
                                   const float* mean, int64_t w) {
  for (int64_t j = 0; j < w; ++j) {
    sum_dy[j] += dy[j];
    sum_dyc[j] += static_cast<double>(dy[j]) * (static_cast<double>(x[j]) - mean[j]);
  }
}

void batchnorm_col_affine_plain(const float* x, float* y, const float* center, const float* scale,
                                const float* shift, int64_t w) {
  for (int64_t j = 0; j < w; ++j) y[j] = (x[j] - center[j]) * scale[j] + shift[j];
}

void batchnorm_col_backward_plain(const float* x, const float* dy, float* dx, const float* center,
                                  const float* a, const float* b, const float* k, int64_t w) {
  for (int64_t j = 0; j < w; ++j) dx[j] = a[j] * dy[j] + b[j] * (x[j] - center[j]) + k[j];
}

namespace {

// The per-plane (S > 1) and per-row (S == 1) operations; the plain set is the reference, the
// fast set uses AVX2 when the CPU has it.
struct RowOps {
  double (*sum)(const float*, int64_t);
  double (*sum_sq_centered)(const float*, int64_t, double);
  double (*dot_centered)(const float*, const float*, int64_t, double);
  void (*affine)(const float*, float*, int64_t, float, float, float);
  void (*backward_row)(const float*, const float*, float*, int64_t, float, float, float, float);
  void (*col_sum)(double*, const float*, int64_t);
  void (*col_sum_sq)(double*, const float*, const double*, int64_t);
  void (*col_grad_sums)(double*, double*, const float*, const float*, const float*, int64_t);
  void (*col_affine)(const float*, float*, const float*, const float*, const float*, int64_t);
  void (*col_backward)(const float*, const float*, float*, const float*, const float*, const float*,
                       const float*, int64_t);
};

const RowOps kPlainOps = {sum_f64_plain,
                          sum_sq_centered_f64_plain,
                          dot_centered_f64_plain,
                          batchnorm_affine_row_plain,
                          batchnorm_backward_row_plain,
                          accumulate_f64_plain,
                          batchnorm_col_sum_sq_plain,
                          batchnorm_col_grad_sums_plain,
                          batchnorm_col_affine_plain,
                          batchnorm_col_backward_plain};
const RowOps kAvx2Ops = {sum_f64_avx2,
                         sum_sq_centered_f64_avx2,
                         dot_centered_f64_avx2,
                         batchnorm_affine_row_avx2,
                         batchnorm_backward_row_avx2,
                         accumulate_f64_avx2,
                         batchnorm_col_sum_sq_avx2,
                         batchnorm_col_grad_sums_avx2,
                         batchnorm_col_affine_avx2,
                         batchnorm_col_backward_avx2};

const RowOps& fast_ops() { return use_avx2_fma() ? kAvx2Ops : kPlainOps; }

struct Dims {
  int64_t N, C, S, M;
};

Dims check_dims(const char* fn, int64_t N, int64_t C, int64_t S) {
  if (N < 0 || C < 0 || S < 0) throw KernelError("E_ARG", std::string(fn) + ": negative size");
  constexpr int64_t kMax = int64_t{1} << 53;
  if (N > 0 && C > 0 && S > 0 && (C > kMax / S || N > kMax / (C * S))) {
    throw KernelError("E_ARG", std::string(fn) + ": N * C * S is too large");
  }
  return {N, C, S, N * S};
}

void check_ptrs(const char* fn, std::initializer_list<const void*> ptrs) {
  for (const void* p : ptrs) {
    if (p == nullptr) throw KernelError("E_ARG", std::string(fn) + ": null array");
  }
}

void check_eps(const char* fn, float eps) {
  if (!std::isfinite(eps) || eps <= 0.0f) {
    throw KernelError("E_ARG", std::string(fn) + ": eps must be finite and > 0");
  }
}

void check_train_size(const char* fn, const Dims& d) {
  if (d.M < 2) {
    throw KernelError(
        "E_SHAPE",
        std::string(fn) + ": training needs more than one value per channel (N * S >= 2)");
  }
}

// Runs fn(r) for every (n, c) plane r = n * C + c, planes grouped into tasks of about
// kElementwiseChunk elements. Each plane is handled whole by one task.
template <typename F>
void for_each_plane(const Dims& d, F fn) {
  const int64_t planes = d.N * d.C;
  const int64_t per_task = std::max<int64_t>(1, kElementwiseChunk / d.S);
  parallel_for((planes + per_task - 1) / per_task, [&](int64_t t) {
    const int64_t end = std::min(planes, (t + 1) * per_task);
    for (int64_t r = t * per_task; r < end; ++r) fn(r);
  });
}

// Runs fn(n) for every sample row of a dense [N, C] layout, rows grouped into tasks.
template <typename F>
void for_each_dense_row(const Dims& d, F fn) {
  const int64_t per_task = std::max<int64_t>(1, kElementwiseChunk / d.C);
  parallel_for((d.N + per_task - 1) / per_task, [&](int64_t t) {
    const int64_t end = std::min(d.N, (t + 1) * per_task);
    for (int64_t n = t * per_task; n < end; ++n) fn(n);
  });
}

// sum over n of plane[n * C + c], in n order.
double channel_total(const std::vector<double>& plane, const Dims& d, int64_t c) {
  double s = 0;
  for (int64_t n = 0; n < d.N; ++n) s += plane[static_cast<size_t>(n * d.C + c)];
  return s;
}

// y = (x - center[c]) * scale[c] + shift[c] over the whole tensor.
void apply_affine(const float* x, float* y, const Dims& d, const float* center, const float* scale,
                  const float* shift, const RowOps& ops) {
  if (d.S == 1) {
    for_each_dense_row(
        d, [&](int64_t n) { ops.col_affine(x + n * d.C, y + n * d.C, center, scale, shift, d.C); });
  } else {
    for_each_plane(d, [&](int64_t r) {
      const int64_t c = r % d.C;
      ops.affine(x + r * d.S, y + r * d.S, d.S, center[c], scale[c], shift[c]);
    });
  }
}

void forward_train_impl(const float* x, const float* gamma, const float* beta, float* y,
                        float* mean, float* rstd, float* running_mean, float* running_var,
                        int64_t N, int64_t C, int64_t S, float eps, float momentum,
                        const RowOps& ops) {
  const char* fn = "batchnorm_forward_train";
  const Dims d = check_dims(fn, N, C, S);
  check_eps(fn, eps);
  if (!(momentum >= 0.0f && momentum <= 1.0f)) {
    throw KernelError("E_ARG", std::string(fn) + ": momentum must be in [0, 1]");
  }
  if (C == 0) return;
  check_train_size(fn, d);
  check_ptrs(fn, {x, gamma, beta, y, mean, rstd, running_mean, running_var});
  std::vector<double> mean_d(static_cast<size_t>(C)), var_d(static_cast<size_t>(C));
  const double inv_m = 1.0 / static_cast<double>(d.M);
  if (S == 1) {
    // Dense: column sums over the N sample rows (vmath.h column_sums_f64).
    column_sums_f64(N, C, 1, mean_d.data(), [&](double* acc, int64_t n, int64_t j0, int64_t j1) {
      ops.col_sum(acc + j0, x + n * C + j0, j1 - j0);
    });
    for (int64_t c = 0; c < C; ++c) mean_d[c] *= inv_m;
    column_sums_f64(N, C, 1, var_d.data(), [&](double* acc, int64_t n, int64_t j0, int64_t j1) {
      ops.col_sum_sq(acc + j0, x + n * C + j0, mean_d.data() + j0, j1 - j0);
    });
    for (int64_t c = 0; c < C; ++c) var_d[c] *= inv_m;
  } else {
    std::vector<double> plane(static_cast<size_t>(N * C));
    for_each_plane(d, [&](int64_t r) { plane[r] = ops.sum(x + r * S, S); });
    for (int64_t c = 0; c < C; ++c) mean_d[c] = channel_total(plane, d, c) * inv_m;
    for_each_plane(d,
                   [&](int64_t r) { plane[r] = ops.sum_sq_centered(x + r * S, S, mean_d[r % C]); });
    for (int64_t c = 0; c < C; ++c) var_d[c] = channel_total(plane, d, c) * inv_m;
  }
  std::vector<float> scale(static_cast<size_t>(C));
  const double unbias = static_cast<double>(d.M) / static_cast<double>(d.M - 1);
  for (int64_t c = 0; c < C; ++c) {
    mean[c] = static_cast<float>(mean_d[c]);
    rstd[c] = static_cast<float>(1.0 / std::sqrt(var_d[c] + eps));
    scale[c] = gamma[c] * rstd[c];
    running_mean[c] = static_cast<float>((1.0 - momentum) * running_mean[c] + momentum * mean_d[c]);
    running_var[c] =
        static_cast<float>((1.0 - momentum) * running_var[c] + momentum * var_d[c] * unbias);
  }
  apply_affine(x, y, d, mean, scale.data(), beta, ops);
}

void forward_eval_impl(const float* x, const float* gamma, const float* beta,
                       const float* running_mean, const float* running_var, float* y, int64_t N,
                       int64_t C, int64_t S, float eps, const RowOps& ops) {
  const char* fn = "batchnorm_forward_eval";
  const Dims d = check_dims(fn, N, C, S);
  check_eps(fn, eps);
  if (N == 0 || C == 0 || S == 0) return;
  check_ptrs(fn, {x, gamma, beta, running_mean, running_var, y});
  std::vector<float> scale(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    scale[c] = static_cast<float>(gamma[c] / std::sqrt(static_cast<double>(running_var[c]) + eps));
  }
  apply_affine(x, y, d, running_mean, scale.data(), beta, ops);
}

void backward_impl(const float* x, const float* dy, const float* gamma, const float* mean,
                   const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t N, int64_t C,
                   int64_t S, const RowOps& ops) {
  const char* fn = "batchnorm_backward";
  const Dims d = check_dims(fn, N, C, S);
  if (C == 0) return;
  check_train_size(fn, d);
  check_ptrs(fn, {x, dy, gamma, mean, rstd, dx, dgamma, dbeta});
  // sum_dy[c] = sum dy, sum_dyc[c] = sum dy * (x - mean): all the backward needs.
  // Stored back to back: sums[c] = sum dy, sums[C + c] = sum dy (x - mean).
  std::vector<double> sums(static_cast<size_t>(2 * C));
  double* sum_dy = sums.data();
  double* sum_dyc = sums.data() + C;
  if (S == 1) {
    column_sums_f64(N, C, 2, sums.data(), [&](double* acc, int64_t n, int64_t j0, int64_t j1) {
      const int64_t o = n * C + j0;
      ops.col_grad_sums(acc + j0, acc + C + j0, dy + o, x + o, mean + j0, j1 - j0);
    });
  } else {
    std::vector<double> p_dy(static_cast<size_t>(N * C)), p_dyc(static_cast<size_t>(N * C));
    for_each_plane(d, [&](int64_t r) {
      const int64_t c = r % C;
      p_dy[r] = ops.sum(dy + r * S, S);
      p_dyc[r] = ops.dot_centered(dy + r * S, x + r * S, S, mean[c]);
    });
    for (int64_t c = 0; c < C; ++c) {
      sum_dy[c] = channel_total(p_dy, d, c);
      sum_dyc[c] = channel_total(p_dyc, d, c);
    }
  }
  // dx = gamma rstd (dy - dbeta / M - xhat dgamma / M) = a dy + b (x - mean) + k.
  std::vector<float> a(static_cast<size_t>(C)), b(static_cast<size_t>(C)),
      k(static_cast<size_t>(C));
  const double inv_m = 1.0 / static_cast<double>(d.M);
  for (int64_t c = 0; c < C; ++c) {
    const double r = rstd[c];
    const double g = gamma[c];
    dbeta[c] = static_cast<float>(sum_dy[c]);
    dgamma[c] = static_cast<float>(sum_dyc[c] * r);
    a[c] = static_cast<float>(g * r);
    b[c] = static_cast<float>(-g * r * r * r * sum_dyc[c] * inv_m);
    k[c] = static_cast<float>(-g * r * sum_dy[c] * inv_m);
  }
  if (S == 1) {
    for_each_dense_row(d, [&](int64_t n) {
      ops.col_backward(x + n * C, dy + n * C, dx + n * C, mean, a.data(), b.data(), k.data(), C);
    });
  } else {
    for_each_plane(d, [&](int64_t r) {
      const int64_t c = r % C;
      ops.backward_row(x + r * S, dy + r * S, dx + r * S, S, mean[c], a[c], b[c], k[c]);
    });
  }
}

}  // namespace

void batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float* y,
                             float* mean, float* rstd, float* running_mean, float* running_var,
                             int64_t N, int64_t C, int64_t S, float eps, float momentum) {
  forward_train_impl(x, gamma, beta, y, mean, rstd, running_mean, running_var, N, C, S, eps,
                     momentum, fast_ops());
}
void batchnorm_forward_eval(const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float* y,
                            int64_t N, int64_t C, int64_t S, float eps) {
  forward_eval_impl(x, gamma, beta, running_mean, running_var, y, N, C, S, eps, fast_ops());
}
void batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t N,
                        int64_t C, int64_t S) {
  backward_impl(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, N, C, S, fast_ops());
}

void batchnorm_forward_train_plain(const float* x, const float* gamma, const float* beta, float* y,
                                   float* mean, float* rstd, float* running_mean,
                                   float* running_var, int64_t N, int64_t C, int64_t S, float eps,
                                   float momentum) {
  forward_train_impl(x, gamma, beta, y, mean, rstd, running_mean, running_var, N, C, S, eps,
                     momentum, kPlainOps);
}
void batchnorm_forward_eval_plain(const float* x, const float* gamma, const float* beta,
                                  const float* running_mean, const float* running_var, float* y,
                                  int64_t N, int64_t C, int64_t S, float eps) {
  forward_eval_impl(x, gamma, beta, running_mean, running_var, y, N, C, S, eps, kPlainOps);
}
void batchnorm_backward_plain(const float* x, const float* dy, const float* gamma,
                              const float* mean, const float* rstd, float* dx, float* dgamma,
                              float* dbeta, int64_t N, int64_t C, int64_t S) {
  backward_impl(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, N, C, S, kPlainOps);
}

}  // namespace deepgen
