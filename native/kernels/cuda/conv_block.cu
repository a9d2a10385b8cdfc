// CUDA mirror of the CPU conv_block_forward (native/kernels/cpu/conv_block.h): the GAN conv
// block pre = conv(x) + bias (conv2d or convTranspose2d), then batch norm (none, batch
// statistics with the running-stat update, or eval) and the activation. Forward only (the
// DCGAN generator's inference path); the backward stays on the CPU for now.
//
// Kernels, simple on purpose (correctness first):
//   conv:  one thread per output element, a direct sum over (ci, ky, kx) with fused
//          multiply-adds (the transposed conv gathers the inputs that reach the output);
//   stats: one block per channel, sums in double (mean, then the centered second moment,
//          two passes as batchnorm.cc), then the per-channel center / scale and the running
//          statistics computed in double exactly as the CPU does;
//   apply: one thread per element, y = act((pre - center) * scale + shift); the smooth
//          activations in double, rounded once (as activation.cc's plain spans).
#include <cuda_runtime.h>

#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "../../common/errors.h"
#include "cuda_api.h"
#include "cuda_check.h"

namespace deepgen {
namespace cuda {
namespace {

struct ConvShape {
  bool transposed;
  int64_t n, ci, h, w, co, kh, kw, sh, sw, ph, pw, oh, ow;
};

__global__ void conv_kernel(ConvShape s, const float* x, const float* weight, const float* bias,
                            float* pre) {
  const int64_t total = s.n * s.co * s.oh * s.ow;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t ox = idx % s.ow;
    const int64_t oy = (idx / s.ow) % s.oh;
    const int64_t co = (idx / (s.ow * s.oh)) % s.co;
    const int64_t n = idx / (s.ow * s.oh * s.co);
    float acc = 0.0f;
    for (int64_t ci = 0; ci < s.ci; ++ci) {
      const float* xp = x + (n * s.ci + ci) * s.h * s.w;
      // conv2d weight [Cout, Cin, kH, kW]; transposed [Cin, Cout, kH, kW].
      const float* wp = s.transposed ? weight + (ci * s.co + co) * s.kh * s.kw
                                     : weight + (co * s.ci + ci) * s.kh * s.kw;
      for (int64_t ky = 0; ky < s.kh; ++ky) {
        int64_t iy;
        if (s.transposed) {
          const int64_t t = oy + s.ph - ky;  // iy * stride = oy + pad - ky
          if (t < 0 || t % s.sh != 0) continue;
          iy = t / s.sh;
        } else {
          iy = oy * s.sh - s.ph + ky;
        }
        if (iy < 0 || iy >= s.h) continue;
        for (int64_t kx = 0; kx < s.kw; ++kx) {
          int64_t ix;
          if (s.transposed) {
            const int64_t t = ox + s.pw - kx;
            if (t < 0 || t % s.sw != 0) continue;
            ix = t / s.sw;
          } else {
            ix = ox * s.sw - s.pw + kx;
          }
          if (ix < 0 || ix >= s.w) continue;
          acc = __fmaf_rn(xp[iy * s.w + ix], wp[ky * s.kw + kx], acc);
        }
      }
    }
    pre[idx] = bias != nullptr ? acc + bias[co] : acc;
  }
}

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

// y = act((pre - center[c]) * scale[c] + shift[c]); center == nullptr: y = act(pre).
__global__ void apply_kernel(const float* pre, float* y, int64_t total, int64_t C, int64_t S,
                             const float* center, const float* scale, const float* shift,
                             int kind, float slope) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float v = pre[i];
    if (center != nullptr) {
      const int64_t c = (i / S) % C;
      v = (v - center[c]) * scale[c] + shift[c];
    }
    y[i] = activate(kind, v, slope);
  }
}

unsigned grid_for(int64_t total, int threads) {
  const int64_t blocks = (total + threads - 1) / threads;
  return static_cast<unsigned>(blocks < 65535 * 16 ? blocks : 65535 * 16);
}

void upload(DeviceBuffer<float>& dst, const float* src, int64_t n) {
  if (n > 0) check(cudaMemcpy(dst.get(), src, sizeof(float) * n, cudaMemcpyHostToDevice), "cudaMemcpy");
}

void download(float* dst, const DeviceBuffer<float>& src, int64_t n) {
  if (n > 0) check(cudaMemcpy(dst, src.get(), sizeof(float) * n, cudaMemcpyDeviceToHost), "conv_block_forward");
}

}  // namespace

