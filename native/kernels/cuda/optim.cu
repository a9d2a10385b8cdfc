// CUDA mirror of the CPU adam_step (native/kernels/cpu/optim.h): per element, float64
// arithmetic in the order of adam_step_plain, with every multiply and add rounded on its own
// (__dmul_rn / __dadd_rn keep nvcc from contracting them into fused multiply-adds), so the
// device result equals adam_step_plain bit for bit; the CPU's AVX2 loop may differ from both
// by one float ulp (see optim.h).
#include <cuda_runtime.h>

#include "../../common/errors.h"
#include "cuda_api.h"
#include "cuda_check.h"

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
  const double vi = __dadd_rn(__dmul_rn(c.b2, static_cast<double>(v[i])),
                              __dmul_rn(c.one_b2, __dmul_rn(g, g)));
  m[i] = static_cast<float>(mi);
  v[i] = static_cast<float>(vi);
  const double p = __dmul_rn(static_cast<double>(params[i]), c.decay);
  const double denom = __dadd_rn(sqrt(__dmul_rn(vi, c.inv_bc2)), c.eps);
  params[i] = static_cast<float>(__dsub_rn(p, __dmul_rn(c.step_size, mi) / denom));
}

}  // namespace

void adam_step(float* params, const float* grads, float* m, float* v, int64_t n,
               const AdamConfig& cfg) {
  adam_check(cfg);
  if (n < 0) throw KernelError("E_ARG", "adam_step: negative size");
  if (n == 0) return;
  if (params == nullptr || grads == nullptr || m == nullptr || v == nullptr) {
    throw KernelError("E_ARG", "adam_step: null array");
  }
  require_device();
  const AdamConsts c{1.0 - cfg.lr * cfg.weight_decay, cfg.lr / cfg.bias_correction1,
                     1.0 / cfg.bias_correction2, cfg.beta1, cfg.beta2, 1.0 - cfg.beta1,
                     1.0 - cfg.beta2, cfg.eps};
  const size_t bytes = sizeof(float) * static_cast<size_t>(n);
  DeviceBuffer<float> dp(n), dg(n), dm(n), dv(n);
  check(cudaMemcpy(dp.get(), params, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  check(cudaMemcpy(dg.get(), grads, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  check(cudaMemcpy(dm.get(), m, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  check(cudaMemcpy(dv.get(), v, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
  const int threads = 256;
  adam_kernel<<<static_cast<unsigned>((n + threads - 1) / threads), threads>>>(
      dp.get(), dg.get(), dm.get(), dv.get(), n, c);
  check(cudaGetLastError(), "adam launch");
  check(cudaMemcpy(params, dp.get(), bytes, cudaMemcpyDeviceToHost), "adam_step");
  check(cudaMemcpy(m, dm.get(), bytes, cudaMemcpyDeviceToHost), "adam_step");
  check(cudaMemcpy(v, dv.get(), bytes, cudaMemcpyDeviceToHost), "adam_step");
}

}  // namespace cuda
}  // namespace deepgen
