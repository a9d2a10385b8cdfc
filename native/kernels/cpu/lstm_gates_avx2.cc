// Compiled with -mavx2 -mfma (its own static library); called only when use_avx2_fma().
// Same loops as lstm_gates_forward_plain / lstm_gates_backward_plain, 8 hidden units at a
// time, with the row tail done by masked loads and stores.
#include "lstm_gates.h"

#if defined(__AVX2__) && defined(__FMA__)
#include "gate_math_avx2.h"

namespace deepgen {

void lstm_gates_forward_avx2(float* h, float* c, float* gates, const float* pre,
                             const float* c_prev, int64_t hidden, int64_t row_begin,
                             int64_t row_end) {
  using namespace vmath;
  const int64_t H = hidden;
  for (int64_t b = row_begin; b < row_end; ++b) {
    const float* p = pre + b * 4 * H;
    float* gt = gates + b * 4 * H;
    const float* cp = c_prev + b * H;
    float* cb = c + b * H;
    float* hb = h + b * H;
    for (int64_t j = 0; j < H; j += 8) {
      const Lanes l = lanes(H - j);
      const __m256 o = sigmoid_ps(load(p + j, l));
      const __m256 f = sigmoid_ps(load(p + H + j, l));
      const __m256 i = sigmoid_ps(load(p + 2 * H + j, l));
      const __m256 g = tanh_ps(load(p + 3 * H + j, l));
      const __m256 cn = _mm256_add_ps(_mm256_mul_ps(f, load(cp + j, l)), _mm256_mul_ps(i, g));
      store(cb + j, cn, l);
      store(hb + j, _mm256_mul_ps(o, tanh_ps(cn)), l);
      store(gt + j, o, l);
      store(gt + H + j, f, l);
      store(gt + 2 * H + j, i, l);
      store(gt + 3 * H + j, g, l);
    }
  }
}

void lstm_gates_backward_avx2(float* dpre, float* dc_prev, const float* dh, const float* dc,
                              const float* gates, const float* c_prev, const float* c,
                              int64_t hidden, int64_t row_begin, int64_t row_end) {
  using namespace vmath;
  const int64_t H = hidden;
  const __m256 one = splat(1.0f);
  for (int64_t b = row_begin; b < row_end; ++b) {
    const float* gt = gates + b * 4 * H;
    float* dp = dpre + b * 4 * H;
    const int64_t row = b * H;
    for (int64_t j = 0; j < H; j += 8) {
      const Lanes l = lanes(H - j);
      const __m256 o = load(gt + j, l), f = load(gt + H + j, l);
      const __m256 i = load(gt + 2 * H + j, l), g = load(gt + 3 * H + j, l);
      const __m256 tc = tanh_ps(load(c + row + j, l));
      const __m256 dhv = load(dh + row + j, l);
      const __m256 dcv = dc != nullptr ? load(dc + row + j, l) : _mm256_setzero_ps();
      const __m256 dct = _mm256_add_ps(
          dcv, _mm256_mul_ps(_mm256_mul_ps(dhv, o), _mm256_sub_ps(one, _mm256_mul_ps(tc, tc))));
      const __m256 d_o =
          _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dhv, tc), o), _mm256_sub_ps(one, o));
      const __m256 d_f = _mm256_mul_ps(
          _mm256_mul_ps(_mm256_mul_ps(dct, load(c_prev + row + j, l)), f), _mm256_sub_ps(one, f));
      const __m256 d_i =
          _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(dct, g), i), _mm256_sub_ps(one, i));
      const __m256 d_g =
          _mm256_mul_ps(_mm256_mul_ps(dct, i), _mm256_sub_ps(one, _mm256_mul_ps(g, g)));
      store(dp + j, d_o, l);
      store(dp + H + j, d_f, l);
      store(dp + 2 * H + j, d_i, l);
      store(dp + 3 * H + j, d_g, l);
      store(dc_prev + row + j, _mm256_mul_ps(dct, f), l);
    }
  }
}

}  // namespace deepgen

#else  // not an x86 build with AVX2/FMA: never selected at run time, but must link

namespace deepgen {
void lstm_gates_forward_avx2(float* h, float* c, float* gates, const float* pre,
                             const float* c_prev, int64_t hidden, int64_t row_begin,
                             int64_t row_end) {
  lstm_gates_forward_plain(h, c, gates, pre, c_prev, hidden, row_begin, row_end);
}
void lstm_gates_backward_avx2(float* dpre, float* dc_prev, const float* dh, const float* dc,
                              const float* gates, const float* c_prev, const float* c,
                              int64_t hidden, int64_t row_begin, int64_t row_end) {
  lstm_gates_backward_plain(dpre, dc_prev, dh, dc, gates, c_prev, c, hidden, row_begin, row_end);
}
}  // namespace deepgen

#endif
