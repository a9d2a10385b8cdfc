// 2-D convolution, NCHW, float32, dilation 1, groups 1, with optional PixelCNN masks.
//
//   x      [N, Cin, H, W]
//   weight [Cout, Cin, kH, kW]
//   bias   [Cout] or nullptr
//   y      [N, Cout, Ho, Wo],  Ho = floor((H + 2 padH - kH) / strideH) + 1  (same for W)
//   y[n, co, oy, ox] = bias[co] + sum_{ci, ky, kx unmasked}
//                      weight[co, ci, ky, kx] * x[n, ci, oy*strideH - padH + ky, ox*strideW - padW
//                      + kx]
//   (x is zero outside the image.)
//
// Masks (ConvMask in im2col.h): the kernel's centre is (kH / 2, kW / 2) (floor); positions
// after it in raster order are masked, and mask A masks the centre too. Masked weights are
// NEVER read (the kernels skip those taps), so whatever they hold (NaN included) has no
// effect; conv2d_mask_weights zeroes them so optimizers and exports see zeros.
//
// Sizes: N, Cin, Cout may be 0 (empty work; with Cin = 0 the output is the bias). H, W must
// be >= 1 and the output at least 1 x 1, else KernelError(E_SHAPE); kernel sizes and strides
// must be >= 1 and pads >= 0, else KernelError(E_ARG).
//
// Gradients: backward_data OVERWRITES dx. backward_weight overwrites dweight / dbias, or adds
// to them when `accumulate` is true (summing over several calls, e.g. time steps). Masked
// positions of dweight get 0 (overwrite) or are left as they are (accumulate: adds 0).
//
// Every function has a plain twin (direct loops, one thread, double accumulators) used as the
// reference in tests; the fast ones use im2col + one sgemm per chunk of images (see
// conv_for_chunks in im2col.h), except the forward pass of wide layers on AVX2/FMA CPUs,
// which runs direct-convolution tiles (conv2d_tile_avx2) over a padded copy of the input,
// and backward-data of unmasked layers whose transposed conv takes its direct path (a
// conv2d's dx is conv_transpose2d_forward of dy with the same weight). All give results that do not
// depend on the thread count (each output is summed in a fixed order by one thread); the two
// forward paths differ from each other by float rounding only. Scratch: per-thread buffers of about
// 2 MB per pool thread for forward / backward-data, up to ~16 MB on the calling thread for
// backward-weight, kept for reuse (conv_scratch); at least one image's columns, Cin * kH * kW * Ho
// * Wo floats, whatever the budget (chunks never split an image: fine for MNIST-sized images, large
// for big images with big kernels).
#pragma once
#include <cstdint>

#include "im2col.h"

