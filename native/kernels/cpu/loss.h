// Losses and log-densities of the generative models, row-wise over [R, D] (a row is one
// example; D its pixels or latent units), with their gradients, plus the two reductions the
// training loops need. Forward kernels return the per-row values [R] (optional) and the total
// over rows, accumulated in float64 in row order, so totals never depend on the thread count.
//
// Precision: the binary cross-entropy (R x 784 per step) and log-sum-exp (many short rows in
// mixture models) run their elements in float, 8 lanes with AVX2, and sum each row in float64;
// the Gaussian terms run in float64 throughout and round once when they store.
//
// Gradients take an upstream factor: s_r = scale * row_scale[r] when row_scale is given,
// else s_r = scale (1 / R for a mean over rows, the per-row upstream gradient for a chain).
// Zero rows or columns are valid: rows sum to 0 (log-sum-exp of nothing is -Inf).
#pragma once
#include <cstdint>

namespace deepgen {

// ---- reductions ----------------------------------------------------------------------------
// The fixed summation order: blocks of kReduceBlock elements, each summed in float64 in 8
// interleaved accumulators (element k of a block goes to accumulator k % 8), combined as
// ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)); the block sums are added in block order.
// The JS twin (lib/kernels/js/loss.ts) follows the same order, so native and JS agree exactly.
constexpr int64_t kReduceBlock = 4096;

// One block (n <= kReduceBlock) in the order above; the squares variant sums x[k]^2.
double reduce_block_sum(const float* x, int64_t n);
double reduce_block_sum_squares(const float* x, int64_t n);

// x [n] -> sum (float64). n == 0 gives 0.
double reduce_sum(const float* x, int64_t n);
// x [n] -> sum / n. n == 0 throws E_SHAPE (the mean of nothing is undefined).
double reduce_mean(const float* x, int64_t n);

// ---- binary cross-entropy with logits --------------------------------------------------------
// forward: logits z [R, D], targets x [R, D] (in [0, 1]) -> row_loss [R] (may be null), total
//   loss(z, x) = softplus(z) - x z = max(z, 0) - x z + log1p(exp(-|z|))
// which never overflows: z = 100 with x = 0 (or z = -100 with x = 1) gives exactly 100,
// z = 1e4 gives 1e4, and an agreeing target gives log1p(exp(-|z|)) ~ exp(-|z|) (0 once that
// underflows the float range).
double bce_with_logits_forward(float* row_loss, const float* logits, const float* targets,
                               int64_t rows, int64_t cols);
// backward: z, x [R, D] -> dz [R, D] = s_r * (sigmoid(z) - x)
void bce_with_logits_backward(float* dlogits, const float* logits, const float* targets,
                              int64_t rows, int64_t cols, double scale, const float* row_scale);

// Per-row implementations over rows [r0, r1) (one thread), plain and AVX2 (loss_avx2.cc).
// The forward ones return nothing: they write the float64 row sums to sums[r - r0].
void bce_forward_rows_plain(double* sums, const float* logits, const float* targets, int64_t cols,
                            int64_t r0, int64_t r1);
void bce_forward_rows_avx2(double* sums, const float* logits, const float* targets, int64_t cols,
                           int64_t r0, int64_t r1);
void bce_backward_rows_plain(float* dlogits, const float* logits, const float* targets,
                             int64_t cols, int64_t r0, int64_t r1, double scale,
                             const float* row_scale);
void bce_backward_rows_avx2(float* dlogits, const float* logits, const float* targets, int64_t cols,
                            int64_t r0, int64_t r1, double scale, const float* row_scale);

// ---- continuous Bernoulli (Loaiza-Ganem & Cunningham 2019) with logits --------------------------
// p(x | lambda) = C(lambda) lambda^x (1 - lambda)^(1 - x) on x in [0, 1], lambda = sigmoid(z).
// With 1 - 2 lambda = -tanh(z / 2) and atanh(1 - 2 lambda) = -z / 2 the normalizer is
//   C = 2 atanh(1 - 2 lambda) / (1 - 2 lambda) = z / tanh(z / 2),   C(0) = 2,
// so the negative log-density per element is
//   nll(z, x) = softplus(z) - x z - log C(z),
//   log C(z) = log|z| - log tanh(|z| / 2)    (|z| >= kCbTaylor; tanh from expm1: no overflow)
//            = log 2 + z^2/12 - 7 z^4/1440 + 31 z^6/90720   (|z| < kCbTaylor, lambda near 0.5,
//              where the closed form is 0/0 at z = 0 and its gradient cancels catastrophically),
//   d nll / dz = sigmoid(z) - x - (1/z - 1/sinh z),
//   1/z - 1/sinh z = z/6 - 7 z^3/360 + 31 z^5/15120   (|z| < kCbTaylor).
// For |z| >= kCbTaylor the forward computes softplus(z) - log C(z) as
//   max(z, 0) - log(|z| / (1 - exp(-|z|)))   (expm1; the two log1p(exp(-|z|)) terms cancel),
// and the backward gets the sigmoid and 1/sinh z = sign(z) 2e / (1 - e^2) from one e = exp(-|z|).
// Everything in float64 (rounded once when stored); the JS twin uses the same formulas.
constexpr double kCbTaylor = 0.05;
// forward: logits z, targets x [R, D] -> row_nll [R] (may be null), total
double cbernoulli_nll_forward(float* row_nll, const float* logits, const float* targets,
                              int64_t rows, int64_t cols);
// backward: -> dz [R, D] = s_r * d nll / dz
void cbernoulli_nll_backward(float* dlogits, const float* logits, const float* targets,
                             int64_t rows, int64_t cols, double scale, const float* row_scale);

// ---- KL( N(mu, exp(logvar)) || N(0, I) ) -----------------------------------------------------
// forward: mu, logvar [R, D] -> row_kl [R] (may be null), total
//   kl_r = 0.5 * sum_d (mu^2 + exp(logvar) - 1 - logvar), computed as mu^2 + expm1(lv) - lv
//   (no cancellation for small logvar). For logvar > ~88 exp(logvar) leaves the float range:
//   the stored row value is +Inf while the float64 total stays finite.
double gaussian_kl_forward(float* row_kl, const float* mu, const float* logvar, int64_t rows,
                           int64_t cols);
// backward: -> dmu = s_r * mu, dlogvar = s_r * 0.5 * expm1(logvar)   (both [R, D])
void gaussian_kl_backward(float* dmu, float* dlogvar, const float* mu, const float* logvar,
                          int64_t rows, int64_t cols, double scale, const float* row_scale);

// ---- diagonal Gaussian log-density -------------------------------------------------------------
// forward: x, mu, logvar [R, D] -> row_logp [R] (may be null), total
//   logp_r = sum_d -0.5 * (log(2 pi) + lv + (x - mu)^2 exp(-lv))
double gaussian_log_prob_forward(float* row_logp, const float* x, const float* mu,
                                 const float* logvar, int64_t rows, int64_t cols);
// backward: with w = (x - mu) exp(-lv), any of the outputs may be null (not wanted):
//   dx = -s_r w,  dmu = s_r w,  dlogvar = 0.5 s_r ((x - mu) w - 1)
void gaussian_log_prob_backward(float* dx, float* dmu, float* dlogvar, const float* x,
                                const float* mu, const float* logvar, int64_t rows, int64_t cols,
                                double scale, const float* row_scale);

// ---- log-sum-exp
// --------------------------------------------------------------------------------- forward: x [R,
// D] -> out [R] = m + log(sum_d exp(x_d - m)), m = max_d x_d (max-shift: no overflow for any finite
// input). Special rows:
//   -Inf entries contribute nothing; a row of only -Inf (or D = 0) gives -Inf;
//   a +Inf entry gives +Inf; a NaN entry gives NaN.
void log_sum_exp_forward(float* out, const float* x, int64_t rows, int64_t cols);
// backward: x [R, D], lse [R] (the forward's output), dout [R] -> dx [R, D]
//   dx = dout_r * exp(x - lse_r)   (softmax times the upstream gradient)
// A row with lse = -Inf gets dx = 0 (no entry has any weight); with lse = +Inf, entries equal
// to +Inf get NaN (the gradient is undefined there) and the others 0.
void log_sum_exp_backward(float* dx, const float* x, const float* lse, const float* dout,
                          int64_t rows, int64_t cols);

// ---- softmax cross-entropy -------------------------------------------------------------------
// forward: logits z [R, C], targets t [R, C] (class probabilities: one-hot labels, or soft
// targets) -> row_loss [R] (may be null), total
//   loss_r = sum_c t_c (lse_r - z_c),  lse_r = m + log(sum_c exp(z_c - m)), m = max_c z_c
// in float64 throughout (classifier rows are short: 10 classes). The max shift keeps any
// finite logits finite (z = (1000, 0), t = (0, 1) gives exactly 1000); entries with t_c = 0
// contribute nothing, so a -Inf logit of a class that is not a target is harmless.
// C = 0 gives 0.
double softmax_cross_entropy_forward(float* row_loss, const float* logits, const float* targets,
                                     int64_t rows, int64_t cols);
// backward: -> dz [R, C] = s_r (T_r softmax(z)_c - t_c),  T_r = sum_c t_c (1 for one-hot rows)
void softmax_cross_entropy_backward(float* dlogits, const float* logits, const float* targets,
                                    int64_t rows, int64_t cols, double scale,
                                    const float* row_scale);

// Per-row implementations over rows [r0, r1). The plain ones compute exp in float64 (libm);
// the AVX2 ones use float exp (gate_math_avx2.h) with float64 row sums, a few float ulps from
// the plain ones. Mixture models call these on many short rows, hence the vector version.
void lse_forward_rows_plain(float* out, const float* x, int64_t cols, int64_t r0, int64_t r1);
void lse_forward_rows_avx2(float* out, const float* x, int64_t cols, int64_t r0, int64_t r1);
void lse_backward_rows_plain(float* dx, const float* x, const float* lse, const float* dout,
                             int64_t cols, int64_t r0, int64_t r1);
void lse_backward_rows_avx2(float* dx, const float* x, const float* lse, const float* dout,
                            int64_t cols, int64_t r0, int64_t r1);

}  // namespace deepgen