void conv_block_forward(const ConvBlockParams& p, const float* x, const float* weight,
                        const float* bias, const float* gamma, const float* beta,
                        float* running_mean, float* running_var, float* pre, float* mean,
                        float* rstd, float* y) {
  int64_t oh = 0, ow = 0;
  conv_block_check(p, &oh, &ow);
  const int64_t N = p.batch, C = p.out_c, S = oh * ow, total = N * C * S;
  const int64_t nx = conv_block_x_size(p), nw = conv_block_weight_size(p);
  auto need = [](std::initializer_list<const void*> ptrs) {
    for (const void* q : ptrs) {
      if (q == nullptr) throw KernelError("E_ARG", "conv_block_forward (cuda): a required array is null");
    }
  };
  need({x, weight, pre, y});
  if (p.norm != ConvBlockNorm::kNone) need({gamma, beta, running_mean, running_var});
  if (p.norm == ConvBlockNorm::kTrain) need({mean, rstd});
  if (total == 0) return;
  require_device();
  DeviceBuffer<float> dx(nx), dw(nw), dbias(bias != nullptr ? C : 0), dpre(total), dy(total);
  upload(dx, x, nx);
  upload(dw, weight, nw);
  if (bias != nullptr) upload(dbias, bias, C);
  const ConvShape s{p.transposed, N, p.in_c, p.in_h, p.in_w, C, p.k_h, p.k_w, p.stride_h,
                    p.stride_w, p.pad_h, p.pad_w, oh, ow};
  const int threads = 256;
  conv_kernel<<<grid_for(total, threads), threads>>>(s, dx.get(), dw.get(),
                                                      bias != nullptr ? dbias.get() : nullptr,
                                                      dpre.get());
  check(cudaGetLastError(), "conv launch");
  const int kind = static_cast<int>(p.activation);
  if (p.norm == ConvBlockNorm::kNone) {
    apply_kernel<<<grid_for(total, threads), threads>>>(dpre.get(), dy.get(), total, C, S, nullptr,
                                                         nullptr, nullptr, kind, p.slope);
    check(cudaGetLastError(), "activation launch");
  } else {
    // gamma, beta, running mean, running var, mean, rstd, center, scale: [C] each.
    DeviceBuffer<float> stats(8 * C);
    float* g = stats.get();
    float* b = g + C;
    float* rm = b + C;
    float* rv = rm + C;
    float* mu = rv + C;
    float* rs = mu + C;
    float* center = rs + C;
    float* scale = center + C;
    check(cudaMemcpy(g, gamma, sizeof(float) * C, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaMemcpy(b, beta, sizeof(float) * C, cudaMemcpyHostToDevice), "cudaMemcpy");
    if (p.norm == ConvBlockNorm::kTrain) {
      check(cudaMemcpy(rm, running_mean, sizeof(float) * C, cudaMemcpyHostToDevice), "cudaMemcpy");
      check(cudaMemcpy(rv, running_var, sizeof(float) * C, cudaMemcpyHostToDevice), "cudaMemcpy");
      train_stats_kernel<<<static_cast<unsigned>(C), kStatThreads>>>(
          dpre.get(), N, C, S, g, p.eps, p.momentum, mu, rs, rm, rv, center, scale);
      check(cudaGetLastError(), "batch statistics launch");
    } else {
      // Eval: center = running mean, scale = gamma / sqrt(running var + eps) in double,
      // computed on the host exactly as the CPU block does.
      std::vector<float> hc(static_cast<size_t>(C)), hs(static_cast<size_t>(C));
      for (int64_t c = 0; c < C; ++c) {
        hc[c] = running_mean[c];
        hs[c] = static_cast<float>(gamma[c] / std::sqrt(static_cast<double>(running_var[c]) + p.eps));
      }
      check(cudaMemcpy(center, hc.data(), sizeof(float) * C, cudaMemcpyHostToDevice), "cudaMemcpy");
      check(cudaMemcpy(scale, hs.data(), sizeof(float) * C, cudaMemcpyHostToDevice), "cudaMemcpy");
    }
    apply_kernel<<<grid_for(total, threads), threads>>>(dpre.get(), dy.get(), total, C, S, center,
                                                         scale, b, kind, p.slope);
    check(cudaGetLastError(), "normalize launch");
    if (p.norm == ConvBlockNorm::kTrain) {
      check(cudaMemcpy(mean, mu, sizeof(float) * C, cudaMemcpyDeviceToHost), "conv_block_forward");
      check(cudaMemcpy(rstd, rs, sizeof(float) * C, cudaMemcpyDeviceToHost), "conv_block_forward");
      check(cudaMemcpy(running_mean, rm, sizeof(float) * C, cudaMemcpyDeviceToHost), "conv_block_forward");
      check(cudaMemcpy(running_var, rv, sizeof(float) * C, cudaMemcpyDeviceToHost), "conv_block_forward");
    }
  }
  download(pre, dpre, total);
  download(y, dy, total);
}

}  // namespace cuda
}  // namespace deepgen
