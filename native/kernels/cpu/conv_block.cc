#include "conv_block.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/thread_pool.h"
#include "batchnorm.h"
#include "conv2d.h"
#include "conv_transpose2d.h"
#include "gemm.h"
#include "im2col.h"
#include "vmath.h"

namespace deepgen {
namespace {

Conv2dParams conv_params(const ConvBlockParams& p) {
  Conv2dParams c;
  c.batch = p.batch;
  c.in_c = p.in_c;
  c.in_h = p.in_h;
  c.in_w = p.in_w;
  c.out_c = p.out_c;
  c.k_h = p.k_h;
  c.k_w = p.k_w;
  c.stride_h = p.stride_h;
  c.stride_w = p.stride_w;
  c.pad_h = p.pad_h;
  c.pad_w = p.pad_w;
  return c;
}

ConvTranspose2dParams convt_params(const ConvBlockParams& p) {
  ConvTranspose2dParams c;
  c.batch = p.batch;
  c.in_c = p.in_c;
  c.in_h = p.in_h;
  c.in_w = p.in_w;
  c.out_c = p.out_c;
  c.k_h = p.k_h;
  c.k_w = p.k_w;
  c.stride_h = p.stride_h;
  c.stride_w = p.stride_w;
  c.pad_h = p.pad_h;
  c.pad_w = p.pad_w;
  c.out_pad_h = p.out_pad_h;
  c.out_pad_w = p.out_pad_w;
  return c;
}

void require(const char* fn, std::initializer_list<const void*> ptrs) {
  for (const void* q : ptrs) {
    if (q == nullptr) throw KernelError("E_ARG", std::string(fn) + ": a required array is null");
  }
}

// pre = conv(x) + bias.
void conv_forward(const ConvBlockParams& p, const float* x, const float* weight, const float* bias,
                  float* pre) {
  if (p.transposed) {
    conv_transpose2d_forward(x, weight, bias, pre, convt_params(p));
  } else {
    conv2d_forward(x, weight, bias, pre, conv_params(p));
  }
}

// The conv's backward from dpre: dweight / dbias (+)=, dx (if not null) overwritten.
void conv_backward(const ConvBlockParams& p, const float* x, const float* weight, const float* dpre,
                   float* dx, float* dweight, float* dbias, bool accumulate) {
  if (p.transposed) {
    const ConvTranspose2dParams c = convt_params(p);
    conv_transpose2d_backward_weight(x, dpre, dweight, dbias, c, accumulate);
    if (dx != nullptr) conv_transpose2d_backward_data(dpre, weight, dx, c);
  } else {
    const Conv2dParams c = conv_params(p);
    conv2d_backward_weight(x, dpre, dweight, dbias, c, accumulate);
    if (dx != nullptr) conv2d_backward_data(dpre, weight, dx, c);
  }
}

// Images per chunk of the fused backward convs: the chunk's columns, its input in cn layout
// and its dx in cn layout stay under this many floats (in L2/L3 between the two GEMMs;
// measured on the DCGAN layer: 2 MB chunks beat 1, 8 and 16 MB ones).
constexpr int64_t kBlockBackwardChunkFloats = int64_t{1} << 19;  // 2 MB

// The convT's backward with ONE im2col of dpre per chunk of images, read by both GEMMs:
//   cols [M = Cout*kH*kW, m*H*W] = im2col(dpre)   (conv_transpose2d.cc: a conv2d window on y)
//   dweight [Cin, M] (+)= x_cn [Cin, m*H*W] @ cols^T      (chunks in order: fixed sum order)
//   dx_cn   [Cin, m*H*W]  = weight [Cin, M] @ cols
// The separate kernels each build cols (backward-weight over large chunks, backward-data over
// small ones); for DCGAN's 128x7 -> 64x14 layer that is a 12.8 MB matrix written twice.
// Each GEMM is threaded inside and sums every output in a fixed order: the result does not
// depend on the thread count.
void convt_backward_shared_cols(const ConvBlockParams& bp, const float* x, const float* weight,
                                const float* dpre, float* dx, float* dweight, float* dbias,
                                bool accumulate) {
  const ConvTranspose2dParams p = convt_params(bp);
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  const int64_t plane_in = p.in_h * p.in_w, plane_out = oh * ow;
  conv_bias_grad(dpre, dbias, p.batch, p.out_c, plane_out, accumulate);
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, ConvMask::kNone);
  const int64_t M = p.out_c * taps.size();
  ConvWindow g;
  g.h = oh;
  g.w = ow;
  g.k_h = p.k_h;
  g.k_w = p.k_w;
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  g.out_h = p.in_h;
  g.out_w = p.in_w;
  const int64_t chunk =
      conv_images_per_chunk(p.batch, (M + 2 * p.in_c) * plane_in, kBlockBackwardChunkFloats);
  for (int64_t n0 = 0; n0 < p.batch; n0 += chunk) {
    const int64_t m = std::min(chunk, p.batch - n0);
    float* cols = conv_scratch(0, M * m * plane_in);
    im2col(dpre + n0 * p.out_c * plane_out, m, p.out_c, g, taps, cols);
    const float* xc = x + n0 * p.in_c * plane_in;
    const float* xp = xc;
    if (m > 1) {
      float* buf = conv_scratch(1, p.in_c * m * plane_in);
      nchw_to_cn(xc, m, p.in_c, plane_in, buf);
      xp = buf;
    }
    const float beta = (n0 == 0 && !accumulate) ? 0.0f : 1.0f;
    sgemm(false, true, p.in_c, M, m * plane_in, 1.0f, xp, cols, beta, dweight);
    if (dx != nullptr) {
      float* dxc = dx + n0 * p.in_c * plane_in;
      float* out = m == 1 ? dxc : conv_scratch(2, p.in_c * m * plane_in);
      sgemm(false, false, p.in_c, m * plane_in, M, 1.0f, weight, cols, 0.0f, out);
      if (m > 1) cn_to_nchw(out, m, p.in_c, plane_in, nullptr, dxc);
    }
  }
}

// The conv2d's backward over the same small chunks, the chunk's dpre in cn layout shared:
//   col  [K = Cin*kH*kW, m*Ho*Wo] = im2col(x)
//   dpre_cn [Cout, m*Ho*Wo]       = dpre rearranged
//   dweight [Cout, K] (+)= dpre_cn @ col^T        (chunks in order: fixed sum order)
//   dcol [K, m*Ho*Wo] = weight^T @ dpre_cn, col2im -> dx
// The separate kernels reduce dweight over large chunks (a 12.8 MB column matrix for DCGAN's
// 64x14 -> 128x7 layer at batch 64, read from L3); small chunks keep it close to the core.
void conv_backward_shared_chunks(const ConvBlockParams& bp, const float* x, const float* weight,
                                 const float* dpre, float* dx, float* dweight, float* dbias,
                                 bool accumulate) {
  const Conv2dParams p = conv_params(bp);
  int64_t oh, ow;
  conv2d_check(p, &oh, &ow);
  const int64_t plane_in = p.in_h * p.in_w, plane_out = oh * ow;
  conv_bias_grad(dpre, dbias, p.batch, p.out_c, plane_out, accumulate);
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, ConvMask::kNone);
  const int64_t K = p.in_c * taps.size();
  ConvWindow g;
  g.h = p.in_h;
  g.w = p.in_w;
  g.k_h = p.k_h;
  g.k_w = p.k_w;
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  g.out_h = oh;
  g.out_w = ow;
  float* wt = nullptr;
  if (dx != nullptr) {
    wt = conv_scratch(3, K * p.out_c);
    transpose_matrix(weight, p.out_c, K, wt);
  }
  const int64_t chunk =
      conv_images_per_chunk(p.batch, (K + p.out_c) * plane_out, kBlockBackwardChunkFloats);
  for (int64_t n0 = 0; n0 < p.batch; n0 += chunk) {
    const int64_t m = std::min(chunk, p.batch - n0);
    float* col = conv_scratch(0, K * m * plane_out);
    im2col(x + n0 * p.in_c * plane_in, m, p.in_c, g, taps, col);
    const float* dyc = dpre + n0 * p.out_c * plane_out;
    const float* dyp = dyc;
    if (m > 1) {
      float* buf = conv_scratch(1, p.out_c * m * plane_out);
      nchw_to_cn(dyc, m, p.out_c, plane_out, buf);
      dyp = buf;
    }
    const float beta = (n0 == 0 && !accumulate) ? 0.0f : 1.0f;
    sgemm(false, true, p.out_c, K, m * plane_out, 1.0f, dyp, col, beta, dweight);
    if (dx != nullptr) {
      float* dcol = col;  // the columns of x are no longer needed
      sgemm(false, false, K, m * plane_out, p.out_c, 1.0f, wt, dyp, 0.0f, dcol);
      col2im(dcol, m, p.in_c, g, taps, nullptr, dx + n0 * p.in_c * plane_in);
    }
  }
}

