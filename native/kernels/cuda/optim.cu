// CUDA mirrors of the CPU clip_grad_norm and adam_step (native/kernels/cpu/optim.h).
//
// clip_grad_norm: the global L2 norm in float64 (per-block partial sums added on the host in
// a fixed order: deterministic, within float64 rounding of the CPU's blocked order), and the
// same scaling x = float(double(x) * max_norm / norm) when the norm exceeds max_norm.
//
// adam_step: per element, float64
// arithmetic in the order of adam_step_plain, with every multiply and add rounded on its own
// (__dmul_rn / __dadd_rn keep nvcc from contracting them into fused multiply-adds), so the
// device result equals adam_step_plain bit for bit; the CPU's AVX2 loop may differ from both
// by one float ulp (see optim.h).
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "../../common/errors.h"
#include "cuda_api.h"
#include "cuda_check.h"
#include "device_ops.h"

namespace deepgen {
namespace cuda {
namespace {

struct AdamConsts {
  double decay, step_size, inv_bc2, b1, b2, one_b1, one_b2, eps;
};

__global__ void adam_kernel(float* params, const float* grads, float* m, float* v, int64_t n,
                            AdamConsts c) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const double g = grads[i];
  const double mi = __dadd_rn(__dmul_rn(c.b1, static_cast<double>(m[i])), __dmul_rn(c.one_b1, g));
  const double vi =
      __dadd_rn(__dmul_rn(c.b2, static_cast<double>(v[i])), __dmul_rn(c.one_b2, __dmul_rn(g, g)));
  m[i] = static_cast<float>(mi);
  v[i] = static_cast<float>(vi);
  const double p = __dmul_rn(static_cast<double>(params[i]), c.decay);
  const double denom = __dadd_rn(sqrt(__dmul_rn(vi, c.inv_bc2)), c.eps);
  params[i] = static_cast<float>(__dsub_rn(p, __dmul_rn(c.step_size, mi) / denom));
}

constexpr int kNormThreads = 256;
constexpr int kNormBlocks = 256;

// partial[b] = sum of x[i]^2 (in double) over the elements block b visits (grid stride);
// the host adds the kNormBlocks partials in order, so the result is deterministic.
__global__ void sum_squares_kernel(const float* x, int64_t n, double* partial) {
  __shared__ double shared[kNormThreads];
  double s = 0.0;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * kNormThreads + threadIdx.x; i < n;
       i += static_cast<int64_t>(kNormBlocks) * kNormThreads) {
    const double v = x[i];
    s += v * v;
  }
  shared[threadIdx.x] = s;
  __syncthreads();
  for (int half = kNormThreads / 2; half > 0; half >>= 1) {
    if (threadIdx.x < half) shared[threadIdx.x] += shared[threadIdx.x + half];
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = shared[0];
}

// x[i] = float(double(x[i]) * scale), as the CPU clip.
__global__ void scale_kernel(float* x, int64_t n, double scale) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    x[i] = static_cast<float>(static_cast<double>(x[i]) * scale);
  }
}

// One thread: *out = the n partial sums added in order (deterministic).
__global__ void sum_partials_kernel(const double* partial, int64_t n, double* out) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += partial[i];
  *out = s;
}

}  // namespace

namespace dev {

static_assert(kGradNormPartials == kNormBlocks, "device_ops.h documents the partials per array");

void sum_squares(const float* const* arrays, const int64_t* sizes, int64_t count, double* partial,
                 double* out) {
  for (int64_t a = 0; a < count; ++a) {
    double* p = partial + a * kNormBlocks;
    if (sizes[a] == 0) {
      check(cudaMemsetAsync(p, 0, sizeof(double) * kNormBlocks), "cudaMemset");
      continue;
    }
    sum_squares_kernel<<<kNormBlocks, kNormThreads>>>(arrays[a], sizes[a], p);
    check(cudaGetLastError(), "gradient norm launch");
  }
  sum_partials_kernel<<<1, 1>>>(partial, count * kNormBlocks, out);
  check(cudaGetLastError(), "gradient norm launch");
}

void adam_step(float* params, const float* grads, float* m, float* v, int64_t n,
               const AdamConfig& cfg) {
  if (n == 0) return;
  const AdamConsts c{1.0 - cfg.lr * cfg.weight_decay,
                     cfg.lr / cfg.bias_correction1,
                     1.0 / cfg.bias_correction2,
                     cfg.beta1,
                     cfg.beta2,
                     1.0 - cfg.beta1,
                     1.0 - cfg.beta2,
                     cfg.eps};
  const int threads = 256;
  adam_kernel<<<static_cast<unsigned>((n + threads - 1) / threads), threads>>>(params, grads, m, v,
                                                                               n, c);
  check(cudaGetLastError(), "adam launch");
}

}  // namespace dev

