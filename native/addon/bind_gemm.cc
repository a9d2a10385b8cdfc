// Binding of SGEMM (native/kernels/cpu/gemm.h).
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "../kernels/cpu/gemm.h"
#include "../kernels/cuda/cuda_api.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {
namespace {

constexpr int64_t kMaxDim = int64_t{1} << 40;

bool arg_bool(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsBoolean()) {
    throw make_error(info.Env(), "E_ARG", std::string("gemm: argument '") + name + "' must be a boolean");
  }
  return info[i].As<Napi::Boolean>().Value();
}

float arg_finite_float(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber() || !std::isfinite(info[i].As<Napi::Number>().DoubleValue())) {
    throw make_error(info.Env(), "E_ARG", std::string("gemm: argument '") + name + "' must be a finite number");
  }
  return info[i].As<Napi::Number>().FloatValue();
}

// Elements a [rows, cols] matrix with leading dimension ld spans over the batch; INT64_MAX
// when the arithmetic overflows (then no array is long enough and the call is refused).
int64_t extent(int64_t batch, int64_t stride, int64_t rows, int64_t cols, int64_t ld) {
  if (batch == 0 || rows == 0 || cols == 0) return 0;
  int64_t a, b, total;
  if (__builtin_mul_overflow(batch - 1, stride, &a) || __builtin_mul_overflow(rows - 1, ld, &b) ||
      __builtin_add_overflow(a, b, &total) || __builtin_add_overflow(total, cols, &total)) {
    return INT64_MAX;
  }
  return total;
}

void require_extent(const Napi::CallbackInfo& info, const Napi::Float32Array& arr, int64_t need,
                    const char* name) {
  if (static_cast<int64_t>(arr.ElementLength()) < need) {
    throw make_error(info.Env(), "E_SHAPE",
                     std::string("gemm: ") + name + " has " + std::to_string(arr.ElementLength()) +
                         " elements, the shapes need " + std::to_string(need));
  }
}

// gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, batch, sA, sB, sC);
// cudaGemm: the same arguments, run by the CUDA kernel (cuda/gemm.cu).
template <bool kCuda>
Napi::Value gemm(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaGemm" : "gemm";
  require_args(info, 17, fn);
  GemmArgs g;
  g.trans_a = arg_bool(info, 0, "transA");
  g.trans_b = arg_bool(info, 1, "transB");
  g.m = arg_int(info, 2, fn, "m", 0, kMaxDim);
  g.n = arg_int(info, 3, fn, "n", 0, kMaxDim);
  g.k = arg_int(info, 4, fn, "k", 0, kMaxDim);
  g.alpha = arg_finite_float(info, 5, "alpha");
  Napi::Float32Array a = arg_f32(info, 6, fn, "a");
  g.lda = arg_int(info, 7, fn, "lda", 0, kMaxDim);
  Napi::Float32Array b = arg_f32(info, 8, fn, "b");
  g.ldb = arg_int(info, 9, fn, "ldb", 0, kMaxDim);
  g.beta = arg_finite_float(info, 10, "beta");
  Napi::Float32Array c = arg_f32(info, 11, fn, "c");
  g.ldc = arg_int(info, 12, fn, "ldc", 0, kMaxDim);
  g.batch = arg_int(info, 13, fn, "batch", 0, kMaxDim);
  g.stride_a = arg_int(info, 14, fn, "strideA", 0, kMaxDim);
  g.stride_b = arg_int(info, 15, fn, "strideB", 0, kMaxDim);
  g.stride_c = arg_int(info, 16, fn, "strideC", 0, kMaxDim);
  sgemm_check(g);
  require_extent(info, a, extent(g.batch, g.stride_a, g.trans_a ? g.k : g.m, g.trans_a ? g.m : g.k, g.lda), "a");
  require_extent(info, b, extent(g.batch, g.stride_b, g.trans_b ? g.n : g.k, g.trans_b ? g.k : g.n, g.ldb), "b");
  require_extent(info, c, extent(g.batch, g.stride_c, g.m, g.n, g.ldc), "c");
  g.a = a.Data();
  g.b = b.Data();
  g.c = c.Data();
  if (kCuda) cuda::sgemm(g);
  else sgemm(g);
  return info.Env().Undefined();
}

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) {
  define(env, exports, "gemm", gemm<false>);
  define(env, exports, "cudaGemm", gemm<true>);
}

}  // namespace addon
}  // namespace deepgen
