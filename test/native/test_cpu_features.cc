#include <cstring>

#include "../../native/common/cpu_features.h"
#include "check.h"

using namespace deepgen;

#if !DEEPGEN_X86
// Off x86 there are no AVX2/AVX-512 kernels: every dispatch is decided at compile time.
static_assert(!use_avx2_fma() && !use_avx512(), "the dispatch folds to the portable kernels");
#endif

TEST(simd_path_names_the_kernels_in_use) {
#if defined(__aarch64__) && defined(__ARM_NEON)
  const char* want = "neon";
#else
  const char* want = use_avx512() ? "avx512" : use_avx2_fma() ? "avx2+fma" : "portable";
#endif
  CHECK(std::strcmp(simd_path(), want) == 0);
  // The wider paths are only taken on CPUs that have them.
  if (use_avx2_fma()) CHECK(cpu_features().avx2 && cpu_features().fma);
  if (use_avx512()) CHECK(use_avx2_fma() && cpu_features().avx512f);
#if !DEEPGEN_X86
  CHECK(!cpu_features().avx2 && !cpu_features().fma && !cpu_features().avx512f);
#endif
}
