#pragma once
#include <cstdint>

#include "../../common/job.h"

namespace deepgen {

enum class Distribution : int { kUniform = 0, kNormal = 1 };

// Fills out[0..n) from the Philox stream (seed = key0 | key1 << 32, stream).
// Element i uses block j = i / 4, counter (j mod 2^32, j / 2^32, stream, 0), word i % 4:
//   uniform: philox_uniform_f32(word)                       (exact, bit-identical everywhere)
//   normal:  Box-Muller on the word pair (0,1) or (2,3) of the block: words (u1, u2) give
//            r = sqrt(-2 ln u1), t = 2 pi u2 and the pair's two elements r cos t, r sin t.
// The result does not depend on the thread count.
void philox_fill(float* out, int64_t n, uint32_t key0, uint32_t key1, uint32_t stream,
                 Distribution dist, const JobHooks& hooks = no_hooks());

}  // namespace deepgen
