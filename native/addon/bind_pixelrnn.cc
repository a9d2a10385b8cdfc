// Bindings of the PixelRNN kernels (native/kernels/cpu/pixelrnn.h), sync and async, and of
// their CUDA mirrors on a device-resident model (native/kernels/cuda/pixelrnn*.cu).
// Every CPU call takes the model first: kind (0 Row LSTM, 1 Diagonal BiLSTM), layers, hidden,
// rows, cols, params (Float32Array of the layout's size).
#include <napi.h>

#include <memory>
#include <utility>

#include "../kernels/cpu/pixelrnn.h"
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

// Arguments 0..5 of every CPU binding: kind, layers, hidden, rows, cols, params. The model
// sizes are the kernel's to bound (pixelrnn_check: E_ARG); params must hold the layout.
struct Model {
  PixelRnnSpec s;
  int64_t d = 0, total = 0;
};

Model model_args(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
  Model m;
  m.s.kind = static_cast<PixelRnnKind>(arg_int(info, 0, fn, "kind", 0, 1));
  m.s.layers = arg_int(info, 1, fn, "layers", 1, kMaxDim);
  m.s.hidden = arg_int(info, 2, fn, "hidden", 1, kMaxDim);
  m.s.rows = arg_int(info, 3, fn, "rows", 1, kMaxDim);
  m.s.cols = arg_int(info, 4, fn, "cols", 1, kMaxDim);
  Napi::Float32Array params = arg_f32(info, 5, fn, "params");
  m.s.params = params.Data();
  pixelrnn_check(m.s);
  m.total = pixelrnn_layout(m.s).total;
  m.d = m.s.rows * m.s.cols;
  require_len(info, params, m.total, fn, "params");
  keep.hold({params});
  return m;
}

// pixelRnnLogProb(kind, layers, hidden, rows, cols, params, x, n, logp)
struct LogProb {
  static constexpr const char* kName = "pixelRnnLogProb";
  static constexpr const char* kAsyncName = "pixelRnnLogProbAsync";
  static constexpr size_t kArgs = 9;
  struct Args {
    Model m;
    LogProbIo io;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
    const Model m = model_args(info, fn, keep);
    return {m, arg_log_prob_io(info, 6, fn, m.d, keep)};
  }
  static void run(const Args& a, const JobHooks& hooks) {
    pixelrnn_log_prob(a.m.s, a.io.x, a.io.n, a.io.logp, hooks);
  }
};

// pixelRnnBackward(kind, layers, hidden, rows, cols, params, x, n, scale, logp | null, grads)
struct Backward {
  static constexpr const char* kName = "pixelRnnBackward";
  static constexpr const char* kAsyncName = "pixelRnnBackwardAsync";
  static constexpr size_t kArgs = 11;
  struct Args {
    Model m;
    BackwardIo io;
    float* grads;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
    const Model m = model_args(info, fn, keep);
    const BackwardIo io = arg_backward_io(info, 6, fn, m.d, keep);
    Napi::Float32Array grads = arg_f32(info, 10, fn, "grads", m.total);
    keep.hold({grads});
    return {m, io, grads.Data()};
  }
  static void run(const Args& a, const JobHooks& hooks) {
    pixelrnn_backward(a.m.s, a.io.x, a.io.n, a.io.scale, a.io.logp, a.grads, hooks);
  }
};

