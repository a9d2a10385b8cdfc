// PixelRNN kernels: results independent of the thread count and of the batch size, the
// cached sampler drawing the naive sampler's images, argument errors.
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "../../native/common/errors.h"
#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/pixelrnn.h"
#include "check.h"

using namespace deepgen;

namespace {

std::vector<float> random_params(const PixelRnnSpec& s, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.5f);
  std::vector<float> v(static_cast<size_t>(pixelrnn_layout(s).total));
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<float> random_images(int64_t n, int64_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> x(static_cast<size_t>(n * d));
  for (float& v : x) v = (rng() % 3 == 0) ? 1.0f : 0.0f;
  return x;
}

}  // namespace

TEST(pixelrnn_results_do_not_depend_on_threads_or_batch) {
  for (const PixelRnnKind kind : {PixelRnnKind::kRowLstm, PixelRnnKind::kDiagBiLstm}) {
    PixelRnnSpec s;
    s.kind = kind;
    s.layers = 2;
    s.hidden = 5;
    s.rows = 6;
    s.cols = 7;
    const auto params = random_params(s, 3);
    s.params = params.data();
    const int64_t n = 37, d = 42, total = pixelrnn_layout(s).total;
    const auto x = random_images(n, d, 4);
    std::vector<float> lp1(n), lp2(n), g1(static_cast<size_t>(total)), g2(g1.size()), one(1);
    const int saved = thread_limit();
    set_thread_limit(1);
    pixelrnn_backward(s, x.data(), n, 0.5f, lp1.data(), g1.data());
    set_thread_limit(2);
    pixelrnn_backward(s, x.data(), n, 0.5f, lp2.data(), g2.data());
    set_thread_limit(saved);
    CHECK(std::memcmp(g1.data(), g2.data(), sizeof(float) * g1.size()) == 0);
    CHECK(std::memcmp(lp1.data(), lp2.data(), sizeof(float) * n) == 0);
    // Image 20 alone: its block differs, its arithmetic does not.
    pixelrnn_log_prob(s, x.data() + 20 * d, 1, one.data());
    CHECK(std::fabs(one[0] - lp1[20]) < 1e-4f);
  }
}

TEST(pixelrnn_cached_sampler_draws_the_naive_images) {
  for (const PixelRnnKind kind : {PixelRnnKind::kRowLstm, PixelRnnKind::kDiagBiLstm}) {
    PixelRnnSpec s;
    s.kind = kind;
    s.layers = 3;
    s.hidden = 4;
    s.rows = 5;
    s.cols = 6;
    const auto params = random_params(s, 9);
    s.params = params.data();
    const int64_t n = 4, d = 30;
    std::vector<float> a(n * d), b(n * d), pa(n * d), pb(n * d);
    pixelrnn_sample(s, n, 7, 11, 12, 0, true, a.data(), pa.data());
    pixelrnn_sample(s, n, 7, 11, 12, 0, false, b.data(), pb.data());
    CHECK(a == b);
    CHECK(pa == pb);
    double ones = 0;
    for (float v : a) ones += v;
    CHECK(ones > 0 && ones < n * d);
  }
}

TEST(pixelrnn_rejects_bad_sizes) {
  PixelRnnSpec s;
  const float p = 0.0f;
  s.params = &p;
  s.layers = 0;
  CHECK_THROWS(pixelrnn_check(s));
  s.layers = 1;
  s.kind = static_cast<PixelRnnKind>(5);
  CHECK_THROWS(pixelrnn_check(s));
  s.kind = PixelRnnKind::kRowLstm;
  s.rows = 0;
  CHECK_THROWS(pixelrnn_check(s));
}
