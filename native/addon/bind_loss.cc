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
  s.rows = arg_optional_f32(info, i + 1, fn, "rowScale");
  require_len(info, s.rows, rows, fn, "rowScale");
  return s;
}

// The losses of logits against targets share one calling convention:
//   <name>Forward(rowLoss | null, logits, targets, rows, cols) -> total
//   <name>Backward(dlogits, logits, targets, rows, cols, scale, rowScale | null)
using LogitLossForward = double (*)(float*, const float*, const float*, int64_t, int64_t);
using LogitLossBackward = void (*)(float*, const float*, const float*, int64_t, int64_t, double, const float*);

Napi::Value logit_loss_forward(const Napi::CallbackInfo& info, const char* fn, const char* row_name, LogitLossForward kernel) {
  require_args(info, 5, fn);
  Napi::Float32Array row = arg_optional_f32(info, 0, fn, row_name);
  Napi::Float32Array z = arg_f32(info, 1, fn, "logits");
  Napi::Float32Array x = arg_f32(info, 2, fn, "targets");
  const Dims d = arg_dims(info, 3, fn);
  require_len(info, row, d.rows, fn, row_name);
  require_len(info, z, d.n, fn, "logits");
  require_len(info, x, d.n, fn, "targets");
  return Napi::Number::New(info.Env(), kernel(data_of(row), z.Data(), x.Data(), d.rows, d.cols));
}

Napi::Value logit_loss_backward(const Napi::CallbackInfo& info, const char* fn, LogitLossBackward kernel) {
  require_args(info, 7, fn);
  Napi::Float32Array dz = arg_f32(info, 0, fn, "dlogits");
  Napi::Float32Array z = arg_f32(info, 1, fn, "logits");
  Napi::Float32Array x = arg_f32(info, 2, fn, "targets");
  const Dims d = arg_dims(info, 3, fn);
  Scale s = arg_scale(info, 5, fn, d.rows);
  require_len(info, dz, d.n, fn, "dlogits");
  require_len(info, z, d.n, fn, "logits");
  require_len(info, x, d.n, fn, "targets");
  kernel(dz.Data(), z.Data(), x.Data(), d.rows, d.cols, s.scale, data_of(s.rows));
  return info.Env().Undefined();
}

Napi::Value bce_forward(const Napi::CallbackInfo& info) {
  return logit_loss_forward(info, "bceWithLogitsForward", "rowLoss", bce_with_logits_forward);
}

Napi::Value bce_backward(const Napi::CallbackInfo& info) {
  return logit_loss_backward(info, "bceWithLogitsBackward", bce_with_logits_backward);
}

Napi::Value cb_forward(const Napi::CallbackInfo& info) {
  return logit_loss_forward(info, "continuousBernoulliNllForward", "rowNll", cbernoulli_nll_forward);
}

Napi::Value cb_backward(const Napi::CallbackInfo& info) {
  return logit_loss_backward(info, "continuousBernoulliNllBackward", cbernoulli_nll_backward);
}

// gaussianKlForward(rowKl | null, mu, logvar, rows, cols) -> total
Napi::Value kl_forward(const Napi::CallbackInfo& info) {
  const char* fn = "gaussianKlForward";
  require_args(info, 5, fn);
  Napi::Float32Array row = arg_optional_f32(info, 0, fn, "rowKl");
  Napi::Float32Array mu = arg_f32(info, 1, fn, "mu");
  Napi::Float32Array lv = arg_f32(info, 2, fn, "logvar");
  const Dims d = arg_dims(info, 3, fn);
  require_len(info, row, d.rows, fn, "rowKl");
  require_len(info, mu, d.n, fn, "mu");
  require_len(info, lv, d.n, fn, "logvar");
  return Napi::Number::New(info.Env(),
                           gaussian_kl_forward(data_of(row), mu.Data(), lv.Data(), d.rows, d.cols));
}

