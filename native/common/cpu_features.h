// Run-time CPU feature detection: kernels built with -mavx2 -mfma live in their own
// translation units and are only called when the running CPU has both.
#pragma once

namespace deepgen {

struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
};

const CpuFeatures& cpu_features();

// True when the AVX2+FMA kernels may run. DEEPGEN_NO_SIMD=1 forces the portable kernels
// (used by tests to cover both paths on one machine).
bool use_avx2_fma();

// True when AVX-512F kernels may run: the CPU and OS have it and SIMD is not off.
// DEEPGEN_NO_AVX512=1 keeps them off (tests cover the AVX2 path on AVX-512 machines with it).
bool use_avx512();

}  // namespace deepgen
