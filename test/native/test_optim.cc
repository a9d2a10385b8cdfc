// Optimizer kernels: hand-computed Adam / SGD steps, plain vs AVX2 Adam, clipping by the
// global norm, thread-count independence, argument errors.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "../../native/common/cpu_features.h"
#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/optim.h"
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

// Distance in float ulps (same-sign finite values).
int64_t ulps(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  return std::llabs(static_cast<int64_t>(ia) - ib);
}

AdamConfig adam_at(int t, double wd = 0.0) {
  AdamConfig c;
  c.lr = 1e-2;
  c.weight_decay = wd;
  c.bias_correction1 = 1 - std::pow(c.beta1, t);
  c.bias_correction2 = 1 - std::pow(c.beta2, t);
  return c;
}

}  // namespace

TEST(adam_first_step_hand_computed) {
  // Step 1 from zero moments: m = 0.1 g, v = 0.001 g^2, mhat = g, vhat = g^2, so
  // p -= lr * g / (|g| + eps) = lr * sign(g) (up to eps).
  float p[3] = {1.0f, -2.0f, 0.5f};
  const float g[3] = {0.5f, -4.0f, 0.0f};
  float m[3] = {0, 0, 0}, v[3] = {0, 0, 0};
  adam_step(p, g, m, v, 3, adam_at(1));
  CHECK_NEAR(p[0], 1.0 - 0.01 * 0.5 / (0.5 + 1e-8), 1e-7);
  CHECK_NEAR(p[1], -2.0 + 0.01 * 4.0 / (4.0 + 1e-8), 1e-7);
  CHECK_EQ(p[2], 0.5f);
  CHECK_EQ(m[0], static_cast<float>(0.1 * 0.5));
  CHECK_EQ(v[1], static_cast<float>(0.001 * 16.0));
  // AdamW: the decay multiplies p by (1 - lr wd) before the Adam update.
  float q[1] = {2.0f};
  const float z[1] = {0.0f};
  float mq[1] = {0}, vq[1] = {0};
  adam_step(q, z, mq, vq, 1, adam_at(1, 0.5));
  CHECK_EQ(q[0], static_cast<float>(2.0 * (1 - 0.01 * 0.5)));
}

TEST(adam_plain_and_avx2_agree_over_steps) {
  if (!have_avx2()) return;
  for (int64_t n : {1, 3, 7, 8, 9, 17, 33, 1001}) {
    auto p1 = random_vec(n, 1 + n, 1.0f), p2 = p1;
    std::vector<float> m1(n, 0.0f), v1(n, 0.0f), m2(n, 0.0f), v2(n, 0.0f);
    int64_t worst = 0, differing = 0;
    for (int t = 1; t <= 5; ++t) {
      const auto g = random_vec(n, 100 * t + n, 0.1f);
      const AdamConfig c = adam_at(t, 0.01);
      adam_step_plain(p1.data(), g.data(), m1.data(), v1.data(), 0, n, c);
      adam_step_avx2(p2.data(), g.data(), m2.data(), v2.data(), 0, n, c);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t u = std::max({ulps(p1[i], p2[i]), ulps(m1[i], m2[i]), ulps(v1[i], v2[i])});
        worst = std::max(worst, u);
        differing += u != 0;
      }
    }
    CHECK(worst <= 1);  // a contracted multiply-add moves a float64 intermediate at most
    if (differing != 0)
      std::printf("  adam n=%lld: %lld values differ by 1 ulp\n", (long long)n,
                  (long long)differing);
  }
}

TEST(sgd_momentum_and_nesterov_hand_computed) {
  float p[1] = {1.0f}, v[1] = {0.5f};
  const float g[1] = {2.0f};
  SgdConfig c;
  c.lr = 0.1;
  c.momentum = 0.9;
  sgd_step(p, g, v, 1, c);  // v = 0.45 + 2 = 2.45; p = 1 - 0.245
  CHECK_EQ(v[0], static_cast<float>(0.9 * 0.5 + 2.0));
  CHECK_EQ(p[0], static_cast<float>(1.0 - 0.1 * (0.9 * 0.5 + 2.0)));
  float pn[1] = {1.0f}, vn[1] = {0.5f};
  c.nesterov = true;
  c.weight_decay = 0.5;  // g = 2 + 0.5 * 1 = 2.5; v = 0.45 + 2.5 = 2.95; p -= 0.1 (2.5 + 0.9 v)
  sgd_step(pn, g, vn, 1, c);
  CHECK_EQ(vn[0], static_cast<float>(0.9 * 0.5 + 2.5));
  CHECK_EQ(pn[0], static_cast<float>(1.0 - 0.1 * (2.5 + 0.9 * (0.9 * 0.5 + 2.5))));
  float pp[1] = {1.0f};
  SgdConfig plain;
  plain.lr = 0.25;
  sgd_step(pp, g, nullptr, 1, plain);  // no momentum: no velocity needed
  CHECK_EQ(pp[0], 0.5f);
  c.nesterov = false;
  CHECK_THROWS(sgd_step(pp, g, nullptr, 1, c));  // momentum without velocity
  SgdConfig bad;
  bad.nesterov = true;  // nesterov without momentum
  CHECK_THROWS(sgd_check(bad));
}

