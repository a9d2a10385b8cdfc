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
//     double, rounded once (as activation.cc's plain spans);
//   act_backward_kernel, bias_grad_kernel, eval_scale_kernel: the activation's backward, the
//     per-channel bias gradient, eval batch norm's scale.
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
    case 1:
      return v < 0.0f ? 0.0f : v;  // relu
    case 2:
      return v < 0.0f ? slope * v : v;  // leaky relu
    case 3:
      return static_cast<float>(tanh(static_cast<double>(v)));
    case 4:
      return static_cast<float>(1.0 / (1.0 + exp(-static_cast<double>(v))));
    case 5: {  // softplus, stable
      const double d = v;
      return static_cast<float>((d > 0 ? d : 0.0) + log1p(exp(-fabs(d))));
    }
    default:
      return v;  // identity
  }
}

// y = act((pre - center[c]) * scale[c] + shift[c]); without center act(pre + shift[c]);
// with neither act(pre).
__global__ void apply_kernel(const float* pre, float* y, int64_t total, int64_t C, int64_t S,
                             const float* center, const float* scale, const float* shift, int kind,
                             float slope) {
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

// dx = dy * f'(pre), from the forward output y (activation.h: every kind's derivative is a
// function of y); dx may be dy. The smooth kinds in double, rounded once (as activation.cc's
// plain spans).
__global__ void act_backward_kernel(const float* y, const float* dy, float* dx, int64_t total,
                                    int kind, float slope) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = y[i], d = dy[i];
    float out;
    switch (kind) {
      case 1:
        out = v > 0.0f ? d : 0.0f;
        break;  // relu
      case 2:
        out = v > 0.0f ? d : slope * d;
        break;  // leaky relu
      case 3:
        out = static_cast<float>(d * (1.0 - static_cast<double>(v) * v));
        break;   // tanh
      case 4: {  // sigmoid
        const double s = v;
        out = static_cast<float>(d * (s * (1.0 - s)));
        break;
      }
      case 5:
        out = static_cast<float>(d * -expm1(-static_cast<double>(v)));
        break;  // softplus
      default:
        out = d;  // identity
    }
    dx[i] = out;
  }
}

// One block per channel c (blockDim.x == kStatThreads): dbias[c] = sum over (n, s) of
// dpre[n, c, s], in double, written or (accumulate) added to.
__global__ void bias_grad_kernel(const float* dpre, int64_t N, int64_t C, int64_t S, float* dbias,
                                 bool accumulate) {
  __shared__ double shared[kStatThreads];
  const int64_t c = blockIdx.x;
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < N * S; i += kStatThreads)
    s += dpre[((i / S) * C + c) * S + i % S];
  const double total = block_sum(s, shared);
  if (threadIdx.x == 0) {
    const float v = static_cast<float>(total);
    dbias[c] = accumulate ? dbias[c] + v : v;
  }
}

// Eval-mode batch norm's per-channel scale, gamma / sqrt(running_var + eps) in double and
// rounded once, exactly as the CPU computes it on the host (IEEE double sqrt and division).
__global__ void eval_scale_kernel(const float* gamma, const float* running_var, float eps,
                                  int64_t C, float* scale) {
  for (int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; c < C;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    scale[c] = static_cast<float>(gamma[c] / sqrt(static_cast<double>(running_var[c]) + eps));
  }
}

// One block per channel c (blockDim.x == kStatThreads), the batch-norm backward's sums over
// (n, s) in double: sum dy and sum dy (x - mean), then dbeta, dgamma (written or accumulated)
// and the coefficients of dx = a dy + b (x - mean) + k, in double exactly as batchnorm.cc.
__global__ void norm_backward_sums_kernel(const float* dy, const float* pre, int64_t N, int64_t C,
                                          int64_t S, const float* gamma, const float* mean,
                                          const float* rstd, float* dgamma, float* dbeta,
                                          bool accumulate, float* a, float* b, float* k) {
  __shared__ double shared[kStatThreads];
  const int64_t c = blockIdx.x;
  const int64_t count = N * S;
  const double center = mean[c];
  double s_dy = 0.0, s_dyc = 0.0;
  for (int64_t i = threadIdx.x; i < count; i += kStatThreads) {
    const int64_t at = ((i / S) * C + c) * S + i % S;
    const double d = dy[at];
    s_dy += d;
    s_dyc += d * (pre[at] - center);
  }
  const double sum_dy = block_sum(s_dy, shared);
  const double sum_dyc = block_sum(s_dyc, shared);
  if (threadIdx.x == 0) {
    const double inv_m = 1.0 / static_cast<double>(count);
    const double r = rstd[c];
    const double g = gamma[c];
    const float db = static_cast<float>(sum_dy);
    const float dg = static_cast<float>(sum_dyc * r);
    dbeta[c] = accumulate ? dbeta[c] + db : db;
    dgamma[c] = accumulate ? dgamma[c] + dg : dg;
    a[c] = static_cast<float>(g * r);
    b[c] = static_cast<float>(-g * r * r * r * sum_dyc * inv_m);
    k[c] = static_cast<float>(-g * r * sum_dy * inv_m);
  }
}

// dx = a[c] dy + b[c] (x - mean[c]) + k[c] (float, as batchnorm.cc's rows); dx may be dy.
__global__ void norm_backward_apply_kernel(const float* dy, const float* pre, float* dx,
                                           int64_t total, int64_t C, int64_t S, const float* mean,
                                           const float* a, const float* b, const float* k) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t c = (i / S) % C;
    dx[i] = a[c] * dy[i] + b[c] * (pre[i] - mean[c]) + k[c];
  }
}

unsigned grid_for(int64_t total, int threads) {
  const int64_t blocks = (total + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 * 16 ? blocks : 65535 * 16);
}

}  // namespace
}  // namespace cuda
}  // namespace deepgen
