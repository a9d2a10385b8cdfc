#include <cmath>

#include "../../native/common/cpu_features.h"
#include "../../native/kernels/cpu/fma_probe.h"
#include "check.h"

using namespace deepgen;

// The fixed point of acc = acc * m + a is a / (1 - m) = 1 for every lane.
TEST(fma_probe_converges_to_fixed_point) {
  const double sum = fma_probe(100000, 3, 2);
  CHECK_NEAR(sum, 3.0 * kFmaProbeLanes, 1e-2);
}

TEST(fma_probe_portable_and_avx2_agree) {
  if (!cpu_features().avx2 || !cpu_features().fma) return;  // nothing to compare here
  alignas(32) float a[kFmaProbeLanes], b[kFmaProbeLanes];
  for (int l = 0; l < kFmaProbeLanes; ++l) a[l] = b[l] = 0.01f * l;
  fma_probe_lanes_portable(a, 1000);
  fma_probe_lanes_avx2(b, 1000);
  double worst = 0;
  for (int l = 0; l < kFmaProbeLanes; ++l) worst = std::fmax(worst, std::fabs(a[l] - b[l]));
  CHECK(worst < 1e-5);  // fused vs separate rounding only
}

TEST(fma_probe_rejects_bad_arguments) {
  CHECK_THROWS(fma_probe(-1, 1, 1));
  CHECK_THROWS(fma_probe(10, 0, 1));
}
