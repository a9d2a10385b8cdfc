// Loss kernels: blocked reductions (exact order, thread-count independence), BCE plain vs
// AVX2 and its extreme logits, KL / Gaussian log-density / log-sum-exp special values.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "../../native/common/cpu_features.h"
#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/loss.h"
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

std::vector<float> random_unit(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

bool have_avx2() { return cpu_features().avx2 && cpu_features().fma; }

constexpr float kInf = std::numeric_limits<float>::infinity();

}  // namespace

TEST(reduce_block_order_is_the_documented_one) {
  const auto x = random_vec(4096, 5, 1000.0f);
  for (int64_t n : {0, 1, 7, 8, 9, 100, 4096}) {
    double a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t k = 0; k < n; ++k) a[k % 8] += x[k];
    const double want = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    CHECK_EQ(reduce_block_sum(x.data(), n), want);
  }
  // Several blocks: the block sums added in block order.
  const auto y = random_vec(3 * 4096 + 5, 6, 1.0f);
  double want = 0;
  for (int64_t b = 0; b < 4; ++b) want += reduce_block_sum(y.data() + b * 4096, b < 3 ? 4096 : 5);
  CHECK_EQ(reduce_sum(y.data(), static_cast<int64_t>(y.size())), want);
}

TEST(reduce_sum_is_thread_count_independent) {
  const auto x = random_vec(1000003, 7, 1.0f);
  const int saved = thread_limit();
  set_thread_limit(1);
  const double one = reduce_sum(x.data(), static_cast<int64_t>(x.size()));
  set_thread_limit(3);
  const double three = reduce_sum(x.data(), static_cast<int64_t>(x.size()));
  set_thread_limit(saved);
  CHECK_EQ(one, three);
  CHECK_EQ(reduce_sum(nullptr, 0), 0.0);
  CHECK_THROWS(reduce_mean(x.data(), 0));
  const float four[4] = {1, 2, 3, 4};
  CHECK_EQ(reduce_mean(four, 4), 2.5);
}

TEST(bce_extreme_logits_are_exact) {
  // z, x -> softplus(z) - x z; disagreeing targets give exactly |z|, agreeing ones ~exp(-|z|).
  const float z[8] = {30, -30, 100, -100, 1e4f, -1e4f, 100, -1e4f};
  const float x[8] = {0, 1, 0, 1, 0, 1, 1, 0};
  const double want[8] = {
      30 + std::log1p(std::exp(-30.0)), 30 + std::log1p(std::exp(-30.0)), 100, 100, 1e4, 1e4, 0, 0};
  for (bool simd : {false, true}) {
    if (simd && !have_avx2()) continue;
    for (int k = 0; k < 8; ++k) {
      double sum;
      if (simd)
        bce_forward_rows_avx2(&sum, z + k, x + k, 1, 0, 1);
      else
        bce_forward_rows_plain(&sum, z + k, x + k, 1, 0, 1);
      CHECK_NEAR(sum, want[k], 1e-30 + 1e-7 * want[k]);
    }
    float dz[8];
    if (simd)
      bce_backward_rows_avx2(dz, z, x, 8, 0, 1, 1.0, nullptr);
    else
      bce_backward_rows_plain(dz, z, x, 8, 0, 1, 1.0, nullptr);
    const float want_dz[8] = {1, -1, 1, -1, 1, -1, 0, 0};
    for (int k = 0; k < 8; ++k) CHECK_NEAR(dz[k], want_dz[k], 1e-12);
  }
}

TEST(bce_plain_and_avx2_agree_and_match_float64) {
  if (!have_avx2()) return;
  for (int64_t D : {1, 3, 8, 17, 33, 784}) {
    const int64_t R = 4;
    const auto z = random_vec(R * D, 10 + D, 4.0f);
    const auto x = random_unit(R * D, 20 + D);
    double s_plain[4], s_simd[4];
    bce_forward_rows_plain(s_plain, z.data(), x.data(), D, 0, R);
    bce_forward_rows_avx2(s_simd, z.data(), x.data(), D, 0, R);
    for (int64_t r = 0; r < R; ++r) {
      double ref = 0;  // float64 reference with libm
      for (int64_t d = r * D; d < (r + 1) * D; ++d) {
        const double zd = z[d], xd = x[d];
        ref += std::fmax(zd, 0.0) - xd * zd + std::log1p(std::exp(-std::fabs(zd)));
      }
      CHECK(std::fabs(s_plain[r] - ref) <= 1e-6 * ref);
      CHECK(std::fabs(s_simd[r] - ref) <= 1e-6 * ref);
    }
    const float row_scale[4] = {1.0f, -0.5f, 2.0f, 0.0f};
    std::vector<float> g1(R * D), g2(R * D);
    bce_backward_rows_plain(g1.data(), z.data(), x.data(), D, 0, R, 0.25, row_scale);
    bce_backward_rows_avx2(g2.data(), z.data(), x.data(), D, 0, R, 0.25, row_scale);
    double worst = 0;
    for (size_t i = 0; i < g1.size(); ++i) worst = std::fmax(worst, std::fabs(g1[i] - g2[i]));
    CHECK(worst < 1e-7);
  }
}

