// Bindings of the fused NADE kernels (native/kernels/cpu/nade.h), sync and async.
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../kernels/cpu/nade.h"
#include "../kernels/cuda/cuda_api.h"
#include "args.h"
#include "bindings.h"
#include "device_handle.h"
#include "handle_tags.h"
#include "kernel_job.h"

namespace deepgen {
namespace addon {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 31;

// Async jobs read the ordering on a pool thread: they get their own copy (validated above), so
// JS changing `order` meanwhile cannot steer indices out of bounds.
std::shared_ptr<std::vector<int32_t>> own_order(NadeParams& p) {
  auto copy = std::make_shared<std::vector<int32_t>>(p.order, p.order + p.d);
  p.order = copy->data();
  return copy;
}

// Arguments 0..6 of every NADE binding: D, H, wt, c, v, b, order. The arrays are checked
// for length and the order for being a permutation before any kernel runs.
struct ModelArgs {
  NadeParams p;
  Napi::Float32Array wt, c, v, b;
  Napi::Int32Array order;
};

ModelArgs model_args(const Napi::CallbackInfo& info, const char* fn) {
  ModelArgs m;
  m.p.d = arg_int(info, 0, fn, "D", 1, kMaxDim);
  m.p.h = arg_int(info, 1, fn, "H", 1, kMaxDim);
  m.wt = arg_f32(info, 2, fn, "wt");
  m.c = arg_f32(info, 3, fn, "c");
  m.v = arg_f32(info, 4, fn, "v");
  m.b = arg_f32(info, 5, fn, "b");
  if (!info[6].IsTypedArray() || info[6].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": argument 'order' must be an Int32Array");
  }
  m.order = info[6].As<Napi::Int32Array>();
  require_len(info, m.wt, m.p.d * m.p.h, fn, "wt");
  require_len(info, m.c, m.p.h, fn, "c");
  require_len(info, m.v, m.p.d * m.p.h, fn, "v");
  require_len(info, m.b, m.p.d, fn, "b");
  require_len(info, m.order, m.p.d, fn, "order");
  m.p.wt = m.wt.Data();
  m.p.c = m.c.Data();
  m.p.v = m.v.Data();
  m.p.b = m.b.Data();
  m.p.order = m.order.Data();
  nade_check(m.p);
  return m;
}

// nadeLogProb(D, H, wt, c, v, b, order, x, n, logp [, cancel, onProgress])
struct LogProbArgs {
  ModelArgs m;
  Napi::Float32Array x, logp;
  int64_t n;
};

LogProbArgs log_prob_args(const Napi::CallbackInfo& info, const char* fn, size_t nargs) {
  require_args(info, nargs, fn);
  LogProbArgs a{model_args(info, fn), {}, {}, 0};
  a.x = arg_f32(info, 7, fn, "x");
  a.n = arg_int(info, 8, fn, "n", 0, kMaxDim);
  a.logp = arg_f32(info, 9, fn, "logp");
  require_len(info, a.x, a.n * a.m.p.d, fn, "x");
  require_len(info, a.logp, a.n, fn, "logp");
  return a;
}

Napi::Value log_prob_sync(const Napi::CallbackInfo& info) {
  LogProbArgs a = log_prob_args(info, "nadeLogProb", 10);
  nade_log_prob(a.m.p, a.x.Data(), a.n, a.logp.Data());
  return info.Env().Undefined();
}

Napi::Value log_prob_async(const Napi::CallbackInfo& info) {
  LogProbArgs a = log_prob_args(info, "nadeLogProbAsync", 11);
  Napi::Int32Array cancel = arg_cancel(info, 10, "nadeLogProbAsync");
  Napi::Function progress = arg_optional_fn(info, 11, "nadeLogProbAsync", "onProgress");
  NadeParams p = a.m.p;
  const auto order = own_order(p);
  const float* x = a.x.Data();
  float* logp = a.logp.Data();
  const int64_t n = a.n;
  return KernelJob::start(
      info.Env(), [=](const JobHooks& hooks) { (void)order; nade_log_prob(p, x, n, logp, hooks); },
      [](Napi::Env env) { return env.Undefined(); }, cancel, progress,
      {a.m.wt, a.m.c, a.m.v, a.m.b, a.m.order, a.x, a.logp});
}

// nadeSample(D, H, wt, c, v, b, order, n, offsetLo, offsetHi, key0, key1, stream, known, x,
//            probs | null [, cancel, onProgress])
struct SampleArgs {
  ModelArgs m;
  int64_t n, known;
  SampleDraw draw;
  Napi::Float32Array x;
  Napi::Value probs_value;
  float* probs = nullptr;
};

SampleArgs sample_args(const Napi::CallbackInfo& info, const char* fn, size_t nargs) {
  require_args(info, nargs, fn);
  SampleArgs a{model_args(info, fn), 0, 0, {}, {}, {}, nullptr};
  a.n = arg_int(info, 7, fn, "n", 0, kMaxDim);
  a.draw = arg_sample_draw(info, 8, fn);
  a.known = arg_int(info, 13, fn, "known", 0, a.m.p.d);
  a.x = arg_f32(info, 14, fn, "x");
  require_len(info, a.x, a.n * a.m.p.d, fn, "x");
  a.probs_value = info[15];
  a.probs = arg_optional_f32(info, 15, fn, "probs", a.n * a.m.p.d);
  return a;
}

Napi::Value sample_sync(const Napi::CallbackInfo& info) {
  SampleArgs a = sample_args(info, "nadeSample", 16);
  nade_sample(a.m.p, a.n, a.draw.offset, a.draw.key0, a.draw.key1, a.draw.stream, a.known,
              a.x.Data(), a.probs);
  return info.Env().Undefined();
}

Napi::Value sample_async(const Napi::CallbackInfo& info) {
  SampleArgs a = sample_args(info, "nadeSampleAsync", 17);
  Napi::Int32Array cancel = arg_cancel(info, 16, "nadeSampleAsync");
  Napi::Function progress = arg_optional_fn(info, 17, "nadeSampleAsync", "onProgress");
  NadeParams p = a.m.p;
  const auto order = own_order(p);
  float* x = a.x.Data();
  float* probs = a.probs;
  const int64_t n = a.n, known = a.known;
  const SampleDraw draw = a.draw;
  return KernelJob::start(
      info.Env(),
      [=](const JobHooks& hooks) {
        (void)order;
        nade_sample(p, n, draw.offset, draw.key0, draw.key1, draw.stream, known, x, probs, hooks);
      },
      [](Napi::Env env) { return env.Undefined(); }, cancel, progress,
      {a.m.wt, a.m.c, a.m.v, a.m.b, a.m.order, a.x, a.probs_value});
}

// nadeBackward(D, H, wt, c, v, b, order, x, n, scale, logp | null, dwt, dc, dv, db
//              [, cancel, onProgress])
struct BackwardArgs {
  ModelArgs m;
  Napi::Float32Array x, dwt, dc, dv, db;
  Napi::Value logp_value;
  float* logp = nullptr;
  int64_t n = 0;
  float scale = 1.0f;
};

BackwardArgs backward_args(const Napi::CallbackInfo& info, const char* fn, size_t nargs) {
  require_args(info, nargs, fn);
  BackwardArgs a{model_args(info, fn), {}, {}, {}, {}, {}, {}, nullptr, 0, 1.0f};
  a.x = arg_f32(info, 7, fn, "x");
  a.n = arg_int(info, 8, fn, "n", 0, kMaxDim);
  if (!info[9].IsNumber() || !std::isfinite(info[9].As<Napi::Number>().DoubleValue())) {
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": argument 'scale' must be a finite number");
  }
  a.scale = info[9].As<Napi::Number>().FloatValue();
  a.logp_value = info[10];
  if (!a.logp_value.IsNull() && !a.logp_value.IsUndefined()) {
    Napi::Float32Array logp = arg_f32(info, 10, fn, "logp");
    require_len(info, logp, a.n, fn, "logp");
    a.logp = logp.Data();
  }
  a.dwt = arg_f32(info, 11, fn, "dwt");
  a.dc = arg_f32(info, 12, fn, "dc");
  a.dv = arg_f32(info, 13, fn, "dv");
  a.db = arg_f32(info, 14, fn, "db");
  require_len(info, a.x, a.n * a.m.p.d, fn, "x");
  require_len(info, a.dwt, a.m.p.d * a.m.p.h, fn, "dwt");
  require_len(info, a.dc, a.m.p.h, fn, "dc");
  require_len(info, a.dv, a.m.p.d * a.m.p.h, fn, "dv");
  require_len(info, a.db, a.m.p.d, fn, "db");
  return a;
}