// gaussianKlBackward(dmu, dlogvar, mu, logvar, rows, cols, scale, rowScale | null)
Napi::Value kl_backward(const Napi::CallbackInfo& info) {
  const char* fn = "gaussianKlBackward";
  require_args(info, 8, fn);
  Napi::Float32Array dmu = arg_f32(info, 0, fn, "dmu");
  Napi::Float32Array dlv = arg_f32(info, 1, fn, "dlogvar");
  Napi::Float32Array mu = arg_f32(info, 2, fn, "mu");
  Napi::Float32Array lv = arg_f32(info, 3, fn, "logvar");
  const Dims d = arg_dims(info, 4, fn);
  Scale s = arg_scale(info, 6, fn, d.rows);
  require_len(info, dmu, d.n, fn, "dmu");
  require_len(info, dlv, d.n, fn, "dlogvar");
  require_len(info, mu, d.n, fn, "mu");
  require_len(info, lv, d.n, fn, "logvar");
  gaussian_kl_backward(dmu.Data(), dlv.Data(), mu.Data(), lv.Data(), d.rows, d.cols, s.scale,
                       data_of(s.rows));
  return info.Env().Undefined();
}

// gaussianLogProbForward(rowLogProb | null, x, mu, logvar, rows, cols) -> total
Napi::Value logp_forward(const Napi::CallbackInfo& info) {
  const char* fn = "gaussianLogProbForward";
  require_args(info, 6, fn);
  Napi::Float32Array row = arg_optional_f32(info, 0, fn, "rowLogProb");
  Napi::Float32Array x = arg_f32(info, 1, fn, "x");
  Napi::Float32Array mu = arg_f32(info, 2, fn, "mu");
  Napi::Float32Array lv = arg_f32(info, 3, fn, "logvar");
  const Dims d = arg_dims(info, 4, fn);
  require_len(info, row, d.rows, fn, "rowLogProb");
  require_len(info, x, d.n, fn, "x");
  require_len(info, mu, d.n, fn, "mu");
  require_len(info, lv, d.n, fn, "logvar");
  return Napi::Number::New(info.Env(), gaussian_log_prob_forward(data_of(row), x.Data(), mu.Data(),
                                                                 lv.Data(), d.rows, d.cols));
}

// gaussianLogProbBackward(dx | null, dmu | null, dlogvar | null, x, mu, logvar, rows, cols,
//                         scale, rowScale | null)
Napi::Value logp_backward(const Napi::CallbackInfo& info) {
  const char* fn = "gaussianLogProbBackward";
  require_args(info, 10, fn);
  Napi::Float32Array dx = arg_optional_f32(info, 0, fn, "dx");
  Napi::Float32Array dmu = arg_optional_f32(info, 1, fn, "dmu");
  Napi::Float32Array dlv = arg_optional_f32(info, 2, fn, "dlogvar");
  Napi::Float32Array x = arg_f32(info, 3, fn, "x");
  Napi::Float32Array mu = arg_f32(info, 4, fn, "mu");
  Napi::Float32Array lv = arg_f32(info, 5, fn, "logvar");
  const Dims d = arg_dims(info, 6, fn);
  Scale s = arg_scale(info, 8, fn, d.rows);
  require_len(info, dx, d.n, fn, "dx");
  require_len(info, dmu, d.n, fn, "dmu");
  require_len(info, dlv, d.n, fn, "dlogvar");
  require_len(info, x, d.n, fn, "x");
  require_len(info, mu, d.n, fn, "mu");
  require_len(info, lv, d.n, fn, "logvar");
  gaussian_log_prob_backward(data_of(dx), data_of(dmu), data_of(dlv), x.Data(), mu.Data(),
                             lv.Data(), d.rows, d.cols, s.scale, data_of(s.rows));
  return info.Env().Undefined();
}

