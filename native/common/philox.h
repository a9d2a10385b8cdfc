// Philox4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC11).
// Header-only and usable from host C++ and CUDA device code, so the CPU, CUDA and JS paths
// (lib/core/philox.ts) produce the same bits for the same (counter, key).
#pragma once
#include <cstdint>

// Host functions are `static inline`: internal linkage keeps a copy compiled with -mavx2 in
// one translation unit from being picked by the linker for a baseline-ISA caller.
#if defined(__CUDACC__)
#define DG_HD __host__ __device__ __forceinline__
#else
#define DG_HD static inline
#endif

namespace deepgen {

struct PhiloxBlock {
  uint32_t v[4];
};

constexpr uint32_t kPhiloxM0 = 0xD2511F53u;
constexpr uint32_t kPhiloxM1 = 0xCD9E8D57u;
constexpr uint32_t kPhiloxW0 = 0x9E3779B9u;  // golden ratio
constexpr uint32_t kPhiloxW1 = 0xBB67AE85u;  // sqrt(3) - 1

DG_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

// One Philox4x32-10 block: 10 rounds, the key bumped between rounds.
DG_HD PhiloxBlock philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0,
                                uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kPhiloxM0, c0, &hi0, &lo0);
    philox_mulhilo(kPhiloxM1, c2, &hi1, &lo1);
    const uint32_t n0 = hi1 ^ c1 ^ k0;
    const uint32_t n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  PhiloxBlock out;
  out.v[0] = c0;
  out.v[1] = c1;
  out.v[2] = c2;
  out.v[3] = c3;
  return out;
}

// Uniform in (0, 1) as float: (k + 0.5) * 2^-23 with k = u >> 9 (23 bits), i.e. an odd
// multiple of 2^-24. Exactly representable in float32, never 0 or 1, and the same value
// in JS, C++ and CUDA with no rounding step at all.
DG_HD float philox_uniform_f32(uint32_t u) {
  return (static_cast<float>(u >> 9) + 0.5f) * (1.0f / 8388608.0f);
}

// Uniform in (0, 1) as double: (u + 0.5) * 2^-32, exact in double. Used for Bernoulli draws
// (u < p) so that a float32 probability is compared against a finer grid.
DG_HD double philox_uniform_f64(uint32_t u) {
  return (static_cast<double>(u) + 0.5) * (1.0 / 4294967296.0);
}

}  // namespace deepgen