void store_grad(float* out, const float* v, int64_t n, bool accumulate) {
  for (int64_t i = 0; i < n; ++i) out[i] = accumulate ? out[i] + v[i] : v[i];
}

// Row operations on the calling thread, AVX2 when the CPU has it (the choice the batchnorm and
// activation kernels make, so the fused block rounds as their composition does).
void affine_row(const float* x, float* y, int64_t n, float center, float scale, float shift) {
  if (use_avx2_fma()) {
    batchnorm_affine_row_avx2(x, y, n, center, scale, shift);
  } else {
    batchnorm_affine_row_plain(x, y, n, center, scale, shift);
  }
}

void norm_backward_row(const float* x, const float* dy, float* dx, int64_t n, float center, float a,
                       float b, float k) {
  if (use_avx2_fma()) {
    batchnorm_backward_row_avx2(x, dy, dx, n, center, a, b, k);
  } else {
    batchnorm_backward_row_plain(x, dy, dx, n, center, a, b, k);
  }
}

void act_forward_span(Activation kind, const float* x, float* y, int64_t n, float slope) {
  if (use_avx2_fma()) {
    activation_forward_span_avx2(kind, x, y, n, slope);
  } else {
    activation_forward_span_plain(kind, x, y, n, slope);
  }
}

void act_backward_span(Activation kind, const float* y, const float* dy, float* dx, int64_t n,
                       float slope) {
  if (use_avx2_fma()) {
    activation_backward_span_avx2(kind, y, dy, dx, n, slope);
  } else {
    activation_backward_span_plain(kind, y, dy, dx, n, slope);
  }
}

