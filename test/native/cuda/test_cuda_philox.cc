// CUDA kernels against their CPU twins. Built with DEEPGEN_CUDA=ON; run by `npm run test:cuda`
// on a machine with a GPU. Without a device the cases check that the entry points fail
// cleanly (KernelError) instead of crashing.
#include <cmath>
#include <string>
#include <vector>

#include "../../../native/common/errors.h"
#include "../../../native/kernels/cpu/philox_fill.h"
#include "../../../native/kernels/cuda/cuda_api.h"
#include "../check.h"
#include "cuda_test_util.h"

using namespace deepgen;

static bool have_device() {
  std::string why;
  return cuda::device_count(&why) > 0;
}

TEST(cuda_philox_uniform_bit_identical_to_cpu) {
  if (!have_device()) {
    std::vector<float> out(16);
    bool clean = false;
    try {
      cuda::philox_fill(out.data(), 16, 1, 2, 3, 0);
    } catch (const KernelError& e) {
      clean = std::string(e.code()) == "E_BACKEND";
    }
    CHECK(clean);
    return;
  }
  const int64_t n = 1000003;
  std::vector<float> cpu(n), gpu(n);
  philox_fill(cpu.data(), n, 1234, 5678, 9, Distribution::kUniform);
  cuda::philox_fill(gpu.data(), n, 1234, 5678, 9, 0);
  int64_t diff = 0;
  for (int64_t i = 0; i < n; ++i) diff += cpu[i] != gpu[i];
  CHECK_EQ(diff, 0);
}

// Normals go through log/sin/cos, whose last-bit rounding may differ between libm and CUDA's
// math library; tolerance: 2 ulp of float at the value (relative 2.4e-7), absolute 1e-6.
TEST(cuda_philox_normal_matches_cpu_within_2ulp) {
  if (cudatest::skip_without_device()) return;
  const int64_t n = 1000003;
  std::vector<float> cpu(n), gpu(n);
  philox_fill(cpu.data(), n, 1234, 5678, 9, Distribution::kNormal);
  cuda::philox_fill(gpu.data(), n, 1234, 5678, 9, 1);
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double tol = std::fmax(1e-6, 2.4e-7 * std::fabs(cpu[i]));
    bad += std::fabs(cpu[i] - gpu[i]) > tol;
  }
  CHECK_EQ(bad, 0);
}

TEST(cuda_device_count_never_throws) {
  std::string why;
  const int n = cuda::device_count(&why);
  CHECK(n >= 0);
  if (n == 0) CHECK(!why.empty());
}
