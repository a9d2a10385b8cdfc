// BatchNorm and LayerNorm kernels: exact tiny cases, a double-precision reference of the
// backward formulas, plain-vs-AVX2 agreement, thread-count independence, errors.
#include <cmath>
#include <cstdint>
#include <vector>

#include "../../native/common/philox.h"
#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/batchnorm.h"
#include "../../native/kernels/cpu/layernorm.h"
#include "check.h"

using namespace deepgen;

namespace {

std::vector<float> random_vec(int64_t n, uint32_t seed, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const PhiloxBlock b = philox4x32_10(static_cast<uint32_t>(i), 0, seed, 0, 99, 1);
    v[static_cast<size_t>(i)] = lo + (hi - lo) * philox_uniform_f32(b.v[1]);
  }
  return v;
}

// max |a - b| / max(1, |b|)
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]) / std::fmax(1.0, std::fabs(b[i]));
    m = std::isnan(d) ? INFINITY : std::fmax(m, d);
  }
  return m;
}

bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i])))) return false;
  return a.size() == b.size();
}

struct BnRun {
  std::vector<float> y, mean, rstd, rm, rv, dx, dgamma, dbeta;
};

// Training forward + backward, fast or plain kernels.
BnRun run_bn(bool plain, int64_t N, int64_t C, int64_t S, const std::vector<float>& x,
             const std::vector<float>& dy, const std::vector<float>& gamma,
             const std::vector<float>& beta) {
  BnRun r;
  const size_t n = x.size(), c = static_cast<size_t>(C);
  r.y.resize(n);
  r.mean.resize(c);
  r.rstd.resize(c);
  r.rm.assign(c, 0.5f);
  r.rv.assign(c, 2.0f);
  r.dx.resize(n);
  r.dgamma.resize(c);
  r.dbeta.resize(c);
  auto fwd = plain ? batchnorm_forward_train_plain : batchnorm_forward_train;
  auto bwd = plain ? batchnorm_backward_plain : batchnorm_backward;
  fwd(x.data(), gamma.data(), beta.data(), r.y.data(), r.mean.data(), r.rstd.data(), r.rm.data(),
      r.rv.data(), N, C, S, 1e-5f, 0.1f);
  bwd(x.data(), dy.data(), gamma.data(), r.mean.data(), r.rstd.data(), r.dx.data(), r.dgamma.data(),
      r.dbeta.data(), N, C, S);
  return r;
}

const int64_t kBnShapes[][3] = {{4, 3, 17}, {64, 37, 1}, {2, 5, 1000},
                                {1, 2, 2},  {3, 70, 1},  {5, 1, 9}};

}  // namespace

TEST(batchnorm_exact_tiny_case) {
  // One channel, values 1 2 3 4: mean 2.5, biased var 1.25, unbiased 5/3.
  const float x[] = {1, 2, 3, 4};
  const float gamma[] = {2.0f}, beta[] = {0.5f};
  float y[4], mean[1], rstd[1], rm[1] = {0.0f}, rv[1] = {1.0f};
  batchnorm_forward_train(x, gamma, beta, y, mean, rstd, rm, rv, 2, 1, 2, 1e-5f, 0.1f);
  const double r = 1.0 / std::sqrt(1.25 + 1e-5);
  CHECK_EQ(mean[0], 2.5f);
  CHECK_NEAR(rstd[0], r, 1e-7);
  for (int i = 0; i < 4; ++i) CHECK_NEAR(y[i], (x[i] - 2.5) * r * 2.0 + 0.5, 1e-6);
  CHECK_NEAR(rm[0], 0.25, 1e-7);
  CHECK_NEAR(rv[0], 0.9 + 0.1 * 5.0 / 3.0, 1e-7);
  // Eval with those running stats.
  batchnorm_forward_eval(x, gamma, beta, rm, rv, y, 1, 1, 4, 1e-5f);
  for (int i = 0; i < 4; ++i)
    CHECK_NEAR(y[i], (x[i] - rm[0]) / std::sqrt(rv[0] + 1e-5) * 2.0 + 0.5, 1e-6);
  // Backward with dy = 1 everywhere: dbeta = 4, dgamma = sum xhat = 0, dx = 0.
  const float dy[] = {1, 1, 1, 1};
  float dx[4], dg[1], db[1];
  batchnorm_backward(x, dy, gamma, mean, rstd, dx, dg, db, 2, 1, 2);
  CHECK_EQ(db[0], 4.0f);
  CHECK_NEAR(dg[0], 0.0, 1e-6);
  for (int i = 0; i < 4; ++i) CHECK_NEAR(dx[i], 0.0, 1e-6);
}

