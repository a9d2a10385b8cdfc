// CUDA mirror of the binary cross-entropy with logits of native/kernels/cpu/loss.h (the GAN
// losses): host buffers in and out.
//
//   forward:  loss(z, x) = (max(z, 0) - x z) + log1p(exp(-|z|)) per element in float, as
//             loss.cc's plain rows (CUDA's expf / log1pf are within 2 float ulp of libm's);
//             one thread per row sums its elements in column order in double (the CPU's
//             order), then one thread adds the row sums in row order: the total is
//             deterministic and equals the CPU's up to those per-element ulps.
//   backward: dz = (sigmoid(z) - x) * float(s_r), sigmoid(z) = 1 / (1 + exp(-z)) in float.
// The multiplies are rounded on their own (__fmul_rn) so nvcc cannot contract them into
// fused multiply-adds that the CPU's plain loop does not have.
#include <cuda_runtime.h>

#include <cmath>
#include <limits>
#include <string>

#include "../../common/errors.h"
#include "../cpu/loss.h"
#include "cuda_api.h"
#include "cuda_check.h"
#include "device_ops.h"

namespace deepgen {
namespace cuda {
namespace {

__device__ __forceinline__ float bce_element(float z, float x) {
  return __fsub_rn(fmaxf(z, 0.0f), __fmul_rn(x, z)) + log1pf(expf(-fabsf(z)));
}

__global__ void bce_rows_kernel(const float* logits, const float* targets, int64_t rows,
                                int64_t cols, double* row_sums, float* row_loss) {
  for (int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; r < rows;
       r += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float* z = logits + r * cols;
    const float* x = targets + r * cols;
    double acc = 0.0;
    for (int64_t d = 0; d < cols; ++d) acc += static_cast<double>(bce_element(z[d], x[d]));
    row_sums[r] = acc;
    if (row_loss != nullptr) row_loss[r] = static_cast<float>(acc);
  }
}

// One thread: total = the row sums added in row order (loss.cc's row_forward).
__global__ void sum_in_order_kernel(const double* v, int64_t n, double* total) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += v[i];
  *total = s;
}

__global__ void bce_backward_kernel(float* dlogits, const float* logits, const float* targets,
                                    int64_t rows, int64_t cols, double scale,
                                    const float* row_scale) {
  const int64_t total = rows * cols;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / cols;
    const float s = static_cast<float>(
        row_scale != nullptr ? scale * static_cast<double>(row_scale[r]) : scale);
    const float sig = 1.0f / (1.0f + expf(-logits[i]));
    dlogits[i] = __fmul_rn(__fsub_rn(sig, targets[i]), s);
  }
}

unsigned blocks_for(int64_t n, int threads) {
  const int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b < 65535 ? b : 65535);
}

void check_sizes(const char* fn, int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0) throw KernelError("E_ARG", std::string(fn) + ": negative size");
  if (cols > 0 && rows > std::numeric_limits<int64_t>::max() / cols) {
    throw KernelError("E_SHAPE", std::string(fn) + ": rows * cols overflows");
  }
}

}  // namespace

namespace dev {

void bce_with_logits_forward(float* row_loss, const float* logits, const float* targets,
                             int64_t rows, int64_t cols, double* row_sums, double* total) {
  const int threads = 256;
  if (rows > 0) {
    bce_rows_kernel<<<blocks_for(rows, threads), threads>>>(logits, targets, rows, cols, row_sums,
                                                            row_loss);
    check(cudaGetLastError(), "bce forward launch");
  }
  sum_in_order_kernel<<<1, 1>>>(row_sums, rows, total);
  check(cudaGetLastError(), "bce total launch");
}

void bce_with_logits_backward(float* dlogits, const float* logits, const float* targets,
                              int64_t rows, int64_t cols, double scale, const float* row_scale) {
  if (rows == 0 || cols == 0) return;
  const int threads = 256;
  bce_backward_kernel<<<blocks_for(rows * cols, threads), threads>>>(dlogits, logits, targets, rows,
                                                                     cols, scale, row_scale);
  check(cudaGetLastError(), "bce backward launch");
}

}  // namespace dev

double bce_with_logits_forward(float* row_loss, const float* logits, const float* targets,
                               int64_t rows, int64_t cols) {
  const char* fn = "bce_with_logits_forward";
  check_sizes(fn, rows, cols);
  if (rows > 0 && cols > 0 && (logits == nullptr || targets == nullptr)) {
    throw KernelError("E_ARG", std::string(fn) + ": null array");
  }
  if (rows == 0) return 0.0;
  if (cols == 0) {  // every row sums nothing
    if (row_loss != nullptr)
      for (int64_t r = 0; r < rows; ++r) row_loss[r] = 0.0f;
    return 0.0;
  }
  require_device();
  const int64_t n = rows * cols;
  DeviceBuffer<float> dz(static_cast<size_t>(n)), dx(static_cast<size_t>(n));
  DeviceBuffer<float> drow(row_loss != nullptr ? static_cast<size_t>(rows) : 0);
  DeviceBuffer<double> sums(static_cast<size_t>(rows) + 1);  // row sums, then the total
  check(cudaMemcpy(dz.get(), logits, sizeof(float) * n, cudaMemcpyHostToDevice), "cudaMemcpy");
  check(cudaMemcpy(dx.get(), targets, sizeof(float) * n, cudaMemcpyHostToDevice), "cudaMemcpy");
  dev::bce_with_logits_forward(row_loss != nullptr ? drow.get() : nullptr, dz.get(), dx.get(), rows,
                               cols, sums.get(), sums.get() + rows);
  double total = 0.0;
  check(cudaMemcpy(&total, sums.get() + rows, sizeof(double), cudaMemcpyDeviceToHost), fn);
  if (row_loss != nullptr) {
    check(cudaMemcpy(row_loss, drow.get(), sizeof(float) * rows, cudaMemcpyDeviceToHost), fn);
  }
  return total;
}

void bce_with_logits_backward(float* dlogits, const float* logits, const float* targets,
                              int64_t rows, int64_t cols, double scale, const float* row_scale) {
  const char* fn = "bce_with_logits_backward";
  check_sizes(fn, rows, cols);
  if (rows == 0 || cols == 0) return;
  if (dlogits == nullptr || logits == nullptr || targets == nullptr) {
    throw KernelError("E_ARG", std::string(fn) + ": null array");
  }
  require_device();
  const int64_t n = rows * cols;
  DeviceBuffer<float> dz(static_cast<size_t>(n)), dx(static_cast<size_t>(n)),
      dd(static_cast<size_t>(n));
  DeviceBuffer<float> drs(row_scale != nullptr ? static_cast<size_t>(rows) : 0);
  check(cudaMemcpy(dz.get(), logits, sizeof(float) * n, cudaMemcpyHostToDevice), "cudaMemcpy");
  check(cudaMemcpy(dx.get(), targets, sizeof(float) * n, cudaMemcpyHostToDevice), "cudaMemcpy");
  if (row_scale != nullptr) {
    check(cudaMemcpy(drs.get(), row_scale, sizeof(float) * rows, cudaMemcpyHostToDevice),
          "cudaMemcpy");
  }
  dev::bce_with_logits_backward(dd.get(), dz.get(), dx.get(), rows, cols, scale,
                                row_scale != nullptr ? drs.get() : nullptr);
  check(cudaMemcpy(dlogits, dd.get(), sizeof(float) * n, cudaMemcpyDeviceToHost), fn);
}

}  // namespace cuda
}  // namespace deepgen
