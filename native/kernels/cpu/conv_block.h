// GAN conv blocks: y = act(norm(conv(x) + bias)), forward and backward in one call each.
// conv is conv2d or convTranspose2d (conv2d.h / conv_transpose2d.h, no masks), norm is batch
// normalization over [N, Cout, Ho*Wo] per channel (batchnorm.h), act one of activation.h.
//
//   x      [N, Cin, H, W]
//   weight [Cout, Cin, kH, kW] (conv2d) or [Cin, Cout, kH, kW] (transposed)
//   bias   [Cout] or nullptr (usually nullptr when a norm follows: the norm cancels it)
//   pre    [N, Cout, Ho, Wo]   conv output + bias, saved for the backward
//   y      [N, Cout, Ho, Wo]   act(norm(pre))
//   gamma, beta, running_mean, running_var, mean, rstd: [Cout]
//
// Norms (exactly batchnorm.h's, so the block equals the composition of the three kernels):
//   kNone   y = act(pre); gamma, beta, running stats, mean, rstd are not touched (may be null).
//   kTrain  batch statistics of pre over (n, Ho, Wo); mean and rstd written (float, the values
//           the output and the backward use); running stats updated in place (unbiased var,
//           as PyTorch). Needs N * Ho * Wo >= 2 whenever Cout > 0 (E_SHAPE).
//   kEval   y = act((pre - running_mean) / sqrt(running_var + eps) * gamma + beta).
// Backward (of a kTrain or kNone forward; kEval is refused with E_ARG), from y, pre, mean,
// rstd of that forward:
//   dy is OVERWRITTEN: on return it holds dL/dpre (the activation's and the norm's backward
//   run in place in it). dx (may be null: skipped) is overwritten; dweight, dbias (may be
//   null), dgamma, dbeta (kTrain only; untouched in kNone) are overwritten, or added to when
//   `accumulate`.
//
// Fusion: the conv forward runs as the existing kernel; what follows it works plane by
// (n, c) plane while the plane is in cache: forward, the plane's statistics, then normalize +
// activate; backward, activation backward + the plane's two norm sums, then the norm's dx.
// The transposed conv's backward builds the im2col matrix of dpre once per chunk of images
// and runs both GEMMs (dweight, dx) on it; the separate kernels build it once each. Both
// backward convs run over small chunks of images in order (the separate backward-weight
// kernels reduce over large ones), so their column matrices stay close to the core.
// Sums are in double, per plane then over n in order (as batchnorm.cc): results do not depend
// on the thread count. The *_unfused twins are the plain composition of the three kernels
// (the reference in tests); the fused ones differ from them by float rounding at most.
#pragma once
#include <cstdint>

#include "activation.h"

namespace deepgen {

enum class ConvBlockNorm : int { kNone = 0, kTrain = 1, kEval = 2 };

struct ConvBlockParams {
  bool transposed = false;
  int64_t batch = 0, in_c = 0, in_h = 0, in_w = 0;
  int64_t out_c = 0, k_h = 0, k_w = 0;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t out_pad_h = 0, out_pad_w = 0;  // transposed only; must be 0 for conv2d
  ConvBlockNorm norm = ConvBlockNorm::kNone;
  Activation activation = Activation::kIdentity;
  float slope = 0.01f;    // leakyRelu
  float eps = 1e-5f;      // norm
  float momentum = 0.1f;  // kTrain running-stat update
};

// Validates everything (E_ARG / E_SHAPE) and returns Ho, Wo.
void conv_block_check(const ConvBlockParams& p, int64_t* out_h, int64_t* out_w);
int64_t conv_block_x_size(const ConvBlockParams& p);
int64_t conv_block_weight_size(const ConvBlockParams& p);
int64_t conv_block_y_size(const ConvBlockParams& p);

void conv_block_forward(const ConvBlockParams& p, const float* x, const float* weight,
                        const float* bias, const float* gamma, const float* beta,
                        float* running_mean, float* running_var, float* pre, float* mean,
                        float* rstd, float* y);
void conv_block_backward(const ConvBlockParams& p, const float* x, const float* weight,
                         const float* gamma, const float* pre, const float* mean, const float* rstd,
                         const float* y, float* dy, float* dx, float* dweight, float* dbias,
                         float* dgamma, float* dbeta, bool accumulate);

// The composition of conv / batchnorm / activation kernels, call after call.
void conv_block_forward_unfused(const ConvBlockParams& p, const float* x, const float* weight,
                                const float* bias, const float* gamma, const float* beta,
                                float* running_mean, float* running_var, float* pre, float* mean,
                                float* rstd, float* y);
void conv_block_backward_unfused(const ConvBlockParams& p, const float* x, const float* weight,
                                 const float* gamma, const float* pre, const float* mean,
                                 const float* rstd, const float* y, float* dy, float* dx,
                                 float* dweight, float* dbias, float* dgamma, float* dbeta,
                                 bool accumulate);

}  // namespace deepgen