namespace deepgen {

struct Conv2dParams {
  int64_t batch = 0, in_c = 0, in_h = 0, in_w = 0;
  int64_t out_c = 0, k_h = 0, k_w = 0;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  ConvMask mask = ConvMask::kNone;
};

// Validates the parameters (E_ARG / E_SHAPE as above) and returns Ho, Wo.
void conv2d_check(const Conv2dParams& p, int64_t* out_h, int64_t* out_w);
// Element counts of x, weight, y (after conv2d_check).
int64_t conv2d_x_size(const Conv2dParams& p);
int64_t conv2d_weight_size(const Conv2dParams& p);
int64_t conv2d_y_size(const Conv2dParams& p);

// y = conv(x, weight) + bias.   x [N,Cin,H,W], weight [Cout,Cin,kH,kW], bias [Cout]|null -> y
// [N,Cout,Ho,Wo]
void conv2d_forward(const float* x, const float* weight, const float* bias, float* y,
                    const Conv2dParams& p);
// dx = d(sum y*dy)/dx.          dy [N,Cout,Ho,Wo], weight [Cout,Cin,kH,kW] -> dx [N,Cin,H,W]
void conv2d_backward_data(const float* dy, const float* weight, float* dx, const Conv2dParams& p);
// dweight (+)= sum_n dy (x) x, dbias (+)= sum_{n,oy,ox} dy.
//                               x [N,Cin,H,W], dy [N,Cout,Ho,Wo] -> dweight [Cout,Cin,kH,kW], dbias
//                               [Cout]|null
void conv2d_backward_weight(const float* x, const float* dy, float* dweight, float* dbias,
                            const Conv2dParams& p, bool accumulate);

// Plain reference twins: same semantics.
void conv2d_forward_plain(const float* x, const float* weight, const float* bias, float* y,
                          const Conv2dParams& p);
void conv2d_backward_data_plain(const float* dy, const float* weight, float* dx,
                                const Conv2dParams& p);
void conv2d_backward_weight_plain(const float* x, const float* dy, float* dweight, float* dbias,
                                  const Conv2dParams& p, bool accumulate);

// The forward pass's direct-convolution tile (used when the CPU has AVX2/FMA and Cout is
// wide enough; see conv2d_forward in conv2d.cc): kConvTilePixels output pixels x
// kConvTileChannels output channels, accumulated in registers over kc (input channel, tap)
// pairs read straight from a zero-padded copy of the input, without an im2col matrix:
//   c[r * ldc + j] = (accumulate ? c[r * ldc + j] : 0)
//                    + sum_{k < kc, in order} x[pix[r] + koff[k]] * w[k * kConvTileChannels + j]
// pix[r]: offset of pixel r's window origin in x; koff[k]: offset of pair k from the origin.
constexpr int kConvTilePixels = 6;
constexpr int kConvTileChannels = 16;
void conv2d_tile_portable(int64_t kc, const float* x, const int64_t* pix, const int64_t* koff,
                          const float* w, float* c, int64_t ldc, bool accumulate);
void conv2d_tile_avx2(int64_t kc, const float* x, const int64_t* pix, const int64_t* koff,
                      const float* w, float* c, int64_t ldc, bool accumulate);
using ConvTile = void (*)(int64_t, const float*, const int64_t*, const int64_t*, const float*,
                          float*, int64_t, bool);
// Two adjacent channel blocks at once on AVX-512F (called only when use_avx512()): w0 holds
// the weights of c's channels [0, 16), w1 those of [16, 32), one zmm per pixel and block. Each
// element sees conv2d_tile_avx2's arithmetic, so the result is that of two calls bit for bit.
void conv2d_tile_pair_avx512(int64_t kc, const float* x, const int64_t* pix, const int64_t* koff,
                             const float* w0, const float* w1, float* c, int64_t ldc,
                             bool accumulate);
// The tiles [t0, t1) of one K block over all c_blocks channel blocks (block b's weights at
// w + b * w_block_stride, its columns of C at b * kConvTileChannels): `tile` one block at a
// time, or adjacent blocks in pairs when `pair`.
void conv2d_run_tiles(int64_t kc, const float* x, const int64_t* pix, const int64_t* koff,
                      const float* w, int64_t w_block_stride, int64_t c_blocks, int64_t t0,
                      int64_t t1, float* c, int64_t ldc, bool accumulate, bool pair, ConvTile tile);

// dst[q][j] = slab[j * 16 + q] for a contiguous 16 x 16 slab: 16 output channels x the 16 taps
// of a 4x4 kernel turned tap-major (conv_transpose2d.cc packs its weight slab by slab).
void transpose16_portable(const float* slab, float* const* dst);
void transpose16_avx2(const float* slab, float* const* dst);

// True when conv2d_forward takes the direct-tile path for p (AVX2/FMA and a wide layer).
// conv_transpose2d_backward_data, a conv2d of dy, runs through conv2d_forward when it does.
bool conv2d_forward_is_direct(const Conv2dParams& p);
// True when conv2d_backward_data runs as conv_transpose2d_forward's direct path.
bool conv2d_backward_data_is_direct(const Conv2dParams& p);

// Zeroes the masked positions of weight [out_c, in_c, k_h, k_w] (no-op for kNone).
void conv2d_mask_weights(float* weight, int64_t out_c, int64_t in_c, int64_t k_h, int64_t k_w,
                         ConvMask mask);

}  // namespace deepgen
