#include "conv_transpose2d.h"

#include <algorithm>
#include <string>
#include <vector>

#include "../../common/errors.h"
#include "gemm.h"

namespace deepgen {
namespace {

constexpr int64_t kMaxDim = 2147483647;

void check_range(int64_t v, int64_t lo, const char* name) {
  if (v < lo || v > kMaxDim) {
    throw KernelError("E_ARG", std::string("conv_transpose2d: ") + name + " must be an integer in [" +
                                   std::to_string(lo) + ", " + std::to_string(kMaxDim) + "]");
  }
}

// The transposed conv seen from its output: a conv2d window sliding over y [Ho, Wo] whose
// positions are the input pixels [H, W]. im2col of dy with it is backward-data's column
// matrix; col2im with it is the forward pass's scatter.
ConvWindow window_of(const ConvTranspose2dParams& p, int64_t out_h, int64_t out_w) {
  ConvWindow g;
  g.h = out_h;
  g.w = out_w;
  g.k_h = p.k_h;
  g.k_w = p.k_w;
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  g.out_h = p.in_h;
  g.out_w = p.in_w;
  return g;
}

}  // namespace

void conv_transpose2d_check(const ConvTranspose2dParams& p, int64_t* out_h, int64_t* out_w) {
  check_range(p.batch, 0, "batch");
  check_range(p.in_c, 0, "in_channels");
  check_range(p.out_c, 0, "out_channels");
  check_range(p.k_h, 1, "kernel_h");
  check_range(p.k_w, 1, "kernel_w");
  check_range(p.stride_h, 1, "stride_h");
  check_range(p.stride_w, 1, "stride_w");
  check_range(p.pad_h, 0, "pad_h");
  check_range(p.pad_w, 0, "pad_w");
  check_range(p.out_pad_h, 0, "output_pad_h");
  check_range(p.out_pad_w, 0, "output_pad_w");
  check_range(p.in_h, 0, "height");
  check_range(p.in_w, 0, "width");
  if (p.out_pad_h >= p.stride_h || p.out_pad_w >= p.stride_w) {
    throw KernelError("E_ARG", "conv_transpose2d: output padding must be smaller than the stride");
  }
  if (p.in_h == 0 || p.in_w == 0) {
    throw KernelError("E_SHAPE", "conv_transpose2d: empty image (H or W is 0)");
  }
  const int64_t oh = (p.in_h - 1) * p.stride_h - 2 * p.pad_h + p.k_h + p.out_pad_h;
  const int64_t ow = (p.in_w - 1) * p.stride_w - 2 * p.pad_w + p.k_w + p.out_pad_w;
  if (oh < 1 || ow < 1) {
    throw KernelError("E_SHAPE", "conv_transpose2d: padding leaves an empty output");
  }
  conv_mul(conv_mul(conv_mul(p.batch, p.in_c), p.in_h), p.in_w);
  conv_mul(conv_mul(conv_mul(p.in_c, p.out_c), p.k_h), p.k_w);
  conv_mul(conv_mul(conv_mul(p.batch, p.out_c), oh), ow);
  conv_mul(conv_mul(conv_mul(p.out_c, p.k_h), p.k_w), conv_mul(p.in_h, p.in_w));
  // Scratch planes: padded images and stride phases over input or output (each at most this big).
  conv_mul(conv_mul(std::max<int64_t>({p.in_c, p.out_c, 1}),
                    std::max(p.in_h, oh) + 2 * p.pad_h + p.stride_h + p.k_h),
           std::max(p.in_w, ow) + 2 * p.pad_w + p.stride_w + p.k_w);
  if (out_h != nullptr) *out_h = oh;
  if (out_w != nullptr) *out_w = ow;
}

int64_t conv_transpose2d_x_size(const ConvTranspose2dParams& p) {
  return p.batch * p.in_c * p.in_h * p.in_w;
}
int64_t conv_transpose2d_weight_size(const ConvTranspose2dParams& p) {
  return p.in_c * p.out_c * p.k_h * p.k_w;
}
int64_t conv_transpose2d_y_size(const ConvTranspose2dParams& p) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  return p.batch * p.out_c * oh * ow;
}

// ---------------------------------------------------------------------------------------------
// Plain twins: direct loops over the definition, double accumulators, one thread.

