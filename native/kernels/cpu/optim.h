// Optimizer steps, fused and in place: one pass over each parameter array updates the
// parameters and the optimizer state together. Elementwise, so parallel over the array with
// results independent of the thread count; the one reduction (the global gradient norm) uses
// the fixed blocked order of loss.h.
//
// Arithmetic is float64 per element (float storage, one rounding per stored value), in a
// fixed operation order that the JS twin (lib/kernels/js/optim.ts) repeats, so the native and
// JS paths agree to the last bit (up to a contracted multiply-add in the AVX2 loop, which can
// move a float64 intermediate by one float64 ulp: float results then agree to one float ulp).
#pragma once
#include <cstdint>

namespace deepgen {

// Adam with bias correction; weight_decay > 0 makes it AdamW (decoupled: the decay multiplies
// the parameter, it does not enter the moments). bias_correction{1,2} = 1 - beta{1,2}^t for
// step t >= 1: the caller computes them (once per step, and identically on every backend).
struct AdamConfig {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  double bias_correction1 = 1.0;
  double bias_correction2 = 1.0;
};

// The constants of one Adam step in float64: computed in one place (optim.cc) for the plain
// loop and its vector twins, so that all of them use the same values.
struct AdamScalars {
  double decay, step_size, inv_bc2, b1, b2, one_b1, one_b2, eps;
};
AdamScalars adam_scalars(const AdamConfig& c);

// Throws E_ARG unless lr >= 0, beta in [0, 1), eps > 0, weight_decay >= 0 (all finite) and
// both bias corrections are in (0, 1].
void adam_check(const AdamConfig& c);

// params, grads, m, v [n]; per element, with g = grads[i]:
//   p  = p * (1 - lr * weight_decay)
//   m  = beta1 * m + (1 - beta1) * g
//   v  = beta2 * v + (1 - beta2) * g^2
//   p -= (lr / bc1) * m / (sqrt(v * (1 / bc2)) + eps)
void adam_step(float* params, const float* grads, float* m, float* v, int64_t n,
               const AdamConfig& cfg);
// Elements [begin, end), one thread: the plain loop and the AVX2 one (optim_avx2.cc).
void adam_step_plain(float* params, const float* grads, float* m, float* v, int64_t begin,
                     int64_t end, const AdamConfig& cfg);
void adam_step_avx2(float* params, const float* grads, float* m, float* v, int64_t begin,
                    int64_t end, const AdamConfig& cfg);
// The same in 8-lane float64 vectors (AVX-512F; only when use_avx512()): the same operations
// per element, so the same results bit for bit.
void adam_step_avx512(float* params, const float* grads, float* m, float* v, int64_t begin,
                      int64_t end, const AdamConfig& cfg);

// SGD with momentum (PyTorch's form, no dampening). Per element, with g = grads[i]:
//   g += weight_decay * p                 (only when weight_decay != 0: L2 regularization)
//   v  = momentum * v + g                 (only when momentum != 0; velocity may be null
//                                          when momentum == 0)
//   p -= lr * (nesterov ? g + momentum * v : v)      (p -= lr * g without momentum)
struct SgdConfig {
  double lr = 1e-2;
  double momentum = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

// Throws E_ARG unless lr >= 0, momentum in [0, 1], weight_decay >= 0 (finite), and
// nesterov only with momentum > 0.
void sgd_check(const SgdConfig& c);
void sgd_step(float* params, const float* grads, float* velocity, int64_t n, const SgdConfig& cfg);

// The global L2 norm of a list of arrays (float64, blocked order of loss.h per array, arrays
// in list order), and gradient clipping by it: when norm > max_norm, every element of every
// array is multiplied by max_norm / norm (in float64, rounded once). Returns the norm before
// clipping. A non-finite norm (Inf/NaN gradients) is returned without scaling anything, so
// the caller can skip the step. max_norm must be > 0 (+Inf: only measure).
double grad_norm(const float* const* arrays, const int64_t* sizes, int64_t count);
double clip_grad_norm(float* const* arrays, const int64_t* sizes, int64_t count, double max_norm);

}  // namespace deepgen