TEST(batchnorm_backward_matches_double_reference) {
  for (const auto& sh : kBnShapes) {
    const int64_t N = sh[0], C = sh[1], S = sh[2], n = N * C * S;
    const std::vector<float> x = random_vec(n, 1, -2.0f, 3.0f), dy = random_vec(n, 2, -1.0f, 1.0f);
    const std::vector<float> gamma = random_vec(C, 3, 0.5f, 1.5f), beta = random_vec(C, 4, -1, 1);
    const BnRun r = run_bn(false, N, C, S, x, dy, gamma, beta);
    std::vector<float> dx_ref(static_cast<size_t>(n)), dg_ref(C), db_ref(C),
        y_ref(static_cast<size_t>(n));
    const double M = static_cast<double>(N * S);
    for (int64_t c = 0; c < C; ++c) {
      double s = 0, sq = 0;
      for (int64_t i = 0; i < N; ++i)
        for (int64_t k = 0; k < S; ++k) s += x[(i * C + c) * S + k];
      const double mean = s / M;
      for (int64_t i = 0; i < N; ++i)
        for (int64_t k = 0; k < S; ++k) sq += std::pow(x[(i * C + c) * S + k] - mean, 2);
      const double rstd = 1.0 / std::sqrt(sq / M + 1e-5);
      double sdy = 0, sdyx = 0;
      for (int64_t i = 0; i < N; ++i) {
        for (int64_t k = 0; k < S; ++k) {
          const int64_t j = (i * C + c) * S + k;
          sdy += dy[j];
          sdyx += dy[j] * (x[j] - mean) * rstd;
          y_ref[j] = static_cast<float>((x[j] - mean) * rstd * gamma[c] + beta[c]);
        }
      }
      db_ref[c] = static_cast<float>(sdy);
      dg_ref[c] = static_cast<float>(sdyx);
      for (int64_t i = 0; i < N; ++i) {
        for (int64_t k = 0; k < S; ++k) {
          const int64_t j = (i * C + c) * S + k;
          const double xhat = (x[j] - mean) * rstd;
          dx_ref[j] = static_cast<float>(gamma[c] * rstd * (dy[j] - sdy / M - xhat * sdyx / M));
        }
      }
    }
    CHECK(rel_diff(r.y, y_ref) <= 2e-6);
    CHECK(rel_diff(r.dbeta, db_ref) <= 1e-6);
    CHECK(rel_diff(r.dgamma, dg_ref) <= 2e-6);
    CHECK(rel_diff(r.dx, dx_ref) <= 5e-6);
  }
}

TEST(batchnorm_plain_and_fast_agree_and_threads_do_not_matter) {
  for (const auto& sh : kBnShapes) {
    const int64_t N = sh[0], C = sh[1], S = sh[2], n = N * C * S;
    const std::vector<float> x = random_vec(n, 5, -1.0f, 4.0f), dy = random_vec(n, 6, -1.0f, 1.0f);
    const std::vector<float> gamma = random_vec(C, 7, 0.5f, 1.5f), beta = random_vec(C, 8, -1, 1);
    const BnRun plain = run_bn(true, N, C, S, x, dy, gamma, beta);
    set_thread_limit(1);
    const BnRun one = run_bn(false, N, C, S, x, dy, gamma, beta);
    set_thread_limit(4);
    const BnRun four = run_bn(false, N, C, S, x, dy, gamma, beta);
    set_thread_limit(default_thread_limit());
    CHECK(bit_equal(one.y, four.y) && bit_equal(one.mean, four.mean) &&
          bit_equal(one.rstd, four.rstd));
    CHECK(bit_equal(one.rm, four.rm) && bit_equal(one.rv, four.rv));
    CHECK(bit_equal(one.dx, four.dx) && bit_equal(one.dgamma, four.dgamma) &&
          bit_equal(one.dbeta, four.dbeta));
    CHECK(rel_diff(one.mean, plain.mean) <= 1e-7);
    CHECK(rel_diff(one.rstd, plain.rstd) <= 1e-7);
    CHECK(rel_diff(one.rv, plain.rv) <= 1e-7);
    CHECK(rel_diff(one.y, plain.y) <= 1e-6);
    CHECK(rel_diff(one.dx, plain.dx) <= 1e-6);
    CHECK(rel_diff(one.dgamma, plain.dgamma) <= 1e-6);
    CHECK(rel_diff(one.dbeta, plain.dbeta) <= 1e-6);
  }
}