// fn(r) for every (n, c) plane r = n * C + c of S elements, planes grouped into tasks of
// about kElementwiseChunk elements; each plane is handled whole by one task.
template <typename F>
void for_each_plane(int64_t planes, int64_t S, F fn) {
  const int64_t per_task = std::max<int64_t>(1, kElementwiseChunk / std::max<int64_t>(S, 1));
  parallel_for((planes + per_task - 1) / per_task, [&](int64_t t) {
    const int64_t end = std::min(planes, (t + 1) * per_task);
    for (int64_t r = t * per_task; r < end; ++r) fn(r);
  });
}

// sum over n of per_plane[n * C + c], in n order.
double channel_total(const std::vector<double>& per_plane, int64_t N, int64_t C, int64_t c) {
  double s = 0;
  for (int64_t n = 0; n < N; ++n) s += per_plane[static_cast<size_t>(n * C + c)];
  return s;
}

}  // namespace

void conv_block_check(const ConvBlockParams& p, int64_t* out_h, int64_t* out_w) {
  const int k = static_cast<int>(p.activation);
  if (k < 0 || k >= kActivationCount) {
    throw KernelError("E_ARG", "conv_block: unknown activation kind " + std::to_string(k));
  }
  if (!std::isfinite(p.slope) || p.slope < 0.0f) {
    throw KernelError("E_ARG", "conv_block: slope must be finite and >= 0");
  }
  const int nm = static_cast<int>(p.norm);
  if (nm < 0 || nm > 2) throw KernelError("E_ARG", "conv_block: norm must be none, train or eval");
  if (!std::isfinite(p.eps) || p.eps <= 0.0f) {
    throw KernelError("E_ARG", "conv_block: eps must be finite and > 0");
  }
  if (!(p.momentum >= 0.0f && p.momentum <= 1.0f)) {
    throw KernelError("E_ARG", "conv_block: momentum must be in [0, 1]");
  }
  int64_t oh = 0, ow = 0;
  if (p.transposed) {
    conv_transpose2d_check(convt_params(p), &oh, &ow);
  } else {
    if (p.out_pad_h != 0 || p.out_pad_w != 0) {
      throw KernelError("E_ARG", "conv_block: output padding is for transposed convolutions only");
    }
    conv2d_check(conv_params(p), &oh, &ow);
  }
  if (p.norm == ConvBlockNorm::kTrain && p.out_c > 0 && p.batch * oh * ow < 2) {
    throw KernelError("E_SHAPE",
                      "conv_block: batch norm training needs more than one value per channel "
                      "(batch * Ho * Wo >= 2)");
  }
  if (out_h != nullptr) *out_h = oh;
  if (out_w != nullptr) *out_w = ow;
}

