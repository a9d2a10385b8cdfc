// Shared helpers of the CUDA kernel tests: device detection, random inputs, and the check
// that an entry point fails with KernelError(E_BACKEND) (the no-device path) instead of
// crashing.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../../../native/common/errors.h"
#include "../../../native/kernels/cuda/cuda_api.h"

namespace cudatest {

inline bool have_device() {
  std::string why;
  return deepgen::cuda::device_count(&why) > 0;
}

// True (and says so on stdout) when there is no device: the case then checks only its
// no-device path, and the "ok" line means "skipped", not "compared with the CPU".
inline bool skip_without_device() {
  std::string why;
  if (deepgen::cuda::device_count(&why) > 0) return false;
  std::printf("skip GPU comparison (no CUDA device: %s)\n", why.c_str());
  return true;
}

inline std::vector<float> uniform(size_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// How many entries of a GPU result lie farther than rel |cpu| + abs from the CPU twin's.
inline int64_t count_far(const std::vector<float>& gpu, const std::vector<float>& cpu, double rel,
                         double abs) {
  int64_t bad = 0;
  for (size_t i = 0; i < gpu.size(); ++i) {
    bad += !(std::fabs(static_cast<double>(gpu[i]) - cpu[i]) <= rel * std::fabs(cpu[i]) + abs);
  }
  return bad;
}

// The error code the call throws as a KernelError; "" when it returns, "other" when it throws
// anything else.
template <typename Fn>
std::string error_code(Fn&& fn) {
  try {
    fn();
  } catch (const deepgen::KernelError& e) {
    return e.code();
  } catch (...) {
    return "other";
  }
  return "";
}

}  // namespace cudatest

// CHECK_CODE(fn, "E_ARG"): fn() throws KernelError with that code.
#define CHECK_CODE(fn, code) CHECK(cudatest::error_code(fn) == std::string(code))
