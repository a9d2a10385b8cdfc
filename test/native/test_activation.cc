// Activation and vmath kernels: AVX2 accuracy over the whole float range (against double
// libm), plain-vs-AVX2 agreement, fused-vs-unfused bias, thread-count independence, errors.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <vector>

#include "../../native/common/cpu_features.h"
#include "../../native/common/philox.h"
#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/activation.h"
#include "../../native/kernels/cpu/vmath.h"
#include "check.h"

using namespace deepgen;

namespace {

bool have_avx2() { return cpu_features().avx2 && cpu_features().fma; }

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

// Size of one float32 ulp at |v| (denormal spacing below FLT_MIN).
double ulp_at(double v) {
  v = std::fabs(v);
  if (v < std::numeric_limits<float>::min()) return std::ldexp(1.0, -149);
  int e;
  std::frexp(v, &e);
  return std::ldexp(1.0, e - 24);
}

std::vector<float> uniform(int64_t n, uint32_t seed, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const PhiloxBlock b = philox4x32_10(static_cast<uint32_t>(i), 0, seed, 0, 17, 4);
    v[static_cast<size_t>(i)] = lo + (hi - lo) * philox_uniform_f32(b.v[0]);
  }
  return v;
}

struct UlpResult {
  double max_ulp = 0;
  float worst_x = 0;
  int special_mismatches = 0;
};

// Runs `span` over every `stride`-th float bit pattern (both signs, all exponents, so
// denormals, zeros, infinities and NaNs included) plus `extra` values, and compares with the
// double-precision reference: non-finite references must match exactly, finite ones are
// measured in float ulps of the exact value.
UlpResult sweep(void (*span)(const float*, float*, int64_t),
                const std::function<double(double)>& ref, uint32_t stride,
                const std::vector<float>& extra) {
  std::vector<float> xs;
  for (uint64_t b = 0; b < (uint64_t{1} << 32); b += stride)
    xs.push_back(from_bits(static_cast<uint32_t>(b)));
  xs.insert(xs.end(), extra.begin(), extra.end());
  std::vector<float> ys(xs.size());
  span(xs.data(), ys.data(), static_cast<int64_t>(xs.size()));
  UlpResult r;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = ref(xs[i]);
    const float want_f = static_cast<float>(want);
    const float got = ys[i];
    if (!std::isfinite(want_f)) {
      const bool ok = std::isnan(want_f) ? std::isnan(got) : got == want_f;
      if (!ok) {
        if (r.special_mismatches < 5)
          std::fprintf(stderr, "    x=%a got %a want %a\n", xs[i], got, want_f);
        ++r.special_mismatches;
      }
      continue;
    }
    if (!std::isfinite(got)) {
      if (r.special_mismatches < 5)
        std::fprintf(stderr, "    x=%a got %a want %a\n", xs[i], got, want);
      ++r.special_mismatches;
      continue;
    }
    const double e = std::fabs(got - want) / ulp_at(want);
    if (e > r.max_ulp) {
      r.max_ulp = e;
      r.worst_x = xs[i];
    }
  }
  return r;
}

const std::vector<float> kEdges = {0.0f,
                                   -0.0f,
                                   1.0f,
                                   -1.0f,
                                   1e-45f,
                                   -1e-45f,
                                   1.17549435e-38f,
                                   5.9e-39f,
                                   88.72283f,
                                   88.7228394f,
                                   88.73f,
                                   -87.33655f,
                                   -87.34f,
                                   -100.0f,
                                   -103.97207f,
                                   -103.9721f,
                                   -104.0f,
                                   -150.0f,
                                   200.0f,
                                   0.625f,
                                   -0.625f,
                                   0.34657359f,
                                   9.01f,
                                   -9.01f,
                                   20.0f,
                                   -20.0f,
                                   std::numeric_limits<float>::infinity(),
                                   -std::numeric_limits<float>::infinity(),
                                   std::numeric_limits<float>::quiet_NaN(),
                                   std::numeric_limits<float>::max(),
                                   -std::numeric_limits<float>::max()};

double softplus_ref(double x) { return std::fmax(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }

void report(const char* name, const UlpResult& r) {
  std::printf("     %-9s max %.3f ulp (at x = %.9g)\n", name, r.max_ulp,
              static_cast<double>(r.worst_x));
}

}  // namespace

