// Bindings of the fused NADE kernels (native/kernels/cpu/nade.h), sync and async, and of
// their CUDA mirrors on a device-resident model (native/kernels/cuda/nade.cu).
#include <napi.h>

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
#include "model_args.h"

namespace deepgen {
namespace addon {
namespace {

// Arguments 0..6 of every CPU NADE binding: D, H, wt, c, v, b, order. The arrays are checked
// for length and the order for being a permutation before any kernel runs.
struct Model {
  NadeParams p;
  // Async jobs read the ordering on a pool thread: they get their own copy (validated), so JS
  // changing `order` meanwhile cannot steer indices out of bounds.
  std::shared_ptr<const std::vector<int32_t>> own_order;
};

Model model_args(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
  Model m;
  m.p.d = arg_int(info, 0, fn, "D", 1, kMaxDim);
  m.p.h = arg_int(info, 1, fn, "H", 1, kMaxDim);
  const int64_t dh = elements(info.Env(), fn, "D * H", {m.p.d, m.p.h});
  Napi::Float32Array wt = arg_f32(info, 2, fn, "wt", dh);
  Napi::Float32Array c = arg_f32(info, 3, fn, "c", m.p.h);
  Napi::Float32Array v = arg_f32(info, 4, fn, "v", dh);
  Napi::Float32Array b = arg_f32(info, 5, fn, "b", m.p.d);
  if (!info[6].IsTypedArray() ||
      info[6].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw make_error(info.Env(), "E_ARG",
                     std::string(fn) + ": argument 'order' must be an Int32Array");
  }
  Napi::Int32Array order = info[6].As<Napi::Int32Array>();
  require_len(info, order, m.p.d, fn, "order");
  m.p.wt = wt.Data();
  m.p.c = c.Data();
  m.p.v = v.Data();
  m.p.b = b.Data();
  m.p.order = order.Data();
  nade_check(m.p);
  if (keep.async()) {
    m.own_order = std::make_shared<const std::vector<int32_t>>(m.p.order, m.p.order + m.p.d);
    m.p.order = m.own_order->data();
  }
  keep.hold({wt, c, v, b});
  return m;
}

// nadeLogProb(D, H, wt, c, v, b, order, x, n, logp)
struct LogProb {
  static constexpr const char* kName = "nadeLogProb";
  static constexpr const char* kAsyncName = "nadeLogProbAsync";
  static constexpr size_t kArgs = 10;
  struct Args {
    Model m;
    LogProbIo io;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
    Model m = model_args(info, fn, keep);
    const LogProbIo io = arg_log_prob_io(info, 7, fn, m.p.d, keep);
    return {std::move(m), io};
  }
  static void run(const Args& a, const JobHooks& hooks) {
    nade_log_prob(a.m.p, a.io.x, a.io.n, a.io.logp, hooks);
  }
};

// nadeSample(D, H, wt, c, v, b, order, n, offsetLo, offsetHi, key0, key1, stream, known, x,
//            probs | null, rowStreams | null)
struct Sample {
  static constexpr const char* kName = "nadeSample";
  static constexpr const char* kAsyncName = "nadeSampleAsync";
  static constexpr size_t kArgs = 17;
  struct Args {
    Model m;
    int64_t n;
    SampleStreams streams;
    int64_t known;
    SampleOut out;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
    Model m = model_args(info, fn, keep);
    const SampleCount count = arg_sample_count(info, 7, fn);
    const int64_t known = arg_int(info, 13, fn, "known", 0, m.p.d);
    const SampleOut out = arg_sample_out(info, 14, fn, count.n, m.p.d, true, keep);
    const SampleStreams streams = arg_sample_streams(info, 16, fn, count, keep);
    return {std::move(m), count.n, streams, known, out};
  }
  static void run(const Args& a, const JobHooks& hooks) {
    nade_sample(a.m.p, a.n, a.streams, a.known, a.out.x, a.out.probs, hooks);
  }
};

// The gradient arrays dwt [D,H], dc [H], dv [D,H], db [D] at i .. i + 3.
struct Grads {
  float *dwt, *dc, *dv, *db;
};

Grads arg_grads(const Napi::CallbackInfo& info, size_t i, const char* fn, int64_t d, int64_t h,
                Keep& keep) {
  static const char* const names[4] = {"dwt", "dc", "dv", "db"};
  const int64_t dh = elements(info.Env(), fn, "D * H", {d, h});
  const int64_t sizes[4] = {dh, h, dh, d};
  float* data[4];
  for (size_t k = 0; k < 4; ++k) {
    Napi::Float32Array a = arg_f32(info, i + k, fn, names[k], sizes[k]);
    keep.hold({a});
    data[k] = a.Data();
  }
  return {data[0], data[1], data[2], data[3]};
}

// nadeBackward(D, H, wt, c, v, b, order, x, n, scale, logp | null, dwt, dc, dv, db)
struct Backward {
  static constexpr const char* kName = "nadeBackward";
  static constexpr const char* kAsyncName = "nadeBackwardAsync";
  static constexpr size_t kArgs = 15;
  struct Args {
    Model m;
    BackwardIo io;
    Grads g;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
    Model m = model_args(info, fn, keep);
    const BackwardIo io = arg_backward_io(info, 7, fn, m.p.d, keep);
    const Grads g = arg_grads(info, 11, fn, m.p.d, m.p.h, keep);
    return {std::move(m), io, g};
  }
  static void run(const Args& a, const JobHooks& hooks) {
    nade_backward(a.m.p, a.io.x, a.io.n, a.io.scale, a.io.logp, a.g.dwt, a.g.dc, a.g.dv, a.g.db,
                  hooks);
  }
};

// ---- CUDA: a device-resident model behind an External handle ------------------------------
// cudaNadeUpload(D, H, wt, c, v, b, order) -> handle; the weights are copied to the device
// once. cudaNadeRelease(handle) frees them now (idempotent); otherwise the garbage collector
// does. The handle is type-tagged so that any other value is refused with E_ARG.
struct CudaNadeHandle {
  static constexpr const napi_type_tag* kTag = &kCudaNadeTag;
  static constexpr const char* kUpload = "cudaNadeUpload";
  static constexpr const char* kRelease = "cudaNadeRelease";
  static constexpr auto release = cuda::nade_release;
  cuda::NadeDeviceModel* model = nullptr;
  int64_t d = 0, h = 0;
  ~CudaNadeHandle() { cuda::nade_release(model); }
};

Napi::Value cuda_nade_upload(const Napi::CallbackInfo& info) {
  const char* fn = CudaNadeHandle::kUpload;
  require_args(info, 7, fn);
  Keep none(false);
  const Model m = model_args(info, fn, none);
  auto holder = std::make_unique<CudaNadeHandle>();
  holder->model = cuda::nade_upload(m.p);
  holder->d = m.p.d;
  holder->h = m.p.h;
  return wrap_device_handle<CudaNadeHandle>(info.Env(), std::move(holder));
}

// cudaNadeLogProb(handle, x, n, logp)
Napi::Value cuda_nade_log_prob(const Napi::CallbackInfo& info) {
  return device_log_prob<CudaNadeHandle>(info, "cudaNadeLogProb", cuda::nade_log_prob);
}

// cudaNadeSample(handle, n, offsetLo, offsetHi, key0, key1, stream, known, x, probs | null)
Napi::Value cuda_nade_sample(const Napi::CallbackInfo& info) {
  const char* fn = "cudaNadeSample";
  require_args(info, 10, fn);
  CudaNadeHandle& hd = live_handle<CudaNadeHandle>(info, 0, fn);
  const SampleCount count = arg_sample_count(info, 1, fn);
  const int64_t known = arg_int(info, 7, fn, "known", 0, hd.d);
  Keep none(false);
  const SampleOut out = arg_sample_out(info, 8, fn, count.n, hd.d, true, none);
  const SampleDraw& d = count.draw;
  cuda::nade_sample(hd.model, count.n, d.offset, d.key0, d.key1, d.stream, known, out.x, out.probs);
  return info.Env().Undefined();
}

// cudaNadeBackward(handle, x, n, scale, logp | null, dwt, dc, dv, db)
Napi::Value cuda_nade_backward(const Napi::CallbackInfo& info) {
  const char* fn = "cudaNadeBackward";
  require_args(info, 9, fn);
  CudaNadeHandle& hd = live_handle<CudaNadeHandle>(info, 0, fn);
  Keep none(false);
  const BackwardIo io = arg_backward_io(info, 1, fn, hd.d, none);
  const Grads g = arg_grads(info, 5, fn, hd.d, hd.h, none);
  cuda::nade_backward(hd.model, io.x, io.n, io.scale, io.logp, g.dwt, g.dc, g.dv, g.db);
  return info.Env().Undefined();
}

}  // namespace

void register_nade(Napi::Env env, Napi::Object exports) {
  define_pair<LogProb>(env, exports);
  define_pair<Sample>(env, exports);
  define_pair<Backward>(env, exports);
  define(env, exports, CudaNadeHandle::kUpload, cuda_nade_upload);
  define(env, exports, CudaNadeHandle::kRelease, release_device_handle<CudaNadeHandle>);
  define(env, exports, "cudaNadeLogProb", cuda_nade_log_prob);
  define(env, exports, "cudaNadeSample", cuda_nade_sample);
  define(env, exports, "cudaNadeBackward", cuda_nade_backward);
}

}  // namespace addon
}  // namespace deepgen