void conv_transpose2d_forward_plain(const float* x, const float* weight, const float* bias,
                                    float* y, const ConvTranspose2dParams& p) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  // Gathered form of the scatter in the header: y[oy, ox] sums the (iy, ky) with
  // iy * stride - pad + ky == oy.
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t oc = 0; oc < p.out_c; ++oc) {
      for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          double s = bias != nullptr ? bias[oc] : 0.0;
          for (int64_t ic = 0; ic < p.in_c; ++ic) {
            for (int64_t ky = 0; ky < p.k_h; ++ky) {
              const int64_t ty = oy + p.pad_h - ky;
              if (ty < 0 || ty % p.stride_h != 0 || ty / p.stride_h >= p.in_h) continue;
              const int64_t iy = ty / p.stride_h;
              for (int64_t kx = 0; kx < p.k_w; ++kx) {
                const int64_t tx = ox + p.pad_w - kx;
                if (tx < 0 || tx % p.stride_w != 0 || tx / p.stride_w >= p.in_w) continue;
                const int64_t ix = tx / p.stride_w;
                s += static_cast<double>(x[((n * p.in_c + ic) * p.in_h + iy) * p.in_w + ix]) *
                     weight[((ic * p.out_c + oc) * p.k_h + ky) * p.k_w + kx];
              }
            }
          }
          y[((n * p.out_c + oc) * oh + oy) * ow + ox] = static_cast<float>(s);
        }
      }
    }
  }
}

void conv_transpose2d_backward_data_plain(const float* dy, const float* weight, float* dx,
                                          const ConvTranspose2dParams& p) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t ic = 0; ic < p.in_c; ++ic) {
      for (int64_t iy = 0; iy < p.in_h; ++iy) {
        for (int64_t ix = 0; ix < p.in_w; ++ix) {
          double s = 0.0;
          for (int64_t oc = 0; oc < p.out_c; ++oc) {
            for (int64_t ky = 0; ky < p.k_h; ++ky) {
              const int64_t oy = iy * p.stride_h - p.pad_h + ky;
              if (oy < 0 || oy >= oh) continue;
              for (int64_t kx = 0; kx < p.k_w; ++kx) {
                const int64_t ox = ix * p.stride_w - p.pad_w + kx;
                if (ox < 0 || ox >= ow) continue;
                s += static_cast<double>(dy[((n * p.out_c + oc) * oh + oy) * ow + ox]) *
                     weight[((ic * p.out_c + oc) * p.k_h + ky) * p.k_w + kx];
              }
            }
          }
          dx[((n * p.in_c + ic) * p.in_h + iy) * p.in_w + ix] = static_cast<float>(s);
        }
      }
    }
  }
}

void conv_transpose2d_backward_weight_plain(const float* x, const float* dy, float* dweight,
                                            float* dbias, const ConvTranspose2dParams& p,
                                            bool accumulate) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  for (int64_t ic = 0; ic < p.in_c; ++ic) {
    for (int64_t oc = 0; oc < p.out_c; ++oc) {
      for (int64_t ky = 0; ky < p.k_h; ++ky) {
        for (int64_t kx = 0; kx < p.k_w; ++kx) {
          double s = 0.0;
          for (int64_t n = 0; n < p.batch; ++n) {
            for (int64_t iy = 0; iy < p.in_h; ++iy) {
              const int64_t oy = iy * p.stride_h - p.pad_h + ky;
              if (oy < 0 || oy >= oh) continue;
              for (int64_t ix = 0; ix < p.in_w; ++ix) {
                const int64_t ox = ix * p.stride_w - p.pad_w + kx;
                if (ox < 0 || ox >= ow) continue;
                s += static_cast<double>(x[((n * p.in_c + ic) * p.in_h + iy) * p.in_w + ix]) *
                     dy[((n * p.out_c + oc) * oh + oy) * ow + ox];
              }
            }
          }
          float& out = dweight[((ic * p.out_c + oc) * p.k_h + ky) * p.k_w + kx];
          out = accumulate ? out + static_cast<float>(s) : static_cast<float>(s);
        }
      }
    }
  }
  if (dbias != nullptr) {
    for (int64_t oc = 0; oc < p.out_c; ++oc) {
      double s = 0.0;
      for (int64_t n = 0; n < p.batch; ++n) {
        for (int64_t i = 0; i < oh * ow; ++i) s += dy[(n * p.out_c + oc) * oh * ow + i];
      }
      dbias[oc] = accumulate ? dbias[oc] + static_cast<float>(s) : static_cast<float>(s);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Fast versions. Per chunk of images, with M = Cout*kH*kW and X = images*H*W:
//   forward:       cols [M, X] = weight^T @ x_cn [Cin, X], then col2im scatter-adds onto y
//   backward-data: cols = im2col(dy) [M, X],  dx_cn [Cin, X] = weight [Cin, M] @ cols
//   backward-wgt:  dweight [Cin, M] (+)= x_cn [Cin, X] @ cols^T
// Chunking as in conv2d.cc: small independent chunks in parallel for forward and
// backward-data, large ordered chunks for the batch reduction of backward-weight.

void conv_transpose2d_forward(const float* x, const float* weight, const float* bias, float* y,
                              const ConvTranspose2dParams& p) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  if (p.batch == 0 || p.out_c == 0) return;
  const int64_t plane_in = p.in_h * p.in_w, plane_out = oh * ow;
  if (p.in_c == 0) {
    for (int64_t i = 0; i < p.batch * p.out_c; ++i) {
      std::fill(y + i * plane_out, y + (i + 1) * plane_out, bias != nullptr ? bias[i % p.out_c] : 0.0f);
    }
    return;
  }
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, ConvMask::kNone);
  const int64_t M = p.out_c * taps.size();
  // wt [M, Cin]: the weight transposed once, so every chunk's GEMM reads A row by row.
  float* wt = conv_scratch(2, M * p.in_c);
  transpose_matrix(weight, p.in_c, M, wt);
  const ConvWindow g = window_of(p, oh, ow);
  conv_for_chunks(p.batch, (M + p.in_c) * plane_in, plane_in,
                  [&](int64_t n0, int64_t m, int inner) {
    const float* xc = x + n0 * p.in_c * plane_in;
    const float* xp = xc;
    if (m > 1) {
      float* buf = conv_scratch(1, p.in_c * m * plane_in);
      nchw_to_cn(xc, m, p.in_c, plane_in, buf, inner);
      xp = buf;
    }
    float* cols = conv_scratch(0, M * m * plane_in);
    sgemm(false, false, M, m * plane_in, p.in_c, 1.0f, wt, xp, 0.0f, cols, inner);
    col2im(cols, m, p.out_c, g, taps, bias, y + n0 * p.out_c * plane_out, inner);
  });
}

