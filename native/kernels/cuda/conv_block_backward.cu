// CUDA mirror of the CPU conv_block_backward (native/kernels/cpu/conv_block.h): the
// activation's backward, the batch norm's backward (train-mode statistics) and the conv's
// backward (dweight, dbias, dx), from a kTrain or kNone forward. Host buffers in and out.
//
// Kernels, simple and deterministic (no atomics):
//   act_backward_kernel (affine_act.cuh): dy = dy * f'(from y), one thread per element (the
//     smooth kinds in double, as activation.cc's plain spans);
//   norm_backward_sums_kernel (affine_act.cuh): one block per channel, sum dy and sum dy
//     (pre - mean) in double, then dgamma, dbeta and the coefficients a, b, k of
//     dpre = a dy + b (pre - mean) + k computed in double exactly as the CPU block does;
//   weight_grad_kernel: one thread per weight element, its sum over (n, output position) in
//     double; bias_grad_kernel (affine_act.cuh): one block per channel, in double;
//   data_grad_kernel: one thread per input element, gathering the outputs it fed.
#include <cuda_runtime.h>

#include <initializer_list>
#include <string>

#include "../../common/errors.h"
#include "affine_act.cuh"
#include "cuda_api.h"
#include "cuda_check.h"
#include "device_ops.h"

namespace deepgen {
namespace cuda {
namespace {

struct Geometry {
  bool transposed;
  int64_t n, ci, h, w, co, kh, kw, sh, sw, ph, pw, oh, ow;
};

// dweight, one thread per element: conv2d [Cout, Cin, kH, kW], transposed [Cin, Cout, kH, kW].
// For both, the pair (input position, output position) linked by tap (ky, kx) is
// out = in * stride - pad + tap (conv2d reads the input at out * stride - pad + tap).
__global__ void weight_grad_kernel(Geometry g, const float* x, const float* dpre, float* dweight,
                                   bool accumulate) {
  const int64_t total = g.ci * g.co * g.kh * g.kw;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t kx = idx % g.kw;
    const int64_t ky = (idx / g.kw) % g.kh;
    const int64_t second = (idx / (g.kw * g.kh)) % (g.transposed ? g.co : g.ci);
    const int64_t first = idx / (g.kw * g.kh * (g.transposed ? g.co : g.ci));
    const int64_t ci = g.transposed ? first : second;
    const int64_t co = g.transposed ? second : first;
    double sum = 0.0;
    for (int64_t n = 0; n < g.n; ++n) {
      const float* xp = x + (n * g.ci + ci) * g.h * g.w;
      const float* dp = dpre + (n * g.co + co) * g.oh * g.ow;
      if (g.transposed) {
        for (int64_t iy = 0; iy < g.h; ++iy) {
          const int64_t oy = iy * g.sh - g.ph + ky;
          if (oy < 0 || oy >= g.oh) continue;
          for (int64_t ix = 0; ix < g.w; ++ix) {
            const int64_t ox = ix * g.sw - g.pw + kx;
            if (ox < 0 || ox >= g.ow) continue;
            sum += static_cast<double>(xp[iy * g.w + ix]) * dp[oy * g.ow + ox];
          }
        }
      } else {
        for (int64_t oy = 0; oy < g.oh; ++oy) {
          const int64_t iy = oy * g.sh - g.ph + ky;
          if (iy < 0 || iy >= g.h) continue;
          for (int64_t ox = 0; ox < g.ow; ++ox) {
            const int64_t ix = ox * g.sw - g.pw + kx;
            if (ix < 0 || ix >= g.w) continue;
            sum += static_cast<double>(xp[iy * g.w + ix]) * dp[oy * g.ow + ox];
          }
        }
      }
    }
    const float v = static_cast<float>(sum);
    dweight[idx] = accumulate ? dweight[idx] + v : v;
  }
}

// dx [N, Cin, H, W], one thread per element (overwritten).
__global__ void data_grad_kernel(Geometry g, const float* weight, const float* dpre, float* dx) {
  const int64_t total = g.n * g.ci * g.h * g.w;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t ix = idx % g.w;
    const int64_t iy = (idx / g.w) % g.h;
    const int64_t ci = (idx / (g.w * g.h)) % g.ci;
    const int64_t n = idx / (g.w * g.h * g.ci);
    float acc = 0.0f;
    for (int64_t co = 0; co < g.co; ++co) {
      const float* dp = dpre + (n * g.co + co) * g.oh * g.ow;
      const float* wp = g.transposed ? weight + (ci * g.co + co) * g.kh * g.kw
                                     : weight + (co * g.ci + ci) * g.kh * g.kw;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        int64_t oy;
        if (g.transposed) {
          oy = iy * g.sh - g.ph + ky;
        } else {
          const int64_t t = iy + g.ph - ky;  // oy * stride = iy + pad - ky
          if (t < 0 || t % g.sh != 0) continue;
          oy = t / g.sh;
        }
        if (oy < 0 || oy >= g.oh) continue;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          int64_t ox;
          if (g.transposed) {
            ox = ix * g.sw - g.pw + kx;
          } else {
            const int64_t t = ix + g.pw - kx;
            if (t < 0 || t % g.sw != 0) continue;
            ox = t / g.sw;
          }
          if (ox < 0 || ox >= g.ow) continue;
          acc = __fmaf_rn(dp[oy * g.ow + ox], wp[ky * g.kw + kx], acc);
        }
      }
    }
    dx[idx] = acc;
  }
}