Napi::Value backward_sync(const Napi::CallbackInfo& info) {
  BackwardArgs a = backward_args(info, "nadeBackward", 15);
  nade_backward(a.m.p, a.x.Data(), a.n, a.scale, a.logp, a.dwt.Data(), a.dc.Data(), a.dv.Data(),
                a.db.Data());
  return info.Env().Undefined();
}

Napi::Value backward_async(const Napi::CallbackInfo& info) {
  BackwardArgs a = backward_args(info, "nadeBackwardAsync", 16);
  Napi::Int32Array cancel = arg_cancel(info, 15, "nadeBackwardAsync");
  Napi::Function progress = arg_optional_fn(info, 16, "nadeBackwardAsync", "onProgress");
  NadeParams p = a.m.p;
  const auto order = own_order(p);
  const float* x = a.x.Data();
  float *logp = a.logp, *dwt = a.dwt.Data(), *dc = a.dc.Data(), *dv = a.dv.Data(), *db = a.db.Data();
  const int64_t n = a.n;
  const float scale = a.scale;
  return KernelJob::start(
      info.Env(),
      [=](const JobHooks& hooks) {
        (void)order;
        nade_backward(p, x, n, scale, logp, dwt, dc, dv, db, hooks);
      },
      [](Napi::Env env) { return env.Undefined(); }, cancel, progress,
      {a.m.wt, a.m.c, a.m.v, a.m.b, a.m.order, a.x, a.logp_value, a.dwt, a.dc, a.dv, a.db});
}