TEST(vmath_avx2_accuracy_over_the_whole_float_range) {
  if (!have_avx2()) return;     // nothing to measure on this CPU
  const uint32_t stride = 997;  // ~4.3M patterns per function
  const UlpResult e = sweep(
      exp_span_avx2, [](double x) { return std::exp(x); }, stride, kEdges);
  const UlpResult l = sweep(
      log_span_avx2, [](double x) { return std::log(x); }, stride, kEdges);
  const UlpResult s = sweep(
      sigmoid_span_avx2, [](double x) { return 1.0 / (1.0 + std::exp(-x)); }, stride, kEdges);
  const UlpResult t = sweep(
      tanh_span_avx2, [](double x) { return std::tanh(x); }, stride, kEdges);
  const UlpResult p = sweep(softplus_span_avx2, softplus_ref, stride, kEdges);
  report("exp", e);
  report("log", l);
  report("sigmoid", s);
  report("tanh", t);
  report("softplus", p);
  CHECK(e.max_ulp <= 2.0);
  CHECK(l.max_ulp <= 2.0);
  CHECK(s.max_ulp <= 2.0);
  CHECK(t.max_ulp <= 2.0);
  CHECK(p.max_ulp <= 2.0);
  CHECK_EQ(e.special_mismatches + l.special_mismatches + s.special_mismatches +
               t.special_mismatches + p.special_mismatches,
           0);
}

TEST(vmath_one_minus_exp_neg_is_accurate_for_nonnegative_inputs) {
  std::vector<float> xs;
  for (uint32_t b = 0; b < 0x7f800000u; b += 331) xs.push_back(from_bits(b));
  xs.push_back(std::numeric_limits<float>::infinity());
  std::vector<float> ys(xs.size()), plain(xs.size());
  one_minus_exp_neg_span(xs.data(), ys.data(), static_cast<int64_t>(xs.size()));
  one_minus_exp_neg_span_plain(xs.data(), plain.data(), static_cast<int64_t>(xs.size()));
  double worst = 0, worst_plain = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double want = -std::expm1(-static_cast<double>(xs[i]));
    worst = std::fmax(worst, std::fabs(ys[i] - want) / ulp_at(want));
    worst_plain = std::fmax(worst_plain, std::fabs(plain[i] - want) / ulp_at(want));
  }
  std::printf("     1-exp(-x) max %.3f ulp (plain %.3f)\n", worst, worst_plain);
  CHECK(worst <= 2.0);
  CHECK(worst_plain <= 0.5001);
}

TEST(vmath_special_values) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (int simd = 0; simd < (have_avx2() ? 2 : 1); ++simd) {
    auto ex = simd ? exp_span_avx2 : exp_span_plain;
    auto lg = simd ? log_span_avx2 : log_span_plain;
    const float xs[] = {0.0f, -0.0f, -inf, inf, nan, -104.0f, 89.0f, -100.0f, -1.0f, 1e-45f};
    float e[10], l[10];
    ex(xs, e, 10);
    lg(xs, l, 10);
    CHECK_EQ(e[0], 1.0f);
    CHECK_EQ(e[1], 1.0f);
    CHECK_EQ(e[2], 0.0f);
    CHECK_EQ(e[3], inf);
    CHECK(std::isnan(e[4]));
    CHECK_EQ(e[5], 0.0f);                         // below the underflow threshold
    CHECK_EQ(e[6], inf);                          // above the overflow threshold
    CHECK(e[7] > 0.0f && e[7] < 1.1754944e-38f);  // a denormal result, not flushed
    CHECK_EQ(l[0], -inf);
    CHECK_EQ(l[1], -inf);
    CHECK(std::isnan(l[2]));
    CHECK_EQ(l[3], inf);
    CHECK(std::isnan(l[4]));
    CHECK(std::isnan(l[8]));                             // log of a negative number
    CHECK_NEAR(l[9], std::log(1.4012984643e-45), 1e-5);  // denormal input
  }
}