void up(float* dst, const float* src, int64_t n) {
  if (n > 0) check(cudaMemcpy(dst, src, sizeof(float) * n, cudaMemcpyHostToDevice), "cudaMemcpy");
}

void down(float* dst, const float* src, int64_t n) {
  if (n > 0)
    check(cudaMemcpy(dst, src, sizeof(float) * n, cudaMemcpyDeviceToHost), "conv_block_backward");
}

}  // namespace

namespace dev {

void conv_block_backward(const ConvBlockParams& p, int64_t oh, int64_t ow, const float* x,
                         const float* weight, const float* gamma, const float* pre,
                         const float* mean, const float* rstd, const float* y, float* dy, float* dx,
                         float* dweight, float* dbias, float* dgamma, float* dbeta, bool accumulate,
                         float* scratch) {
  const bool train = p.norm == ConvBlockNorm::kTrain;
  const int64_t N = p.batch, C = p.out_c, S = oh * ow, total = N * C * S;
  const int64_t nx = N * p.in_c * p.in_h * p.in_w;
  const int64_t nw = p.in_c * C * p.k_h * p.k_w;
  const Geometry g{p.transposed, N,          p.in_c,     p.in_h,  p.in_w,  C,  p.k_h,
                   p.k_w,        p.stride_h, p.stride_w, p.pad_h, p.pad_w, oh, ow};
  const int threads = 256;
  if (total > 0) {
    act_backward_kernel<<<grid_for(total, threads), threads>>>(
        y, dy, dy, total, static_cast<int>(p.activation), p.slope);
    check(cudaGetLastError(), "activation backward launch");
  }
  if (train && C > 0) {
    float *a = scratch, *b = scratch + C, *k = scratch + 2 * C;
    norm_backward_sums_kernel<<<static_cast<unsigned>(C), kStatThreads>>>(
        dy, pre, N, C, S, gamma, mean, rstd, dgamma, dbeta, accumulate, a, b, k);
    check(cudaGetLastError(), "norm backward launch");
    norm_backward_apply_kernel<<<grid_for(total, threads), threads>>>(dy, pre, dy, total, C, S,
                                                                      mean, a, b, k);
    check(cudaGetLastError(), "norm backward launch");
  }
  if (nw > 0) {
    weight_grad_kernel<<<grid_for(nw, threads), threads>>>(g, x, dy, dweight, accumulate);
    check(cudaGetLastError(), "weight gradient launch");
  }
  if (dbias != nullptr && C > 0) {
    bias_grad_kernel<<<static_cast<unsigned>(C), kStatThreads>>>(dy, N, C, S, dbias, accumulate);
    check(cudaGetLastError(), "bias gradient launch");
  }
  if (dx != nullptr && nx > 0) {
    data_grad_kernel<<<grid_for(nx, threads), threads>>>(g, weight, dy, dx);
    check(cudaGetLastError(), "data gradient launch");
  }
}

}  // namespace dev

