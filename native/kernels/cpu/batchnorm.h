// Batch normalization over [N, C, S] per channel c (S = spatial size; S = 1 for a dense
// layer's [N, C]), with a learned scale gamma[c] and shift beta[c]. M = N * S values per
// channel.
//
// Training forward:
//   mean[c] = sum_{n,s} x / M,  var[c] = sum_{n,s} (x - mean)^2 / M   (biased, two passes)
//   rstd[c] = 1 / sqrt(var + eps)
//   y = (x - mean) * rstd * gamma + beta
//   running_mean = (1 - momentum) running_mean + momentum mean                (in place)
//   running_var  = (1 - momentum) running_var + momentum var * M / (M - 1)   (unbiased, as
//   PyTorch). mean and rstd are saved (rounded to float) and the output is computed from the
//   saved values, so the backward sees exactly what the forward used.
//   Needs M >= 2 whenever C > 0 (E_SHAPE otherwise, like PyTorch's "more than 1 value per
//   channel"); C == 0 does nothing.
// Eval forward: y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta. Any size.
// Training backward (xhat = (x - mean) * rstd, from the saved mean and rstd):
//   dbeta[c] = sum dy,  dgamma[c] = sum dy * xhat,
//   dx = gamma * rstd * (dy - dbeta / M - xhat * dgamma / M).
//
// Sums are taken in double: per (n, c) plane of S elements, then over n in order; for the
// dense layout (S == 1) per fixed block of sample rows, then over the blocks in order
// (vmath.h column_sums_f64). Results do not depend on the thread count. Outputs are
// overwritten (nothing accumulates).
// y may be x (then the backward, which needs x, cannot run); dx may be dy.
#pragma once
#include <cstdint>

namespace deepgen {

// x, y: [N, C, S]; gamma, beta, mean, rstd, running_mean, running_var: [C].
void batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float* y,
                             float* mean, float* rstd, float* running_mean, float* running_var,
                             int64_t N, int64_t C, int64_t S, float eps, float momentum);

// x, y: [N, C, S]; gamma, beta, running_mean, running_var: [C].
void batchnorm_forward_eval(const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float* y,
                            int64_t N, int64_t C, int64_t S, float eps);

// x, dy, dx: [N, C, S]; gamma, mean, rstd, dgamma, dbeta: [C].
void batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t N,
                        int64_t C, int64_t S);

// The same kernels built on the plain row loops only (the reference for tests).
void batchnorm_forward_train_plain(const float* x, const float* gamma, const float* beta, float* y,
                                   float* mean, float* rstd, float* running_mean,
                                   float* running_var, int64_t N, int64_t C, int64_t S, float eps,
                                   float momentum);
void batchnorm_forward_eval_plain(const float* x, const float* gamma, const float* beta,
                                  const float* running_mean, const float* running_var, float* y,
                                  int64_t N, int64_t C, int64_t S, float eps);
void batchnorm_backward_plain(const float* x, const float* dy, const float* gamma,
                              const float* mean, const float* rstd, float* dx, float* dgamma,
                              float* dbeta, int64_t N, int64_t C, int64_t S);

// Row loops over one (n, c) plane of S elements, plain and AVX2 (batchnorm_avx2.cc):
//   affine:   y = (x - center) * scale + shift
//   backward: dx = a * dy + b * (x - center) + k
void batchnorm_affine_row_plain(const float* x, float* y, int64_t n, float center, float scale,
                                float shift);
void batchnorm_affine_row_avx2(const float* x, float* y, int64_t n, float center, float scale,
                               float shift);
void batchnorm_backward_row_plain(const float* x, const float* dy, float* dx, int64_t n,
                                  float center, float a, float b, float k);
void batchnorm_backward_row_avx2(const float* x, const float* dy, float* dx, int64_t n,
                                 float center, float a, float b, float k);

// Column loops over one sample row of the dense layout (S == 1), for a block of w channels
// (per-channel parameters are arrays here), plain and AVX2:
//   sum_sq:    acc[j] += (x[j] - center[j])^2                      (double)
//   grad_sums: sum_dy[j] += dy[j];  sum_dyc[j] += dy[j] (x[j] - mean[j])   (double)
//   affine:    y[j] = (x[j] - center[j]) * scale[j] + shift[j]
//   backward:  dx[j] = a[j] dy[j] + b[j] (x[j] - center[j]) + k[j]
void batchnorm_col_sum_sq_plain(double* acc, const float* x, const double* center, int64_t w);
void batchnorm_col_sum_sq_avx2(double* acc, const float* x, const double* center, int64_t w);
void batchnorm_col_grad_sums_plain(double* sum_dy, double* sum_dyc, const float* dy, const float* x,
                                   const float* mean, int64_t w);
void batchnorm_col_grad_sums_avx2(double* sum_dy, double* sum_dyc, const float* dy, const float* x,
                                  const float* mean, int64_t w);
void batchnorm_col_affine_plain(const float* x, float* y, const float* center, const float* scale,
                                const float* shift, int64_t w);
void batchnorm_col_affine_avx2(const float* x, float* y, const float* center, const float* scale,
                               const float* shift, int64_t w);
void batchnorm_col_backward_plain(const float* x, const float* dy, float* dx, const float* center,
                                  const float* a, const float* b, const float* k, int64_t w);
void batchnorm_col_backward_avx2(const float* x, const float* dy, float* dx, const float* center,
                                 const float* a, const float* b, const float* k, int64_t w);

}  // namespace deepgen