TEST(bce_total_is_thread_count_independent) {
  const int64_t R = 257, D = 784;
  const auto z = random_vec(R * D, 31, 3.0f);
  const auto x = random_unit(R * D, 32);
  std::vector<float> rows1(R), rows3(R);
  const int saved = thread_limit();
  set_thread_limit(1);
  const double t1 = bce_with_logits_forward(rows1.data(), z.data(), x.data(), R, D);
  set_thread_limit(3);
  const double t3 = bce_with_logits_forward(rows3.data(), z.data(), x.data(), R, D);
  set_thread_limit(saved);
  CHECK_EQ(t1, t3);
  CHECK(rows1 == rows3);
  CHECK_EQ(bce_with_logits_forward(nullptr, nullptr, nullptr, 0, 5), 0.0);
  CHECK_THROWS(bce_with_logits_forward(nullptr, z.data(), x.data(), -1, 5));
}

TEST(gaussian_kl_and_log_prob_tiny_exact) {
  // KL of N(mu, e^lv) to N(0, 1) per element: 0.5 (mu^2 + e^lv - 1 - lv).
  const float mu[2] = {1.0f, 0.0f}, lv[2] = {0.0f, std::log(2.0f)};
  float row[1];
  const double kl = gaussian_kl_forward(row, mu, lv, 1, 2);
  CHECK_NEAR(kl, 0.5 * (1.0 + (2.0 - 1.0 - std::log(2.0f))), 1e-7);
  float dmu[2], dlv[2];
  gaussian_kl_backward(dmu, dlv, mu, lv, 1, 2, 2.0, nullptr);
  CHECK_EQ(dmu[0], 2.0f);
  CHECK_NEAR(dlv[1], 1.0, 1e-6);  // 2 * 0.5 * (2 - 1)
  // log N(x; mu, 1) at x = mu is -0.5 log(2 pi).
  const float x[1] = {3.0f}, m[1] = {3.0f}, z[1] = {0.0f};
  CHECK_NEAR(gaussian_log_prob_forward(row, x, m, z, 1, 1), -0.5 * std::log(2 * M_PI), 1e-12);
  // Extreme log-variances stay finite in the float64 total.
  const float big[1] = {100.0f}, small[1] = {-100.0f}, zero[1] = {0.0f};
  const double kl_big = gaussian_kl_forward(row, zero, big, 1, 1);
  CHECK(std::isfinite(kl_big) && kl_big > 1e43);
  CHECK(std::isinf(row[0]) && row[0] > 0);
  CHECK_NEAR(gaussian_kl_forward(row, zero, small, 1, 1), 0.5 * 99.0, 1e-9);
}

TEST(log_sum_exp_special_rows) {
  const float x[5 * 3] = {1, 2, 3, -kInf, 0, -kInf, -kInf, -kInf, -kInf, 1, kInf, 2, 1, NAN, 2};
  float out[5];
  log_sum_exp_forward(out, x, 5, 3);
  CHECK_NEAR(out[0], std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)), 1e-6);
  CHECK_EQ(out[1], 0.0f);
  CHECK(out[2] == -kInf);
  CHECK(out[3] == kInf);
  CHECK(std::isnan(out[4]));
  const float dout[5] = {1, 2, 3, 1, 1};
  float dx[15];
  log_sum_exp_backward(dx, x, out, dout, 5, 3);
  CHECK_NEAR(dx[0] + dx[1] + dx[2], 1.0, 1e-6);
  CHECK_EQ(dx[3], 0.0f);
  CHECK_EQ(dx[4], 2.0f);
  CHECK_EQ(dx[5], 0.0f);
  for (int k = 6; k < 9; ++k) CHECK_EQ(dx[k], 0.0f);  // all -Inf row: zero gradient
  CHECK(dx[9] == 0.0f && std::isnan(dx[10]) && dx[11] == 0.0f);
  // Huge finite values do not overflow: lse(1000, 1000) = 1000 + log 2.
  const float big[2] = {1000.0f, 1000.0f};
  log_sum_exp_forward(out, big, 1, 2);
  CHECK_NEAR(out[0], 1000.0 + std::log(2.0), 1e-4);
  float empty_out[2] = {0, 0};
  log_sum_exp_forward(empty_out, nullptr, 2, 0);
  CHECK(empty_out[0] == -kInf && empty_out[1] == -kInf);
}

