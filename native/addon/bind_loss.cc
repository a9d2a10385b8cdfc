// Bindings of the loss kernels (native/kernels/cpu/loss.h). Synchronous: one call per
// training step over a batch; sizes are checked against every array before any work.
#include <napi.h>

#include <string>

#include "../kernels/cpu/loss.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {
namespace {

struct Dims {
  int64_t rows, cols, n;
};

// rows and cols at arguments i, i + 1; n = rows * cols, refused (E_SHAPE) beyond kMaxElements.
Dims arg_dims(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  Dims d;
  d.rows = arg_int(info, i, fn, "rows", 0, kMaxDim);
  d.cols = arg_int(info, i + 1, fn, "cols", 0, kMaxDim);
  d.n = elements(info.Env(), fn, "rows * cols", {d.rows, d.cols});
  return d;
}

// The upstream factor: scale (finite) at i, rowScale (Float32Array [rows] or null) at i + 1.
struct Scale {
  double scale;
  Napi::Float32Array rows;
};

Scale arg_scale(const Napi::CallbackInfo& info, size_t i, const char* fn, int64_t rows) {
  Scale s;
  s.scale = arg_finite(info, i, fn, "scale");
  s.rows = arg_optional_f32(info, i + 1, fn, "rowScale", rows);
  return s;
}

// The row losses of two [rows, cols] inputs (logits and targets; mu and logvar) share one
// forward convention, and the losses of logits against targets one backward convention:
//   <name>Forward(row | null, a, b, rows, cols) -> total
//   <name>Backward(dlogits, logits, targets, rows, cols, scale, rowScale | null)
using RowLossForward = double (*)(float*, const float*, const float*, int64_t, int64_t);
using LogitLossBackward = void (*)(float*, const float*, const float*, int64_t, int64_t, double,
                                   const float*);

Napi::Value row_loss_forward(const Napi::CallbackInfo& info, const char* fn, const char* row_name,
                             const char* a_name, const char* b_name, RowLossForward kernel) {
  require_args(info, 5, fn);
  const Dims d = arg_dims(info, 3, fn);
  Napi::Float32Array row = arg_optional_f32(info, 0, fn, row_name, d.rows);
  Napi::Float32Array a = arg_f32(info, 1, fn, a_name, d.n);
  Napi::Float32Array b = arg_f32(info, 2, fn, b_name, d.n);
  return Napi::Number::New(info.Env(), kernel(data_of(row), a.Data(), b.Data(), d.rows, d.cols));
}

Napi::Value logit_loss_backward(const Napi::CallbackInfo& info, const char* fn,
                                LogitLossBackward kernel) {
  require_args(info, 7, fn);
  const Dims d = arg_dims(info, 3, fn);
  Napi::Float32Array dz = arg_f32(info, 0, fn, "dlogits", d.n);
  Napi::Float32Array z = arg_f32(info, 1, fn, "logits", d.n);
  Napi::Float32Array x = arg_f32(info, 2, fn, "targets", d.n);
  Scale s = arg_scale(info, 5, fn, d.rows);
  kernel(dz.Data(), z.Data(), x.Data(), d.rows, d.cols, s.scale, data_of(s.rows));
  return info.Env().Undefined();
}

Napi::Value bce_forward(const Napi::CallbackInfo& info) {
  return row_loss_forward(info, "bceWithLogitsForward", "rowLoss", "logits", "targets",
                          bce_with_logits_forward);
}

Napi::Value bce_backward(const Napi::CallbackInfo& info) {
  return logit_loss_backward(info, "bceWithLogitsBackward", bce_with_logits_backward);
}

Napi::Value cb_forward(const Napi::CallbackInfo& info) {
  return row_loss_forward(info, "continuousBernoulliNllForward", "rowNll", "logits", "targets",
                          cbernoulli_nll_forward);
}

Napi::Value cb_backward(const Napi::CallbackInfo& info) {
  return logit_loss_backward(info, "continuousBernoulliNllBackward", cbernoulli_nll_backward);
}

// gaussianKlForward(rowKl | null, mu, logvar, rows, cols) -> total
Napi::Value kl_forward(const Napi::CallbackInfo& info) {
  return row_loss_forward(info, "gaussianKlForward", "rowKl", "mu", "logvar", gaussian_kl_forward);
}

// gaussianKlBackward(dmu, dlogvar, mu, logvar, rows, cols, scale, rowScale | null)
Napi::Value kl_backward(const Napi::CallbackInfo& info) {
  const char* fn = "gaussianKlBackward";
  require_args(info, 8, fn);
  const Dims d = arg_dims(info, 4, fn);
  Napi::Float32Array dmu = arg_f32(info, 0, fn, "dmu", d.n);
  Napi::Float32Array dlv = arg_f32(info, 1, fn, "dlogvar", d.n);
  Napi::Float32Array mu = arg_f32(info, 2, fn, "mu", d.n);
  Napi::Float32Array lv = arg_f32(info, 3, fn, "logvar", d.n);
  Scale s = arg_scale(info, 6, fn, d.rows);
  gaussian_kl_backward(dmu.Data(), dlv.Data(), mu.Data(), lv.Data(), d.rows, d.cols, s.scale,
                       data_of(s.rows));
  return info.Env().Undefined();
}

// gaussianLogProbForward(rowLogProb | null, x, mu, logvar, rows, cols) -> total
Napi::Value logp_forward(const Napi::CallbackInfo& info) {
  const char* fn = "gaussianLogProbForward";
  require_args(info, 6, fn);
  const Dims d = arg_dims(info, 4, fn);
  Napi::Float32Array row = arg_optional_f32(info, 0, fn, "rowLogProb", d.rows);
  Napi::Float32Array x = arg_f32(info, 1, fn, "x", d.n);
  Napi::Float32Array mu = arg_f32(info, 2, fn, "mu", d.n);
  Napi::Float32Array lv = arg_f32(info, 3, fn, "logvar", d.n);
  return Napi::Number::New(info.Env(), gaussian_log_prob_forward(data_of(row), x.Data(), mu.Data(),
                                                                 lv.Data(), d.rows, d.cols));
}

// gaussianLogProbBackward(dx | null, dmu | null, dlogvar | null, x, mu, logvar, rows, cols,
//                         scale, rowScale | null)
Napi::Value logp_backward(const Napi::CallbackInfo& info) {
  const char* fn = "gaussianLogProbBackward";
  require_args(info, 10, fn);
  const Dims d = arg_dims(info, 6, fn);
  Napi::Float32Array dx = arg_optional_f32(info, 0, fn, "dx", d.n);
  Napi::Float32Array dmu = arg_optional_f32(info, 1, fn, "dmu", d.n);
  Napi::Float32Array dlv = arg_optional_f32(info, 2, fn, "dlogvar", d.n);
  Napi::Float32Array x = arg_f32(info, 3, fn, "x", d.n);
  Napi::Float32Array mu = arg_f32(info, 4, fn, "mu", d.n);
  Napi::Float32Array lv = arg_f32(info, 5, fn, "logvar", d.n);
  Scale s = arg_scale(info, 8, fn, d.rows);
  gaussian_log_prob_backward(data_of(dx), data_of(dmu), data_of(dlv), x.Data(), mu.Data(),
                             lv.Data(), d.rows, d.cols, s.scale, data_of(s.rows));
  return info.Env().Undefined();
}

// softmaxCrossEntropyForward / Backward: rows of class logits against target probabilities.
Napi::Value sce_forward(const Napi::CallbackInfo& info) {
  return row_loss_forward(info, "softmaxCrossEntropyForward", "rowLoss", "logits", "targets",
                          softmax_cross_entropy_forward);
}

Napi::Value sce_backward(const Napi::CallbackInfo& info) {
  return logit_loss_backward(info, "softmaxCrossEntropyBackward", softmax_cross_entropy_backward);
}

// logSumExpForward(out, x, rows, cols)
Napi::Value lse_forward(const Napi::CallbackInfo& info) {
  const char* fn = "logSumExpForward";
  require_args(info, 4, fn);
  const Dims d = arg_dims(info, 2, fn);
  Napi::Float32Array out = arg_f32(info, 0, fn, "out", d.rows);
  Napi::Float32Array x = arg_f32(info, 1, fn, "x", d.n);
  log_sum_exp_forward(out.Data(), x.Data(), d.rows, d.cols);
  return info.Env().Undefined();
}

// logSumExpBackward(dx, x, lse, dout, rows, cols)
Napi::Value lse_backward(const Napi::CallbackInfo& info) {
  const char* fn = "logSumExpBackward";
  require_args(info, 6, fn);
  const Dims d = arg_dims(info, 4, fn);
  Napi::Float32Array dx = arg_f32(info, 0, fn, "dx", d.n);
  Napi::Float32Array x = arg_f32(info, 1, fn, "x", d.n);
  Napi::Float32Array lse = arg_f32(info, 2, fn, "lse", d.rows);
  Napi::Float32Array dout = arg_f32(info, 3, fn, "dout", d.rows);
  log_sum_exp_backward(dx.Data(), x.Data(), lse.Data(), dout.Data(), d.rows, d.cols);
  return info.Env().Undefined();
}

// reduceSum(x) -> float64 sum in the blocked order of loss.h
Napi::Value sum(const Napi::CallbackInfo& info) {
  require_args(info, 1, "reduceSum");
  Napi::Float32Array x = arg_f32(info, 0, "reduceSum", "x");
  return Napi::Number::New(info.Env(),
                           reduce_sum(x.Data(), static_cast<int64_t>(x.ElementLength())));
}

// reduceMean(x) -> sum / n; an empty x throws E_SHAPE
Napi::Value mean(const Napi::CallbackInfo& info) {
  require_args(info, 1, "reduceMean");
  Napi::Float32Array x = arg_f32(info, 0, "reduceMean", "x");
  return Napi::Number::New(info.Env(),
                           reduce_mean(x.Data(), static_cast<int64_t>(x.ElementLength())));
}

}  // namespace

void register_loss(Napi::Env env, Napi::Object exports) {
  define(env, exports, "bceWithLogitsForward", bce_forward);
  define(env, exports, "bceWithLogitsBackward", bce_backward);
  define(env, exports, "continuousBernoulliNllForward", cb_forward);
  define(env, exports, "continuousBernoulliNllBackward", cb_backward);
  define(env, exports, "gaussianKlForward", kl_forward);
  define(env, exports, "gaussianKlBackward", kl_backward);
  define(env, exports, "gaussianLogProbForward", logp_forward);
  define(env, exports, "gaussianLogProbBackward", logp_backward);
  define(env, exports, "softmaxCrossEntropyForward", sce_forward);
  define(env, exports, "softmaxCrossEntropyBackward", sce_backward);
  define(env, exports, "logSumExpForward", lse_forward);
  define(env, exports, "logSumExpBackward", lse_backward);
  define(env, exports, "reduceSum", sum);
  define(env, exports, "reduceMean", mean);
}

}  // namespace addon
}  // namespace deepgen
