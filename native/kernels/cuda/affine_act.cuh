// Device kernels shared by conv_block.cu, batchnorm.cu and activation.cu: batch statistics
// per channel and the elementwise y = act(affine(x)) pass over [N, C, S] tensors. Each
// including translation unit gets its own copy (anonymous namespace).
//
//   train_stats_kernel: one block per channel, sums in double (mean, then the centered
//     second moment: two passes, as batchnorm.cc), then mean, rstd, the running statistics
//     (unbiased variance, as PyTorch) and the channel's center / scale, in double exactly as
//     the CPU computes them;
//   apply_kernel: one thread per element, y = act((x - center[c]) * scale[c] + shift[c]), or
//     act(x + shift[c]) without center, or act(x) with neither; the smooth activations in
//     double, rounded once (as activation.cc's plain spans).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace deepgen {
namespace cuda {
namespace {

constexpr int kStatThreads = 256;

// Block-wide sum of one double per thread (blockDim.x == kStatThreads).
__device__ double block_sum(double v, double* shared) {
  shared[threadIdx.x] = v;
  __syncthreads();
  for (int half = kStatThreads / 2; half > 0; half >>= 1) {
    if (threadIdx.x < half) shared[threadIdx.x] += shared[threadIdx.x + half];
    __syncthreads();
  }
  const double total = shared[0];
  __syncthreads();
  return total;
}

// One block per channel c: batch statistics of pre over (n, Ho*Wo), then the values the
// CPU writes (mean, rstd, running stats) and the channel's center / scale.
__global__ void train_stats_kernel(const float* pre, int64_t N, int64_t C, int64_t S,
                                   const float* gamma, float eps, float momentum, float* mean,
                                   float* rstd, float* running_mean, float* running_var,
                                   float* center, float* scale) {
  __shared__ double shared[kStatThreads];
  const int64_t c = blockIdx.x;
  const int64_t count = N * S;
  double sum = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += kStatThreads) {
    sum += pre[((i / S) * C + c) * S + i % S];
  }
  const double inv_m = 1.0 / static_cast<double>(count);
  const double mean_d = block_sum(sum, shared) * inv_m;
  double sq = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += kStatThreads) {
    const double dv = pre[((i / S) * C + c) * S + i % S] - mean_d;
    sq += dv * dv;
  }
  const double var_d = block_sum(sq, shared) * inv_m;
  if (threadIdx.x == 0) {
    const double unbias = static_cast<double>(count) / static_cast<double>(count - 1);
    const double m = momentum;
    mean[c] = static_cast<float>(mean_d);
    rstd[c] = static_cast<float>(1.0 / sqrt(var_d + eps));
    center[c] = mean[c];
    scale[c] = gamma[c] * rstd[c];
    running_mean[c] = static_cast<float>((1.0 - m) * running_mean[c] + m * mean_d);
    running_var[c] = static_cast<float>((1.0 - m) * running_var[c] + m * var_d * unbias);
  }
}

__device__ __forceinline__ float activate(int kind, float v, float slope) {
  switch (kind) {
    case 1: return v < 0.0f ? 0.0f : v;                           // relu
    case 2: return v < 0.0f ? slope * v : v;                      // leaky relu
    case 3: return static_cast<float>(tanh(static_cast<double>(v)));
    case 4: return static_cast<float>(1.0 / (1.0 + exp(-static_cast<double>(v))));
    case 5: {                                                      // softplus, stable
      const double d = v;
      return static_cast<float>((d > 0 ? d : 0.0) + log1p(exp(-fabs(d))));
    }
    default: return v;                                             // identity
  }
}

// y = act((pre - center[c]) * scale[c] + shift[c]); without center act(pre + shift[c]);
// with neither act(pre).
__global__ void apply_kernel(const float* pre, float* y, int64_t total, int64_t C, int64_t S,
                             const float* center, const float* scale, const float* shift,
                             int kind, float slope) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float v = pre[i];
    if (center != nullptr) {
      const int64_t c = (i / S) % C;
      v = (v - center[c]) * scale[c] + shift[c];
    } else if (shift != nullptr) {
      v = v + shift[(i / S) % C];
    }
    y[i] = activate(kind, v, slope);
  }
}

unsigned grid_for(int64_t total, int threads) {
  const int64_t blocks = (total + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 * 16 ? blocks : 65535 * 16);
}

}  // namespace
}  // namespace cuda
}  // namespace deepgen
