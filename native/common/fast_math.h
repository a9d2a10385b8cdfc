// Scalar float math written so that GCC auto-vectorizes it (no libm calls, no branches):
// used in loops that kernels compile twice, once for the baseline ISA and once with
// -mavx2 -mfma (see native/kernels/cpu/nade_impl.h). `static inline` on purpose: internal
// linkage keeps the AVX2 build of a helper from replacing the baseline one at link time.
#pragma once
#include <cstdint>
#include <cstring>

namespace deepgen {

// e^x for x in [-87.3, 88.7] (clamped outside) with Cephes' single-precision polynomial:
// about 1 ulp on that range. The result is normal for every clamped input.
static inline float exp_poly(float x) {
  // Ternaries, not std::min/max: no library template may be instantiated in the -mavx2 build.
  x = x < -87.3365447505531f ? -87.3365447505531f : x;
  x = x > 88.3762626647949f ? 88.3762626647949f : x;
  // x = n ln2 + r, |r| <= ln2 / 2, with ln2 split in two for an exact n ln2.
  // n = floor(x log2(e) + 1/2) via truncation of a value kept positive by the clamp
  // (+128), because floor() itself does not vectorize under strict FP semantics.
  const float n = static_cast<float>(static_cast<int32_t>(x * 1.44269504088896341f + 128.5f) - 128);
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

static inline float sigmoid_poly(float x) { return 1.0f / (1.0f + exp_poly(-x)); }

// Natural log of a positive normal float with Cephes' single-precision polynomial (about
// 1 ulp). Not for 0, denormals, Inf or NaN: callers pass values in [1, 2].
static inline float log_poly(float x) {
  int32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  int32_t e = ((bits >> 23) & 0xff) - 126;  // x = m 2^e with m in [0.5, 1)
  const int32_t mbits = (bits & 0x007fffff) | 0x3f000000;
  float m;
  std::memcpy(&m, &mbits, sizeof m);
  const bool small = m < 0.707106781186547524f;
  e = small ? e - 1 : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  const float fe = static_cast<float>(e);
  y += -2.12194440e-4f * fe;
  y += -0.5f * z;
  return m + y + 0.693359375f * fe;
}

// softplus(z) = log(1 + e^z) = max(z, 0) + log(1 + e^-|z|), stable for any z.
static inline float softplus_poly(float z) {
  const float az = z < 0 ? -z : z;
  return (z > 0 ? z : 0.0f) + log_poly(1.0f + exp_poly(-az));
}

}  // namespace deepgen
