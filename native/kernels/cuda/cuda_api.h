// The CUDA kernels' plain C++ entry points. This header has no CUDA include, so the addon's
// own sources compile without the CUDA toolkit; the definitions live in the .cu files (built
// with DEEPGEN_CUDA=ON) or in native/addon/cuda_absent.cc (CPU-only builds).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../cpu/activation.h"
#include "../cpu/conv_block.h"
#include "../cpu/gemm.h"
#include "../cpu/nade.h"
#include "../cpu/optim.h"
#include "../cpu/pixelrnn.h"

namespace deepgen {
namespace cuda {

// True when this binary was compiled with the CUDA kernels.
bool built();

// Number of usable devices; 0 when none or no driver (reason in *why, if given).
// Never throws.
int device_count(std::string* why);

struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0;
  uint64_t total_memory = 0;
  uint64_t free_memory = 0;
};
// Throws KernelError(E_BACKEND) if the device cannot be queried.
DeviceInfo device_info(int device);

// Same semantics as the CPU philox_fill (native/kernels/cpu/philox_fill.h): host buffer in,
// host buffer out. Throws KernelError(E_BACKEND) when no device is usable.
void philox_fill(float* host_out, int64_t n, uint32_t key0, uint32_t key1, uint32_t stream,
                 int distribution);

// Bytes of device memory held by live model handles (NadeDeviceModel, ...); 0 without CUDA.
uint64_t resident_bytes();

// ---- NADE (nade.cu) ------------------------------------------------------------------------
// A NADE whose weights live on the device: uploaded once by nade_upload, freed by
// nade_release. log_prob and sample have the semantics of the CPU nade_log_prob / nade_sample
// (native/kernels/cpu/nade.h), the same Philox counters included, and take host buffers: one
// copy in, one launch per chunk of samples, one copy out.
struct NadeDeviceModel;
// Validates like nade_check (E_ARG); E_BACKEND without a device or when H (> 4096) is too
// large for the kernels' on-chip state (see nade.cu).
NadeDeviceModel* nade_upload(const NadeParams& p);
void nade_release(NadeDeviceModel* m) noexcept;  // null is fine
void nade_log_prob(NadeDeviceModel* m, const float* x, int64_t n, float* logp);
void nade_sample(NadeDeviceModel* m, int64_t n, uint64_t sample_offset, uint32_t key0,
                 uint32_t key1, uint32_t stream, int64_t known, float* x, float* probs);
// Gradients of scale * sum_i -log p(x_i), written (not accumulated) to dwt, dc, dv, db (host
// arrays); logp (optional) gets log p(x_i). Per-sample gradients are summed in sample order.
void nade_backward(NadeDeviceModel* m, const float* x, int64_t n, float scale, float* logp,
                   float* dwt, float* dc, float* dv, float* db);

// ---- Dense layers and optimizers (gemm.cu, optim.cu), host buffers in and out ---------------
// Same semantics and checks as the CPU sgemm (gemm.h), batched and transposed included.
void sgemm(const GemmArgs& g);
// Same semantics as the CPU clip_grad_norm (optim.h): returns the norm before clipping.
double clip_grad_norm(float* const* arrays, const int64_t* sizes, int64_t count, double max_norm);
// Same semantics and checks as the CPU adam_step (optim.h).
void adam_step(float* params, const float* grads, float* m, float* v, int64_t n,
               const AdamConfig& cfg);

// ---- Activations and batch norm (activation.cu, batchnorm.cu), host buffers in and out ------
// Same semantics and checks as the CPU kernels of activation.h / batchnorm.h: the pieces of
// the GAN networks outside the conv blocks (the dense layer's bias + activation, NormAct's
// batch norm + activation).
void activation_forward(Activation kind, const float* x, float* y, int64_t n, float slope);
void activation_backward(Activation kind, const float* y, const float* dy, float* dx, int64_t n,
                         float slope);
void bias_activation_forward(Activation kind, const float* x, const float* bias, float* y,
                             int64_t N, int64_t C, int64_t S, float slope);
void bias_activation_backward(Activation kind, const float* y, const float* dy, float* dx,
                              float* dbias, int64_t N, int64_t C, int64_t S, float slope);
void batchnorm_forward_train(const float* x, const float* gamma, const float* beta, float* y,
                             float* mean, float* rstd, float* running_mean, float* running_var,
                             int64_t N, int64_t C, int64_t S, float eps, float momentum);
void batchnorm_forward_eval(const float* x, const float* gamma, const float* beta,
                            const float* running_mean, const float* running_var, float* y,
                            int64_t N, int64_t C, int64_t S, float eps);
void batchnorm_backward(const float* x, const float* dy, const float* gamma, const float* mean,
                        const float* rstd, float* dx, float* dgamma, float* dbeta, int64_t N,
                        int64_t C, int64_t S);

// ---- GAN losses (loss.cu), host buffers in and out -----------------------------------------
// Same semantics and checks as the CPU bce_with_logits_forward / _backward (loss.h).
double bce_with_logits_forward(float* row_loss, const float* logits, const float* targets,
                               int64_t rows, int64_t cols);
void bce_with_logits_backward(float* dlogits, const float* logits, const float* targets,
                              int64_t rows, int64_t cols, double scale, const float* row_scale);

// ---- GAN conv block forward and backward (conv_block*.cu), host buffers in and out
// ----------------------- Same semantics and checks as the CPU conv_block_forward (conv_block.h):
// conv2d or convTranspose2d (+ bias), batch norm (none / train statistics / eval) and the
// activation.
void conv_block_forward(const ConvBlockParams& p, const float* x, const float* weight,
                        const float* bias, const float* gamma, const float* beta,
                        float* running_mean, float* running_var, float* pre, float* mean,
                        float* rstd, float* y);
// Same semantics and checks as the CPU conv_block_backward (conv_block.h): dy is overwritten
// with dL/dpre; dx (may be null) overwritten; dweight, dbias (may be null), dgamma, dbeta
// (train only) overwritten or, with `accumulate`, added to.
void conv_block_backward(const ConvBlockParams& p, const float* x, const float* weight,
                         const float* gamma, const float* pre, const float* mean, const float* rstd,
                         const float* y, float* dy, float* dx, float* dweight, float* dbias,
                         float* dgamma, float* dbeta, bool accumulate);

// ---- PixelRNN (pixelrnn.cu, pixelrnn_sample.cu) -------------------------------------------
// A Row LSTM or Diagonal BiLSTM PixelRNN whose parameters live on the device: uploaded once
// by pixelrnn_upload (spec.params is read then and not kept), freed by pixelrnn_release.
// log_prob and sample have the semantics of the CPU pixelrnn_log_prob and (cached)
// pixelrnn_sample (native/kernels/cpu/pixelrnn.h), the same Philox counters included, and take
// host buffers: one copy in, the launches of a chunk of images, one copy out.
struct PixelRnnDeviceModel;
// Validates like pixelrnn_check (E_ARG); E_BACKEND without a device.
PixelRnnDeviceModel* pixelrnn_upload(const PixelRnnSpec& spec);
void pixelrnn_release(PixelRnnDeviceModel* m) noexcept;  // null is fine
// logp[i] = log p(x_i) in nats, x [n, R*W] (> 0.5 counts as 1).
void pixelrnn_log_prob(PixelRnnDeviceModel* m, const float* x, int64_t n, float* logp);
// Draws n images into x [n, R*W]; probs [n, R*W] (optional) gets p(x = 1 | pixels before).
// Sample i uses Philox index sample_offset + i, as the CPU sampler. E_BACKEND when one image's
// recurrent state ((4 L ndir + L + 1) W H floats) exceeds the sampler's 1 GiB scratch.
void pixelrnn_sample(PixelRnnDeviceModel* m, int64_t n, uint64_t sample_offset, uint32_t key0,
                     uint32_t key1, uint32_t stream, float* x, float* probs);

// ---- DCGAN training on the device (dcgan_resident.cu) ----------------------------------------
// The DCGAN of lib/nn/dcgan-nets.ts with its two Adam states resident on the device: uploaded
// once, then each dcgan_step runs one whole training step of Gan.fit (lib/models/gan.ts) on
// the device, with only the real batch and z uploaded and a few scalars downloaded:
//   G(z) (training mode: batch statistics, running statistics updated);
//   D on [real; G(z)] in one batch of 2m, BCE with logits against [1...1; 0...0] with the
//   upstream factor 1 / (2m), D's gradients, then Adam on D (skipped, as lib/nn/adam.ts does,
//   when the gradient norm is not finite);
//   when update_generator: D (updated) on G(z), the generator loss (nonsaturating
//   BCE(D(G(z)), 1), or minimax -BCE(D(G(z)), 0), mean over m), its gradient through D to
//   G(z), G's backward from the activations of the first forward, Adam on G (same skip rule).
// Covered: the default discriminator (discNorm false, discStddev false); other configurations
// are refused with E_BACKEND (use backend 'native'). Leaky slope 0.2, batch norm eps 1e-5 and
// momentum 0.1 (the TS defaults).
struct DcganSpec {
  int64_t height = 0, width = 0, zdim = 0;
  int64_t channels[2] = {0, 0};       // generator: after the dense layer, after the first convT
  int64_t disc_channels[2] = {0, 0};  // discriminator: its two convs
  bool disc_norm = false;
  bool disc_stddev = false;
};

// A tensor of the flat arrays below: its name in the model file (gen.0.w, ...) and size.
struct DcganTensor {
  std::string name;
  int64_t size = 0;
};
// The flat arrays' contents, in order: the generator's parameters (the order of the TS
// params(): gen.0.w, gen.0.b, gen.1.gamma, gen.1.beta, gen.2.w, gen.2.gamma, gen.2.beta,
// gen.3.w, gen.3.b), the discriminator's (disc.0.w, disc.0.b, disc.1.w, disc.1.b, disc.2.w,
// disc.2.b) and the generator's batch-norm buffers (gen.1.running_mean, gen.1.running_var,
// gen.2.running_mean, gen.2.running_var). Adam's m and v follow the parameters' layout.
// E_ARG on a spec that checkDcganSpec rejects; needs no device.
std::vector<DcganTensor> dcgan_gen_tensors(const DcganSpec& spec);
std::vector<DcganTensor> dcgan_disc_tensors(const DcganSpec& spec);
std::vector<DcganTensor> dcgan_gen_buffer_tensors(const DcganSpec& spec);

// Host arrays of the state (flat, as above). Adam moments may be null (zeros); the steps are
// the two Adam step counters (0 for a fresh run).
struct DcganState {
  const float* gen_params = nullptr;
  const float* disc_params = nullptr;
  const float* gen_buffers = nullptr;
  const float* gen_m = nullptr;
  const float* gen_v = nullptr;
  const float* disc_m = nullptr;
  const float* disc_v = nullptr;
  int64_t gen_step = 0, disc_step = 0;
};

struct DcganStepOptions {
  double gen_lr = 2e-4, disc_lr = 2e-4;
  double beta1 = 0.5, beta2 = 0.999, eps = 1e-8;
  bool minimax = false;          // generator loss: false nonsaturating, true minimax
  bool update_generator = true;  // false: a discriminator-only step (discriminatorSteps > 1)
};

struct DcganStepResult {
  double disc_loss_sum = 0;   // sum of the 2m BCE terms (TS: bceWithLogitsForward's total)
  double d_real_sum = 0;      // sum over the real rows of sigmoid(logit) (before D's update)
  double d_fake_sum = 0;      // the same over the generated rows
  double gen_loss = 0;        // mean generator loss (0 without a generator update)
  double disc_grad_norm = 0;  // the gradient norms Adam saw (a non-finite one skips the step)
  double gen_grad_norm = 0;
  bool disc_updated = false, gen_updated = false;
};

struct DcganDeviceModel;
// E_ARG on a bad spec or a null parameter array; E_BACKEND for discNorm / discStddev or
// without a device.
DcganDeviceModel* dcgan_upload(const DcganSpec& spec, const DcganState& state);
void dcgan_release(DcganDeviceModel* m) noexcept;  // null is fine
// real [m, H*W], z [m, zdim], m >= 2 (E_SHAPE otherwise: batch norm needs two rows).
DcganStepResult dcgan_step(DcganDeviceModel* model, const float* real, const float* z, int64_t m,
                           const DcganStepOptions& opts);
// G(z) in evaluation mode (running statistics): z [n, zdim] -> out [n, H*W].
void dcgan_generate(DcganDeviceModel* model, const float* z, int64_t n, float* out);
// Copies the state back into host arrays (any may be null: not wanted) and the step counters.
void dcgan_download(DcganDeviceModel* model, float* gen_params, float* disc_params,
                    float* gen_buffers, float* gen_m, float* gen_v, float* disc_m, float* disc_v,
                    int64_t* gen_step, int64_t* disc_step);

}  // namespace cuda
}  // namespace deepgen
