// Bindings of the fused RNADE kernels (native/kernels/cpu/rnade.h), sync and async.
// Model arguments first: D, H, K, wt [D,H], c [H], va, vm, vs [D,K,H], ba, bm, bs [D,K].
#include <napi.h>

#include <cmath>
#include <string>
#include <vector>

#include "../kernels/cpu/rnade.h"
#include "args.h"
#include "bindings.h"
#include "kernel_job.h"

namespace deepgen {
namespace addon {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 24;
constexpr size_t kModelArgs = 11;

// Parses and length-checks 8 float arrays starting at `first`, in parameter order.
std::vector<Napi::Float32Array> param_arrays(const Napi::CallbackInfo& info, const char* fn,
                                             size_t first, const RnadeParams& p,
                                             const char* const names[8]) {
  const int64_t dh = p.d * p.h, dkh = p.d * p.k * p.h, dk = p.d * p.k;
  const int64_t sizes[8] = {dh, p.h, dkh, dkh, dkh, dk, dk, dk};
  std::vector<Napi::Float32Array> out;
  for (size_t i = 0; i < 8; ++i) {
    out.push_back(arg_f32(info, first + i, fn, names[i]));
    require_len(info, out.back(), sizes[i], fn, names[i]);
  }
  return out;
}

struct Model {
  RnadeParams p;
  std::vector<Napi::Float32Array> arrays;
};

Model model_args(const Napi::CallbackInfo& info, const char* fn) {
  static const char* const names[8] = {"wt", "c", "va", "vm", "vs", "ba", "bm", "bs"};
  Model m;
  m.p.d = arg_int(info, 0, fn, "D", 1, kMaxDim);
  m.p.h = arg_int(info, 1, fn, "H", 1, kMaxDim);
  m.p.k = arg_int(info, 2, fn, "K", 1, 4096);
  m.arrays = param_arrays(info, fn, 3, m.p, names);
  m.p.wt = m.arrays[0].Data();
  m.p.c = m.arrays[1].Data();
  m.p.va = m.arrays[2].Data();
  m.p.vm = m.arrays[3].Data();
  m.p.vs = m.arrays[4].Data();
  m.p.ba = m.arrays[5].Data();
  m.p.bm = m.arrays[6].Data();
  m.p.bs = m.arrays[7].Data();
  return m;
}

std::vector<Napi::Value> keep(const Model& m, std::initializer_list<Napi::Value> more) {
  std::vector<Napi::Value> out(m.arrays.begin(), m.arrays.end());
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

// rnadeLogProb(model..., x, n, logp [, cancel, onProgress])
Napi::Value log_prob(const Napi::CallbackInfo& info, bool async) {
  const char* fn = async ? "rnadeLogProbAsync" : "rnadeLogProb";
  require_args(info, kModelArgs + (async ? 4 : 3), fn);
  Model m = model_args(info, fn);
  Napi::Float32Array x = arg_f32(info, kModelArgs, fn, "x");
  const int64_t n = arg_int(info, kModelArgs + 1, fn, "n", 0, int64_t{1} << 31);
  Napi::Float32Array logp = arg_f32(info, kModelArgs + 2, fn, "logp");
  require_len(info, x, n * m.p.d, fn, "x");
  require_len(info, logp, n, fn, "logp");
  const RnadeParams p = m.p;
  const float* xd = x.Data();
  float* out = logp.Data();
  if (!async) {
    rnade_log_prob(p, xd, n, out);
    return info.Env().Undefined();
  }
  Napi::Int32Array cancel = arg_cancel(info, kModelArgs + 3, fn);
  Napi::Function progress = arg_optional_fn(info, kModelArgs + 4, fn, "onProgress");
  const std::vector<Napi::Value> held = keep(m, {x, logp});
  return KernelJob::start(info.Env(), [=](const JobHooks& h) { rnade_log_prob(p, xd, n, out, h); },
                          [](Napi::Env env) { return env.Undefined(); }, cancel, progress, held);
}

// rnadeBackward(model..., x, n, scale, logp | null, gwt, gc, gva, gvm, gvs, gba, gbm, gbs
//               [, cancel, onProgress])
Napi::Value backward(const Napi::CallbackInfo& info, bool async) {
  static const char* const names[8] = {"gwt", "gc", "gva", "gvm", "gvs", "gba", "gbm", "gbs"};
  const char* fn = async ? "rnadeBackwardAsync" : "rnadeBackward";
  require_args(info, kModelArgs + (async ? 13 : 12), fn);
  Model m = model_args(info, fn);
  Napi::Float32Array x = arg_f32(info, kModelArgs, fn, "x");
  const int64_t n = arg_int(info, kModelArgs + 1, fn, "n", 0, int64_t{1} << 31);
  const Napi::Value scale_v = info[kModelArgs + 2];
  if (!scale_v.IsNumber() || !std::isfinite(scale_v.As<Napi::Number>().DoubleValue())) {
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": argument 'scale' must be a finite number");
  }
  const float scale = scale_v.As<Napi::Number>().FloatValue();
  require_len(info, x, n * m.p.d, fn, "x");
  const Napi::Value logp_v = info[kModelArgs + 3];
  float* logp = nullptr;
  if (!logp_v.IsNull() && !logp_v.IsUndefined()) {
    Napi::Float32Array lp = arg_f32(info, kModelArgs + 3, fn, "logp");
    require_len(info, lp, n, fn, "logp");
    logp = lp.Data();
  }
  std::vector<Napi::Float32Array> grads = param_arrays(info, fn, kModelArgs + 4, m.p, names);
  const RnadeGrads g{grads[0].Data(), grads[1].Data(), grads[2].Data(), grads[3].Data(),
                     grads[4].Data(), grads[5].Data(), grads[6].Data(), grads[7].Data()};
  const RnadeParams p = m.p;
  const float* xd = x.Data();
  if (!async) {
    rnade_backward(p, xd, n, scale, logp, g);
    return info.Env().Undefined();
  }
  Napi::Int32Array cancel = arg_cancel(info, kModelArgs + 12, fn);
  Napi::Function progress = arg_optional_fn(info, kModelArgs + 13, fn, "onProgress");
  std::vector<Napi::Value> held = keep(m, {x, logp_v});
  held.insert(held.end(), grads.begin(), grads.end());
  return KernelJob::start(info.Env(), [=](const JobHooks& h) { rnade_backward(p, xd, n, scale, logp, g, h); },
                          [](Napi::Env env) { return env.Undefined(); }, cancel, progress, held);
}

// rnadeSample(model..., n, offsetLo, offsetHi, key0, key1, stream, x [, cancel, onProgress])
Napi::Value sample(const Napi::CallbackInfo& info, bool async) {
  const char* fn = async ? "rnadeSampleAsync" : "rnadeSample";
  require_args(info, kModelArgs + (async ? 8 : 7), fn);
  Model m = model_args(info, fn);
  const int64_t n = arg_int(info, kModelArgs, fn, "n", 0, int64_t{1} << 31);
  const SampleDraw draw = arg_sample_draw(info, kModelArgs + 1, fn);
  Napi::Float32Array x = arg_f32(info, kModelArgs + 6, fn, "x");
  require_len(info, x, n * m.p.d, fn, "x");
  const RnadeParams p = m.p;
  float* xd = x.Data();
  if (!async) {
    rnade_sample(p, n, draw.offset, draw.key0, draw.key1, draw.stream, xd);
    return info.Env().Undefined();
  }
  Napi::Int32Array cancel = arg_cancel(info, kModelArgs + 7, fn);
  Napi::Function progress = arg_optional_fn(info, kModelArgs + 8, fn, "onProgress");
  const std::vector<Napi::Value> held = keep(m, {x});
  return KernelJob::start(
      info.Env(),
      [=](const JobHooks& h) { rnade_sample(p, n, draw.offset, draw.key0, draw.key1, draw.stream, xd, h); },
      [](Napi::Env env) { return env.Undefined(); }, cancel, progress, held);
}

}  // namespace

void register_rnade(Napi::Env env, Napi::Object exports) {
  define(env, exports, "rnadeLogProb", [](const Napi::CallbackInfo& i) { return log_prob(i, false); });
  define(env, exports, "rnadeLogProbAsync", [](const Napi::CallbackInfo& i) { return log_prob(i, true); });
  define(env, exports, "rnadeBackward", [](const Napi::CallbackInfo& i) { return backward(i, false); });
  define(env, exports, "rnadeBackwardAsync", [](const Napi::CallbackInfo& i) { return backward(i, true); });
  define(env, exports, "rnadeSample", [](const Napi::CallbackInfo& i) { return sample(i, false); });
  define(env, exports, "rnadeSampleAsync", [](const Napi::CallbackInfo& i) { return sample(i, true); });
}

}  // namespace addon
}  // namespace deepgen
