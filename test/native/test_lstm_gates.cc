// LSTM gate kernel: exact tiny cases, plain vs AVX2 agreement (incl. row tails and extreme
// pre-activations), thread-count independence, argument errors.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "../../native/common/cpu_features.h"
#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/lstm_gates.h"
#include "check.h"

using namespace deepgen;

namespace {

std::vector<float> random_vec(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

bool have_avx2() { return cpu_features().avx2 && cpu_features().fma; }

// max |a - b| / max(1, |b|)
double max_rel(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]) / std::fmax(1.0, std::fabs(b[i]));
    m = std::isnan(d) ? INFINITY : std::fmax(m, d);
  }
  return m;
}

}  // namespace

TEST(lstm_forward_tiny_exact) {
  // pre = 0: o = f = i = 1/2, g = 0, so c = c_prev / 2 and h = tanh(c) / 2.
  const float pre[4] = {0, 0, 0, 0};
  const float c_prev[1] = {0.8f};
  float h[1], c[1], gates[4];
  lstm_gates_forward_plain(h, c, gates, pre, c_prev, 1, 0, 1);
  CHECK_EQ(gates[0], 0.5f);
  CHECK_EQ(gates[1], 0.5f);
  CHECK_EQ(gates[2], 0.5f);
  CHECK_EQ(gates[3], 0.0f);
  CHECK_EQ(c[0], 0.4f);
  CHECK_NEAR(h[0], 0.5 * std::tanh(0.4), 1e-7);
  // Block order o, f, i, g: a large forget pre-activation keeps c_prev, a large input gate
  // and content pre-activation add 1.
  const float pre2[4] = {40, 40, 40, 40};
  lstm_gates_forward(h, c, gates, pre2, c_prev, 1, 1);
  CHECK_NEAR(c[0], 1.8, 1e-6);
  CHECK_NEAR(h[0], std::tanh(1.8), 1e-6);
}

TEST(lstm_backward_tiny_exact) {
  // gates o = f = i = 1/2, g = 0, c_prev = 1, c = 1/2, dh = 1, dc = 0:
  //   tc = tanh(1/2), dct = 0.5 (1 - tc^2), dpre_o = tc / 4, dpre_f = dct / 4, dpre_i = 0,
  //   dpre_g = dct / 2, dc_prev = dct / 2.
  const float gates[4] = {0.5f, 0.5f, 0.5f, 0.0f};
  const float c_prev[1] = {1.0f}, c[1] = {0.5f}, dh[1] = {1.0f};
  float dpre[4], dc_prev[1];
  lstm_gates_backward_plain(dpre, dc_prev, dh, nullptr, gates, c_prev, c, 1, 0, 1);
  const double tc = std::tanh(0.5), dct = 0.5 * (1 - tc * tc);
  CHECK_NEAR(dpre[0], tc / 4, 1e-7);
  CHECK_NEAR(dpre[1], dct / 4, 1e-7);
  CHECK_EQ(dpre[2], 0.0f);
  CHECK_NEAR(dpre[3], dct / 2, 1e-7);
  CHECK_NEAR(dc_prev[0], dct / 2, 1e-7);
}

TEST(lstm_plain_and_avx2_agree) {
  if (!have_avx2()) return;  // nothing to compare on this machine
  for (int64_t H : {1, 3, 7, 8, 9, 17, 33, 64}) {
    const int64_t B = 5;
    for (float scale : {0.3f, 3.0f, 40.0f}) {
      const auto pre = random_vec(B * 4 * H, 1 + H, scale);
      const auto c_prev = random_vec(B * H, 2 + H, 1.5f);
      std::vector<float> h1(B * H), c1(B * H), g1(B * 4 * H), h2(B * H), c2(B * H), g2(B * 4 * H);
      lstm_gates_forward_plain(h1.data(), c1.data(), g1.data(), pre.data(), c_prev.data(), H, 0, B);
      lstm_gates_forward_avx2(h2.data(), c2.data(), g2.data(), pre.data(), c_prev.data(), H, 0, B);
      CHECK(max_rel(h2, h1) < 1e-6);
      CHECK(max_rel(c2, c1) < 1e-6);
      CHECK(max_rel(g2, g1) < 1e-6);
      const auto dh = random_vec(B * H, 3 + H, 1.0f);
      const auto dc = random_vec(B * H, 4 + H, 1.0f);
      std::vector<float> dp1(B * 4 * H), dcp1(B * H), dp2(B * 4 * H), dcp2(B * H);
      for (const float* dcin : {dc.data(), static_cast<const float*>(nullptr)}) {
        lstm_gates_backward_plain(dp1.data(), dcp1.data(), dh.data(), dcin, g1.data(),
                                  c_prev.data(), c1.data(), H, 0, B);
        lstm_gates_backward_avx2(dp2.data(), dcp2.data(), dh.data(), dcin, g1.data(), c_prev.data(),
                                 c1.data(), H, 0, B);
        CHECK(max_rel(dp2, dp1) < 2e-6);
        CHECK(max_rel(dcp2, dcp1) < 2e-6);
      }
    }
  }
}

