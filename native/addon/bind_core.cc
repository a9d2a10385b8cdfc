// Bindings of the foundation kernels: runtime info, thread limit, Philox fill, FMA probe,
// and the CUDA device query / Philox fill.
#include <napi.h>

#include <memory>
#include <string>

#include "../common/cpu_features.h"
#include "../common/thread_pool.h"
#include "../kernels/cpu/fma_probe.h"
#include "../kernels/cpu/philox_fill.h"
#include "../kernels/cuda/cuda_api.h"
#include "args.h"
#include "bindings.h"
#include "kernel_job.h"

namespace deepgen {
namespace addon {
namespace {

constexpr int64_t kMaxSafeInt = 9007199254740991LL;  // 2^53 - 1

Napi::Value info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  const CpuFeatures& f = cpu_features();
  Napi::Object cpu = Napi::Object::New(env);
  cpu.Set("avx2", f.avx2);
  cpu.Set("fma", f.fma);
  cpu.Set("avx512f", f.avx512f);
  cpu.Set("simdKernels", use_avx2_fma());
  // "avx512", "avx2+fma", "portable", or "neon" on arm64 (see cpu_features.h).
  cpu.Set("simdPath", simd_path());
  out.Set("cpu", cpu);
  out.Set("threads", thread_limit());
  out.Set("defaultThreads", default_thread_limit());
  Napi::Object cuda = Napi::Object::New(env);
  std::string why;
  const int devices = cuda::device_count(&why);
  cuda.Set("built", cuda::built());
  cuda.Set("devices", devices);
  // Device memory held by live model handles (e.g. cudaNadeUpload); 0 without CUDA.
  cuda.Set("residentBytes", static_cast<double>(cuda::resident_bytes()));
  if (devices == 0) cuda.Set("reason", why);
  Napi::Array list = Napi::Array::New(env);
  for (int d = 0; d < devices; ++d) {
    try {
      const cuda::DeviceInfo di = cuda::device_info(d);
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", di.name);
      o.Set("computeCapability", std::to_string(di.major) + "." + std::to_string(di.minor));
      o.Set("totalMemory", static_cast<double>(di.total_memory));
      o.Set("freeMemory", static_cast<double>(di.free_memory));
      list.Set(static_cast<uint32_t>(d), o);
    } catch (const KernelError& e) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("error", e.what());
      list.Set(static_cast<uint32_t>(d), o);
    }
  }
  cuda.Set("deviceList", list);
  out.Set("cuda", cuda);
  return out;
}

Napi::Value thread_limit_get(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), thread_limit());
}

Napi::Value thread_limit_set(const Napi::CallbackInfo& info) {
  require_args(info, 1, "setThreadLimit");
  set_thread_limit(static_cast<int>(arg_int(info, 0, "setThreadLimit", "n", 1, 1024)));
  return info.Env().Undefined();
}

// philoxFill(out, key0, key1, stream, distribution) [+ cancel, onProgress when async]
struct PhiloxFill {
  static constexpr const char* kName = "philoxFill";
  static constexpr const char* kAsyncName = "philoxFillAsync";
  static constexpr size_t kArgs = 5;
  struct Args {
    float* out;
    int64_t n;
    uint32_t key0, key1, stream;
    Distribution dist;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
    Napi::Float32Array out = arg_f32(info, 0, fn, "out");
    keep.hold({out});
    return {out.Data(),
            static_cast<int64_t>(out.ElementLength()),
            arg_u32(info, 1, fn, "key0"),
            arg_u32(info, 2, fn, "key1"),
            arg_u32(info, 3, fn, "stream"),
            static_cast<Distribution>(arg_int(info, 4, fn, "distribution", 0, 1))};
  }
  static void run(const Args& a, const JobHooks& hooks) {
    philox_fill(a.out, a.n, a.key0, a.key1, a.stream, a.dist, hooks);
  }
};

// fmaProbe(iters, chunks, maxThreads) -> the sum of the accumulators
struct FmaProbe {
  static constexpr const char* kName = "fmaProbe";
  static constexpr const char* kAsyncName = "fmaProbeAsync";
  static constexpr size_t kArgs = 3;
  struct Args {
    int64_t iters, chunks;
    int max_threads;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep&) {
    return {arg_int(info, 0, fn, "iters", 0, kMaxSafeInt), arg_int(info, 1, fn, "chunks", 1, 4096),
            static_cast<int>(arg_int(info, 2, fn, "maxThreads", 0, 1024))};
  }
  static double run(const Args& a, const JobHooks& hooks) {
    return fma_probe(a.iters, a.chunks, a.max_threads, hooks);
  }
  static Napi::Value result(Napi::Env env, double sum) { return Napi::Number::New(env, sum); }
};

// cudaPhiloxFill: philoxFill's arguments, on the GPU.
Napi::Value cuda_philox_fill(const Napi::CallbackInfo& info) {
  const char* fn = "cudaPhiloxFill";
  require_args(info, PhiloxFill::kArgs, fn);
  Keep keep(false);
  const PhiloxFill::Args a = PhiloxFill::parse(info, fn, keep);
  cuda::philox_fill(a.out, a.n, a.key0, a.key1, a.stream, static_cast<int>(a.dist));
  return info.Env().Undefined();
}

}  // namespace

void register_core(Napi::Env env, Napi::Object exports) {
  define(env, exports, "info", info);
  define(env, exports, "threadLimit", thread_limit_get);
  define(env, exports, "setThreadLimit", thread_limit_set);
  define_pair<PhiloxFill>(env, exports);
  define_pair<FmaProbe>(env, exports);
  define(env, exports, "cudaPhiloxFill", cuda_philox_fill);
}

}  // namespace addon
}  // namespace deepgen