double clip_grad_norm(float* const* arrays, const int64_t* sizes, int64_t count, double max_norm) {
  if (!(max_norm > 0)) throw KernelError("E_ARG", "clip_grad_norm: max_norm must be > 0");
  if (count < 0) throw KernelError("E_ARG", "clip_grad_norm: negative count");
  for (int64_t a = 0; a < count; ++a) {
    if (sizes[a] < 0) throw KernelError("E_ARG", "clip_grad_norm: negative size");
    if (sizes[a] > 0 && arrays[a] == nullptr)
      throw KernelError("E_ARG", "clip_grad_norm: null array");
  }
  int64_t largest = 0;
  for (int64_t a = 0; a < count; ++a) largest = std::max(largest, sizes[a]);
  if (largest == 0) return 0.0;
  require_device();
  // Every array goes up once and stays there for the scaling pass.
  std::vector<std::unique_ptr<DeviceBuffer<float>>> dev;
  DeviceBuffer<double> partial(kNormBlocks);
  std::vector<double> host_partial(kNormBlocks);
  double sum = 0.0;
  for (int64_t a = 0; a < count; ++a) {
    dev.push_back(std::make_unique<DeviceBuffer<float>>(static_cast<size_t>(sizes[a])));
    if (sizes[a] == 0) continue;
    check(
        cudaMemcpy(dev.back()->get(), arrays[a], sizeof(float) * sizes[a], cudaMemcpyHostToDevice),
        "cudaMemcpy");
    sum_squares_kernel<<<kNormBlocks, kNormThreads>>>(dev.back()->get(), sizes[a], partial.get());
    check(cudaGetLastError(), "gradient norm launch");
    check(cudaMemcpy(host_partial.data(), partial.get(), sizeof(double) * kNormBlocks,
                     cudaMemcpyDeviceToHost),
          "clip_grad_norm");
    for (double v : host_partial) sum += v;
  }
  const double norm = std::sqrt(sum);
  if (!std::isfinite(norm) || !(norm > max_norm)) return norm;
  const double scale = max_norm / norm;
  for (int64_t a = 0; a < count; ++a) {
    if (sizes[a] == 0) continue;
    const int threads = 256;
    const int64_t blocks = std::min<int64_t>((sizes[a] + threads - 1) / threads, 65535);
    scale_kernel<<<static_cast<unsigned>(blocks), threads>>>(dev[a]->get(), sizes[a], scale);
    check(cudaGetLastError(), "gradient scaling launch");
    check(cudaMemcpy(arrays[a], dev[a]->get(), sizeof(float) * sizes[a], cudaMemcpyDeviceToHost),
          "clip_grad_norm");
  }
  return norm;
}

void adam_step(float* params, const float* grads, float* m, float* v, int64_t n,
               const AdamConfig& cfg) {
  adam_check(cfg);
  if (n < 0) throw KernelError("E_ARG", "adam_step: negative size");
  if (n == 0) return;
  if (params == nullptr || grads == nullptr || m == nullptr || v == nullptr) {
    throw KernelError("E_ARG", "adam_step: null array");
  }
  require_device();
  const size_t bytes = sizeof(float) * static_cast<size_t>(n);
  DeviceBuffer<float> dp(n), dg(n), dm(n), dv(n);
  check(cudaMemcpy(dp.get(), params, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  check(cudaMemcpy(dg.get(), grads, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  check(cudaMemcpy(dm.get(), m, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  check(cudaMemcpy(dv.get(), v, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  dev::adam_step(dp.get(), dg.get(), dm.get(), dv.get(), n, cfg);
  check(cudaMemcpy(params, dp.get(), bytes, cudaMemcpyDeviceToHost), "adam_step");
  check(cudaMemcpy(m, dm.get(), bytes, cudaMemcpyDeviceToHost), "adam_step");
  check(cudaMemcpy(v, dv.get(), bytes, cudaMemcpyDeviceToHost), "adam_step");
}

}  // namespace cuda
}  // namespace deepgen