// ---- CUDA: a device-resident model behind an External handle ------------------------------
// cudaNadeUpload(D, H, wt, c, v, b, order) -> handle; the weights are copied to the device
// once. cudaNadeRelease(handle) frees them now (idempotent); otherwise the garbage collector
// does. The handle is type-tagged so that any other value is refused with E_ARG.
struct CudaNadeHandle {
  cuda::NadeDeviceModel* model = nullptr;
  int64_t d = 0, h = 0;
  ~CudaNadeHandle() { cuda::nade_release(model); }
};

CudaNadeHandle& handle_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  return live_handle<CudaNadeHandle>(info, i, kCudaNadeTag, fn, "cudaNadeUpload");
}

Napi::Value cuda_nade_upload(const Napi::CallbackInfo& info) {
  require_args(info, 7, "cudaNadeUpload");
  ModelArgs m = model_args(info, "cudaNadeUpload");
  auto holder = std::make_unique<CudaNadeHandle>();
  holder->model = cuda::nade_upload(m.p);
  holder->d = m.p.d;
  holder->h = m.p.h;
  return wrap_device_handle(info.Env(), std::move(holder), kCudaNadeTag);
}

Napi::Value cuda_nade_release(const Napi::CallbackInfo& info) {
  return release_device_handle<CudaNadeHandle>(info, kCudaNadeTag, "cudaNadeRelease",
                                               "cudaNadeUpload", cuda::nade_release);
}

// cudaNadeLogProb(handle, x, n, logp)
Napi::Value cuda_nade_log_prob(const Napi::CallbackInfo& info) {
  const char* fn = "cudaNadeLogProb";
  require_args(info, 4, fn);
  CudaNadeHandle& hd = handle_arg(info, 0, fn);
  Napi::Float32Array x = arg_f32(info, 1, fn, "x");
  const int64_t n = arg_int(info, 2, fn, "n", 0, kMaxDim);
  Napi::Float32Array logp = arg_f32(info, 3, fn, "logp");
  require_len(info, x, n * hd.d, fn, "x");
  require_len(info, logp, n, fn, "logp");
  cuda::nade_log_prob(hd.model, x.Data(), n, logp.Data());
  return info.Env().Undefined();
}