// pixelRnnSample(kind, layers, hidden, rows, cols, params, n, offsetLo, offsetHi, key0, key1,
//                stream, cached, x, probs | null, rowStreams | null, known): known > 0 reads
// the first known pixels of each row of x instead of drawing them (a completion).
struct Sample {
  static constexpr const char* kName = "pixelRnnSample";
  static constexpr const char* kAsyncName = "pixelRnnSampleAsync";
  static constexpr size_t kArgs = 17;
  struct Args {
    Model m;
    int64_t n;
    SampleStreams streams;
    bool cached;
    SampleOut out;
    int64_t known;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
    const Model m = model_args(info, fn, keep);
    const SampleCount count = arg_sample_count(info, 6, fn);
    const bool cached = arg_bool(info, 12, fn, "cached");
    const SampleOut out = arg_sample_out(info, 13, fn, count.n, m.d, true, keep);
    const int64_t known = arg_int(info, 16, fn, "known", 0, m.d);
    return {m, count.n, arg_sample_streams(info, 15, fn, count, keep), cached, out, known};
  }
  static void run(const Args& a, const JobHooks& hooks) {
    pixelrnn_sample(a.m.s, a.n, a.streams, a.cached, a.out.x, a.out.probs, hooks, a.known);
  }
};

// ---- CUDA: a device-resident model behind an External handle ------------------------------
// cudaPixelRnnUpload(kind, layers, hidden, rows, cols, params) -> handle; the parameters are
// copied to the device once. cudaPixelRnnRelease(handle) frees them now (idempotent);
// otherwise the garbage collector does. The handle is type-tagged so that any other value
// (a NADE handle included) is refused with E_ARG.
struct CudaPixelRnnHandle {
  static constexpr const napi_type_tag* kTag = &kCudaPixelRnnTag;
  static constexpr const char* kUpload = "cudaPixelRnnUpload";
  static constexpr const char* kRelease = "cudaPixelRnnRelease";
  static constexpr auto release = cuda::pixelrnn_release;
  cuda::PixelRnnDeviceModel* model = nullptr;
  int64_t d = 0;
  ~CudaPixelRnnHandle() { cuda::pixelrnn_release(model); }
};

Napi::Value cuda_upload(const Napi::CallbackInfo& info) {
  const char* fn = CudaPixelRnnHandle::kUpload;
  require_args(info, 6, fn);
  Keep none(false);
  const Model m = model_args(info, fn, none);
  auto holder = std::make_unique<CudaPixelRnnHandle>();
  holder->model = cuda::pixelrnn_upload(m.s);
  holder->d = m.d;
  return wrap_device_handle<CudaPixelRnnHandle>(info.Env(), std::move(holder));
}

// cudaPixelRnnLogProb(handle, x, n, logp)
Napi::Value cuda_log_prob(const Napi::CallbackInfo& info) {
  return device_log_prob<CudaPixelRnnHandle>(info, "cudaPixelRnnLogProb", cuda::pixelrnn_log_prob);
}

// cudaPixelRnnSample(handle, n, offsetLo, offsetHi, key0, key1, stream, x, probs | null):
// the cached sampler (the naive one draws the same images).
Napi::Value cuda_sample(const Napi::CallbackInfo& info) {
  const char* fn = "cudaPixelRnnSample";
  require_args(info, 9, fn);
  CudaPixelRnnHandle& hd = live_handle<CudaPixelRnnHandle>(info, 0, fn);
  const SampleCount count = arg_sample_count(info, 1, fn);
  Keep none(false);
  const SampleOut out = arg_sample_out(info, 7, fn, count.n, hd.d, true, none);
  const SampleDraw& d = count.draw;
  cuda::pixelrnn_sample(hd.model, count.n, d.offset, d.key0, d.key1, d.stream, out.x, out.probs);
  return info.Env().Undefined();
}

}  // namespace

void register_pixelrnn(Napi::Env env, Napi::Object exports) {
  define_pair<LogProb>(env, exports);
  define_pair<Backward>(env, exports);
  define_pair<Sample>(env, exports);
  define(env, exports, CudaPixelRnnHandle::kUpload, cuda_upload);
  define(env, exports, CudaPixelRnnHandle::kRelease, release_device_handle<CudaPixelRnnHandle>);
  define(env, exports, "cudaPixelRnnLogProb", cuda_log_prob);
  define(env, exports, "cudaPixelRnnSample", cuda_sample);
}

}  // namespace addon
}  // namespace deepgen
