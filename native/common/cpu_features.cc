#include "cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace deepgen {

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)  // GCC and clang; MSVC builds have no AVX2 units
    __builtin_cpu_init();
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    f.avx512f = __builtin_cpu_supports("avx512f");
#endif
    return f;
  }();
  return features;
}

#if DEEPGEN_X86

namespace {

bool env_set(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && std::strcmp(v, "") != 0 && std::strcmp(v, "0") != 0;
}

}  // namespace

bool use_avx2_fma() {
  static const bool use = [] {
    if (env_set("DEEPGEN_NO_SIMD")) return false;
    const CpuFeatures& f = cpu_features();
    return f.avx2 && f.fma;
  }();
  return use;
}

bool use_avx512() {
  static const bool use = use_avx2_fma() && cpu_features().avx512f && !env_set("DEEPGEN_NO_AVX512");
  return use;
}

#endif

const char* simd_path() {
  if (use_avx512()) return "avx512";
  if (use_avx2_fma()) return "avx2+fma";
  return "portable";
}

}  // namespace deepgen
