#include "reparam.h"

#include <cmath>
#include <string>

#include "../../common/errors.h"
#include "../../common/philox.h"
#include "../../common/thread_pool.h"

namespace deepgen {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;
constexpr uint32_t kReparamTag = 0x52455041u;  // "REPA"

// Box-Muller on one word pair of the block, in double and rounded once (as philox_fill and the
// JS twin's normalPair).
inline float normal_word(const PhiloxBlock& b, int word) {
  const int pair = word >> 1;
  const double u1 = philox_uniform_f32(b.v[2 * pair]);
  const double u2 = philox_uniform_f32(b.v[2 * pair + 1]);
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double t = kTwoPi * u2;
  return static_cast<float>((word & 1) ? r * std::sin(t) : r * std::cos(t));
}

void check_sizes(const char* fn, int64_t rows, int64_t cols, int64_t k) {
  if (rows < 0 || cols < 0 || k < 1) {
    throw KernelError("E_ARG", std::string(fn) + ": rows, cols must be >= 0 and k >= 1");
  }
}

}  // namespace

void reparam_forward(float* z, float* eps, const float* mu, const float* logvar, int64_t rows,
                     int64_t cols, int64_t k, uint32_t key0, uint32_t key1, uint32_t stream,
                     int64_t first_sample) {
  check_sizes("reparam_forward", rows, cols, k);
  if (first_sample < 0 || first_sample + rows * k > (int64_t{1} << 32)) {
    throw KernelError("E_ARG", "reparam_forward: sample indices must stay below 2^32");
  }
  if (rows == 0 || cols == 0) return;
  // One task per data row: its k draws share mu, logvar and sigma.
  parallel_for(rows, [&](int64_t r) {
    const float* m = mu + r * cols;
    const float* lv = logvar + r * cols;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t row = r * k + i;
      const uint32_t s = static_cast<uint32_t>(first_sample + row);
      float* e = eps + row * cols;
      float* out = z + row * cols;
      for (int64_t q = 0; q * 4 < cols; ++q) {
        const PhiloxBlock b =
            philox4x32_10(static_cast<uint32_t>(q), s, stream, kReparamTag, key0, key1);
        const int64_t end = cols < q * 4 + 4 ? cols : q * 4 + 4;
        for (int64_t j = q * 4; j < end; ++j) {
          const float n = normal_word(b, static_cast<int>(j & 3));
          e[j] = n;
          out[j] = static_cast<float>(static_cast<double>(m[j]) +
                                      std::exp(0.5 * static_cast<double>(lv[j])) * n);
        }
      }
    }
  });
}

void reparam_backward(float* dmu, float* dlogvar, const float* dz, const float* eps,
                      const float* logvar, int64_t rows, int64_t cols, int64_t k, bool accumulate) {
  check_sizes("reparam_backward", rows, cols, k);
  if (rows == 0 || cols == 0) return;
  parallel_for(rows, [&](int64_t r) {
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t at = r * cols + j;
      const double sigma_half = 0.5 * std::exp(0.5 * static_cast<double>(logvar[at]));
      double gm = accumulate ? static_cast<double>(dmu[at]) : 0.0;
      double gl = 0.0;
      for (int64_t i = 0; i < k; ++i) {
        const int64_t e = (r * k + i) * cols + j;
        gm += dz[e];
        gl += static_cast<double>(dz[e]) * eps[e];
      }
      dmu[at] = static_cast<float>(gm);
      const double dl = gl * sigma_half;
      dlogvar[at] = static_cast<float>(accumulate ? static_cast<double>(dlogvar[at]) + dl : dl);
    }
  });
}

}  // namespace deepgen
