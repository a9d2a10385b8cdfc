// CUDA mirror of the CPU conv_block_backward (native/kernels/cpu/conv_block.h): the
// activation's backward, the batch norm's backward (train-mode statistics) and the conv's
// backward (dweight, dbias, dx), from a kTrain or kNone forward. Host buffers in and out.
//
// Kernels, simple and deterministic (no atomics):
//   act_backward_kernel: dy = dy * f'(from y), one thread per element (the smooth kinds in
//     double, as activation.cc's plain spans);
//   norm_backward_sums_kernel: one block per channel, sum dy and sum dy (pre - mean) in
//     double, then dgamma, dbeta and the coefficients a, b, k of dpre = a dy + b (pre - mean)
//     + k computed in double exactly as the CPU block does;
//   weight_grad_kernel: one thread per weight element, its sum over (n, output position) in
//     double; bias_grad_kernel: one block per channel, in double;
//   data_grad_kernel: one thread per input element, gathering the outputs it fed.
#include <cuda_runtime.h>

#include <initializer_list>
#include <string>

#include "../../common/errors.h"
#include "affine_act.cuh"
#include "cuda_api.h"
#include "cuda_check.h"

namespace deepgen {
namespace cuda {
namespace {

struct Geometry {
  bool transposed;
  int64_t n, ci, h, w, co, kh, kw, sh, sw, ph, pw, oh, ow;
};

__global__ void act_backward_kernel(const float* y, float* dy, int64_t total, int kind, float slope) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float v = y[i], d = dy[i];
    float out;
    switch (kind) {
      case 1: out = v > 0.0f ? d : 0.0f; break;                                   // relu
      case 2: out = v > 0.0f ? d : slope * d; break;                              // leaky relu
      case 3: out = static_cast<float>(d * (1.0 - static_cast<double>(v) * v)); break;  // tanh
      case 4: {                                                                   // sigmoid
        const double s = v;
        out = static_cast<float>(d * (s * (1.0 - s)));
        break;
      }
      case 5: out = static_cast<float>(d * -expm1(-static_cast<double>(v))); break;  // softplus
      default: out = d;                                                           // identity
    }
    dy[i] = out;
  }
}

// coef [4C]: a, b, k, unused; dgamma, dbeta [C] written or accumulated.
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

__global__ void norm_backward_apply_kernel(float* dy, const float* pre, int64_t total, int64_t C,
                                           int64_t S, const float* mean, const float* a,
                                           const float* b, const float* k) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t c = (i / S) % C;
    dy[i] = a[c] * dy[i] + b[c] * (pre[i] - mean[c]) + k[c];
  }
}

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

__global__ void bias_grad_kernel(const float* dpre, int64_t N, int64_t C, int64_t S, float* dbias,
                                 bool accumulate) {
  __shared__ double shared[kStatThreads];
  const int64_t c = blockIdx.x;
  double s = 0.0;
  for (int64_t i = threadIdx.x; i < N * S; i += kStatThreads) s += dpre[((i / S) * C + c) * S + i % S];
  const double total = block_sum(s, shared);
  if (threadIdx.x == 0) {
    const float v = static_cast<float>(total);
    dbias[c] = accumulate ? dbias[c] + v : v;
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
  if (n > 0) check(cudaMemcpy(dst, src, sizeof(float) * n, cudaMemcpyDeviceToHost), "conv_block_backward");
}

}  // namespace

void conv_block_backward(const ConvBlockParams& p, const float* x, const float* weight,
                         const float* gamma, const float* pre, const float* mean,
                         const float* rstd, const float* y, float* dy, float* dx,
                         float* dweight, float* dbias, float* dgamma, float* dbeta,
                         bool accumulate) {
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
  const Geometry g{p.transposed, N, p.in_c, p.in_h, p.in_w, C, p.k_h, p.k_w, p.stride_h,
                   p.stride_w, p.pad_h, p.pad_w, oh, ow};
  DeviceBuffer<float> d_x(nx), d_w(nw), d_y(total), d_dy(total), d_pre(train ? total : 0);
  DeviceBuffer<float> d_dx(dx != nullptr ? nx : 0), d_dw(nw), d_db(dbias != nullptr ? C : 0);
  // gamma, mean, rstd, dgamma, dbeta, a, b, k: [C] each.
  DeviceBuffer<float> stats(train ? 8 * C : 0);
  up(d_x.get(), x, nx);
  up(d_w.get(), weight, nw);
  up(d_y.get(), y, total);
  up(d_dy.get(), dy, total);
  if (accumulate) up(d_dw.get(), dweight, nw);
  if (accumulate && dbias != nullptr) up(d_db.get(), dbias, C);
  const int threads = 256;
  if (total > 0) {
    act_backward_kernel<<<grid_for(total, threads), threads>>>(d_y.get(), d_dy.get(), total,
                                                                static_cast<int>(p.activation), p.slope);
    check(cudaGetLastError(), "activation backward launch");
  }
  if (train && C > 0) {
    float* s = stats.get();
    float *gm = s, *mu = s + C, *rs = s + 2 * C, *dg = s + 3 * C, *dbt = s + 4 * C, *a = s + 5 * C,
          *b = s + 6 * C, *k = s + 7 * C;
    up(d_pre.get(), pre, total);
    up(gm, gamma, C);
    up(mu, mean, C);
    up(rs, rstd, C);
    if (accumulate) {
      up(dg, dgamma, C);
      up(dbt, dbeta, C);
    }
    norm_backward_sums_kernel<<<static_cast<unsigned>(C), kStatThreads>>>(
        d_dy.get(), d_pre.get(), N, C, S, gm, mu, rs, dg, dbt, accumulate, a, b, k);
    check(cudaGetLastError(), "norm backward launch");
    norm_backward_apply_kernel<<<grid_for(total, threads), threads>>>(d_dy.get(), d_pre.get(), total,
                                                                       C, S, mu, a, b, k);
    check(cudaGetLastError(), "norm backward launch");
    down(dgamma, dg, C);
    down(dbeta, dbt, C);
  }
  if (nw > 0) {
    weight_grad_kernel<<<grid_for(nw, threads), threads>>>(g, d_x.get(), d_dy.get(), d_dw.get(), accumulate);
    check(cudaGetLastError(), "weight gradient launch");
  }
  if (dbias != nullptr && C > 0) {
    bias_grad_kernel<<<static_cast<unsigned>(C), kStatThreads>>>(d_dy.get(), N, C, S, d_db.get(), accumulate);
    check(cudaGetLastError(), "bias gradient launch");
  }
  if (dx != nullptr && nx > 0) {
    data_grad_kernel<<<grid_for(nx, threads), threads>>>(g, d_w.get(), d_dy.get(), d_dx.get());
    check(cudaGetLastError(), "data gradient launch");
  }
  down(dy, d_dy.get(), total);
  down(dweight, d_dw.get(), nw);
  if (dbias != nullptr) down(dbias, d_db.get(), C);
  if (dx != nullptr) down(dx, d_dx.get(), nx);
}

}  // namespace cuda
}  // namespace deepgen