int64_t conv_block_x_size(const ConvBlockParams& p) { return p.batch * p.in_c * p.in_h * p.in_w; }
int64_t conv_block_weight_size(const ConvBlockParams& p) {
  return p.in_c * p.out_c * p.k_h * p.k_w;
}
int64_t conv_block_y_size(const ConvBlockParams& p) {
  int64_t oh, ow;
  conv_block_check(p, &oh, &ow);
  return p.batch * p.out_c * oh * ow;
}

// ---------------------------------------------------------------------------------------------
// The composition, kernel after kernel.

void conv_block_forward_unfused(const ConvBlockParams& p, const float* x, const float* weight,
                                const float* bias, const float* gamma, const float* beta,
                                float* running_mean, float* running_var, float* pre, float* mean,
                                float* rstd, float* y) {
  int64_t oh, ow;
  conv_block_check(p, &oh, &ow);
  const int64_t S = oh * ow, total = p.batch * p.out_c * S;
  conv_forward(p, x, weight, bias, pre);
  switch (p.norm) {
    case ConvBlockNorm::kNone:
      if (total > 0) activation_forward(p.activation, pre, y, total, p.slope);
      return;
    case ConvBlockNorm::kTrain:
      batchnorm_forward_train(pre, gamma, beta, y, mean, rstd, running_mean, running_var, p.batch,
                              p.out_c, S, p.eps, p.momentum);
      break;
    case ConvBlockNorm::kEval:
      batchnorm_forward_eval(pre, gamma, beta, running_mean, running_var, y, p.batch, p.out_c, S,
                             p.eps);
      break;
  }
  if (total > 0) activation_forward(p.activation, y, y, total, p.slope);
}

void conv_block_backward_unfused(const ConvBlockParams& p, const float* x, const float* weight,
                                 const float* gamma, const float* pre, const float* mean,
                                 const float* rstd, const float* y, float* dy, float* dx,
                                 float* dweight, float* dbias, float* dgamma, float* dbeta,
                                 bool accumulate) {
  const char* fn = "conv_block_backward";
  int64_t oh, ow;
  conv_block_check(p, &oh, &ow);
  if (p.norm == ConvBlockNorm::kEval) {
    throw KernelError("E_ARG", std::string(fn) + ": no backward for an eval-mode forward");
  }
  const int64_t S = oh * ow, total = p.batch * p.out_c * S;
  if (total > 0) activation_backward(p.activation, y, dy, dy, total, p.slope);
  if (p.norm == ConvBlockNorm::kTrain && p.out_c > 0) {
    require(fn, {dgamma, dbeta});
    std::vector<float> dg(static_cast<size_t>(p.out_c)), db(static_cast<size_t>(p.out_c));
    batchnorm_backward(pre, dy, gamma, mean, rstd, dy, dg.data(), db.data(), p.batch, p.out_c, S);
    store_grad(dgamma, dg.data(), p.out_c, accumulate);
    store_grad(dbeta, db.data(), p.out_c, accumulate);
  }
  conv_backward(p, x, weight, dy, dx, dweight, dbias, accumulate);
}

