#include <cmath>

#include "../../native/common/cpu_features.h"
#include "../../native/kernels/cpu/fma_probe.h"
#include "check.h"

using namespace deepgen;

// The fixed point of acc = acc * m + a is a / (1 - m) = 1 for every lane. In float each step
// rounds by up to half an ulp (6e-8), and the chain contracts by only 1 - m = 0.001 per
// step, so a lane settles within about 6e-5 of 1, not at 1 exactly.
TEST(fma_probe_converges_to_fixed_point) {
  const double sum = fma_probe(100000, 3, 2);
  CHECK_NEAR(sum, 3.0 * kFmaProbeLanes, 3.0 * kFmaProbeLanes * 1e-4);
}

TEST(fma_probe_portable_and_avx2_agree) {
  if (!cpu_features().avx2 || !cpu_features().fma) return;  // nothing to compare here
  alignas(32) float a[kFmaProbeLanes], b[kFmaProbeLanes];
  for (int l = 0; l < kFmaProbeLanes; ++l) a[l] = b[l] = 0.01f * l;
  fma_probe_lanes_portable(a, 1000);
  fma_probe_lanes_avx2(b, 1000);
  double worst = 0;
  for (int l = 0; l < kFmaProbeLanes; ++l) worst = std::fmax(worst, std::fabs(a[l] - b[l]));
  CHECK(worst < 1e-4);  // fused vs separate rounding only (see the fixed-point test)
}

TEST(fma_probe_avx512_equals_avx2_bit_for_bit) {
  if (!use_avx512()) return;  // nothing to compare here
  alignas(64) float a[kFmaProbeLanes], b[kFmaProbeLanes];
  for (int l = 0; l < kFmaProbeLanes; ++l) a[l] = b[l] = 0.01f * l;
  fma_probe_lanes_avx2(a, 777);
  fma_probe_lanes_avx512(b, 777);
  int diff = 0;
  for (int l = 0; l < kFmaProbeLanes; ++l) diff += a[l] != b[l];
  CHECK_EQ(diff, 0);
}

TEST(fma_probe_rejects_bad_arguments) {
  CHECK_THROWS(fma_probe(-1, 1, 1));
  CHECK_THROWS(fma_probe(10, 0, 1));
}
