// Binding of SGEMM (native/kernels/cpu/gemm.h).
#include <napi.h>

#include <cstdint>
#include <string>

#include "../kernels/cpu/gemm.h"
#include "../kernels/cuda/cuda_api.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {
namespace {

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
                    const char* fn, const char* name) {
  if (static_cast<int64_t>(arr.ElementLength()) < need) {
    throw make_error(info.Env(), "E_SHAPE",
                     std::string(fn) + ": " + name + " has " + std::to_string(arr.ElementLength()) +
                         " elements, the shapes need " + std::to_string(need));
  }
}

// gemm(spec, a, b, c) with spec {transA, transB, m, n, k, alpha, beta, lda, ldb, ldc, batch,
// strideA, strideB, strideC} (lib/kernels/js/gemm.ts GemmSpec); cudaGemm: the same
// arguments, run by the CUDA kernel (cuda/gemm.cu).
template <bool kCuda>
Napi::Value gemm(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaGemm" : "gemm";
  require_args(info, 4, fn);
  const Spec spec(info, 0, fn);
  GemmArgs g;
  g.trans_a = spec.boolean("transA");
  g.trans_b = spec.boolean("transB");
  g.m = spec.integer("m", 0, kMaxDim);
  g.n = spec.integer("n", 0, kMaxDim);
  g.k = spec.integer("k", 0, kMaxDim);
  g.alpha = static_cast<float>(spec.finite("alpha"));
  g.beta = static_cast<float>(spec.finite("beta"));
  g.lda = spec.integer("lda", 0, kMaxDim);
  g.ldb = spec.integer("ldb", 0, kMaxDim);
  g.ldc = spec.integer("ldc", 0, kMaxDim);
  g.batch = spec.integer("batch", 0, kMaxDim);
  g.stride_a = spec.integer("strideA", 0, kMaxDim);
  g.stride_b = spec.integer("strideB", 0, kMaxDim);
  g.stride_c = spec.integer("strideC", 0, kMaxDim);
  Napi::Float32Array a = arg_f32(info, 1, fn, "a");
  Napi::Float32Array b = arg_f32(info, 2, fn, "b");
  Napi::Float32Array c = arg_f32(info, 3, fn, "c");
  sgemm_check(g);
  require_extent(info, a,
                 extent(g.batch, g.stride_a, g.trans_a ? g.k : g.m, g.trans_a ? g.m : g.k, g.lda),
                 fn, "a");
  require_extent(info, b,
                 extent(g.batch, g.stride_b, g.trans_b ? g.n : g.k, g.trans_b ? g.k : g.n, g.ldb),
                 fn, "b");
  require_extent(info, c, extent(g.batch, g.stride_c, g.m, g.n, g.ldc), fn, "c");
  g.a = a.Data();
  g.b = b.Data();
  g.c = c.Data();
  if (kCuda)
    cuda::sgemm(g);
  else
    sgemm(g);
  return info.Env().Undefined();
}

}  // namespace

void register_gemm(Napi::Env env, Napi::Object exports) {
  define(env, exports, "gemm", gemm<false>);
  define(env, exports, "cudaGemm", gemm<true>);
}

}  // namespace addon
}  // namespace deepgen