// ---------------------------------------------------------------------------------------------
// Fused: the conv, then one parallel pass over the (n, c) planes for what follows it.

void conv_block_forward(const ConvBlockParams& p, const float* x, const float* weight,
                        const float* bias, const float* gamma, const float* beta,
                        float* running_mean, float* running_var, float* pre, float* mean,
                        float* rstd, float* y) {
  const char* fn = "conv_block_forward";
  int64_t oh, ow;
  conv_block_check(p, &oh, &ow);
  const int64_t N = p.batch, C = p.out_c, S = oh * ow;
  // Dense outputs (1 x 1) go through the batchnorm kernel's own column layout.
  if (S == 1 || N * C == 0) {
    conv_block_forward_unfused(p, x, weight, bias, gamma, beta, running_mean, running_var, pre,
                               mean, rstd, y);
    return;
  }
  require(fn, {x, weight, pre, y});
  if (p.norm != ConvBlockNorm::kNone) require(fn, {gamma, beta, running_mean, running_var});
  if (p.norm == ConvBlockNorm::kTrain) require(fn, {mean, rstd});
  conv_forward(p, x, weight, bias, pre);
  const Activation act = p.activation;
  const float slope = p.slope;
  if (p.norm == ConvBlockNorm::kNone) {
    for_each_plane(N * C, S,
                   [&](int64_t r) { act_forward_span(act, pre + r * S, y + r * S, S, slope); });
    return;
  }
  // center, scale, shift per channel: y = act((pre - center) * scale + shift).
  std::vector<float> center(static_cast<size_t>(C)), scale(static_cast<size_t>(C));
  if (p.norm == ConvBlockNorm::kEval) {
    for (int64_t c = 0; c < C; ++c) {
      center[c] = running_mean[c];
      scale[c] =
          static_cast<float>(gamma[c] / std::sqrt(static_cast<double>(running_var[c]) + p.eps));
    }
  } else {
    // Batch statistics as batchnorm.cc: per plane in double, then over n in order; two passes.
    std::vector<double> plane(static_cast<size_t>(N * C));
    std::vector<double> mean_d(static_cast<size_t>(C)), var_d(static_cast<size_t>(C));
    const double inv_m = 1.0 / static_cast<double>(N * S);
    for_each_plane(N * C, S, [&](int64_t r) { plane[r] = sum_f64(pre + r * S, S); });
    for (int64_t c = 0; c < C; ++c) mean_d[c] = channel_total(plane, N, C, c) * inv_m;
    for_each_plane(N * C, S, [&](int64_t r) {
      plane[r] = sum_sq_centered_f64(pre + r * S, S, mean_d[r % C]);
    });
    for (int64_t c = 0; c < C; ++c) var_d[c] = channel_total(plane, N, C, c) * inv_m;
    const double unbias = static_cast<double>(N * S) / static_cast<double>(N * S - 1);
    const double m = p.momentum;
    for (int64_t c = 0; c < C; ++c) {
      mean[c] = static_cast<float>(mean_d[c]);
      rstd[c] = static_cast<float>(1.0 / std::sqrt(var_d[c] + p.eps));
      center[c] = mean[c];
      scale[c] = gamma[c] * rstd[c];
      running_mean[c] = static_cast<float>((1.0 - m) * running_mean[c] + m * mean_d[c]);
      running_var[c] = static_cast<float>((1.0 - m) * running_var[c] + m * var_d[c] * unbias);
    }
  }
  // Normalize and activate each plane while it is in L1.
  for_each_plane(N * C, S, [&](int64_t r) {
    const int64_t c = r % C;
    float* yr = y + r * S;
    affine_row(pre + r * S, yr, S, center[c], scale[c], beta[c]);
    act_forward_span(act, yr, yr, S, slope);
  });
}