void conv_transpose2d_backward_data(const float* dy, const float* weight, float* dx,
                                    const ConvTranspose2dParams& p) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  if (p.batch == 0 || p.in_c == 0) return;
  const int64_t plane_in = p.in_h * p.in_w, plane_out = oh * ow;
  if (p.out_c == 0) {
    std::fill(dx, dx + p.batch * p.in_c * plane_in, 0.0f);
    return;
  }
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, ConvMask::kNone);
  const int64_t M = p.out_c * taps.size();
  const ConvWindow g = window_of(p, oh, ow);
  conv_for_chunks(p.batch, (M + p.in_c) * plane_in, plane_in,
                  [&](int64_t n0, int64_t m, int inner) {
    float* cols = conv_scratch(0, M * m * plane_in);
    im2col(dy + n0 * p.out_c * plane_out, m, p.out_c, g, taps, cols, inner);
    float* dxc = dx + n0 * p.in_c * plane_in;
    float* out = m == 1 ? dxc : conv_scratch(1, p.in_c * m * plane_in);
    sgemm(false, false, p.in_c, m * plane_in, M, 1.0f, weight, cols, 0.0f, out, inner);
    if (m > 1) cn_to_nchw(out, m, p.in_c, plane_in, nullptr, dxc, inner);
  });
}

void conv_transpose2d_backward_weight(const float* x, const float* dy, float* dweight,
                                      float* dbias, const ConvTranspose2dParams& p,
                                      bool accumulate) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  const int64_t plane_in = p.in_h * p.in_w, plane_out = oh * ow;
  conv_bias_grad(dy, dbias, p.batch, p.out_c, plane_out, accumulate);
  if (p.in_c == 0 || p.out_c == 0) return;
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, ConvMask::kNone);
  const int64_t M = p.out_c * taps.size();
  if (p.batch == 0) {
    if (!accumulate) std::fill(dweight, dweight + p.in_c * M, 0.0f);
    return;
  }
  const ConvWindow g = window_of(p, oh, ow);
  const int64_t chunk = conv_images_per_chunk(p.batch, (M + p.in_c) * plane_in, kReduceChunkFloats);
  for (int64_t n0 = 0; n0 < p.batch; n0 += chunk) {
    const int64_t m = std::min(chunk, p.batch - n0);
    float* cols = conv_scratch(0, M * m * plane_in);
    im2col(dy + n0 * p.out_c * plane_out, m, p.out_c, g, taps, cols);
    const float* xc = x + n0 * p.in_c * plane_in;
    const float* xp = xc;
    if (m > 1) {
      float* buf = conv_scratch(1, p.in_c * m * plane_in);
      nchw_to_cn(xc, m, p.in_c, plane_in, buf);
      xp = buf;
    }
    const float beta = (n0 == 0 && !accumulate) ? 0.0f : 1.0f;
    sgemm(false, true, p.in_c, M, m * plane_in, 1.0f, xp, cols, beta, dweight);
  }
}

}  // namespace deepgen
