// Bindings of the reparameterized-sampling kernels (native/kernels/cpu/reparam.h).
// Synchronous: one call per training step or per IWAE chunk; every size is checked against
// every array before any work.
#include <napi.h>

#include <string>

#include "../kernels/cpu/reparam.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {
namespace {

// Samples are numbered by a 32-bit Philox counter: firstSample + rows * k must stay <= 2^32,
// so that no two draws of one key and stream share a counter.
constexpr int64_t kMaxSamples = int64_t{1} << 32;

struct Sizes {
  int64_t rows, cols, k, n, nk;  // n = rows * cols, nk = rows * k * cols
};

Sizes arg_sizes(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  Sizes s;
  s.rows = arg_int(info, i, fn, "rows", 0, kMaxDim);
  s.cols = arg_int(info, i + 1, fn, "cols", 0, kMaxDim);
  s.k = arg_int(info, i + 2, fn, "k", 1, kMaxDim);
  // Divisions, not products: rows * k itself may overflow int64.
  if (s.rows > kMaxSamples / s.k) {
    throw make_error(info.Env(), "E_SHAPE", std::string(fn) + ": rows * k is too large");
  }
  s.nk = elements(info.Env(), fn, "rows * k * cols", {s.rows * s.k, s.cols});
  s.n = s.rows * s.cols;
  return s;
}

// reparamForward(z, eps, mu, logvar, rows, cols, k, key0, key1, stream, firstSample)
Napi::Value forward(const Napi::CallbackInfo& info) {
  const char* fn = "reparamForward";
  require_args(info, 11, fn);
  const Sizes s = arg_sizes(info, 4, fn);
  Napi::Float32Array z = arg_f32(info, 0, fn, "z", s.nk);
  Napi::Float32Array eps = arg_f32(info, 1, fn, "eps", s.nk);
  Napi::Float32Array mu = arg_f32(info, 2, fn, "mu", s.n);
  Napi::Float32Array logvar = arg_f32(info, 3, fn, "logvar", s.n);
  const uint32_t key0 = arg_u32(info, 7, fn, "key0");
  const uint32_t key1 = arg_u32(info, 8, fn, "key1");
  const uint32_t stream = arg_u32(info, 9, fn, "stream");
  const int64_t first = arg_int(info, 10, fn, "firstSample", 0, kMaxSamples);
  if (first + s.rows * s.k > kMaxSamples) {
    throw make_error(info.Env(), "E_ARG",
                     std::string(fn) + ": firstSample + rows * k must be <= 2^32");
  }
  reparam_forward(z.Data(), eps.Data(), mu.Data(), logvar.Data(), s.rows, s.cols, s.k, key0, key1,
                  stream, first);
  return info.Env().Undefined();
}

// reparamBackward(dmu, dlogvar, dz, eps, logvar, rows, cols, k, accumulate)
Napi::Value backward(const Napi::CallbackInfo& info) {
  const char* fn = "reparamBackward";
  require_args(info, 9, fn);
  const Sizes s = arg_sizes(info, 5, fn);
  Napi::Float32Array dmu = arg_f32(info, 0, fn, "dmu", s.n);
  Napi::Float32Array dlogvar = arg_f32(info, 1, fn, "dlogvar", s.n);
  Napi::Float32Array dz = arg_f32(info, 2, fn, "dz", s.nk);
  Napi::Float32Array eps = arg_f32(info, 3, fn, "eps", s.nk);
  Napi::Float32Array logvar = arg_f32(info, 4, fn, "logvar", s.n);
  const bool accumulate = arg_bool(info, 8, fn, "accumulate");
  reparam_backward(dmu.Data(), dlogvar.Data(), dz.Data(), eps.Data(), logvar.Data(), s.rows, s.cols,
                   s.k, accumulate);
  return info.Env().Undefined();
}

}  // namespace

void register_reparam(Napi::Env env, Napi::Object exports) {
  define(env, exports, "reparamForward", forward);
  define(env, exports, "reparamBackward", backward);
}

}  // namespace addon
}  // namespace deepgen