void conv_block_backward(const ConvBlockParams& p, const float* x, const float* weight,
                         const float* gamma, const float* pre, const float* mean, const float* rstd,
                         const float* y, float* dy, float* dx, float* dweight, float* dbias,
                         float* dgamma, float* dbeta, bool accumulate) {
  const char* fn = "conv_block_backward";
  int64_t oh, ow;
  conv_block_check(p, &oh, &ow);
  if (p.norm == ConvBlockNorm::kEval) {
    throw KernelError("E_ARG", std::string(fn) + ": no backward for an eval-mode forward");
  }
  const int64_t N = p.batch, C = p.out_c, S = oh * ow;
  if (S == 1 || N * C == 0) {
    conv_block_backward_unfused(p, x, weight, gamma, pre, mean, rstd, y, dy, dx, dweight, dbias,
                                dgamma, dbeta, accumulate);
    return;
  }
  require(fn, {x, weight, y, dy, dweight});
  const Activation act = p.activation;
  const float slope = p.slope;
  if (p.norm == ConvBlockNorm::kNone) {
    for_each_plane(N * C, S, [&](int64_t r) {
      act_backward_span(act, y + r * S, dy + r * S, dy + r * S, S, slope);
    });
  } else {
    require(fn, {gamma, pre, mean, rstd, dgamma, dbeta});
    // Pass 1, per plane: the activation's backward in place, then sum dy and
    // sum dy (pre - mean) of the plane (as batchnorm.cc), all while the plane is in L1.
    std::vector<double> p_dy(static_cast<size_t>(N * C)), p_dyc(static_cast<size_t>(N * C));
    for_each_plane(N * C, S, [&](int64_t r) {
      float* d = dy + r * S;
      act_backward_span(act, y + r * S, d, d, S, slope);
      p_dy[r] = sum_f64(d, S);
      p_dyc[r] = dot_centered_f64(d, pre + r * S, S, mean[r % C]);
    });
    // dpre = gamma rstd (dy - dbeta / M - xhat dgamma / M) = a dy + b (pre - mean) + k.
    std::vector<float> a(static_cast<size_t>(C)), b(static_cast<size_t>(C)),
        k(static_cast<size_t>(C));
    const double inv_m = 1.0 / static_cast<double>(N * S);
    for (int64_t c = 0; c < C; ++c) {
      const double sum_dy = channel_total(p_dy, N, C, c);
      const double sum_dyc = channel_total(p_dyc, N, C, c);
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
    // Pass 2: dpre in place of dy.
    for_each_plane(N * C, S, [&](int64_t r) {
      const int64_t c = r % C;
      float* d = dy + r * S;
      norm_backward_row(pre + r * S, d, d, S, mean[c], a[c], b[c], k[c]);
    });
  }
  if (p.in_c == 0) {  // nothing to multiply: the separate kernels' zero fills
    conv_backward(p, x, weight, dy, dx, dweight, dbias, accumulate);
    return;
  }
  // Where the data gradient runs as the other conv's direct forward (no column matrix), that
  // beats sharing the column matrix with the weight gradient's GEMM.
  const bool direct_dx =
      dx != nullptr && (p.transposed ? conv_transpose2d_backward_data_is_direct(convt_params(p))
                                     : conv2d_backward_data_is_direct(conv_params(p)));
  float* gemm_dx = direct_dx ? nullptr : dx;
  if (p.transposed) {
    convt_backward_shared_cols(p, x, weight, dy, gemm_dx, dweight, dbias, accumulate);
    if (direct_dx) conv_transpose2d_backward_data(dy, weight, dx, convt_params(p));
  } else {
    conv_backward_shared_chunks(p, x, weight, dy, gemm_dx, dweight, dbias, accumulate);
    if (direct_dx) conv2d_backward_data(dy, weight, dx, conv_params(p));
  }
}

}  // namespace deepgen