TEST(activation_plain_and_avx2_spans_agree) {
  if (!have_avx2()) return;
  const int64_t n = 10007;  // not a multiple of 8
  const std::vector<float> x = uniform(n, 1, -30.0f, 30.0f);
  const std::vector<float> dy = uniform(n, 2, -2.0f, 2.0f);
  for (int k = 0; k < kActivationCount; ++k) {
    const Activation kind = static_cast<Activation>(k);
    std::vector<float> yp(n), ya(n), dp(n), da(n);
    activation_forward_span_plain(kind, x.data(), yp.data(), n, 0.2f);
    activation_forward_span_avx2(kind, x.data(), ya.data(), n, 0.2f);
    activation_backward_span_plain(kind, yp.data(), dy.data(), dp.data(), n, 0.2f);
    activation_backward_span_avx2(kind, yp.data(), dy.data(), da.data(), n, 0.2f);
    double worst_y = 0, worst_d = 0;
    for (int64_t i = 0; i < n; ++i) {
      worst_y = std::fmax(worst_y, std::fabs(ya[i] - yp[i]) / ulp_at(yp[i]));
      // backward: relative to the scale of dy, as 1 - y^2 and y (1 - y) cancel near |y| = 1
      worst_d = std::fmax(worst_d, std::fabs(da[i] - dp[i]) / std::fmax(std::fabs(dy[i]), 1e-30));
    }
    if (kind == Activation::kIdentity || kind == Activation::kRelu ||
        kind == Activation::kLeakyRelu) {
      CHECK_EQ(worst_y, 0.0);
      CHECK_EQ(worst_d, 0.0);
    } else {
      CHECK(worst_y <= 3.5);
      CHECK(worst_d <= 4e-7);
    }
  }
}

TEST(fused_bias_activation_matches_add_then_activate) {
  // Both layouts: dense (S == 1) and planes (S > 1), odd sizes.
  const int64_t shapes[][3] = {{5, 37, 1}, {3, 4, 17},   {2, 3, 1000},
                               {1, 1, 1},  {1000, 1, 1}, {700, 3, 1}};
  for (const auto& sh : shapes) {
    const int64_t N = sh[0], C = sh[1], S = sh[2], n = N * C * S;
    const std::vector<float> x = uniform(n, 3, -4.0f, 4.0f);
    const std::vector<float> bias = uniform(C, 4, -1.0f, 1.0f);
    for (int k = 0; k < kActivationCount; ++k) {
      const Activation kind = static_cast<Activation>(k);
      std::vector<float> pre(n), want(n), got(n), in_place = x;
      for (int64_t i = 0; i < n; ++i) pre[i] = x[i] + bias[(i / S) % C];
      activation_forward(kind, pre.data(), want.data(), n, 0.1f);
      bias_activation_forward(kind, x.data(), bias.data(), got.data(), N, C, S, 0.1f);
      bias_activation_forward(kind, in_place.data(), bias.data(), in_place.data(), N, C, S, 0.1f);
      int mismatches = 0;
      for (int64_t i = 0; i < n; ++i) mismatches += (got[i] != want[i]) + (in_place[i] != want[i]);
      CHECK_EQ(mismatches, 0);
    }
  }
}

TEST(bias_activation_backward_is_thread_count_independent_and_matches_plain) {
  const int64_t shapes[][3] = {{64, 300, 1}, {16, 8, 33}, {3, 2, 20000}, {5000, 1, 1}, {700, 3, 1}};
  for (const auto& sh : shapes) {
    const int64_t N = sh[0], C = sh[1], S = sh[2], n = N * C * S;
    const std::vector<float> x = uniform(n, 5, -3.0f, 3.0f);
    const std::vector<float> dy = uniform(n, 6, -1.0f, 1.0f);
    const std::vector<float> bias = uniform(C, 7, -0.5f, 0.5f);
    for (const Activation kind :
         {Activation::kLeakyRelu, Activation::kSigmoid, Activation::kSoftplus}) {
      std::vector<float> y(n);
      bias_activation_forward(kind, x.data(), bias.data(), y.data(), N, C, S, 0.2f);
      std::vector<float> dx1(n), dx4(n), dxp(n), db1(C), db4(C), dbp(C);
      set_thread_limit(1);
      bias_activation_backward(kind, y.data(), dy.data(), dx1.data(), db1.data(), N, C, S, 0.2f);
      set_thread_limit(4);
      bias_activation_backward(kind, y.data(), dy.data(), dx4.data(), db4.data(), N, C, S, 0.2f);
      set_thread_limit(default_thread_limit());
      bias_activation_backward_plain(kind, y.data(), dy.data(), dxp.data(), dbp.data(), N, C, S,
                                     0.2f);
      int mismatches = 0;
      for (int64_t i = 0; i < n; ++i) mismatches += dx1[i] != dx4[i];
      for (int64_t c = 0; c < C; ++c) mismatches += db1[c] != db4[c];
      CHECK_EQ(mismatches, 0);
      // Each dbias against a double-precision sum of its own dx; plain and fast dx agree to
      // float rounding.
      double worst = 0, worst_dx = 0;
      for (int64_t c = 0; c < C; ++c) {
        double s1 = 0, sp = 0;
        for (int64_t nn = 0; nn < N; ++nn) {
          for (int64_t k = 0; k < S; ++k) {
            s1 += dx1[(nn * C + c) * S + k];
            sp += dxp[(nn * C + c) * S + k];
          }
        }
        worst = std::fmax(worst, std::fabs(db1[c] - s1) / std::fmax(1.0, std::fabs(s1)));
        worst = std::fmax(worst, std::fabs(dbp[c] - sp) / std::fmax(1.0, std::fabs(sp)));
      }
      for (int64_t i = 0; i < n; ++i) worst_dx = std::fmax(worst_dx, std::fabs(dx1[i] - dxp[i]));
      CHECK(worst_dx <= 4e-7);
      CHECK(worst <= 1e-6);
    }
  }
}