TEST(log_sum_exp_plain_and_avx2_agree) {
  if (!have_avx2()) return;
  for (int64_t D : {1, 3, 8, 10, 17, 33}) {
    const int64_t R = 7;
    auto x = random_vec(R * D, 40 + D, 20.0f);
    x[2] = -kInf;                                          // a -Inf entry in one row
    for (int64_t d = 0; d < D; ++d) x[3 * D + d] = -kInf;  // row 3: all -Inf
    std::vector<float> o1(R), o2(R);
    lse_forward_rows_plain(o1.data(), x.data(), D, 0, R);
    lse_forward_rows_avx2(o2.data(), x.data(), D, 0, R);
    for (int64_t r = 0; r < R; ++r) {
      if (o1[r] == -kInf) {  // row 3, and row 2 when D = 1 (its only entry is -Inf)
        CHECK(o2[r] == -kInf);
      } else {
        CHECK(std::fabs(o1[r] - o2[r]) <= 4e-7 * std::fmax(1.0f, std::fabs(o1[r])));
      }
    }
    const auto dout = random_vec(R, 50 + D, 1.0f);
    std::vector<float> g1(R * D), g2(R * D);
    lse_backward_rows_plain(g1.data(), x.data(), o1.data(), dout.data(), D, 0, R);
    lse_backward_rows_avx2(g2.data(), x.data(), o1.data(), dout.data(), D, 0, R);
    double worst = 0;
    for (size_t i = 0; i < g1.size(); ++i) worst = std::fmax(worst, std::fabs(g1[i] - g2[i]));
    CHECK(worst < 1e-6);
    CHECK(g1[3 * D] == 0.0f && g2[3 * D] == 0.0f);
  }
  // Special rows on the vector path: NaN and +Inf anywhere in a row, including the tail.
  const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, NAN};
  float out[1];
  lse_forward_rows_avx2(out, x, 9, 0, 1);
  CHECK(std::isnan(out[0]));
  const float y[9] = {1, 2, 3, 4, 5, 6, 7, 8, kInf};
  lse_forward_rows_avx2(out, y, 9, 0, 1);
  CHECK(out[0] == kInf);
}

TEST(softmax_cross_entropy_exact_values_large_logits_and_thread_independence) {
  // z = (0, ln 3): p = (1/4, 3/4). Label 1: -log(3/4); label 0: log 4; soft (1/2, 1/2): mean.
  const float z[6] = {0.0f, static_cast<float>(std::log(3.0)),
                      0.0f, static_cast<float>(std::log(3.0)),
                      0.0f, static_cast<float>(std::log(3.0))};
  const float t[6] = {0, 1, 1, 0, 0.5f, 0.5f};
  float rows[3];
  const double total = softmax_cross_entropy_forward(rows, z, t, 3, 2);
  CHECK_NEAR(rows[0], -std::log(0.75), 1e-6);
  CHECK_NEAR(rows[1], std::log(4.0), 1e-6);
  CHECK_NEAR(rows[2], 0.5 * (std::log(4.0) - std::log(0.75)), 1e-6);
  CHECK_NEAR(total, 1.5 * (std::log(4.0) - std::log(0.75)), 1e-6);
  float dz[6];
  softmax_cross_entropy_backward(dz, z, t, 3, 2, 1.0, nullptr);
  CHECK_NEAR(dz[0], 0.25, 1e-6);
  CHECK_NEAR(dz[1], -0.25, 1e-6);
  CHECK_NEAR(dz[2], -0.75, 1e-6);
  CHECK_NEAR(dz[4], -0.25, 1e-6);
  // Large logits stay exact and finite; a -Inf logit of a non-target class is harmless.
  const float big[4] = {1000.0f, 0.0f, -kInf, 2.0f};
  const float lab[4] = {0, 1, 0, 1};
  float r2[2];
  softmax_cross_entropy_forward(r2, big, lab, 2, 2);
  CHECK_EQ(r2[0], 1000.0f);
  CHECK_EQ(r2[1], 0.0f);
  float d2[4];
  softmax_cross_entropy_backward(d2, big, lab, 2, 2, 1.0, nullptr);
  CHECK_EQ(d2[0], 1.0f);
  CHECK_EQ(d2[1], -1.0f);
  CHECK_EQ(d2[2], 0.0f);
  CHECK_EQ(d2[3], 0.0f);
  // Results do not depend on the thread count.
  const int64_t R = 5003, C = 10;
  const auto logits = random_vec(R * C, 11, 4.0f);
  const auto targets = random_unit(R * C, 12);
  std::vector<float> a(R), b(R), ga(R * C), gb(R * C);
  const int saved = thread_limit();
  set_thread_limit(1);
  const double t1 = softmax_cross_entropy_forward(a.data(), logits.data(), targets.data(), R, C);
  softmax_cross_entropy_backward(ga.data(), logits.data(), targets.data(), R, C, 0.5, nullptr);
  set_thread_limit(3);
  const double t3 = softmax_cross_entropy_forward(b.data(), logits.data(), targets.data(), R, C);
  softmax_cross_entropy_backward(gb.data(), logits.data(), targets.data(), R, C, 0.5, nullptr);
  set_thread_limit(saved);
  CHECK_EQ(t1, t3);
  CHECK(a == b);
  CHECK(ga == gb);
  CHECK_THROWS(softmax_cross_entropy_forward(nullptr, logits.data(), targets.data(), -1, C));
}
