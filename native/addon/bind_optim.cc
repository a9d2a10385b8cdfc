// Bindings of the optimizer kernels (native/kernels/cpu/optim.h). Synchronous and in place:
// one call per parameter array per step.
#include <napi.h>

#include <string>
#include <vector>

#include "../kernels/cpu/optim.h"
#include "../kernels/cuda/cuda_api.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {
namespace {

constexpr uint32_t kMaxListLength = 1u << 20;

// adamStep(params, grads, m, v, lr, beta1, beta2, eps, weightDecay, biasCorrection1,
//          biasCorrection2): the step count enters only through the two bias corrections,
// which the TS layer computes (so every backend uses the same values). cudaAdamStep: the same
// arguments, run by the CUDA kernel (cuda/optim.cu).
template <bool kCuda>
Napi::Value adam(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaAdamStep" : "adamStep";
  require_args(info, 11, fn);
  Napi::Float32Array p = arg_f32(info, 0, fn, "params");
  Napi::Float32Array g = arg_f32(info, 1, fn, "grads");
  Napi::Float32Array m = arg_f32(info, 2, fn, "m");
  Napi::Float32Array v = arg_f32(info, 3, fn, "v");
  AdamConfig c;
  c.lr = arg_number(info, 4, fn, "lr");
  c.beta1 = arg_number(info, 5, fn, "beta1");
  c.beta2 = arg_number(info, 6, fn, "beta2");
  c.eps = arg_number(info, 7, fn, "eps");
  c.weight_decay = arg_number(info, 8, fn, "weightDecay");
  c.bias_correction1 = arg_number(info, 9, fn, "biasCorrection1");
  c.bias_correction2 = arg_number(info, 10, fn, "biasCorrection2");
  adam_check(c);
  const size_t n = p.ElementLength();
  require_len(info, g, n, fn, "grads");
  require_len(info, m, n, fn, "m");
  require_len(info, v, n, fn, "v");
  if (kCuda)
    cuda::adam_step(p.Data(), g.Data(), m.Data(), v.Data(), static_cast<int64_t>(n), c);
  else
    adam_step(p.Data(), g.Data(), m.Data(), v.Data(), static_cast<int64_t>(n), c);
  return info.Env().Undefined();
}

// sgdStep(params, grads, velocity | null, lr, momentum, nesterov, weightDecay)
Napi::Value sgd(const Napi::CallbackInfo& info) {
  const char* fn = "sgdStep";
  require_args(info, 7, fn);
  Napi::Float32Array p = arg_f32(info, 0, fn, "params");
  Napi::Float32Array g = arg_f32(info, 1, fn, "grads");
  Napi::Float32Array vel = arg_optional_f32(info, 2, fn, "velocity");
  SgdConfig c;
  c.lr = arg_number(info, 3, fn, "lr");
  c.momentum = arg_number(info, 4, fn, "momentum");
  c.nesterov = arg_bool(info, 5, fn, "nesterov");
  c.weight_decay = arg_number(info, 6, fn, "weightDecay");
  sgd_check(c);
  const size_t n = p.ElementLength();
  require_len(info, g, n, fn, "grads");
  if (c.momentum != 0) {
    if (vel.IsEmpty())
      throw make_error(info.Env(), "E_ARG", "sgdStep: momentum needs a velocity array");
    require_len(info, vel, n, fn, "velocity");
  }
  sgd_step(p.Data(), g.Data(), data_of(vel), static_cast<int64_t>(n), c);
  return info.Env().Undefined();
}

// clipGradNorm(grads: Float32Array[], maxNorm) -> norm before clipping; cudaClipGradNorm: the
// same on the GPU (cuda/optim.cu).
template <bool kCuda>
Napi::Value clip(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaClipGradNorm" : "clipGradNorm";
  require_args(info, 2, fn);
  if (!info[0].IsArray())
    throw make_error(info.Env(), "E_ARG", "clipGradNorm: argument 'grads' must be an array");
  Napi::Array list = info[0].As<Napi::Array>();
  if (list.Length() > kMaxListLength)
    throw make_error(info.Env(), "E_ARG", "clipGradNorm: too many arrays");
  const double max_norm = arg_number(info, 1, fn, "maxNorm");
  if (!(max_norm > 0)) throw make_error(info.Env(), "E_ARG", "clipGradNorm: maxNorm must be > 0");
  // Keep the handles alive (and typed) while the kernel runs.
  std::vector<Napi::Float32Array> arrays;
  std::vector<float*> data;
  std::vector<int64_t> sizes;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const Napi::Value e = list.Get(i);
    if (!e.IsTypedArray() || e.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw make_error(info.Env(), "E_ARG",
                       "clipGradNorm: grads[" + std::to_string(i) + "] must be a Float32Array");
    }
    arrays.push_back(e.As<Napi::Float32Array>());
    data.push_back(arrays.back().Data());
    sizes.push_back(static_cast<int64_t>(arrays.back().ElementLength()));
  }
  auto run = kCuda ? cuda::clip_grad_norm : clip_grad_norm;
  const double norm = run(data.data(), sizes.data(), static_cast<int64_t>(data.size()), max_norm);
  return Napi::Number::New(info.Env(), norm);
}

}  // namespace

void register_optim(Napi::Env env, Napi::Object exports) {
  define(env, exports, "adamStep", adam<false>);
  define(env, exports, "cudaAdamStep", adam<true>);
  define(env, exports, "sgdStep", sgd);
  define(env, exports, "clipGradNorm", clip<false>);
  define(env, exports, "cudaClipGradNorm", clip<true>);
}

}  // namespace addon
}  // namespace deepgen
