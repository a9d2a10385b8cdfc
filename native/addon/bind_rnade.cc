// Bindings of the fused RNADE kernels (native/kernels/cpu/rnade.h), sync and async.
// Model arguments first: D, H, K, wt [D,H], c [H], va, vm, vs [D,K,H], ba, bm, bs [D,K].
#include <napi.h>

#include <array>

#include "../kernels/cpu/rnade.h"
#include "args.h"
#include "bindings.h"
#include "kernel_job.h"
#include "model_args.h"

namespace deepgen {
namespace addon {
namespace {

constexpr size_t kModelArgs = 11;

// Parses and length-checks 8 float arrays starting at `first`, in parameter order; their data.
std::array<float*, 8> param_arrays(const Napi::CallbackInfo& info, const char* fn, size_t first,
                                   const RnadeParams& p, const char* const names[8], Keep& keep) {
  const Napi::Env env = info.Env();
  const int64_t dh = elements(env, fn, "D * H", {p.d, p.h});
  const int64_t dkh = elements(env, fn, "D * K * H", {p.d, p.k, p.h});
  const int64_t dk = elements(env, fn, "D * K", {p.d, p.k});
  const int64_t sizes[8] = {dh, p.h, dkh, dkh, dkh, dk, dk, dk};
  std::array<float*, 8> out{};
  for (size_t i = 0; i < 8; ++i) {
    Napi::Float32Array a = arg_f32(info, first + i, fn, names[i], sizes[i]);
    keep.hold({a});
    out[i] = a.Data();
  }
  return out;
}

// The model arguments 0..10: D, H, K, wt [D,H], c [H], va, vm, vs [D,K,H], ba, bm, bs [D,K].
RnadeParams model_args(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
  static const char* const names[8] = {"wt", "c", "va", "vm", "vs", "ba", "bm", "bs"};
  RnadeParams p;
  p.d = arg_int(info, 0, fn, "D", 1, kMaxDim);
  p.h = arg_int(info, 1, fn, "H", 1, kMaxDim);
  p.k = arg_int(info, 2, fn, "K", 1, kMaxDim);
  const std::array<float*, 8> a = param_arrays(info, fn, 3, p, names, keep);
  p.wt = a[0];
  p.c = a[1];
  p.va = a[2];
  p.vm = a[3];
  p.vs = a[4];
  p.ba = a[5];
  p.bm = a[6];
  p.bs = a[7];
  return p;
}

// rnadeLogProb(model..., x, n, logp)
struct LogProb {
  static constexpr const char* kName = "rnadeLogProb";
  static constexpr const char* kAsyncName = "rnadeLogProbAsync";
  static constexpr size_t kArgs = kModelArgs + 3;
  struct Args {
    RnadeParams p;
    LogProbIo io;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
    const RnadeParams p = model_args(info, fn, keep);
    return {p, arg_log_prob_io(info, kModelArgs, fn, p.d, keep)};
  }
  static void run(const Args& a, const JobHooks& hooks) {
    rnade_log_prob(a.p, a.io.x, a.io.n, a.io.logp, hooks);
  }
};

// rnadeBackward(model..., x, n, scale, logp | null, gwt, gc, gva, gvm, gvs, gba, gbm, gbs)
struct Backward {
  static constexpr const char* kName = "rnadeBackward";
  static constexpr const char* kAsyncName = "rnadeBackwardAsync";
  static constexpr size_t kArgs = kModelArgs + 12;
  struct Args {
    RnadeParams p;
    BackwardIo io;
    RnadeGrads g;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
    static const char* const names[8] = {"gwt", "gc", "gva", "gvm", "gvs", "gba", "gbm", "gbs"};
    const RnadeParams p = model_args(info, fn, keep);
    const BackwardIo io = arg_backward_io(info, kModelArgs, fn, p.d, keep);
    const std::array<float*, 8> g = param_arrays(info, fn, kModelArgs + 4, p, names, keep);
    return {p, io, {g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]}};
  }
  static void run(const Args& a, const JobHooks& hooks) {
    rnade_backward(a.p, a.io.x, a.io.n, a.io.scale, a.io.logp, a.g, hooks);
  }
};

// rnadeSample(model..., n, offsetLo, offsetHi, key0, key1, stream, x, rowStreams | null)
struct Sample {
  static constexpr const char* kName = "rnadeSample";
  static constexpr const char* kAsyncName = "rnadeSampleAsync";
  static constexpr size_t kArgs = kModelArgs + 8;
  struct Args {
    RnadeParams p;
    int64_t n;
    SampleStreams streams;
    float* x;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
    const RnadeParams p = model_args(info, fn, keep);
    const SampleCount count = arg_sample_count(info, kModelArgs, fn);
    float* x = arg_sample_out(info, kModelArgs + 6, fn, count.n, p.d, false, keep).x;
    return {p, count.n, arg_sample_streams(info, kModelArgs + 7, fn, count, keep), x};
  }
  static void run(const Args& a, const JobHooks& hooks) {
    rnade_sample(a.p, a.n, a.streams, a.x, hooks);
  }
};

}  // namespace

void register_rnade(Napi::Env env, Napi::Object exports) {
  define_pair<LogProb>(env, exports);
  define_pair<Backward>(env, exports);
  define_pair<Sample>(env, exports);
}

}  // namespace addon
}  // namespace deepgen
