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

struct PhiloxArgs {
  Napi::Float32Array out;
  uint32_t key0, key1, stream;
  Distribution dist;
};

PhiloxArgs philox_args(const Napi::CallbackInfo& info, const char* fn) {
  require_args(info, 5, fn);
  PhiloxArgs a;
  a.out = arg_f32(info, 0, fn, "out");
  a.key0 = arg_u32(info, 1, fn, "key0");
  a.key1 = arg_u32(info, 2, fn, "key1");
  a.stream = arg_u32(info, 3, fn, "stream");
  a.dist = static_cast<Distribution>(arg_int(info, 4, fn, "distribution", 0, 1));
  return a;
}

Napi::Value philox_fill_sync(const Napi::CallbackInfo& info) {
  PhiloxArgs a = philox_args(info, "philoxFill");
  philox_fill(a.out.Data(), static_cast<int64_t>(a.out.ElementLength()), a.key0, a.key1, a.stream,
              a.dist);
  return info.Env().Undefined();
}

Napi::Value philox_fill_async(const Napi::CallbackInfo& info) {
  PhiloxArgs a = philox_args(info, "philoxFillAsync");
  require_args(info, 6, "philoxFillAsync");
  Napi::Int32Array cancel = arg_cancel(info, 5, "philoxFillAsync");
  Napi::Function progress = arg_optional_fn(info, 6, "philoxFillAsync", "onProgress");
  float* out = a.out.Data();
  const int64_t n = static_cast<int64_t>(a.out.ElementLength());
  const uint32_t key0 = a.key0, key1 = a.key1, stream = a.stream;
  const Distribution dist = a.dist;
  return KernelJob::start(
      info.Env(),
      [=](const JobHooks& hooks) { philox_fill(out, n, key0, key1, stream, dist, hooks); },
      [](Napi::Env env) { return env.Undefined(); }, cancel, progress, {a.out});
}

struct ProbeArgs {
  int64_t iters, chunks;
  int max_threads;
};

ProbeArgs probe_args(const Napi::CallbackInfo& info, const char* fn) {
  require_args(info, 3, fn);
  ProbeArgs a;
  a.iters = arg_int(info, 0, fn, "iters", 0, kMaxSafeInt);
  a.chunks = arg_int(info, 1, fn, "chunks", 1, 4096);
  a.max_threads = static_cast<int>(arg_int(info, 2, fn, "maxThreads", 0, 1024));
  return a;
}

Napi::Value fma_probe_sync(const Napi::CallbackInfo& info) {
  const ProbeArgs a = probe_args(info, "fmaProbe");
  return Napi::Number::New(info.Env(), fma_probe(a.iters, a.chunks, a.max_threads));
}

Napi::Value fma_probe_async(const Napi::CallbackInfo& info) {
  const ProbeArgs a = probe_args(info, "fmaProbeAsync");
  require_args(info, 4, "fmaProbeAsync");
  Napi::Int32Array cancel = arg_cancel(info, 3, "fmaProbeAsync");
  Napi::Function progress = arg_optional_fn(info, 4, "fmaProbeAsync", "onProgress");
  auto result = std::make_shared<double>(0.0);
  return KernelJob::start(
      info.Env(),
      [=](const JobHooks& hooks) { *result = fma_probe(a.iters, a.chunks, a.max_threads, hooks); },
      [result](Napi::Env env) { return Napi::Number::New(env, *result); }, cancel, progress, {});
}

Napi::Value cuda_philox_fill(const Napi::CallbackInfo& info) {
  PhiloxArgs a = philox_args(info, "cudaPhiloxFill");
  cuda::philox_fill(a.out.Data(), static_cast<int64_t>(a.out.ElementLength()), a.key0, a.key1,
                    a.stream, static_cast<int>(a.dist));
  return info.Env().Undefined();
}

}  // namespace

void register_core(Napi::Env env, Napi::Object exports) {
  define(env, exports, "info", info);
  define(env, exports, "threadLimit", thread_limit_get);
  define(env, exports, "setThreadLimit", thread_limit_set);
  define(env, exports, "philoxFill", philox_fill_sync);
  define(env, exports, "philoxFillAsync", philox_fill_async);
  define(env, exports, "fmaProbe", fma_probe_sync);
  define(env, exports, "fmaProbeAsync", fma_probe_async);
  define(env, exports, "cudaPhiloxFill", cuda_philox_fill);
}

}  // namespace addon
}  // namespace deepgen
