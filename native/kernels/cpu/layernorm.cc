#include "layernorm.h"

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

void layernorm_forward_row_plain(const float* x, const float* gamma, const float* beta, float* y,
                                 int64_t D, float mean, float rstd) {
  for (int64_t d = 0; d < D; ++d) y[d] = (x[d] - mean) * rstd * gamma[d] + beta[d];
}

void layernorm_backward_row_plain(const float* x, const float* dy, const float* gamma, float* dx,
                                  double* dgamma_acc, double* dbeta_acc, int64_t D, float mean,
                                  float rstd) {
  double sum_g = 0, sum_gx = 0;
  for (int64_t d = 0; d < D; ++d) {
    const double xhat = (static_cast<double>(x[d]) - mean) * rstd;
    const double g = static_cast<double>(dy[d]) * gamma[d];
    sum_g += g;
    sum_gx += g * xhat;
    dgamma_acc[d] += dy[d] * xhat;
    dbeta_acc[d] += dy[d];
  }
  const double mean_g = sum_g / static_cast<double>(D);
  const double mean_gx = sum_gx / static_cast<double>(D);
  for (int64_t d = 0; d < D; ++d) {
    const double xhat = (static_cast<double>(x[d]) - mean) * rstd;
    const double g = static_cast<double>(dy[d]) * gamma[d];
    dx[d] = static_cast<float>(rstd * (g - mean_g - xhat * mean_gx));
  }
}

namespace {

struct RowOps {
  double (*sum)(const float*, int64_t);
  double (*sum_sq_centered)(const float*, int64_t, double);
  void (*forward_row)(const float*, const float*, const float*, float*, int64_t, float, float);
  void (*backward_row)(const float*, const float*, const float*, float*, double*, double*, int64_t,
                       float, float);
};

const RowOps kPlainOps = {sum_f64_plain, sum_sq_centered_f64_plain, layernorm_forward_row_plain,
                          layernorm_backward_row_plain};
const RowOps kAvx2Ops = {sum_f64_avx2, sum_sq_centered_f64_avx2, layernorm_forward_row_avx2,
                         layernorm_backward_row_avx2};

const RowOps& fast_ops() { return use_avx2_fma() ? kAvx2Ops : kPlainOps; }

void check_sizes(const char* fn, int64_t R, int64_t D) {
  if (R < 0 || D < 0) throw KernelError("E_ARG", std::string(fn) + ": negative size");
  constexpr int64_t kMax = int64_t{1} << 53;
  if (R > 0 && D > 0 && R > kMax / D) {
    throw KernelError("E_ARG", std::string(fn) + ": R * D is too large");
  }
  if (R > 0 && D == 0) {
    throw KernelError("E_SHAPE", std::string(fn) + ": cannot normalize rows of length 0");
  }
}

void check_ptrs(const char* fn, std::initializer_list<const void*> ptrs) {
  for (const void* p : ptrs) {
    if (p == nullptr) throw KernelError("E_ARG", std::string(fn) + ": null array");
  }
}

void forward_impl(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                  float* rstd, int64_t R, int64_t D, float eps, const RowOps& ops) {
  const char* fn = "layernorm_forward";
  check_sizes(fn, R, D);
  if (!std::isfinite(eps) || eps <= 0.0f) {
    throw KernelError("E_ARG", std::string(fn) + ": eps must be finite and > 0");
  }
  if (R == 0) return;
  check_ptrs(fn, {x, gamma, beta, y, mean, rstd});
  const int64_t per_task = std::max<int64_t>(1, kElementwiseChunk / D);
  parallel_for((R + per_task - 1) / per_task, [&](int64_t t) {
    const int64_t end = std::min(R, (t + 1) * per_task);
    for (int64_t r = t * per_task; r < end; ++r) {
      const float* xr = x + r * D;
      const double m = ops.sum(xr, D) / static_cast<double>(D);
      const double var = ops.sum_sq_centered(xr, D, m) / static_cast<double>(D);
      mean[r] = static_cast<float>(m);
      rstd[r] = static_cast<float>(1.0 / std::sqrt(var + eps));
      ops.forward_row(xr, gamma, beta, y + r * D, D, mean[r], rstd[r]);
    }
  });
}

void backward_impl(const float* x, const float* dy, const float* gamma, const float* mean,
                   const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t R, int64_t D,
                   const RowOps& ops) {
  const char* fn = "layernorm_backward";
  check_sizes(fn, R, D);
  if (D > 0) check_ptrs(fn, {dgamma, dbeta});
  if (R == 0) {
    std::fill(dgamma, dgamma + D, 0.0f);
    std::fill(dbeta, dbeta + D, 0.0f);
    return;
  }
  check_ptrs(fn, {x, dy, gamma, mean, rstd, dx});
  // dgamma and dbeta are column sums over the rows (vmath.h column_sums_f64: fixed row
  // blocks, added in block order), accumulated while each row's dx is computed.
  std::vector<double> sums(static_cast<size_t>(2 * D));
  column_sums_f64(
      R, D, 2, sums.data(),
      [&](double* acc, int64_t r, int64_t, int64_t) {
        ops.backward_row(x + r * D, dy + r * D, gamma, dx + r * D, acc, acc + D, D, mean[r],
                         rstd[r]);
      },
      0);  // whole rows: the row's dx needs the row's own sums first
  for (int64_t d = 0; d < D; ++d) {
    dgamma[d] = static_cast<float>(sums[static_cast<size_t>(d)]);
    dbeta[d] = static_cast<float>(sums[static_cast<size_t>(D + d)]);
  }
}

}  // namespace

void layernorm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                       float* rstd, int64_t R, int64_t D, float eps) {
  forward_impl(x, gamma, beta, y, mean, rstd, R, D, eps, fast_ops());
}
void layernorm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t R,
                        int64_t D) {
  backward_impl(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, R, D, fast_ops());
}
void layernorm_forward_plain(const float* x, const float* gamma, const float* beta, float* y,
                             float* mean, float* rstd, int64_t R, int64_t D, float eps) {
  forward_impl(x, gamma, beta, y, mean, rstd, R, D, eps, kPlainOps);
}
void layernorm_backward_plain(const float* x, const float* dy, const float* gamma,
                              const float* mean, const float* rstd, float* dx, float* dgamma,
                              float* dbeta, int64_t R, int64_t D) {
  backward_impl(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, R, D, kPlainOps);
}

}  // namespace deepgen
