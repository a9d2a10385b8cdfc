// Bindings of the activation kernels (native/kernels/cpu/activation.h) and the vector math
// kernels vexp / vlog (vmath.h). Synchronous: one call per layer per training step. Every
// argument is checked, and every size against every array, before any native work.
#include <napi.h>

#include <string>

#include "../kernels/cpu/activation.h"
#include "../kernels/cuda/cuda_api.h"
#include "../kernels/cpu/vmath.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {
namespace {

Activation arg_kind(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  return static_cast<Activation>(arg_int(info, i, fn, "kind", 0, kActivationCount - 1));
}

// The leaky slope: a finite number >= 0 that fits a float (every kind takes it; only
// leakyRelu reads it).
float arg_slope(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  return static_cast<float>(arg_finite(info, i, fn, "slope", {0.0, 3.4e38}));
}

void require_same_len(const Napi::CallbackInfo& info, const Napi::Float32Array& a,
                      const Napi::Float32Array& b, const char* fn, const char* na, const char* nb) {
  if (a.ElementLength() != b.ElementLength()) {
    throw make_error(info.Env(), "E_SHAPE",
                     std::string(fn) + ": " + na + " and " + nb + " differ in length (" +
                         std::to_string(a.ElementLength()) + " vs " +
                         std::to_string(b.ElementLength()) + ")");
  }
}

// activationForward(kind, x, y, slope): y = f(x); y may be x. cudaActivationForward: the same
// on the GPU (cuda/activation.cu).
template <bool kCuda>
Napi::Value activation_forward_binding(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaActivationForward" : "activationForward";
  require_args(info, 4, fn);
  const Activation kind = arg_kind(info, 0, fn);
  Napi::Float32Array x = arg_f32(info, 1, fn, "x");
  Napi::Float32Array y = arg_f32(info, 2, fn, "y");
  const float slope = arg_slope(info, 3, fn);
  require_same_len(info, x, y, fn, "x", "y");
  auto run = kCuda ? cuda::activation_forward : activation_forward;
  run(kind, x.Data(), y.Data(), static_cast<int64_t>(x.ElementLength()), slope);
  return info.Env().Undefined();
}

// activationBackward(kind, y, dy, dx, slope): dx = dy * f'(x), from y.
Napi::Value activation_backward_binding(const Napi::CallbackInfo& info) {
  const char* fn = "activationBackward";
  require_args(info, 5, fn);
  const Activation kind = arg_kind(info, 0, fn);
  Napi::Float32Array y = arg_f32(info, 1, fn, "y");
  Napi::Float32Array dy = arg_f32(info, 2, fn, "dy");
  Napi::Float32Array dx = arg_f32(info, 3, fn, "dx");
  const float slope = arg_slope(info, 4, fn);
  require_same_len(info, y, dy, fn, "y", "dy");
  require_same_len(info, y, dx, fn, "y", "dx");
  activation_backward(kind, y.Data(), dy.Data(), dx.Data(), static_cast<int64_t>(y.ElementLength()),
                      slope);
  return info.Env().Undefined();
}

// biasActivationForward(kind, x, bias, y, n, c, s, slope); cudaBiasActivationForward: the
// same on the GPU.
template <bool kCuda>
Napi::Value bias_activation_forward_binding(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaBiasActivationForward" : "biasActivationForward";
  require_args(info, 8, fn);
  const Activation kind = arg_kind(info, 0, fn);
  const Ncs d = arg_ncs(info, 4, fn);
  Napi::Float32Array x = arg_f32(info, 1, fn, "x", d.numel);
  Napi::Float32Array bias = arg_f32(info, 2, fn, "bias", d.c);
  Napi::Float32Array y = arg_f32(info, 3, fn, "y", d.numel);
  const float slope = arg_slope(info, 7, fn);
  auto run = kCuda ? cuda::bias_activation_forward : bias_activation_forward;
  run(kind, x.Data(), bias.Data(), y.Data(), d.n, d.c, d.s, slope);
  return info.Env().Undefined();
}

// biasActivationBackward(kind, y, dy, dx, dbias, n, c, s, slope)
Napi::Value bias_activation_backward_binding(const Napi::CallbackInfo& info) {
  const char* fn = "biasActivationBackward";
  require_args(info, 9, fn);
  const Activation kind = arg_kind(info, 0, fn);
  const Ncs d = arg_ncs(info, 5, fn);
  Napi::Float32Array y = arg_f32(info, 1, fn, "y", d.numel);
  Napi::Float32Array dy = arg_f32(info, 2, fn, "dy", d.numel);
  Napi::Float32Array dx = arg_f32(info, 3, fn, "dx", d.numel);
  Napi::Float32Array dbias = arg_f32(info, 4, fn, "dbias", d.c);
  const float slope = arg_slope(info, 8, fn);
  bias_activation_backward(kind, y.Data(), dy.Data(), dx.Data(), dbias.Data(), d.n, d.c, d.s,
                           slope);
  return info.Env().Undefined();
}

// vexp(x, y) / vlog(x, y): y = exp(x) / log(x) elementwise; y may be x.
Napi::Value vexp_binding(const Napi::CallbackInfo& info) {
  require_args(info, 2, "vexp");
  Napi::Float32Array x = arg_f32(info, 0, "vexp", "x");
  Napi::Float32Array y = arg_f32(info, 1, "vexp", "y");
  require_same_len(info, x, y, "vexp", "x", "y");
  vexp(x.Data(), y.Data(), static_cast<int64_t>(x.ElementLength()));
  return info.Env().Undefined();
}

Napi::Value vlog_binding(const Napi::CallbackInfo& info) {
  require_args(info, 2, "vlog");
  Napi::Float32Array x = arg_f32(info, 0, "vlog", "x");
  Napi::Float32Array y = arg_f32(info, 1, "vlog", "y");
  require_same_len(info, x, y, "vlog", "x", "y");
  vlog(x.Data(), y.Data(), static_cast<int64_t>(x.ElementLength()));
  return info.Env().Undefined();
}

}  // namespace

void register_activation(Napi::Env env, Napi::Object exports) {
  define(env, exports, "activationForward", activation_forward_binding<false>);
  define(env, exports, "cudaActivationForward", activation_forward_binding<true>);
  define(env, exports, "activationBackward", activation_backward_binding);
  define(env, exports, "biasActivationForward", bias_activation_forward_binding<false>);
  define(env, exports, "cudaBiasActivationForward", bias_activation_forward_binding<true>);
  define(env, exports, "biasActivationBackward", bias_activation_backward_binding);
  define(env, exports, "vexp", vexp_binding);
  define(env, exports, "vlog", vlog_binding);
}

}  // namespace addon
}  // namespace deepgen