void conv_block_backward(const ConvBlockParams& p, const float* x, const float* weight,
                         const float* gamma, const float* pre, const float* mean, const float* rstd,
                         const float* y, float* dy, float* dx, float* dweight, float* dbias,
                         float* dgamma, float* dbeta, bool accumulate) {
  const char* fn = "conv_block_backward (cuda)";
  int64_t oh = 0, ow = 0;
  conv_block_check(p, &oh, &ow);
  if (p.norm == ConvBlockNorm::kEval) {
    throw KernelError("E_ARG", std::string(fn) + ": no backward for an eval-mode forward");
  }
  const bool train = p.norm == ConvBlockNorm::kTrain;
  auto need = [fn](std::initializer_list<const void*> ptrs) {
    for (const void* q : ptrs) {
      if (q == nullptr) throw KernelError("E_ARG", std::string(fn) + ": a required array is null");
    }
  };
  const int64_t N = p.batch, C = p.out_c, S = oh * ow, total = N * C * S;
  const int64_t nx = conv_block_x_size(p), nw = conv_block_weight_size(p);
  if (total > 0) need({y, dy});
  if (nw > 0) need({weight, dweight});
  if (nx > 0) need({x});
  if (train && C > 0) need({gamma, pre, mean, rstd, dgamma, dbeta});
  if (total == 0 && nw == 0 && nx == 0) return;
  require_device();
  DeviceBuffer<float> d_x(nx), d_w(nw), d_y(total), d_dy(total), d_pre(train ? total : 0);
  DeviceBuffer<float> d_dx(dx != nullptr ? nx : 0), d_dw(nw), d_db(dbias != nullptr ? C : 0);
  // gamma, mean, rstd, dgamma, dbeta, then the launcher's scratch (a, b, k): [C] each.
  DeviceBuffer<float> stats(train ? 8 * C : 0);
  float* s = stats.get();
  float *gm = s, *mu = s + C, *rs = s + 2 * C, *dg = s + 3 * C, *dbt = s + 4 * C;
  up(d_x.get(), x, nx);
  up(d_w.get(), weight, nw);
  up(d_y.get(), y, total);
  up(d_dy.get(), dy, total);
  if (accumulate) up(d_dw.get(), dweight, nw);
  if (accumulate && dbias != nullptr) up(d_db.get(), dbias, C);
  if (train && C > 0) {
    up(d_pre.get(), pre, total);
    up(gm, gamma, C);
    up(mu, mean, C);
    up(rs, rstd, C);
    if (accumulate) {
      up(dg, dgamma, C);
      up(dbt, dbeta, C);
    }
  }
  dev::conv_block_backward(p, oh, ow, d_x.get(), d_w.get(), train ? gm : nullptr, d_pre.get(),
                           train ? mu : nullptr, train ? rs : nullptr, d_y.get(), d_dy.get(),
                           dx != nullptr ? d_dx.get() : nullptr, d_dw.get(),
                           dbias != nullptr ? d_db.get() : nullptr, train ? dg : nullptr,
                           train ? dbt : nullptr, accumulate, train ? s + 5 * C : nullptr);
  if (train && C > 0) {
    down(dgamma, dg, C);
    down(dbeta, dbt, C);
  }
  down(dy, d_dy.get(), total);
  down(dweight, d_dw.get(), nw);
  if (dbias != nullptr) down(dbias, d_db.get(), C);
  if (dx != nullptr) down(dx, d_dx.get(), nx);
}

}  // namespace cuda
}  // namespace deepgen