TEST(batchnorm_large_offset_keeps_precision) {
  // mean 1000, std ~1: the double two-pass statistics keep xhat accurate.
  const int64_t N = 8, C = 2, S = 300, n = N * C * S;
  std::vector<float> x = random_vec(n, 9, -1.7f, 1.7f);
  for (float& v : x) v += 1000.0f;
  const std::vector<float> gamma(C, 1.0f), beta(C, 0.0f), dy = random_vec(n, 10, -1, 1);
  const BnRun r = run_bn(false, N, C, S, x, dy, gamma, beta);
  for (int64_t c = 0; c < C; ++c) {
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < N; ++i)
      for (int64_t k = 0; k < S; ++k) {
        const double v = r.y[(i * C + c) * S + k];
        s += v;
        s2 += v * v;
      }
    CHECK_NEAR(s / (N * S), 0.0, 1e-4);
    CHECK_NEAR(s2 / (N * S), 1.0, 1e-3);
  }
}

TEST(batchnorm_rejects_bad_arguments_and_handles_empty) {
  float a[8] = {1, 2, 3, 4, 5, 6, 7, 8}, m[2], s[2], rm[2] = {}, rv[2] = {1, 1};
  // One value per channel cannot be normalized in training.
  CHECK_THROWS(batchnorm_forward_train(a, a, a, a, m, s, rm, rv, 1, 2, 1, 1e-5f, 0.1f));
  CHECK_THROWS(batchnorm_backward(a, a, a, m, s, a, m, s, 1, 2, 1));
  CHECK_THROWS(batchnorm_forward_train(a, a, a, a, m, s, rm, rv, 2, 2, 2, 0.0f, 0.1f));
  CHECK_THROWS(batchnorm_forward_train(a, a, a, a, m, s, rm, rv, 2, 2, 2, NAN, 0.1f));
  CHECK_THROWS(batchnorm_forward_train(a, a, a, a, m, s, rm, rv, 2, 2, 2, 1e-5f, 1.5f));
  CHECK_THROWS(batchnorm_forward_train(a, a, a, a, m, s, rm, rv, -2, 2, 2, 1e-5f, 0.1f));
  CHECK_THROWS(batchnorm_forward_eval(a, a, a, rm, rv, a, 2, -2, 2, 1e-5f));
  CHECK_THROWS(batchnorm_forward_train(a, nullptr, a, a, m, s, rm, rv, 2, 2, 2, 1e-5f, 0.1f));
  // No channels: nothing to do. Eval accepts an empty batch.
  batchnorm_forward_train(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 4,
                          0, 3, 1e-5f, 0.1f);
  batchnorm_forward_eval(nullptr, a, a, rm, rv, nullptr, 0, 2, 3, 1e-5f);
}

TEST(layernorm_exact_tiny_case) {
  const float x[] = {1, 2, 3, 4, -1, -1, -1, -1};
  const float gamma[] = {1, 2, 3, 4}, beta[] = {0, 0, 1, 1};
  float y[8], mean[2], rstd[2];
  layernorm_forward(x, gamma, beta, y, mean, rstd, 2, 4, 1e-5f);
  CHECK_EQ(mean[0], 2.5f);
  CHECK_EQ(mean[1], -1.0f);
  const double r0 = 1.0 / std::sqrt(1.25 + 1e-5);
  CHECK_NEAR(rstd[0], r0, 1e-7);
  CHECK_NEAR(rstd[1], 1.0 / std::sqrt(1e-5), 1e-3);
  for (int d = 0; d < 4; ++d) {
    CHECK_NEAR(y[d], (x[d] - 2.5) * r0 * gamma[d] + beta[d], 1e-6);
    CHECK_EQ(y[4 + d], beta[d]);  // a constant row normalizes to 0
  }
}

