// Test data for the C++ kernel tests: standard-normal draws from the kernels' own Philox fill,
// so every test file's inputs are reproducible from (seed, stream).
#pragma once
#include <cstdint>
#include <vector>

#include "../../native/kernels/cpu/philox_fill.h"

namespace dgtest {

inline std::vector<float> normal_vec(int64_t n, uint32_t seed, uint32_t stream) {
  std::vector<float> v(static_cast<size_t>(n));
  deepgen::philox_fill(v.data(), n, seed, 0, stream, deepgen::Distribution::kNormal);
  return v;
}

}  // namespace dgtest
