#include "philox_fill.h"

#include <algorithm>
#include <cmath>

#include "../../common/philox.h"
#include "../../common/thread_pool.h"

namespace deepgen {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

inline float normal_from_block(const PhiloxBlock& b, int word) {
  const int pair = word >> 1;
  // Computed in double and rounded once, like the JS twin (whose Math.* are double).
  const double u1 = philox_uniform_f32(b.v[2 * pair]);
  const double u2 = philox_uniform_f32(b.v[2 * pair + 1]);
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double t = kTwoPi * u2;
  return static_cast<float>((word & 1) ? r * std::sin(t) : r * std::cos(t));
}

// Plain version: one block per element. Kept as the readable reference of the fast one.
[[maybe_unused]] void philox_fill_plain(float* out, int64_t begin, int64_t end, uint32_t key0,
                                        uint32_t key1, uint32_t stream, Distribution dist) {
  for (int64_t i = begin; i < end; ++i) {
    const uint64_t j = static_cast<uint64_t>(i) >> 2;
    const PhiloxBlock b = philox4x32_10(static_cast<uint32_t>(j), static_cast<uint32_t>(j >> 32),
                                        stream, 0, key0, key1);
    const int word = static_cast<int>(i & 3);
    out[i] =
        dist == Distribution::kUniform ? philox_uniform_f32(b.v[word]) : normal_from_block(b, word);
  }
}

// Fast version: one block per 4 elements.
void philox_fill_range(float* out, int64_t begin, int64_t end, uint32_t key0, uint32_t key1,
                       uint32_t stream, Distribution dist) {
  int64_t i = begin;
  while (i < end) {
    const uint64_t j = static_cast<uint64_t>(i) >> 2;
    const PhiloxBlock b = philox4x32_10(static_cast<uint32_t>(j), static_cast<uint32_t>(j >> 32),
                                        stream, 0, key0, key1);
    const int64_t block_end = std::min<int64_t>(end, static_cast<int64_t>((j + 1) << 2));
    for (; i < block_end; ++i) {
      const int word = static_cast<int>(i & 3);
      out[i] = dist == Distribution::kUniform ? philox_uniform_f32(b.v[word])
                                              : normal_from_block(b, word);
    }
  }
}

}  // namespace

void philox_fill(float* out, int64_t n, uint32_t key0, uint32_t key1, uint32_t stream,
                 Distribution dist, const JobHooks& hooks) {
  if (n <= 0) return;
  if (out == nullptr) throw KernelError("E_ARG", "philox_fill: null output");
  constexpr int64_t kChunk = 1 << 16;  // multiple of 4: chunks start on block boundaries
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  parallel_for(chunks, [&](int64_t c) {
    hooks.throw_if_cancelled();
    const int64_t begin = c * kChunk;
    philox_fill_range(out, begin, std::min(n, begin + kChunk), key0, key1, stream, dist);
  });
}

}  // namespace deepgen
