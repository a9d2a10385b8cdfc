// Shared helpers of the CUDA kernel tests: device detection, random inputs, and the check
// that an entry point fails with KernelError(E_BACKEND) (the no-device path) instead of
// crashing.
#pragma once
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
