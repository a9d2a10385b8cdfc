// Device-pointer launchers of the CUDA kernels, for the device-resident model handles
// (dcgan_resident.cu): every pointer here is DEVICE memory, every call only enqueues work on
// the default stream (no copy, no synchronization), and the caller has validated the sizes
// with the CPU kernels' checks. Each launcher lives in the .cu file of the kernel it runs, and
// that file's host-buffer entry point (cuda_api.h) is upload + launcher + download, so the
// host-buffer tests against the CPU also cover the launchers. Launch failures throw
// KernelError(E_BACKEND). No CUDA include: plain C++ declarations.
#pragma once
#include <cstdint>

#include "../cpu/activation.h"
#include "../cpu/conv_block.h"
#include "../cpu/gemm.h"
#include "../cpu/optim.h"

namespace deepgen {
namespace cuda {
namespace dev {

// gemm.cu: the sgemm of gemm.h with device matrices (sgemm_check must have passed).
void sgemm(const GemmArgs& g);

// activation.cu, over [N, C, S]:
//   y = act(x + bias[c]) (bias null: act(x)); y may be x.
void bias_activation_forward(Activation kind, const float* x, const float* bias, float* y,
                             int64_t N, int64_t C, int64_t S, float slope);
//   dx = dy * f'(from y); dx may be dy. dbias (may be null) [C] = sum over n, s of dx.
void bias_activation_backward(Activation kind, const float* y, const float* dy, float* dx,
                              float* dbias, int64_t N, int64_t C, int64_t S, float slope);

// batchnorm.cu (the semantics of batchnorm.h). scratch: 2 C floats (train), C (eval), 3 C
// (backward). The train forward needs N * S >= 2 (checked by the caller).
void batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float* y,
                             float* mean, float* rstd, float* running_mean, float* running_var,
                             int64_t N, int64_t C, int64_t S, float eps, float momentum,
                             float* scratch);
void batchnorm_forward_eval(const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float* y,
                            int64_t N, int64_t C, int64_t S, float eps, float* scratch);
void batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t N,
                        int64_t C, int64_t S, float* scratch);

// conv_block.cu / conv_block_backward.cu (the semantics of conv_block.h; oh, ow from
// conv_block_check). scratch: 2 * out_c floats (forward), 3 * out_c (backward).
void conv_block_forward(const ConvBlockParams& p, int64_t oh, int64_t ow, const float* x,
                        const float* weight, const float* bias, const float* gamma,
                        const float* beta, float* running_mean, float* running_var, float* pre,
                        float* mean, float* rstd, float* y, float* scratch);
void conv_block_backward(const ConvBlockParams& p, int64_t oh, int64_t ow, const float* x,
                         const float* weight, const float* gamma, const float* pre,
                         const float* mean, const float* rstd, const float* y, float* dy, float* dx,
                         float* dweight, float* dbias, float* dgamma, float* dbeta, bool accumulate,
                         float* scratch);

// loss.cu (the semantics of loss.h's binary cross-entropy with logits).
//   row_sums [rows] (double scratch) get the per-row sums; row_loss (may be null) their float
//   values; *total (device double) their sum in row order.
void bce_with_logits_forward(float* row_loss, const float* logits, const float* targets,
                             int64_t rows, int64_t cols, double* row_sums, double* total);
void bce_with_logits_backward(float* dlogits, const float* logits, const float* targets,
                              int64_t rows, int64_t cols, double scale, const float* row_scale);

// optim.cu.
//   *out (device double) = the sum of squares of `count` arrays (double, arrays in order);
//   partial: kGradNormPartials * count doubles of scratch. The caller takes the sqrt.
constexpr int kGradNormPartials = 256;
void sum_squares(const float* const* arrays, const int64_t* sizes, int64_t count, double* partial,
                 double* out);
//   the adam_step of optim.h (adam_check must have passed).
void adam_step(float* params, const float* grads, float* m, float* v, int64_t n,
               const AdamConfig& cfg);

}  // namespace dev
}  // namespace cuda
}  // namespace deepgen