// softmaxCrossEntropyForward(rowLoss | null, logits, targets, rows, cols) -> total
Napi::Value sce_forward(const Napi::CallbackInfo& info) {
  const char* fn = "softmaxCrossEntropyForward";
  require_args(info, 5, fn);
  Napi::Float32Array row = arg_optional_f32(info, 0, fn, "rowLoss");
  Napi::Float32Array z = arg_f32(info, 1, fn, "logits");
  Napi::Float32Array t = arg_f32(info, 2, fn, "targets");
  const Dims d = arg_dims(info, 3, fn);
  require_len(info, row, d.rows, fn, "rowLoss");
  require_len(info, z, d.n, fn, "logits");
  require_len(info, t, d.n, fn, "targets");
  const double total = softmax_cross_entropy_forward(data_of(row), z.Data(), t.Data(), d.rows, d.cols);
  return Napi::Number::New(info.Env(), total);
}

// softmaxCrossEntropyBackward(dlogits, logits, targets, rows, cols, scale, rowScale | null)
Napi::Value sce_backward(const Napi::CallbackInfo& info) {
  const char* fn = "softmaxCrossEntropyBackward";
  require_args(info, 7, fn);
  Napi::Float32Array dz = arg_f32(info, 0, fn, "dlogits");
  Napi::Float32Array z = arg_f32(info, 1, fn, "logits");
  Napi::Float32Array t = arg_f32(info, 2, fn, "targets");
  const Dims d = arg_dims(info, 3, fn);
  Scale s = arg_scale(info, 5, fn, d.rows);
  require_len(info, dz, d.n, fn, "dlogits");
  require_len(info, z, d.n, fn, "logits");
  require_len(info, t, d.n, fn, "targets");
  softmax_cross_entropy_backward(dz.Data(), z.Data(), t.Data(), d.rows, d.cols, s.scale, data_of(s.rows));
  return info.Env().Undefined();
}

// logSumExpForward(out, x, rows, cols)
Napi::Value lse_forward(const Napi::CallbackInfo& info) {
  const char* fn = "logSumExpForward";
  require_args(info, 4, fn);
  Napi::Float32Array out = arg_f32(info, 0, fn, "out");
  Napi::Float32Array x = arg_f32(info, 1, fn, "x");
  const Dims d = arg_dims(info, 2, fn);
  require_len(info, out, d.rows, fn, "out");
  require_len(info, x, d.n, fn, "x");
  log_sum_exp_forward(out.Data(), x.Data(), d.rows, d.cols);
  return info.Env().Undefined();
}

// logSumExpBackward(dx, x, lse, dout, rows, cols)
Napi::Value lse_backward(const Napi::CallbackInfo& info) {
  const char* fn = "logSumExpBackward";
  require_args(info, 6, fn);
  Napi::Float32Array dx = arg_f32(info, 0, fn, "dx");
  Napi::Float32Array x = arg_f32(info, 1, fn, "x");
  Napi::Float32Array lse = arg_f32(info, 2, fn, "lse");
  Napi::Float32Array dout = arg_f32(info, 3, fn, "dout");
  const Dims d = arg_dims(info, 4, fn);
  require_len(info, dx, d.n, fn, "dx");
  require_len(info, x, d.n, fn, "x");
  require_len(info, lse, d.rows, fn, "lse");
  require_len(info, dout, d.rows, fn, "dout");
  log_sum_exp_backward(dx.Data(), x.Data(), lse.Data(), dout.Data(), d.rows, d.cols);
  return info.Env().Undefined();
}

// reduceSum(x) -> float64 sum in the blocked order of loss.h
Napi::Value sum(const Napi::CallbackInfo& info) {
  require_args(info, 1, "reduceSum");
  Napi::Float32Array x = arg_f32(info, 0, "reduceSum", "x");
  return Napi::Number::New(info.Env(), reduce_sum(x.Data(), static_cast<int64_t>(x.ElementLength())));
}

// reduceMean(x) -> sum / n; an empty x throws E_SHAPE
Napi::Value mean(const Napi::CallbackInfo& info) {
  require_args(info, 1, "reduceMean");
  Napi::Float32Array x = arg_f32(info, 0, "reduceMean", "x");
  return Napi::Number::New(info.Env(), reduce_mean(x.Data(), static_cast<int64_t>(x.ElementLength())));
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
