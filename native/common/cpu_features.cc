#include "cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace deepgen {

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    f.avx2 = __builtin_cpu_supports("avx2");
    f.fma = __builtin_cpu_supports("fma");
    f.avx512f = __builtin_cpu_supports("avx512f");
#endif
    return f;
  }();
  return features;
}

bool use_avx2_fma() {
  static const bool use = [] {
    const char* off = std::getenv("DEEPGEN_NO_SIMD");
    if (off != nullptr && std::strcmp(off, "") != 0 && std::strcmp(off, "0") != 0) return false;
    const CpuFeatures& f = cpu_features();
    return f.avx2 && f.fma;
  }();
  return use;
}

}  // namespace deepgen
