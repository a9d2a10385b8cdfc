// CUDA mirrors of activation_forward and bias_activation_forward
// (native/kernels/cpu/activation.h): host buffers in and out, one elementwise launch
// (affine_act.cuh). The smooth kinds are computed in double and rounded once, like the CPU's
// plain spans; the CPU's AVX2 spans may differ from them by float rounding.
#include <cuda_runtime.h>

#include <string>

#include "../../common/errors.h"
#include "affine_act.cuh"
#include "cuda_api.h"
#include "cuda_check.h"

namespace deepgen {
namespace cuda {
namespace {

void check_kind(const char* fn, Activation kind, float slope) {
  const int k = static_cast<int>(kind);
  if (k < 0 || k >= kActivationCount) {
    throw KernelError("E_ARG", std::string(fn) + ": unknown activation kind " + std::to_string(k));
  }
  if (!(slope >= 0.0f) || slope == INFINITY) {
    throw KernelError("E_ARG", std::string(fn) + ": slope must be finite and >= 0");
  }
}

// y = act(x + bias[c]) over [N, C, S] (bias null: act(x)).
void run(Activation kind, const float* x, const float* bias, float* y, int64_t N, int64_t C,
         int64_t S, float slope) {
  const int64_t total = N * C * S;
  if (total == 0) return;
  require_device();
  DeviceBuffer<float> dx(static_cast<size_t>(total)), dy(static_cast<size_t>(total));
  DeviceBuffer<float> db(bias != nullptr ? static_cast<size_t>(C) : 0);
  check(cudaMemcpy(dx.get(), x, sizeof(float) * total, cudaMemcpyHostToDevice), "cudaMemcpy");
  if (bias != nullptr) {
    check(cudaMemcpy(db.get(), bias, sizeof(float) * C, cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  const int threads = 256;
  apply_kernel<<<grid_for(total, threads), threads>>>(dx.get(), dy.get(), total, C, S, nullptr,
                                                       nullptr, bias != nullptr ? db.get() : nullptr,
                                                       static_cast<int>(kind), slope);
  check(cudaGetLastError(), "activation launch");
  check(cudaMemcpy(y, dy.get(), sizeof(float) * total, cudaMemcpyDeviceToHost), "activation");
}

}  // namespace

void activation_forward(Activation kind, const float* x, float* y, int64_t n, float slope) {
  check_kind("activation_forward", kind, slope);
  if (n < 0) throw KernelError("E_ARG", "activation_forward: negative size");
  if (n > 0 && (x == nullptr || y == nullptr)) throw KernelError("E_ARG", "activation_forward: null array");
  run(kind, x, nullptr, y, 1, 1, n, slope);
}

void bias_activation_forward(Activation kind, const float* x, const float* bias, float* y,
                             int64_t N, int64_t C, int64_t S, float slope) {
  check_kind("bias_activation_forward", kind, slope);
  if (N < 0 || C < 0 || S < 0) throw KernelError("E_ARG", "bias_activation_forward: negative size");
  if (N * C * S > 0 && (x == nullptr || bias == nullptr || y == nullptr)) {
    throw KernelError("E_ARG", "bias_activation_forward: null array");
  }
  run(kind, x, bias, y, N, C, S, slope);
}

}  // namespace cuda
}  // namespace deepgen
