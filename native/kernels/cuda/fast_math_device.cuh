// Device copies of native/common/fast_math.h (exp_poly, sigmoid_poly, log_poly, softplus_poly):
// the same Cephes polynomials in the same operation order, so the GPU's hidden units and
// log-likelihood terms follow the CPU twin's arithmetic (bit casts via __float_as_int instead
// of memcpy). Keep the two files in step.
#pragma once
#include <cstdint>

namespace deepgen {
namespace cuda {

__device__ __forceinline__ float exp_poly_dev(float x) {
  x = x < -87.3365447505531f ? -87.3365447505531f : x;
  x = x > 88.3762626647949f ? 88.3762626647949f : x;
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
  const float scale = __int_as_float((static_cast<int32_t>(n) + 127) << 23);
  return p * scale;
}

__device__ __forceinline__ float sigmoid_poly_dev(float x) {
  return 1.0f / (1.0f + exp_poly_dev(-x));
}

__device__ __forceinline__ float log_poly_dev(float x) {
  const int32_t bits = __float_as_int(x);
  int32_t e = ((bits >> 23) & 0xff) - 126;
  float m = __int_as_float((bits & 0x007fffff) | 0x3f000000);
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

__device__ __forceinline__ float softplus_poly_dev(float z) {
  const float az = z < 0 ? -z : z;
  return (z > 0 ? z : 0.0f) + log_poly_dev(1.0f + exp_poly_dev(-az));
}

}  // namespace cuda
}  // namespace deepgen
