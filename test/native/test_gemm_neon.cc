// arm64 builds: the NEON SGEMM micro-kernel against the portable one, bit for bit.
#include "../../native/kernels/cpu/gemm_kernel.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <cstring>
#include <vector>

#include "check.h"
#include "random_data.h"

using namespace deepgen;

namespace {

// Philox stream of this file's test data.
constexpr uint32_t kDataStream = 13;

}  // namespace

TEST(gemm_neon_micro_kernel_equals_portable_bit_for_bit) {
  const int64_t ldc = kGemmNR + 3;  // padding columns must stay untouched
  int mismatches = 0;
  uint32_t seed = 1;
  for (const int64_t kc : {1, 2, 7, 262, 384}) {
    for (const float alpha : {1.0f, 0.75f}) {
      for (const float beta : {0.0f, 1.0f, -0.5f}) {
        const auto a = dgtest::normal_vec(kc * kGemmMR, seed++, kDataStream);
        const auto b = dgtest::normal_vec(kc * kGemmNR, seed++, kDataStream);
        std::vector<float> c1 = dgtest::normal_vec(kGemmMR * ldc, seed++, kDataStream), c2 = c1;
        sgemm_micro_portable(kc, a.data(), b.data(), c1.data(), ldc, alpha, beta);
        sgemm_micro_neon(kc, a.data(), b.data(), c2.data(), ldc, alpha, beta);
        mismatches += std::memcmp(c1.data(), c2.data(), c1.size() * sizeof(float)) != 0;
      }
    }
  }
  CHECK_EQ(mismatches, 0);
}

#endif