TEST(activation_exact_tiny_cases) {
  const float x[] = {-2.0f, -0.0f, 0.0f, 3.0f};
  float y[4], dx[4];
  const float dy[] = {1.0f, 1.0f, 1.0f, 1.0f};
  activation_forward(Activation::kRelu, x, y, 4, 0.0f);
  CHECK_EQ(y[0], 0.0f);
  CHECK_EQ(y[3], 3.0f);
  activation_backward(Activation::kRelu, y, dy, dx, 4, 0.0f);
  CHECK_EQ(dx[0], 0.0f);
  CHECK_EQ(dx[1], 0.0f);  // derivative 0 at x = 0, as PyTorch
  CHECK_EQ(dx[2], 0.0f);
  CHECK_EQ(dx[3], 1.0f);
  activation_forward(Activation::kLeakyRelu, x, y, 4, 0.25f);
  CHECK_EQ(y[0], -0.5f);
  CHECK_EQ(y[3], 3.0f);
  activation_backward(Activation::kLeakyRelu, y, dy, dx, 4, 0.25f);
  CHECK_EQ(dx[0], 0.25f);
  CHECK_EQ(dx[2], 0.25f);
  CHECK_EQ(dx[3], 1.0f);
  activation_forward(Activation::kSigmoid, x, y, 4, 0.0f);
  CHECK_EQ(y[1], 0.5f);
  activation_forward(Activation::kTanh, x, y, 4, 0.0f);
  CHECK_EQ(y[2], 0.0f);
  activation_forward(Activation::kSoftplus, x, y, 4, 0.0f);
  CHECK_NEAR(y[2], 0.69314718, 1e-7);
}

TEST(activation_rejects_bad_arguments) {
  float a[4] = {};
  CHECK_THROWS(activation_forward(static_cast<Activation>(9), a, a, 4, 0.0f));
  CHECK_THROWS(activation_forward(Activation::kLeakyRelu, a, a, 4, -0.1f));
  CHECK_THROWS(activation_forward(Activation::kRelu, a, a, -1, 0.0f));
  CHECK_THROWS(activation_forward(Activation::kRelu, nullptr, a, 4, 0.0f));
  CHECK_THROWS(bias_activation_forward(Activation::kRelu, a, a, a, -1, 2, 2, 0.0f));
  CHECK_THROWS(bias_activation_backward(Activation::kRelu, a, a, a, nullptr, 1, 2, 2, 0.0f));
  CHECK_THROWS(bias_activation_forward(Activation::kRelu, a, a, a, int64_t{1} << 40,
                                       int64_t{1} << 20, 4, 0.0f));
  // Zero-size calls do nothing (dbias of an empty batch is 0).
  float db[2] = {5.0f, 5.0f};
  bias_activation_backward(Activation::kTanh, nullptr, nullptr, nullptr, db, 0, 2, 3, 0.0f);
  CHECK_EQ(db[0], 0.0f);
  activation_forward(Activation::kTanh, nullptr, nullptr, 0, 0.0f);
}

TEST(vexp_vlog_threaded_match_spans) {
  const int64_t n = 3 * kElementwiseChunk + 5;
  const std::vector<float> x = uniform(n, 9, -90.0f, 90.0f);
  std::vector<float> a(n), b(n);
  vexp(x.data(), a.data(), n);
  exp_span(x.data(), b.data(), n);
  int mismatches = 0;
  for (int64_t i = 0; i < n; ++i) mismatches += std::memcmp(&a[i], &b[i], 4) != 0;
  vlog(a.data(), a.data(), n);  // in place
  log_span(b.data(), b.data(), n);
  for (int64_t i = 0; i < n; ++i) mismatches += std::memcmp(&a[i], &b[i], 4) != 0;
  CHECK_EQ(mismatches, 0);
}
