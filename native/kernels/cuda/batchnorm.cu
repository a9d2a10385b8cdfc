// CUDA mirrors of batchnorm_forward_train and batchnorm_forward_eval
// (native/kernels/cpu/batchnorm.h) over x [N, C, S]: host buffers in and out. Train: the
// per-channel statistics kernel, then the normalize pass (affine_act.cuh); eval: the
// per-channel scale gamma / sqrt(running_var + eps) computed on the host exactly as the CPU
// does, then the same pass.
#include <cuda_runtime.h>

#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "../../common/errors.h"
#include "affine_act.cuh"
#include "cuda_api.h"
#include "cuda_check.h"

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

}  // namespace

void batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float* y,
                             float* mean, float* rstd, float* running_mean, float* running_var,
                             int64_t N, int64_t C, int64_t S, float eps, float momentum) {
  const char* fn = "batchnorm_forward_train";
  check_common(fn, N, C, S, eps);
  if (!(momentum >= 0.0f && momentum <= 1.0f)) {
    throw KernelError("E_ARG", std::string(fn) + ": momentum must be in [0, 1]");
  }
  if (C == 0) return;
  if (N * S < 2) {
    throw KernelError("E_SHAPE", std::string(fn) + ": needs more than one value per channel (N * S >= 2)");
  }
  need(fn, {x, gamma, beta, y, mean, rstd, running_mean, running_var});
  require_device();
  const int64_t total = N * C * S;
  DeviceBuffer<float> dx(static_cast<size_t>(total)), dy(static_cast<size_t>(total));
  // gamma, beta, running mean, running var, mean, rstd, center, scale: [C] each.
  DeviceBuffer<float> stats(static_cast<size_t>(8 * C));
  float* g = stats.get();
  float *b = g + C, *rm = b + C, *rv = rm + C, *mu = rv + C, *rs = mu + C, *center = rs + C,
        *scale = center + C;
  to_device(dx.get(), x, total);
  to_device(g, gamma, C);
  to_device(b, beta, C);
  to_device(rm, running_mean, C);
  to_device(rv, running_var, C);
  train_stats_kernel<<<static_cast<unsigned>(C), kStatThreads>>>(dx.get(), N, C, S, g, eps,
                                                                  momentum, mu, rs, rm, rv,
                                                                  center, scale);
  check(cudaGetLastError(), "batch statistics launch");
  const int threads = 256;
  apply_kernel<<<grid_for(total, threads), threads>>>(dx.get(), dy.get(), total, C, S, center,
                                                       scale, b, 0, 0.0f);
  check(cudaGetLastError(), "normalize launch");
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
  const int64_t total = N * C * S;
  if (total == 0) return;
  need(fn, {x, gamma, beta, running_mean, running_var, y});
  require_device();
  std::vector<float> hs(static_cast<size_t>(C));
  for (int64_t c = 0; c < C; ++c) {
    hs[c] = static_cast<float>(gamma[c] / std::sqrt(static_cast<double>(running_var[c]) + eps));
  }
  DeviceBuffer<float> dx(static_cast<size_t>(total)), dy(static_cast<size_t>(total));
  DeviceBuffer<float> stats(static_cast<size_t>(3 * C));  // center, scale, shift
  to_device(dx.get(), x, total);
  to_device(stats.get(), running_mean, C);
  to_device(stats.get() + C, hs.data(), C);
  to_device(stats.get() + 2 * C, beta, C);
  const int threads = 256;
  apply_kernel<<<grid_for(total, threads), threads>>>(dx.get(), dy.get(), total, C, S,
                                                       stats.get(), stats.get() + C,
                                                       stats.get() + 2 * C, 0, 0.0f);
  check(cudaGetLastError(), "normalize launch");
  to_host(y, dy.get(), total, fn);
}

}  // namespace cuda
}  // namespace deepgen
