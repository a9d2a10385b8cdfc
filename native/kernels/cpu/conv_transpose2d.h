// 2-D transposed convolution ("deconvolution"), NCHW, float32, dilation 1, groups 1, with
// PyTorch's ConvTranspose2d semantics: the adjoint of conv2d with the same stride/pad, plus
// output padding on the bottom/right.
//
//   x      [N, Cin, H, W]
//   weight [Cin, Cout, kH, kW]           (note: Cin first, as in PyTorch)
//   bias   [Cout] or nullptr
//   y      [N, Cout, Ho, Wo],  Ho = (H - 1) * strideH - 2 padH + kH + outPadH  (same for W)
//   y[n, co, iy*strideH - padH + ky, ix*strideW - padW + kx] += x[n, ci, iy, ix] * weight[ci, co,
//   ky, kx] for all (ci, iy, ix, ky, kx), positions outside [0, Ho) x [0, Wo) dropped; then +
//   bias[co].
//
// DCGAN's 4x4 / stride 2 / pad 1 doubles the size: 7 -> 14 -> 28.
//
// Sizes: N, Cin, Cout may be 0 (empty work; with Cin = 0 the output is the bias). H, W, kH,
// kW >= 1 and Ho, Wo >= 1, else KernelError(E_SHAPE) (H, W = 0) or E_ARG (kernel 0); strides
// >= 1, pads >= 0 and 0 <= outPad < stride (PyTorch's rule), else E_ARG.
//
// Gradients: backward_data OVERWRITES dx; backward_weight overwrites dweight / dbias, or adds
// to them when `accumulate` is true.
//
// Fast paths (conv_transpose2d.cc): im2col / col2im + one sgemm per chunk of images; on
// AVX2/FMA CPUs, wide layers (see use_direct_forward) run the forward as one small stride-1
// correlation per stride phase through conv2d's direct tile, and backward-data as
// conv2d_forward of dy (its direct tiles). Results do not depend on the thread count.
#pragma once
#include <cstdint>

#include "im2col.h"

namespace deepgen {

struct ConvTranspose2dParams {
  int64_t batch = 0, in_c = 0, in_h = 0, in_w = 0;
  int64_t out_c = 0, k_h = 0, k_w = 0;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t out_pad_h = 0, out_pad_w = 0;
};

// Validates the parameters and returns Ho, Wo.
void conv_transpose2d_check(const ConvTranspose2dParams& p, int64_t* out_h, int64_t* out_w);
int64_t conv_transpose2d_x_size(const ConvTranspose2dParams& p);
int64_t conv_transpose2d_weight_size(const ConvTranspose2dParams& p);
int64_t conv_transpose2d_y_size(const ConvTranspose2dParams& p);

//   x [N,Cin,H,W], weight [Cin,Cout,kH,kW], bias [Cout]|null -> y [N,Cout,Ho,Wo]
void conv_transpose2d_forward(const float* x, const float* weight, const float* bias, float* y,
                              const ConvTranspose2dParams& p);
//   dy [N,Cout,Ho,Wo], weight [Cin,Cout,kH,kW] -> dx [N,Cin,H,W]   (a plain conv of dy)
void conv_transpose2d_backward_data(const float* dy, const float* weight, float* dx,
                                    const ConvTranspose2dParams& p);
//   x [N,Cin,H,W], dy [N,Cout,Ho,Wo] -> dweight [Cin,Cout,kH,kW] (+)=, dbias [Cout]|null (+)=
void conv_transpose2d_backward_weight(const float* x, const float* dy, float* dweight, float* dbias,
                                      const ConvTranspose2dParams& p, bool accumulate);

// True when conv_transpose2d_forward takes the direct stride-phase path for p (AVX2/FMA and
// a wide layer). conv2d_backward_data, a transposed conv of dy, runs through
// conv_transpose2d_forward when it does.
bool conv_transpose2d_forward_is_direct(const ConvTranspose2dParams& p);
// True when conv_transpose2d_backward_data runs as conv2d_forward's direct path.
bool conv_transpose2d_backward_data_is_direct(const ConvTranspose2dParams& p);

// Plain reference twins.
void conv_transpose2d_forward_plain(const float* x, const float* weight, const float* bias,
                                    float* y, const ConvTranspose2dParams& p);
void conv_transpose2d_backward_data_plain(const float* dy, const float* weight, float* dx,
                                          const ConvTranspose2dParams& p);
void conv_transpose2d_backward_weight_plain(const float* x, const float* dy, float* dweight,
                                            float* dbias, const ConvTranspose2dParams& p,
                                            bool accumulate);

}  // namespace deepgen
