// Bindings of the PixelRNN kernels (native/kernels/cpu/pixelrnn.h), sync and async, and of
// their CUDA mirrors on a device-resident model (native/kernels/cuda/pixelrnn*.cu).
// Every CPU call takes the model first: kind (0 Row LSTM, 1 Diagonal BiLSTM), layers, hidden,
// rows, cols, params (Float32Array of the layout's size).
#include <napi.h>

#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include "../kernels/cpu/pixelrnn.h"
#include "../kernels/cuda/cuda_api.h"
#include "args.h"
#include "bindings.h"
#include "device_handle.h"
#include "handle_tags.h"
#include "kernel_job.h"

namespace deepgen {
namespace addon {
namespace {

constexpr int64_t kMaxN = int64_t{1} << 31;

struct ModelArgs {
  PixelRnnSpec s;
  Napi::Float32Array params;
  int64_t d = 0, total = 0;
};

ModelArgs model_args(const Napi::CallbackInfo& info, const char* fn) {
  ModelArgs m;
  m.s.kind = static_cast<PixelRnnKind>(arg_int(info, 0, fn, "kind", 0, 1));
  m.s.layers = arg_int(info, 1, fn, "layers", 1, 64);
  m.s.hidden = arg_int(info, 2, fn, "hidden", 1, 4096);
  m.s.rows = arg_int(info, 3, fn, "rows", 1, 4096);
  m.s.cols = arg_int(info, 4, fn, "cols", 1, 4096);
  m.params = arg_f32(info, 5, fn, "params");
  m.s.params = m.params.Data();
  pixelrnn_check(m.s);
  m.total = pixelrnn_layout(m.s).total;
  m.d = m.s.rows * m.s.cols;
  require_len(info, m.params, m.total, fn, "params");
  return m;
}

// pixelRnnLogProb(kind, layers, hidden, rows, cols, params, x, n, logp [, cancel, onProgress])
struct LogProbArgs {
  ModelArgs m;
  Napi::Float32Array x, logp;
  int64_t n = 0;
};

LogProbArgs log_prob_args(const Napi::CallbackInfo& info, const char* fn, size_t nargs) {
  require_args(info, nargs, fn);
  LogProbArgs a{model_args(info, fn), {}, {}, 0};
  a.x = arg_f32(info, 6, fn, "x");
  a.n = arg_int(info, 7, fn, "n", 0, kMaxN);
  a.logp = arg_f32(info, 8, fn, "logp");
  require_len(info, a.x, a.n * a.m.d, fn, "x");
  require_len(info, a.logp, a.n, fn, "logp");
  return a;
}

Napi::Value log_prob_sync(const Napi::CallbackInfo& info) {
  LogProbArgs a = log_prob_args(info, "pixelRnnLogProb", 9);
  pixelrnn_log_prob(a.m.s, a.x.Data(), a.n, a.logp.Data());
  return info.Env().Undefined();
}

Napi::Value log_prob_async(const Napi::CallbackInfo& info) {
  LogProbArgs a = log_prob_args(info, "pixelRnnLogProbAsync", 11);
  Napi::Int32Array cancel = arg_cancel(info, 9, "pixelRnnLogProbAsync");
  Napi::Function progress = arg_optional_fn(info, 10, "pixelRnnLogProbAsync", "onProgress");
  const PixelRnnSpec s = a.m.s;
  const float* x = a.x.Data();
  float* logp = a.logp.Data();
  const int64_t n = a.n;
  return KernelJob::start(
      info.Env(), [=](const JobHooks& hooks) { pixelrnn_log_prob(s, x, n, logp, hooks); },
      [](Napi::Env env) { return env.Undefined(); }, cancel, progress, {a.m.params, a.x, a.logp});
}

// pixelRnnBackward(kind, layers, hidden, rows, cols, params, x, n, scale, logp | null, grads
//                  [, cancel, onProgress])
struct BackwardArgs {
  ModelArgs m;
  Napi::Float32Array x, grads;
  Napi::Value logp_value;
  float* logp = nullptr;
  int64_t n = 0;
  float scale = 1.0f;
};

BackwardArgs backward_args(const Napi::CallbackInfo& info, const char* fn, size_t nargs) {
  require_args(info, nargs, fn);
  BackwardArgs a{model_args(info, fn), {}, {}, {}, nullptr, 0, 1.0f};
  a.x = arg_f32(info, 6, fn, "x");
  a.n = arg_int(info, 7, fn, "n", 0, kMaxN);
  if (!info[8].IsNumber() || !std::isfinite(info[8].As<Napi::Number>().DoubleValue())) {
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": argument 'scale' must be a finite number");
  }
  a.scale = info[8].As<Napi::Number>().FloatValue();
  a.logp_value = info[9];
  if (!a.logp_value.IsNull() && !a.logp_value.IsUndefined()) {
    Napi::Float32Array logp = arg_f32(info, 9, fn, "logp");
    require_len(info, logp, a.n, fn, "logp");
    a.logp = logp.Data();
  }
  a.grads = arg_f32(info, 10, fn, "grads");
  require_len(info, a.x, a.n * a.m.d, fn, "x");
  require_len(info, a.grads, a.m.total, fn, "grads");
  return a;
}

Napi::Value backward_sync(const Napi::CallbackInfo& info) {
  BackwardArgs a = backward_args(info, "pixelRnnBackward", 11);
  pixelrnn_backward(a.m.s, a.x.Data(), a.n, a.scale, a.logp, a.grads.Data());
  return info.Env().Undefined();
}

Napi::Value backward_async(const Napi::CallbackInfo& info) {
  BackwardArgs a = backward_args(info, "pixelRnnBackwardAsync", 13);
  Napi::Int32Array cancel = arg_cancel(info, 11, "pixelRnnBackwardAsync");
  Napi::Function progress = arg_optional_fn(info, 12, "pixelRnnBackwardAsync", "onProgress");
  const PixelRnnSpec s = a.m.s;
  const float* x = a.x.Data();
  float* logp = a.logp;
  float* grads = a.grads.Data();
  const int64_t n = a.n;
  const float scale = a.scale;
  return KernelJob::start(
      info.Env(), [=](const JobHooks& hooks) { pixelrnn_backward(s, x, n, scale, logp, grads, hooks); },
      [](Napi::Env env) { return env.Undefined(); }, cancel, progress,
      {a.m.params, a.x, a.logp_value, a.grads});
}

// pixelRnnSample(kind, layers, hidden, rows, cols, params, n, offsetLo, offsetHi, key0, key1,
//                stream, cached, x, probs | null [, cancel, onProgress])
struct SampleArgs {
  ModelArgs m;
  int64_t n = 0;
  SampleDraw draw{};
  bool cached = true;
  Napi::Float32Array x;
  Napi::Value probs_value;
  float* probs = nullptr;
};

SampleArgs sample_args(const Napi::CallbackInfo& info, const char* fn, size_t nargs) {
  require_args(info, nargs, fn);
  SampleArgs a;
  a.m = model_args(info, fn);
  a.n = arg_int(info, 6, fn, "n", 0, kMaxN);
  a.draw = arg_sample_draw(info, 7, fn);
  if (!info[12].IsBoolean()) throw make_error(info.Env(), "E_ARG", std::string(fn) + ": argument 'cached' must be a boolean");
  a.cached = info[12].As<Napi::Boolean>().Value();
  a.x = arg_f32(info, 13, fn, "x");
  require_len(info, a.x, a.n * a.m.d, fn, "x");
  a.probs_value = info[14];
  a.probs = arg_optional_f32(info, 14, fn, "probs", a.n * a.m.d);
  return a;
}

Napi::Value sample_sync(const Napi::CallbackInfo& info) {
  SampleArgs a = sample_args(info, "pixelRnnSample", 15);
  pixelrnn_sample(a.m.s, a.n, a.draw.offset, a.draw.key0, a.draw.key1, a.draw.stream, a.cached,
                  a.x.Data(), a.probs);
  return info.Env().Undefined();
}

Napi::Value sample_async(const Napi::CallbackInfo& info) {
  SampleArgs a = sample_args(info, "pixelRnnSampleAsync", 17);
  Napi::Int32Array cancel = arg_cancel(info, 15, "pixelRnnSampleAsync");
  Napi::Function progress = arg_optional_fn(info, 16, "pixelRnnSampleAsync", "onProgress");
  const PixelRnnSpec s = a.m.s;
  const int64_t n = a.n;
  const SampleDraw draw = a.draw;
  const bool cached = a.cached;
  float* x = a.x.Data();
  float* probs = a.probs;
  return KernelJob::start(
      info.Env(),
      [=](const JobHooks& hooks) {
        pixelrnn_sample(s, n, draw.offset, draw.key0, draw.key1, draw.stream, cached, x, probs, hooks);
      },
      [](Napi::Env env) { return env.Undefined(); }, cancel, progress,
      {a.m.params, a.x, a.probs_value});
}

// ---- CUDA: a device-resident model behind an External handle ------------------------------
// cudaPixelRnnUpload(kind, layers, hidden, rows, cols, params) -> handle; the parameters are
// copied to the device once. cudaPixelRnnRelease(handle) frees them now (idempotent);
// otherwise the garbage collector does. The handle is type-tagged so that any other value
// (a NADE handle included) is refused with E_ARG.
struct CudaPixelRnnHandle {
  cuda::PixelRnnDeviceModel* model = nullptr;
  int64_t d = 0;
  ~CudaPixelRnnHandle() { cuda::pixelrnn_release(model); }
};

CudaPixelRnnHandle& handle_arg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  return live_handle<CudaPixelRnnHandle>(info, i, kCudaPixelRnnTag, fn, "cudaPixelRnnUpload");
}

Napi::Value cuda_upload(const Napi::CallbackInfo& info) {
  const char* fn = "cudaPixelRnnUpload";
  require_args(info, 6, fn);
  ModelArgs m = model_args(info, fn);
  auto holder = std::make_unique<CudaPixelRnnHandle>();
  holder->model = cuda::pixelrnn_upload(m.s);
  holder->d = m.d;
  return wrap_device_handle(info.Env(), std::move(holder), kCudaPixelRnnTag);
}

Napi::Value cuda_release(const Napi::CallbackInfo& info) {
  return release_device_handle<CudaPixelRnnHandle>(info, kCudaPixelRnnTag, "cudaPixelRnnRelease",
                                                   "cudaPixelRnnUpload", cuda::pixelrnn_release);
}

// cudaPixelRnnLogProb(handle, x, n, logp)
Napi::Value cuda_log_prob(const Napi::CallbackInfo& info) {
  const char* fn = "cudaPixelRnnLogProb";
  require_args(info, 4, fn);
  CudaPixelRnnHandle& hd = handle_arg(info, 0, fn);
  Napi::Float32Array x = arg_f32(info, 1, fn, "x");
  const int64_t n = arg_int(info, 2, fn, "n", 0, kMaxN);
  Napi::Float32Array logp = arg_f32(info, 3, fn, "logp");
  require_len(info, x, n * hd.d, fn, "x");
  require_len(info, logp, n, fn, "logp");
  cuda::pixelrnn_log_prob(hd.model, x.Data(), n, logp.Data());
  return info.Env().Undefined();
}

// cudaPixelRnnSample(handle, n, offsetLo, offsetHi, key0, key1, stream, x, probs | null):
// the cached sampler (the naive one draws the same images).
Napi::Value cuda_sample(const Napi::CallbackInfo& info) {
  const char* fn = "cudaPixelRnnSample";
  require_args(info, 9, fn);
  CudaPixelRnnHandle& hd = handle_arg(info, 0, fn);
  const int64_t n = arg_int(info, 1, fn, "n", 0, kMaxN);
  const SampleDraw draw = arg_sample_draw(info, 2, fn);
  Napi::Float32Array x = arg_f32(info, 7, fn, "x");
  require_len(info, x, n * hd.d, fn, "x");
  float* probs = arg_optional_f32(info, 8, fn, "probs", n * hd.d);
  cuda::pixelrnn_sample(hd.model, n, draw.offset, draw.key0, draw.key1, draw.stream, x.Data(), probs);
  return info.Env().Undefined();
}

}  // namespace

void register_pixelrnn(Napi::Env env, Napi::Object exports) {
  define(env, exports, "pixelRnnLogProb", log_prob_sync);
  define(env, exports, "pixelRnnLogProbAsync", log_prob_async);
  define(env, exports, "pixelRnnBackward", backward_sync);
  define(env, exports, "pixelRnnBackwardAsync", backward_async);
  define(env, exports, "pixelRnnSample", sample_sync);
  define(env, exports, "pixelRnnSampleAsync", sample_async);
  define(env, exports, "cudaPixelRnnUpload", cuda_upload);
  define(env, exports, "cudaPixelRnnRelease", cuda_release);
  define(env, exports, "cudaPixelRnnLogProb", cuda_log_prob);
  define(env, exports, "cudaPixelRnnSample", cuda_sample);
}

}  // namespace addon
}  // namespace deepgen