// cudaNadeSample(handle, n, offsetLo, offsetHi, key0, key1, stream, known, x, probs | null)
Napi::Value cuda_nade_sample(const Napi::CallbackInfo& info) {
  const char* fn = "cudaNadeSample";
  require_args(info, 10, fn);
  CudaNadeHandle& hd = handle_arg(info, 0, fn);
  const int64_t n = arg_int(info, 1, fn, "n", 0, kMaxDim);
  const SampleDraw draw = arg_sample_draw(info, 2, fn);
  const int64_t known = arg_int(info, 7, fn, "known", 0, hd.d);
  Napi::Float32Array x = arg_f32(info, 8, fn, "x");
  require_len(info, x, n * hd.d, fn, "x");
  float* probs = arg_optional_f32(info, 9, fn, "probs", n * hd.d);
  cuda::nade_sample(hd.model, n, draw.offset, draw.key0, draw.key1, draw.stream, known, x.Data(),
                    probs);
  return info.Env().Undefined();
}

// cudaNadeBackward(handle, x, n, scale, logp | null, dwt, dc, dv, db)
Napi::Value cuda_nade_backward(const Napi::CallbackInfo& info) {
  const char* fn = "cudaNadeBackward";
  require_args(info, 9, fn);
  CudaNadeHandle& hd = handle_arg(info, 0, fn);
  Napi::Float32Array x = arg_f32(info, 1, fn, "x");
  const int64_t n = arg_int(info, 2, fn, "n", 0, kMaxDim);
  if (!info[3].IsNumber() || !std::isfinite(info[3].As<Napi::Number>().DoubleValue())) {
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": argument 'scale' must be a finite number");
  }
  const float scale = info[3].As<Napi::Number>().FloatValue();
  float* logp = nullptr;
  if (!info[4].IsNull() && !info[4].IsUndefined()) {
    Napi::Float32Array lp = arg_f32(info, 4, fn, "logp");
    require_len(info, lp, n, fn, "logp");
    logp = lp.Data();
  }
  Napi::Float32Array dwt = arg_f32(info, 5, fn, "dwt");
  Napi::Float32Array dc = arg_f32(info, 6, fn, "dc");
  Napi::Float32Array dv = arg_f32(info, 7, fn, "dv");
  Napi::Float32Array db = arg_f32(info, 8, fn, "db");
  require_len(info, x, n * hd.d, fn, "x");
  require_len(info, dwt, hd.d * hd.h, fn, "dwt");
  require_len(info, dc, hd.h, fn, "dc");
  require_len(info, dv, hd.d * hd.h, fn, "dv");
  require_len(info, db, hd.d, fn, "db");
  cuda::nade_backward(hd.model, x.Data(), n, scale, logp, dwt.Data(), dc.Data(), dv.Data(), db.Data());
  return info.Env().Undefined();
}

}  // namespace

void register_nade(Napi::Env env, Napi::Object exports) {
  define(env, exports, "nadeLogProb", log_prob_sync);
  define(env, exports, "nadeLogProbAsync", log_prob_async);
  define(env, exports, "nadeSample", sample_sync);
  define(env, exports, "nadeSampleAsync", sample_async);
  define(env, exports, "nadeBackward", backward_sync);
  define(env, exports, "nadeBackwardAsync", backward_async);
  define(env, exports, "cudaNadeUpload", cuda_nade_upload);
  define(env, exports, "cudaNadeRelease", cuda_nade_release);
  define(env, exports, "cudaNadeLogProb", cuda_nade_log_prob);
  define(env, exports, "cudaNadeSample", cuda_nade_sample);
  define(env, exports, "cudaNadeBackward", cuda_nade_backward);
}

}  // namespace addon
}  // namespace deepgen
