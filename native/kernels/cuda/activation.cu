// CUDA mirrors of activation_forward / activation_backward and bias_activation_forward /
// bias_activation_backward (native/kernels/cpu/activation.h): host buffers in and out, one
// elementwise launch each (affine_act.cuh), plus one block per channel for the bias gradient
// (a double sum, deterministic; the CPU sums in double in another order, so dbias agrees to
// float rounding). The smooth kinds are computed in double and rounded once, like the CPU's
// plain spans; the CPU's AVX2 spans may differ from them by float rounding.
#include <cuda_runtime.h>

#include <string>

#include "../../common/errors.h"
#include "affine_act.cuh"
#include "cuda_api.h"
#include "cuda_check.h"
#include "device_ops.h"

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
  dev::bias_activation_forward(kind, dx.get(), bias != nullptr ? db.get() : nullptr, dy.get(), N, C,
                               S, slope);
  check(cudaMemcpy(y, dy.get(), sizeof(float) * total, cudaMemcpyDeviceToHost), "activation");
}

// dx = dy * f'(from y) over [N, C, S]; dbias (may be null) [C] = its per-channel sums.
void run_backward(Activation kind, const float* y, const float* dy, float* dx, float* dbias,
                  int64_t N, int64_t C, int64_t S, float slope) {
  const int64_t total = N * C * S;
  require_device();
  DeviceBuffer<float> d_y(static_cast<size_t>(total)), d_dy(static_cast<size_t>(total));
  DeviceBuffer<float> d_db(dbias != nullptr ? static_cast<size_t>(C) : 0);
  check(cudaMemcpy(d_y.get(), y, sizeof(float) * total, cudaMemcpyHostToDevice), "cudaMemcpy");
  check(cudaMemcpy(d_dy.get(), dy, sizeof(float) * total, cudaMemcpyHostToDevice), "cudaMemcpy");
  dev::bias_activation_backward(kind, d_y.get(), d_dy.get(), d_dy.get(),
                                dbias != nullptr ? d_db.get() : nullptr, N, C, S, slope);
  check(cudaMemcpy(dx, d_dy.get(), sizeof(float) * total, cudaMemcpyDeviceToHost),
        "activation backward");
  if (dbias != nullptr) {
    check(cudaMemcpy(dbias, d_db.get(), sizeof(float) * C, cudaMemcpyDeviceToHost),
          "activation backward");
  }
}

// N * C * S, refusing negative sizes and products past 2^53 (as activation.cc).
int64_t checked_numel(const char* fn, int64_t N, int64_t C, int64_t S) {
  if (N < 0 || C < 0 || S < 0) throw KernelError("E_ARG", std::string(fn) + ": negative size");
  constexpr int64_t kMax = int64_t{1} << 53;
  if (N == 0 || C == 0 || S == 0) return 0;
  if (C > kMax / S || N > kMax / (C * S)) {
    throw KernelError("E_ARG", std::string(fn) + ": N * C * S is too large");
  }
  return N * C * S;
}

}  // namespace

namespace dev {

void bias_activation_forward(Activation kind, const float* x, const float* bias, float* y,
                             int64_t N, int64_t C, int64_t S, float slope) {
  const int64_t total = N * C * S;
  if (total == 0) return;
  const int threads = 256;
  apply_kernel<<<grid_for(total, threads), threads>>>(x, y, total, C, S, nullptr, nullptr, bias,
                                                      static_cast<int>(kind), slope);
  check(cudaGetLastError(), "activation launch");
}

void bias_activation_backward(Activation kind, const float* y, const float* dy, float* dx,
                              float* dbias, int64_t N, int64_t C, int64_t S, float slope) {
  const int64_t total = N * C * S;
  if (total > 0) {
    const int threads = 256;
    act_backward_kernel<<<grid_for(total, threads), threads>>>(y, dy, dx, total,
                                                               static_cast<int>(kind), slope);
    check(cudaGetLastError(), "activation backward launch");
  }
  if (dbias != nullptr && C > 0) {
    // With total == 0 each block sums nothing: dbias = 0, the CPU's empty sum.
    bias_grad_kernel<<<static_cast<unsigned>(C), kStatThreads>>>(dx, N, C, S, dbias, false);
    check(cudaGetLastError(), "bias gradient launch");
  }
}

}  // namespace dev

void activation_forward(Activation kind, const float* x, float* y, int64_t n, float slope) {
  check_kind("activation_forward", kind, slope);
  if (n < 0) throw KernelError("E_ARG", "activation_forward: negative size");
  if (n > 0 && (x == nullptr || y == nullptr))
    throw KernelError("E_ARG", "activation_forward: null array");
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

namespace deepgen {
namespace cuda {

void activation_backward(Activation kind, const float* y, const float* dy, float* dx, int64_t n,
                         float slope) {
  check_kind("activation_backward", kind, slope);
  if (n < 0) throw KernelError("E_ARG", "activation_backward: negative length");
  if (n == 0) return;
  if (y == nullptr || dy == nullptr || dx == nullptr) {
    throw KernelError("E_ARG", "activation_backward: null array");
  }
  run_backward(kind, y, dy, dx, nullptr, 1, 1, n, slope);
}

void bias_activation_backward(Activation kind, const float* y, const float* dy, float* dx,
                              float* dbias, int64_t N, int64_t C, int64_t S, float slope) {
  const char* fn = "bias_activation_backward";
  check_kind(fn, kind, slope);
  const int64_t total = checked_numel(fn, N, C, S);
  if (C > 0 && dbias == nullptr) throw KernelError("E_ARG", std::string(fn) + ": null dbias");
  if (total == 0) {
    for (int64_t c = 0; c < C; ++c) dbias[c] = 0.0f;  // an empty sum, as the CPU
    return;
  }
  if (y == nullptr || dy == nullptr || dx == nullptr) {
    throw KernelError("E_ARG", std::string(fn) + ": null array");
  }
  run_backward(kind, y, dy, dx, dbias, N, C, S, slope);
}

}  // namespace cuda
}  // namespace deepgen
