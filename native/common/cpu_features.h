// CPU feature detection and the choice of kernel path. On x86-64 the AVX2/FMA kernels live in
// their own translation units (built with -mavx2 -mfma) and are picked at run time when the
// CPU has both. On every other architecture (arm64, ...) there are no such kernels: the
// choice is made at compile time, every AVX dispatch folds to the non-AVX path (the portable
// kernels; on arm64 the GEMM micro-kernel is NEON, gemm_neon.cc), and the *_avx2.cc units
// reduce to link-only stubs.
#pragma once

#if defined(__x86_64__) || defined(__i386__) || defined(_M_X64) || defined(_M_IX86)
#define DEEPGEN_X86 1
#else
#define DEEPGEN_X86 0
#endif

namespace deepgen {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
};

// What the CPU has (all false off x86).
const CpuFeatures& cpu_features();

#if DEEPGEN_X86

// True when the AVX2+FMA kernels may run. DEEPGEN_NO_SIMD=1 forces the portable kernels
// (used by tests to cover both paths on one machine).
bool use_avx2_fma();

// True when AVX-512F kernels may run: the CPU and OS have it and SIMD is not off.
// DEEPGEN_NO_AVX512=1 keeps them off (tests cover the AVX2 path on AVX-512 machines with it).
bool use_avx512();

#else

constexpr bool use_avx2_fma() { return false; }
constexpr bool use_avx512() { return false; }

#endif

// The kernel path in use, for runtime info: "avx512", "avx2+fma" or "portable" on x86 and
// elsewhere; "neon" on arm64, whose GEMM micro-kernel is NEON (gemm_neon.cc, bit-identical
// to the portable one) and whose other kernels are the portable C++.
const char* simd_path();

}  // namespace deepgen
