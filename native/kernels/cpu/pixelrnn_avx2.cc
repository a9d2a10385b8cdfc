// AVX2/FMA build of the sampler's one-cell product (pixelrnn_sample.cc): compiled with
// -mavx2 -mfma in its own library, called only when use_avx2_fma(). The loop is the plain
// one; the compiler vectorizes the inner j loop 8-wide with FMA. Both samplers (cached and
// naive) call the same build, so they stay bit-identical to each other.
#include "pixelrnn.h"

namespace deepgen {

void pixelrnn_matvec_acc_avx2(float* out, const float* v, const float* w, int64_t m, int64_t n) {
  for (int64_t k = 0; k < m; ++k) {
    const float vk = v[k];
    const float* wr = w + k * n;
    for (int64_t j = 0; j < n; ++j) out[j] += vk * wr[j];
  }
}

}  // namespace deepgen
