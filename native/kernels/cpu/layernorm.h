// Layer normalization over the last dimension of x: [R, D] (R rows of D features), with a
// learned scale gamma[D] and shift beta[D].
//
// Forward, per row r:
//   mean[r] = sum_d x / D,  var = sum_d (x - mean)^2 / D  (biased, two passes, in double)
//   rstd[r] = 1 / sqrt(var + eps)
//   y[r, d] = (x[r, d] - mean[r]) * rstd[r] * gamma[d] + beta[d]
//   mean and rstd are saved (rounded to float); y is computed from the saved values.
// Backward (xhat = (x - mean) * rstd, g = dy * gamma):
//   dx[r, d] = rstd * (g - sum_d g / D - xhat * sum_d (g xhat) / D)
//   dgamma[d] = sum_r dy * xhat,  dbeta[d] = sum_r dy
//
// R == 0 does nothing (dgamma = dbeta = 0); D == 0 with R > 0 is E_SHAPE (no mean exists).
// The column sums dgamma / dbeta are accumulated in double per fixed block of rows (the block
// size depends on R only) and the blocks are added in order, so results do not depend on the
// thread count. Outputs are overwritten. y may be x (then the backward, which needs x, cannot
// run); dx may be dy.
#pragma once
#include <cstdint>

namespace deepgen {

// x, y: [R, D]; gamma, beta: [D]; mean, rstd: [R].
void layernorm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean,
                       float* rstd, int64_t R, int64_t D, float eps);

// x, dy, dx: [R, D]; gamma, dgamma, dbeta: [D]; mean, rstd: [R].
void layernorm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t R,
                        int64_t D);

// The same kernels built on the plain row loops only (the reference for tests).
void layernorm_forward_plain(const float* x, const float* gamma, const float* beta, float* y,
                             float* mean, float* rstd, int64_t R, int64_t D, float eps);
void layernorm_backward_plain(const float* x, const float* dy, const float* gamma,
                              const float* mean, const float* rstd, float* dx, float* dgamma,
                              float* dbeta, int64_t R, int64_t D);

// One row, plain and AVX2 (layernorm_avx2.cc).
//   forward:  y[d] = (x[d] - mean) * rstd * gamma[d] + beta[d]
//   backward: dx as above for the row; adds dy * xhat to dgamma_acc[d] and dy to dbeta_acc[d].
void layernorm_forward_row_plain(const float* x, const float* gamma, const float* beta, float* y,
                                 int64_t D, float mean, float rstd);
void layernorm_forward_row_avx2(const float* x, const float* gamma, const float* beta, float* y,
                                int64_t D, float mean, float rstd);
void layernorm_backward_row_plain(const float* x, const float* dy, const float* gamma, float* dx,
                                  double* dgamma_acc, double* dbeta_acc, int64_t D, float mean,
                                  float rstd);
void layernorm_backward_row_avx2(const float* x, const float* dy, const float* gamma, float* dx,
                                 double* dgamma_acc, double* dbeta_acc, int64_t D, float mean,
                                 float rstd);

}  // namespace deepgen
