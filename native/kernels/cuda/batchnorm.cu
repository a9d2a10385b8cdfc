// CUDA mirrors of batchnorm_forward_train, batchnorm_forward_eval and batchnorm_backward
// (native/kernels/cpu/batchnorm.h) over x [N, C, S]: host buffers in and out. Train: the
// per-channel statistics kernel, then the normalize pass (affine_act.cuh); eval: the
// per-channel scale gamma / sqrt(running_var + eps) in double exactly as the CPU computes it,
// then the same pass; backward: one block per channel for the two double sums and the
// coefficients (as batchnorm.cc), then one elementwise pass. No atomics: deterministic.
#include <cuda_runtime.h>

#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "../../common/errors.h"
#include "affine_act.cuh"
#include "cuda_api.h"
#include "cuda_check.h"
#include "device_ops.h"

namespace deepgen {
namespace cuda {
namespace {

void check_common(const char* fn, int64_t N, int64_t C, int64_t S, float eps) {
  if (N < 0 || C < 0 || S < 0) throw KernelError("E_ARG", std::string(fn) + ": negative size");
  if (!std::isfinite(eps) || eps <= 0.0f) {
    throw KernelError("E_ARG", std::string(fn) + ": eps must be finite and > 0");
  }
}

void need(const char* fn, std::initializer_list<const void*> ptrs) {
  for (const void* p : ptrs) {
    if (p == nullptr) throw KernelError("E_ARG", std::string(fn) + ": a required array is null");
  }
}

void to_device(float* dst, const float* src, int64_t n) {
  check(cudaMemcpy(dst, src, sizeof(float) * n, cudaMemcpyHostToDevice), "cudaMemcpy");
}

void to_host(float* dst, const float* src, int64_t n, const char* fn) {
  check(cudaMemcpy(dst, src, sizeof(float) * n, cudaMemcpyDeviceToHost), fn);
}

// N * C * S, refusing products past 2^53 (as batchnorm.cc's check_dims).
void check_numel(const char* fn, int64_t N, int64_t C, int64_t S) {
  constexpr int64_t kMax = int64_t{1} << 53;
  if (N > 0 && C > 0 && S > 0 && (C > kMax / S || N > kMax / (C * S))) {
    throw KernelError("E_ARG", std::string(fn) + ": N * C * S is too large");
  }
}

}  // namespace

namespace dev {

void batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float* y,
                             float* mean, float* rstd, float* running_mean, float* running_var,
                             int64_t N, int64_t C, int64_t S, float eps, float momentum,
                             float* scratch) {
  if (C == 0) return;
  const int64_t total = N * C * S;
  float* center = scratch;
  float* scale = scratch + C;
  train_stats_kernel<<<static_cast<unsigned>(C), kStatThreads>>>(
      x, N, C, S, gamma, eps, momentum, mean, rstd, running_mean, running_var, center, scale);
  check(cudaGetLastError(), "batch statistics launch");
  const int threads = 256;
  apply_kernel<<<grid_for(total, threads), threads>>>(x, y, total, C, S, center, scale, beta, 0,
                                                      0.0f);
  check(cudaGetLastError(), "normalize launch");
}

void batchnorm_forward_eval(const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float* y,
                            int64_t N, int64_t C, int64_t S, float eps, float* scratch) {
  const int64_t total = N * C * S;
  if (total == 0) return;
  const int threads = 256;
  eval_scale_kernel<<<grid_for(C, threads), threads>>>(gamma, running_var, eps, C, scratch);
  check(cudaGetLastError(), "eval scale launch");
  apply_kernel<<<grid_for(total, threads), threads>>>(x, y, total, C, S, running_mean, scratch,
                                                      beta, 0, 0.0f);
  check(cudaGetLastError(), "normalize launch");
}

void batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t N,
                        int64_t C, int64_t S, float* scratch) {
  if (C == 0) return;
  const int64_t total = N * C * S;
  float *a = scratch, *b = scratch + C, *k = scratch + 2 * C;
  norm_backward_sums_kernel<<<static_cast<unsigned>(C), kStatThreads>>>(
      dy, x, N, C, S, gamma, mean, rstd, dgamma, dbeta, false, a, b, k);
  check(cudaGetLastError(), "batch norm backward launch");
  const int threads = 256;
  norm_backward_apply_kernel<<<grid_for(total, threads), threads>>>(dy, x, dx, total, C, S, mean, a,
                                                                    b, k);
  check(cudaGetLastError(), "batch norm backward launch");
}

}  // namespace dev

void batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float* y,
                             float* mean, float* rstd, float* running_mean, float* running_var,
                             int64_t N, int64_t C, int64_t S, float eps, float momentum) {
  const char* fn = "batchnorm_forward_train";
  check_common(fn, N, C, S, eps);
  check_numel(fn, N, C, S);
  if (!(momentum >= 0.0f && momentum <= 1.0f)) {
    throw KernelError("E_ARG", std::string(fn) + ": momentum must be in [0, 1]");
  }
  if (C == 0) return;
  if (N * S < 2) {
    throw KernelError("E_SHAPE",
                      std::string(fn) + ": needs more than one value per channel (N * S >= 2)");
  }
  need(fn, {x, gamma, beta, y, mean, rstd, running_mean, running_var});
  require_device();
  const int64_t total = N * C * S;
  DeviceBuffer<float> dx(static_cast<size_t>(total)), dy(static_cast<size_t>(total));
  // gamma, beta, running mean, running var, mean, rstd, then the launcher's scratch: [C] each.
  DeviceBuffer<float> stats(static_cast<size_t>(8 * C));
  float* g = stats.get();
  float *b = g + C, *rm = b + C, *rv = rm + C, *mu = rv + C, *rs = mu + C;
  to_device(dx.get(), x, total);
  to_device(g, gamma, C);
  to_device(b, beta, C);
  to_device(rm, running_mean, C);
  to_device(rv, running_var, C);
  dev::batchnorm_forward_train(dx.get(), g, b, dy.get(), mu, rs, rm, rv, N, C, S, eps, momentum,
                               rs + C);
  to_host(y, dy.get(), total, fn);
  to_host(mean, mu, C, fn);
  to_host(rstd, rs, C, fn);
  to_host(running_mean, rm, C, fn);
  to_host(running_var, rv, C, fn);
}

void batchnorm_forward_eval(const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float* y,
                            int64_t N, int64_t C, int64_t S, float eps) {
  const char* fn = "batchnorm_forward_eval";
  check_common(fn, N, C, S, eps);
  check_numel(fn, N, C, S);
  const int64_t total = N * C * S;
  if (total == 0) return;
  need(fn, {x, gamma, beta, running_mean, running_var, y});
  require_device();
  DeviceBuffer<float> dx(static_cast<size_t>(total)), dy(static_cast<size_t>(total));
  // gamma, beta, running mean, running var, then the launcher's scratch: [C] each.
  DeviceBuffer<float> stats(static_cast<size_t>(5 * C));
  float* g = stats.get();
  float *b = g + C, *rm = b + C, *rv = rm + C;
  to_device(dx.get(), x, total);
  to_device(g, gamma, C);
  to_device(b, beta, C);
  to_device(rm, running_mean, C);
  to_device(rv, running_var, C);
  dev::batchnorm_forward_eval(dx.get(), g, b, rm, rv, dy.get(), N, C, S, eps, rv + C);
  to_host(y, dy.get(), total, fn);
}

void batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t N,
                        int64_t C, int64_t S) {
  const char* fn = "batchnorm_backward";
  if (N < 0 || C < 0 || S < 0) throw KernelError("E_ARG", std::string(fn) + ": negative size");
  check_numel(fn, N, C, S);
  if (C == 0) return;
  if (N * S < 2) {
    throw KernelError(
        "E_SHAPE",
        std::string(fn) + ": training needs more than one value per channel (N * S >= 2)");
  }
  need(fn, {x, dy, gamma, mean, rstd, dx, dgamma, dbeta});
  require_device();
  const int64_t total = N * C * S;
  DeviceBuffer<float> d_x(static_cast<size_t>(total)), d_dy(static_cast<size_t>(total));
  // gamma, mean, rstd, dgamma, dbeta, then the launcher's scratch (3 C).
  DeviceBuffer<float> stats(static_cast<size_t>(8 * C));
  float* g = stats.get();
  float *mu = g + C, *rs = mu + C, *dg = rs + C, *db = dg + C;
  to_device(d_x.get(), x, total);
  to_device(d_dy.get(), dy, total);
  to_device(g, gamma, C);
  to_device(mu, mean, C);
  to_device(rs, rstd, C);
  dev::batchnorm_backward(d_x.get(), d_dy.get(), g, mu, rs, d_dy.get(), dg, db, N, C, S, db + C);
  to_host(dx, d_dy.get(), total, fn);
  to_host(dgamma, dg, C, fn);
  to_host(dbeta, db, C, fn);
}

}  // namespace cuda
}  // namespace deepgen
