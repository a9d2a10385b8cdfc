#include "cpu_features.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)  // GCC and clang; MSVC builds have no AVX2 units
#include <cpuid.h>
#endif

namespace deepgen {

#if defined(__x86_64__) || defined(__i386__)
namespace {

// XCR0: which register states the OS saves on a context switch.
uint64_t xgetbv0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

}  // namespace
#endif

// CPUID and XCR0 read directly, as __builtin_cpu_supports does, without its run-time support
// (__cpu_model lives in libgcc; clang's compiler-rt in some toolchains, e.g. zig's, lacks it).
// A feature counts only when the OS also saves its registers (XCR0 bits: SSE|YMM for
// AVX2/FMA, plus opmask|ZMM_Hi256|Hi16_ZMM for AVX-512).
const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures f;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
    const bool osxsave = (c & bit_OSXSAVE) != 0;
    const bool avx = (c & bit_AVX) != 0;
    const bool fma = (c & bit_FMA) != 0;
    if (!osxsave || !avx) return f;
    const uint64_t xcr0 = xgetbv0();
    const bool ymm_saved = (xcr0 & 0x6) == 0x6;
    const bool zmm_saved = (xcr0 & 0xe6) == 0xe6;
    if (!ymm_saved || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
    f.avx2 = (b & bit_AVX2) != 0;
    f.fma = fma;
    f.avx512f = zmm_saved && (b & bit_AVX512F) != 0;
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
#if defined(__aarch64__) && defined(__ARM_NEON)
  return "neon";  // the NEON GEMM micro-kernel; every other kernel is the portable C++
#else
  if (use_avx512()) return "avx512";
  if (use_avx2_fma()) return "avx2+fma";
  return "portable";
#endif
}

}  // namespace deepgen
