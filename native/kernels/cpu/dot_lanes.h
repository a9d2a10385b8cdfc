// Dot products with 16 partial sums (lane j mod 16) combined in a fixed order: the sum of one
// vector pair is the same however many pairs are computed together, so kernels that group
// samples stay independent of the grouping. `static inline`: the header is compiled both for
// the baseline ISA and with -mavx2, and each translation unit must keep its own copy.
#pragma once
#include <cstdint>

namespace deepgen {

constexpr int kDotLanes = 16;

static inline float combine_lanes(const float* acc) {
  float r[8];
  for (int j = 0; j < 8; ++j) r[j] = acc[j] + acc[j + 8];
  return ((r[0] + r[4]) + (r[1] + r[5])) + ((r[2] + r[6]) + (r[3] + r[7]));
}

// out[s] = v . h_s for the nb rows h_s of h [nb, n]. Rows go four at a time: 4 x 16 partial
// sums are 8 AVX registers of independent FMA chains, hiding the latency one chain exposes.
static inline void dots(const float* v, const float* h, int64_t nb, int64_t n, float* out) {
  int64_t s = 0;
  for (; s + 4 <= nb; s += 4) {
    const float* h0 = h + s * n;
    const float* h1 = h0 + n;
    const float* h2 = h1 + n;
    const float* h3 = h2 + n;
    float a0[kDotLanes] = {}, a1[kDotLanes] = {}, a2[kDotLanes] = {}, a3[kDotLanes] = {};
    int64_t i = 0;
    for (; i + kDotLanes <= n; i += kDotLanes) {
      for (int j = 0; j < kDotLanes; ++j) {
        const float vj = v[i + j];
        a0[j] += vj * h0[i + j];
        a1[j] += vj * h1[i + j];
        a2[j] += vj * h2[i + j];
        a3[j] += vj * h3[i + j];
      }
    }
    for (int j = 0; i < n; ++i, ++j) {
      a0[j] += v[i] * h0[i];
      a1[j] += v[i] * h1[i];
      a2[j] += v[i] * h2[i];
      a3[j] += v[i] * h3[i];
    }
    out[s] = combine_lanes(a0);
    out[s + 1] = combine_lanes(a1);
    out[s + 2] = combine_lanes(a2);
    out[s + 3] = combine_lanes(a3);
  }
  for (; s < nb; ++s) {
    const float* hs = h + s * n;
    float a[kDotLanes] = {};
    int64_t i = 0;
    for (; i + kDotLanes <= n; i += kDotLanes) {
      for (int j = 0; j < kDotLanes; ++j) a[j] += v[i + j] * hs[i + j];
    }
    for (int j = 0; i < n; ++i, ++j) a[j] += v[i] * hs[i];
    out[s] = combine_lanes(a);
  }
}

// v . h alone (the same arithmetic as one row of dots()).
static inline float dot_lanes(const float* v, const float* h, int64_t n) {
  float out;
  dots(v, h, 1, n, &out);
  return out;
}

}  // namespace deepgen
