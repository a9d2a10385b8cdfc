// Bindings of the normalization kernels (native/kernels/cpu/batchnorm.h, layernorm.h).
// Synchronous: one call per layer per training step. Every argument is checked, and every
// size against every array, before any native work.
#include <napi.h>

#include "../kernels/cpu/batchnorm.h"
#include "../kernels/cuda/cuda_api.h"
#include "../kernels/cpu/layernorm.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {
namespace {

// eps: > 0, and still > 0 once rounded to float (the kernels add it in float).
float arg_eps(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  return static_cast<float>(arg_finite(info, i, fn, "eps", {0.0, 1e30, true, true}));
}

float arg_momentum(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  return static_cast<float>(arg_finite(info, i, fn, "momentum", {0.0, 1.0}));
}

// batchNormForwardTrain(x, gamma, beta, y, mean, rstd, runningMean, runningVar, n, c, s, eps,
//                       momentum)
// cudaBatchNormForwardTrain: the same on the GPU (cuda/batchnorm.cu).
template <bool kCuda>
Napi::Value bn_forward_train(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaBatchNormForwardTrain" : "batchNormForwardTrain";
  require_args(info, 13, fn);
  const Ncs d = arg_ncs(info, 8, fn);
  Napi::Float32Array x = arg_f32(info, 0, fn, "x", d.numel);
  Napi::Float32Array gamma = arg_f32(info, 1, fn, "gamma", d.c);
  Napi::Float32Array beta = arg_f32(info, 2, fn, "beta", d.c);
  Napi::Float32Array y = arg_f32(info, 3, fn, "y", d.numel);
  Napi::Float32Array mean = arg_f32(info, 4, fn, "mean", d.c);
  Napi::Float32Array rstd = arg_f32(info, 5, fn, "rstd", d.c);
  Napi::Float32Array rm = arg_f32(info, 6, fn, "runningMean", d.c);
  Napi::Float32Array rv = arg_f32(info, 7, fn, "runningVar", d.c);
  const float eps = arg_eps(info, 11, fn);
  const float momentum = arg_momentum(info, 12, fn);
  auto run = kCuda ? cuda::batchnorm_forward_train : batchnorm_forward_train;
  run(x.Data(), gamma.Data(), beta.Data(), y.Data(), mean.Data(), rstd.Data(), rm.Data(), rv.Data(),
      d.n, d.c, d.s, eps, momentum);
  return info.Env().Undefined();
}

// batchNormForwardEval(x, gamma, beta, runningMean, runningVar, y, n, c, s, eps)
// cudaBatchNormForwardEval: the same on the GPU.
template <bool kCuda>
Napi::Value bn_forward_eval(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaBatchNormForwardEval" : "batchNormForwardEval";
  require_args(info, 10, fn);
  const Ncs d = arg_ncs(info, 6, fn);
  Napi::Float32Array x = arg_f32(info, 0, fn, "x", d.numel);
  Napi::Float32Array gamma = arg_f32(info, 1, fn, "gamma", d.c);
  Napi::Float32Array beta = arg_f32(info, 2, fn, "beta", d.c);
  Napi::Float32Array rm = arg_f32(info, 3, fn, "runningMean", d.c);
  Napi::Float32Array rv = arg_f32(info, 4, fn, "runningVar", d.c);
  Napi::Float32Array y = arg_f32(info, 5, fn, "y", d.numel);
  const float eps = arg_eps(info, 9, fn);
  auto run = kCuda ? cuda::batchnorm_forward_eval : batchnorm_forward_eval;
  run(x.Data(), gamma.Data(), beta.Data(), rm.Data(), rv.Data(), y.Data(), d.n, d.c, d.s, eps);
  return info.Env().Undefined();
}

// batchNormBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, n, c, s)
Napi::Value bn_backward(const Napi::CallbackInfo& info) {
  const char* fn = "batchNormBackward";
  require_args(info, 11, fn);
  const Ncs d = arg_ncs(info, 8, fn);
  Napi::Float32Array x = arg_f32(info, 0, fn, "x", d.numel);
  Napi::Float32Array dy = arg_f32(info, 1, fn, "dy", d.numel);
  Napi::Float32Array gamma = arg_f32(info, 2, fn, "gamma", d.c);
  Napi::Float32Array mean = arg_f32(info, 3, fn, "mean", d.c);
  Napi::Float32Array rstd = arg_f32(info, 4, fn, "rstd", d.c);
  Napi::Float32Array dx = arg_f32(info, 5, fn, "dx", d.numel);
  Napi::Float32Array dgamma = arg_f32(info, 6, fn, "dgamma", d.c);
  Napi::Float32Array dbeta = arg_f32(info, 7, fn, "dbeta", d.c);
  batchnorm_backward(x.Data(), dy.Data(), gamma.Data(), mean.Data(), rstd.Data(), dx.Data(),
                     dgamma.Data(), dbeta.Data(), d.n, d.c, d.s);
  return info.Env().Undefined();
}

struct RowDims {
  int64_t rows, dim, numel;
};

RowDims arg_rows_dim(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  RowDims d;
  d.rows = arg_int(info, i, fn, "rows", 0, kMaxDim);
  d.dim = arg_int(info, i + 1, fn, "dim", 0, kMaxDim);
  d.numel = elements(info.Env(), fn, "rows * dim", {d.rows, d.dim});
  return d;
}

// layerNormForward(x, gamma, beta, y, mean, rstd, rows, dim, eps)
Napi::Value ln_forward(const Napi::CallbackInfo& info) {
  const char* fn = "layerNormForward";
  require_args(info, 9, fn);
  const RowDims d = arg_rows_dim(info, 6, fn);
  Napi::Float32Array x = arg_f32(info, 0, fn, "x", d.numel);
  Napi::Float32Array gamma = arg_f32(info, 1, fn, "gamma", d.dim);
  Napi::Float32Array beta = arg_f32(info, 2, fn, "beta", d.dim);
  Napi::Float32Array y = arg_f32(info, 3, fn, "y", d.numel);
  Napi::Float32Array mean = arg_f32(info, 4, fn, "mean", d.rows);
  Napi::Float32Array rstd = arg_f32(info, 5, fn, "rstd", d.rows);
  const float eps = arg_eps(info, 8, fn);
  layernorm_forward(x.Data(), gamma.Data(), beta.Data(), y.Data(), mean.Data(), rstd.Data(), d.rows,
                    d.dim, eps);
  return info.Env().Undefined();
}

// layerNormBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, rows, dim)
Napi::Value ln_backward(const Napi::CallbackInfo& info) {
  const char* fn = "layerNormBackward";
  require_args(info, 10, fn);
  const RowDims d = arg_rows_dim(info, 8, fn);
  Napi::Float32Array x = arg_f32(info, 0, fn, "x", d.numel);
  Napi::Float32Array dy = arg_f32(info, 1, fn, "dy", d.numel);
  Napi::Float32Array gamma = arg_f32(info, 2, fn, "gamma", d.dim);
  Napi::Float32Array mean = arg_f32(info, 3, fn, "mean", d.rows);
  Napi::Float32Array rstd = arg_f32(info, 4, fn, "rstd", d.rows);
  Napi::Float32Array dx = arg_f32(info, 5, fn, "dx", d.numel);
  Napi::Float32Array dgamma = arg_f32(info, 6, fn, "dgamma", d.dim);
  Napi::Float32Array dbeta = arg_f32(info, 7, fn, "dbeta", d.dim);
  layernorm_backward(x.Data(), dy.Data(), gamma.Data(), mean.Data(), rstd.Data(), dx.Data(),
                     dgamma.Data(), dbeta.Data(), d.rows, d.dim);
  return info.Env().Undefined();
}

}  // namespace

void register_norm(Napi::Env env, Napi::Object exports) {
  define(env, exports, "batchNormForwardTrain", bn_forward_train<false>);
  define(env, exports, "batchNormForwardEval", bn_forward_eval<false>);
  define(env, exports, "cudaBatchNormForwardTrain", bn_forward_train<true>);
  define(env, exports, "cudaBatchNormForwardEval", bn_forward_eval<true>);
  define(env, exports, "batchNormBackward", bn_backward);
  define(env, exports, "layerNormForward", ln_forward);
  define(env, exports, "layerNormBackward", ln_backward);
}

}  // namespace addon
}  // namespace deepgen
