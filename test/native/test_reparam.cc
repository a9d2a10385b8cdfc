#include <cmath>
#include <vector>

#include "../../native/common/errors.h"
#include "../../native/common/philox.h"
#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/philox_fill.h"
#include "../../native/kernels/cpu/reparam.h"
#include "check.h"

using namespace deepgen;

// eps of (sample s, dim j) is the documented block's Box-Muller value, whatever the thread
// count, and z = mu + exp(logvar / 2) eps.
TEST(reparam_forward_counters_and_thread_count_independence) {
  const int64_t rows = 37, cols = 13, k = 3;
  std::vector<float> mu(rows * cols), lv(rows * cols);
  for (int64_t i = 0; i < rows * cols; ++i) {
    mu[i] = 0.01f * static_cast<float>(i % 17) - 0.08f;
    lv[i] = 0.1f * static_cast<float>(i % 11) - 0.5f;
  }
  std::vector<float> z1(rows * k * cols), e1(rows * k * cols), z4(rows * k * cols),
      e4(rows * k * cols);
  set_thread_limit(1);
  reparam_forward(z1.data(), e1.data(), mu.data(), lv.data(), rows, cols, k, 5, 6, 7, 1000);
  set_thread_limit(4);
  reparam_forward(z4.data(), e4.data(), mu.data(), lv.data(), rows, cols, k, 5, 6, 7, 1000);
  set_thread_limit(default_thread_limit());
  int mismatches = 0;
  for (size_t i = 0; i < z1.size(); ++i) mismatches += (z1[i] != z4[i]) + (e1[i] != e4[i]);
  CHECK_EQ(mismatches, 0);
  const int64_t r = 20, i = 2, j = 9;
  const uint32_t s = static_cast<uint32_t>(1000 + r * k + i);
  const PhiloxBlock b = philox4x32_10(static_cast<uint32_t>(j / 4), s, 7, 0x52455041u, 5, 6);
  const double u1 = philox_uniform_f32(b.v[0]),
               u2 = philox_uniform_f32(b.v[1]);  // j % 4 = 1: pair (0, 1), sine
  const float want =
      static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::sin(6.283185307179586 * u2));
  const int64_t at = (r * k + i) * cols + j;
  CHECK_NEAR(e1[at], want, 1e-6);
  CHECK_NEAR(z1[at], mu[r * cols + j] + std::exp(0.5 * lv[r * cols + j]) * e1[at], 1e-6);
}

TEST(reparam_backward_sums_draws_and_accumulates) {
  const int64_t rows = 2, cols = 3, k = 4;
  std::vector<float> dz(rows * k * cols), eps(rows * k * cols), lv(rows * cols, std::log(4.0f));
  for (size_t i = 0; i < dz.size(); ++i) {
    dz[i] = 1.0f + static_cast<float>(i % 3);
    eps[i] = 0.5f;
  }
  std::vector<float> dmu(rows * cols, 10.0f), dlv(rows * cols, 10.0f);
  reparam_backward(dmu.data(), dlv.data(), dz.data(), eps.data(), lv.data(), rows, cols, k, false);
  // column j: dz = 1 + ((r*k + i)*3 + j) % 3 = 1 + j; sum over 4 draws = 4 (1 + j); sigma = 2
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) {
      CHECK_NEAR(dmu[r * cols + j], 4.0 * (1 + j), 1e-6);
      CHECK_NEAR(dlv[r * cols + j], 4.0 * (1 + j) * 0.5 * 2.0 * 0.5, 1e-6);
    }
  reparam_backward(dmu.data(), dlv.data(), dz.data(), eps.data(), lv.data(), rows, cols, k, true);
  CHECK_NEAR(dmu[0], 8.0, 1e-6);
  CHECK_NEAR(dlv[2], 2 * 4.0 * 3 * 0.5, 1e-6);
}

TEST(reparam_refuses_bad_sizes) {
  float a = 0;
  CHECK_THROWS(reparam_forward(&a, &a, &a, &a, 1, 1, 0, 0, 0, 0, 0));
  CHECK_THROWS(reparam_forward(&a, &a, &a, &a, 2, 1, 1, 0, 0, 0, (int64_t{1} << 32) - 1));
  CHECK_THROWS(reparam_backward(&a, &a, &a, &a, &a, -1, 1, 1, false));
}