TEST(layernorm_plain_fast_reference_and_threads) {
  const int64_t shapes[][2] = {{1, 1}, {3, 17}, {33, 64}, {300, 9}, {7, 1030}};
  for (const auto& sh : shapes) {
    const int64_t R = sh[0], D = sh[1], n = R * D;
    const std::vector<float> x = random_vec(n, 11, -2.0f, 5.0f), dy = random_vec(n, 12, -1, 1);
    const std::vector<float> gamma = random_vec(D, 13, 0.5f, 1.5f), beta = random_vec(D, 14, -1, 1);
    struct Out {
      std::vector<float> y, mean, rstd, dx, dg, db;
    };
    auto run = [&](bool plain) {
      Out o{std::vector<float>(n), std::vector<float>(R), std::vector<float>(R),
            std::vector<float>(n), std::vector<float>(D), std::vector<float>(D)};
      (plain ? layernorm_forward_plain : layernorm_forward)(x.data(), gamma.data(), beta.data(),
                                                            o.y.data(), o.mean.data(),
                                                            o.rstd.data(), R, D, 1e-5f);
      (plain ? layernorm_backward_plain : layernorm_backward)(
          x.data(), dy.data(), gamma.data(), o.mean.data(), o.rstd.data(), o.dx.data(), o.dg.data(),
          o.db.data(), R, D);
      return o;
    };
    const Out plain = run(true);
    set_thread_limit(1);
    const Out one = run(false);
    set_thread_limit(4);
    const Out four = run(false);
    set_thread_limit(default_thread_limit());
    CHECK(bit_equal(one.y, four.y) && bit_equal(one.dx, four.dx));
    CHECK(bit_equal(one.dg, four.dg) && bit_equal(one.db, four.db));
    CHECK(rel_diff(one.mean, plain.mean) <= 1e-7 && rel_diff(one.rstd, plain.rstd) <= 1e-7);
    CHECK(rel_diff(one.y, plain.y) <= 1e-6);
    CHECK(rel_diff(one.dx, plain.dx) <= 2e-6);
    CHECK(rel_diff(one.dg, plain.dg) <= 1e-6);
    CHECK(rel_diff(one.db, plain.db) <= 1e-6);
    // Double-precision reference of the backward.
    std::vector<float> dx_ref(static_cast<size_t>(n));
    std::vector<double> dg_ref(D, 0.0), db_ref(D, 0.0);
    for (int64_t r = 0; r < R; ++r) {
      double s = 0, sq = 0;
      for (int64_t d = 0; d < D; ++d) s += x[r * D + d];
      const double mean = s / D;
      for (int64_t d = 0; d < D; ++d) sq += std::pow(x[r * D + d] - mean, 2);
      const double rstd = 1.0 / std::sqrt(sq / D + 1e-5);
      double sg = 0, sgx = 0;
      for (int64_t d = 0; d < D; ++d) {
        const double xhat = (x[r * D + d] - mean) * rstd, g = dy[r * D + d] * gamma[d];
        sg += g;
        sgx += g * xhat;
        dg_ref[d] += dy[r * D + d] * xhat;
        db_ref[d] += dy[r * D + d];
      }
      for (int64_t d = 0; d < D; ++d) {
        const double xhat = (x[r * D + d] - mean) * rstd, g = dy[r * D + d] * gamma[d];
        dx_ref[r * D + d] = static_cast<float>(rstd * (g - sg / D - xhat * sgx / D));
      }
    }
    CHECK(rel_diff(one.dx, dx_ref) <= 1e-5);
    for (int64_t d = 0; d < D; ++d) {
      CHECK_NEAR(one.dg[d], dg_ref[d], 2e-6 * std::fmax(1.0, std::fabs(dg_ref[d])));
      CHECK_NEAR(one.db[d], db_ref[d], 2e-6 * std::fmax(1.0, std::fabs(db_ref[d])));
    }
  }
}

TEST(layernorm_rejects_bad_arguments_and_handles_empty) {
  float a[8] = {}, m[2], s[2];
  CHECK_THROWS(layernorm_forward(a, a, a, a, m, s, 2, 0, 1e-5f));
  CHECK_THROWS(layernorm_forward(a, a, a, a, m, s, -1, 4, 1e-5f));
  CHECK_THROWS(layernorm_forward(a, a, a, a, m, s, 2, 4, -1.0f));
  CHECK_THROWS(layernorm_backward(a, a, a, m, s, a, nullptr, a, 2, 4));
  float dg[3] = {7, 7, 7}, db[3] = {7, 7, 7};
  layernorm_backward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, dg, db, 0, 3);
  CHECK_EQ(dg[1], 0.0f);
  CHECK_EQ(db[2], 0.0f);
  layernorm_forward(nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, 0, 5, 1e-5f);
}