TEST(clip_grad_norm_scales_the_whole_list) {
  std::vector<float> a = {3.0f, 0.0f}, b = {4.0f};
  float* arrays[2] = {a.data(), b.data()};
  int64_t sizes[2] = {2, 1};
  CHECK_EQ(clip_grad_norm(arrays, sizes, 2, 10.0), 5.0);  // under the limit: untouched
  CHECK(a[0] == 3.0f && b[0] == 4.0f);
  CHECK_EQ(clip_grad_norm(arrays, sizes, 2, 1.0), 5.0);
  CHECK_EQ(a[0], static_cast<float>(3.0 * 0.2));
  CHECK_EQ(b[0], static_cast<float>(4.0 * 0.2));
  CHECK_NEAR(grad_norm(arrays, sizes, 2), 1.0, 1e-7);
  CHECK_EQ(clip_grad_norm(nullptr, nullptr, 0, 1.0), 0.0);
  CHECK_THROWS(clip_grad_norm(arrays, sizes, 2, 0.0));
  CHECK_THROWS(clip_grad_norm(arrays, sizes, 2, std::nan("")));
  // A non-finite norm is reported and nothing is scaled.
  std::vector<float> c = {std::numeric_limits<float>::infinity(), 1.0f};
  float* inf_list[1] = {c.data()};
  int64_t inf_size[1] = {2};
  CHECK(std::isinf(clip_grad_norm(inf_list, inf_size, 1, 1.0)));
  CHECK_EQ(c[1], 1.0f);
}

TEST(optim_results_do_not_depend_on_thread_count) {
  const int64_t n = 200001;
  const auto g = random_vec(n, 9, 1.0f);
  const auto start = random_vec(n, 10, 1.0f);
  std::vector<float> p1 = start, p3 = start, m1(n, 0), m3(n, 0), v1(n, 0), v3(n, 0);
  auto g1 = g, g3 = g;
  const int64_t sizes[2] = {n - 1000, 1000};
  float* l1[2] = {g1.data(), g1.data() + sizes[0]};
  float* l3[2] = {g3.data(), g3.data() + sizes[0]};
  const int saved = thread_limit();
  set_thread_limit(1);
  const double n1 = clip_grad_norm(l1, sizes, 2, 10.0);
  adam_step(p1.data(), g1.data(), m1.data(), v1.data(), n, adam_at(1));
  set_thread_limit(3);
  const double n3 = clip_grad_norm(l3, sizes, 2, 10.0);
  adam_step(p3.data(), g3.data(), m3.data(), v3.data(), n, adam_at(1));
  set_thread_limit(saved);
  CHECK_EQ(n1, n3);
  CHECK(g1 == g3 && p1 == p3 && m1 == m3 && v1 == v3);
}

TEST(adam_rejects_bad_config) {
  float x[1] = {0};
  AdamConfig c = adam_at(1);
  c.beta1 = 1.0;
  CHECK_THROWS(adam_step(x, x, x, x, 1, c));
  c = adam_at(1);
  c.eps = 0;
  CHECK_THROWS(adam_step(x, x, x, x, 1, c));
  c = adam_at(1);
  c.bias_correction2 = 0;
  CHECK_THROWS(adam_step(x, x, x, x, 1, c));
  c = adam_at(1);
  c.lr = std::numeric_limits<double>::infinity();
  CHECK_THROWS(adam_step(x, x, x, x, 1, c));
  CHECK_THROWS(adam_step(x, x, x, x, -1, adam_at(1)));
  adam_step(nullptr, nullptr, nullptr, nullptr, 0, adam_at(1));  // empty: no-op
}
