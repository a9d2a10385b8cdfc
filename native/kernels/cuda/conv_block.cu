// CUDA mirror of the CPU conv_block_forward (native/kernels/cpu/conv_block.h): the GAN conv
// block pre = conv(x) + bias (conv2d or convTranspose2d), then batch norm (none, batch
// statistics with the running-stat update, or eval) and the activation. The backward is
// conv_block_backward.cu.
//
// Kernels, simple on purpose (correctness first): the conv is one thread per output element,
// a direct sum over (ci, ky, kx) with fused multiply-adds (the transposed conv gathers the
// inputs that reach the output); the batch statistics and the normalize + activate pass are
// the shared kernels of affine_act.cuh (also used by batchnorm.cu and activation.cu).
#include <cuda_runtime.h>

#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "../../common/errors.h"
#include "cuda_api.h"
#include "affine_act.cuh"
#include "cuda_check.h"
#include "device_ops.h"

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

void upload(DeviceBuffer<float>& dst, const float* src, int64_t n) {
  if (n > 0)
    check(cudaMemcpy(dst.get(), src, sizeof(float) * n, cudaMemcpyHostToDevice), "cudaMemcpy");
}

void download(float* dst, const DeviceBuffer<float>& src, int64_t n) {
  if (n > 0)
    check(cudaMemcpy(dst, src.get(), sizeof(float) * n, cudaMemcpyDeviceToHost),
          "conv_block_forward");
}

}  // namespace

namespace dev {

void conv_block_forward(const ConvBlockParams& p, int64_t oh, int64_t ow, const float* x,
                        const float* weight, const float* bias, const float* gamma,
                        const float* beta, float* running_mean, float* running_var, float* pre,
                        float* mean, float* rstd, float* y, float* scratch) {
  const int64_t N = p.batch, C = p.out_c, S = oh * ow, total = N * C * S;
  if (total == 0) return;
  const ConvShape s{p.transposed, N,          p.in_c,     p.in_h,  p.in_w,  C,  p.k_h,
                    p.k_w,        p.stride_h, p.stride_w, p.pad_h, p.pad_w, oh, ow};
  const int threads = 256;
  conv_kernel<<<grid_for(total, threads), threads>>>(s, x, weight, bias, pre);
  check(cudaGetLastError(), "conv launch");
  const int kind = static_cast<int>(p.activation);
  if (p.norm == ConvBlockNorm::kNone) {
    apply_kernel<<<grid_for(total, threads), threads>>>(pre, y, total, C, S, nullptr, nullptr,
                                                        nullptr, kind, p.slope);
    check(cudaGetLastError(), "activation launch");
    return;
  }
  float* center = scratch;
  float* scale = scratch + C;
  if (p.norm == ConvBlockNorm::kTrain) {
    train_stats_kernel<<<static_cast<unsigned>(C), kStatThreads>>>(
        pre, N, C, S, gamma, p.eps, p.momentum, mean, rstd, running_mean, running_var, center,
        scale);
    check(cudaGetLastError(), "batch statistics launch");
  } else {
    // Eval: center = running mean, scale = gamma / sqrt(running var + eps) in double, as the
    // CPU block computes it.
    center = running_mean;
    eval_scale_kernel<<<grid_for(C, threads), threads>>>(gamma, running_var, p.eps, C, scale);
    check(cudaGetLastError(), "eval scale launch");
  }
  apply_kernel<<<grid_for(total, threads), threads>>>(pre, y, total, C, S, center, scale, beta,
                                                      kind, p.slope);
  check(cudaGetLastError(), "normalize launch");
}

}  // namespace dev

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
      if (q == nullptr)
        throw KernelError("E_ARG", "conv_block_forward (cuda): a required array is null");
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
  const bool norm = p.norm != ConvBlockNorm::kNone;
  // gamma, beta, running mean, running var, mean, rstd, then the launcher's scratch: [C] each.
  DeviceBuffer<float> stats(norm ? 8 * C : 0);
  float* g = stats.get();
  float *b = g + C, *rm = b + C, *rv = rm + C, *mu = rv + C, *rs = mu + C;
  if (norm) {
    check(cudaMemcpy(g, gamma, sizeof(float) * C, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaMemcpy(b, beta, sizeof(float) * C, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaMemcpy(rm, running_mean, sizeof(float) * C, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaMemcpy(rv, running_var, sizeof(float) * C, cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  dev::conv_block_forward(p, oh, ow, dx.get(), dw.get(), bias != nullptr ? dbias.get() : nullptr,
                          norm ? g : nullptr, norm ? b : nullptr, norm ? rm : nullptr,
                          norm ? rv : nullptr, dpre.get(), norm ? mu : nullptr, norm ? rs : nullptr,
                          dy.get(), norm ? rs + C : nullptr);
  if (p.norm == ConvBlockNorm::kTrain) {
    check(cudaMemcpy(mean, mu, sizeof(float) * C, cudaMemcpyDeviceToHost), "conv_block_forward");
    check(cudaMemcpy(rstd, rs, sizeof(float) * C, cudaMemcpyDeviceToHost), "conv_block_forward");
    check(cudaMemcpy(running_mean, rm, sizeof(float) * C, cudaMemcpyDeviceToHost),
          "conv_block_forward");
    check(cudaMemcpy(running_var, rv, sizeof(float) * C, cudaMemcpyDeviceToHost),
          "conv_block_forward");
  }
  download(pre, dpre, total);
  download(y, dy, total);
}

}  // namespace cuda
}  // namespace deepgen
