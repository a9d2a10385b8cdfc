// AVX2/FMA spans of activation.h, 8 floats at a time; the plain twins are in activation.cc.
// Compiled with -mavx2 -mfma in its own library; called only when use_avx2_fma().
#include "activation.h"

#include <cstring>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "vmath.h"

namespace deepgen {
namespace {

// Runs f on 8-float vectors over [0, n); the tail goes through the same vector code via a
// small buffer so every element gets the same result wherever it sits.
template <typename F>
void unary256(F f, const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float buf[8] = {};
    const int64_t r = n - i;
    std::memcpy(buf, x + i, sizeof(float) * static_cast<size_t>(n - i));
    _mm256_store_ps(buf, f(_mm256_load_ps(buf)));
    std::memcpy(y + i, buf, sizeof(float) * static_cast<size_t>(r));
  }
}

template <typename F>
void binary256(F f, const float* a, const float* b, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  }
  if (i < n) {
    alignas(32) float ba[8] = {}, bb[8] = {};
    const int64_t r = n - i;
    std::memcpy(ba, a + i, sizeof(float) * static_cast<size_t>(n - i));
    std::memcpy(bb, b + i, sizeof(float) * static_cast<size_t>(n - i));
    _mm256_store_ps(ba, f(_mm256_load_ps(ba), _mm256_load_ps(bb)));
    std::memcpy(y + i, ba, sizeof(float) * static_cast<size_t>(r));
  }
}

}  // namespace

void activation_forward_span_avx2(Activation kind, const float* x, float* y, int64_t n,
                                  float slope) {
  const __m256 zero = _mm256_setzero_ps();
  switch (kind) {
    case Activation::kIdentity:
      if (y != x) std::memcpy(y, x, sizeof(float) * static_cast<size_t>(n));
      break;
    case Activation::kRelu:
      // max_ps(0, x) returns x when x is NaN (its second operand), and -0 for -0: exactly
      // x < 0 ? 0 : x.
      unary256([&](__m256 v) { return _mm256_max_ps(zero, v); }, x, y, n);
      break;
    case Activation::kLeakyRelu: {
      const __m256 s = _mm256_set1_ps(slope);
      unary256(
          [&](__m256 v) {
            return _mm256_blendv_ps(v, _mm256_mul_ps(s, v), _mm256_cmp_ps(v, zero, _CMP_LT_OQ));
          },
          x, y, n);
      break;
    }
    case Activation::kTanh:
      tanh_span_avx2(x, y, n);
      break;
    case Activation::kSigmoid:
      sigmoid_span_avx2(x, y, n);
      break;
    case Activation::kSoftplus:
      softplus_span_avx2(x, y, n);
      break;
  }
}

void activation_backward_span_avx2(Activation kind, const float* y, const float* dy, float* dx,
                                   int64_t n, float slope) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256 one = _mm256_set1_ps(1.0f);
  switch (kind) {
    case Activation::kIdentity:
      if (dx != dy) std::memcpy(dx, dy, sizeof(float) * static_cast<size_t>(n));
      break;
    case Activation::kRelu:
      binary256(
          [&](__m256 v, __m256 g) { return _mm256_and_ps(g, _mm256_cmp_ps(v, zero, _CMP_GT_OQ)); },
          y, dy, dx, n);
      break;
    case Activation::kLeakyRelu: {
      const __m256 s = _mm256_set1_ps(slope);
      binary256(
          [&](__m256 v, __m256 g) {
            return _mm256_blendv_ps(_mm256_mul_ps(s, g), g, _mm256_cmp_ps(v, zero, _CMP_GT_OQ));
          },
          y, dy, dx, n);
      break;
    }
    case Activation::kTanh:
      binary256([&](__m256 v, __m256 g) { return _mm256_mul_ps(g, _mm256_fnmadd_ps(v, v, one)); },
                y, dy, dx, n);
      break;
    case Activation::kSigmoid:
      binary256([&](__m256 v,
                    __m256 g) { return _mm256_mul_ps(g, _mm256_mul_ps(v, _mm256_sub_ps(one, v))); },
                y, dy, dx, n);
      break;
    case Activation::kSoftplus: {
      // sigmoid(x) = 1 - exp(-y), a block at a time through a buffer on the stack.
      constexpr int64_t kBlock = 256;
      alignas(32) float sig[kBlock];
      for (int64_t off = 0; off < n; off += kBlock) {
        const int64_t m = kBlock < n - off ? kBlock : n - off;
        one_minus_exp_neg_span_avx2(y + off, sig, m);
        binary256([](__m256 s, __m256 g) { return _mm256_mul_ps(g, s); }, sig, dy + off, dx + off,
                  m);
      }
      break;
    }
  }
}

}  // namespace deepgen

#else  // not an x86 build with AVX2/FMA: never selected at run time, but must link

namespace deepgen {
void activation_forward_span_avx2(Activation kind, const float* x, float* y, int64_t n,
                                  float slope) {
  activation_forward_span_plain(kind, x, y, n, slope);
}
void activation_backward_span_avx2(Activation kind, const float* y, const float* dy, float* dx,
                                   int64_t n, float slope) {
  activation_backward_span_plain(kind, y, dy, dx, n, slope);
}
}  // namespace deepgen

#endif