TEST(lstm_avx2_gates_are_accurate_near_zero_and_saturate) {
  if (!have_avx2()) return;
  // The content gate is tanh: relative accuracy for tiny inputs (the polynomial branch), and
  // exact saturation for huge ones; sigmoid gates saturate to 0 and 1 without NaN.
  const float vals[8] = {1e-8f, -3e-5f, 0.5f, -0.7f, 30.0f, -100.0f, 1e4f, -1e4f};
  const int64_t H = 8;
  std::vector<float> pre(4 * H), c_prev(H, 0.0f), h(H), c(H), gates(4 * H);
  for (int j = 0; j < 8; ++j) pre[j] = pre[H + j] = pre[2 * H + j] = pre[3 * H + j] = vals[j];
  lstm_gates_forward_avx2(h.data(), c.data(), gates.data(), pre.data(), c_prev.data(), H, 0, 1);
  for (int j = 0; j < 8; ++j) {
    const double want_g = std::tanh(static_cast<double>(vals[j]));
    const double want_s = 1.0 / (1.0 + std::exp(-static_cast<double>(vals[j])));
    CHECK(std::fabs(gates[3 * H + j] - want_g) <= 4e-7 * std::fabs(want_g) + 1e-30);
    CHECK(std::fabs(gates[j] - want_s) <= 4e-7 * std::fabs(want_s) + 1e-37);
    CHECK(std::isfinite(h[j]) && std::isfinite(c[j]));
  }
  CHECK_EQ(gates[3 * H + 6], 1.0f);
  CHECK_EQ(gates[3 * H + 7], -1.0f);
  CHECK_EQ(gates[6], 1.0f);
  CHECK(gates[7] >= 0.0f && gates[7] < 1e-37f);  // exp saturates near 2^127: 1 / (1 + 2^127)
}

TEST(lstm_nan_propagates_on_both_paths) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float pre[4] = {0, 0, 0, nan};
  const float c_prev[1] = {0};
  float h[1], c[1], gates[4];
  lstm_gates_forward_plain(h, c, gates, pre, c_prev, 1, 0, 1);
  CHECK(std::isnan(h[0]) && std::isnan(c[0]));
  if (have_avx2()) {
    lstm_gates_forward_avx2(h, c, gates, pre, c_prev, 1, 0, 1);
    CHECK(std::isnan(h[0]) && std::isnan(c[0]));
  }
}

TEST(lstm_results_do_not_depend_on_thread_count) {
  const int64_t B = 300, H = 37;  // several chunks
  const auto pre = random_vec(B * 4 * H, 11, 2.0f);
  const auto c_prev = random_vec(B * H, 12, 1.0f);
  const auto dh = random_vec(B * H, 13, 1.0f);
  std::vector<float> h1(B * H), c1(B * H), g1(B * 4 * H), h4(B * H), c4(B * H), g4(B * 4 * H);
  std::vector<float> dp1(B * 4 * H), dcp1(B * H), dp4(B * 4 * H), dcp4(B * H);
  const int saved = thread_limit();
  set_thread_limit(1);
  lstm_gates_forward(h1.data(), c1.data(), g1.data(), pre.data(), c_prev.data(), B, H);
  lstm_gates_backward(dp1.data(), dcp1.data(), dh.data(), nullptr, g1.data(), c_prev.data(),
                      c1.data(), B, H);
  set_thread_limit(4);
  lstm_gates_forward(h4.data(), c4.data(), g4.data(), pre.data(), c_prev.data(), B, H);
  lstm_gates_backward(dp4.data(), dcp4.data(), dh.data(), nullptr, g4.data(), c_prev.data(),
                      c4.data(), B, H);
  set_thread_limit(saved);
  CHECK(h1 == h4 && c1 == c4 && g1 == g4 && dp1 == dp4 && dcp1 == dcp4);
}

TEST(lstm_rejects_bad_sizes_and_accepts_empty) {
  float x[4] = {0, 0, 0, 0};
  CHECK_THROWS(lstm_gates_forward(x, x, x, x, x, -1, 1));
  CHECK_THROWS(lstm_gates_backward(x, x, x, nullptr, x, x, x, 1, -2));
  CHECK_THROWS(lstm_gates_forward(nullptr, x, x, x, x, 1, 1));
  lstm_gates_forward(nullptr, nullptr, nullptr, nullptr, nullptr, 0, 5);  // no-op
  lstm_gates_backward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 3, 0);
}
