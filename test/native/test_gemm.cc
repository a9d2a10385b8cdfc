#include <cmath>
#include <vector>

#include "../../native/common/cpu_features.h"
#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/gemm.h"
#include "../../native/kernels/cpu/gemm_kernel.h"
#include "check.h"
#include "random_data.h"

using namespace deepgen;

namespace {

// Philox stream of this file's test data.
constexpr uint32_t kDataStream = 11;

// Max |fast - plain| relative to the size of the terms, for each shape/transposition.
double gemm_error(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, float beta,
                  int threads) {
  GemmArgs g;
  g.trans_a = ta;
  g.trans_b = tb;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = alpha;
  g.beta = beta;
  g.lda = (ta ? m : k) + 3;  // padded leading dimensions
  g.ldb = (tb ? k : n) + 1;
  g.ldc = n + 2;
  const auto a = dgtest::normal_vec((ta ? k : m) * g.lda, 1, kDataStream);
  const auto b = dgtest::normal_vec((tb ? n : k) * g.ldb, 2, kDataStream);
  auto c_fast = dgtest::normal_vec(m * g.ldc, 3, kDataStream);
  auto c_plain = c_fast;
  g.a = a.data();
  g.b = b.data();
  g.c = c_fast.data();
  sgemm(g, threads);
  g.c = c_plain.data();
  sgemm_plain(g);
  double worst = 0;
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      worst = std::fmax(worst, std::fabs(c_fast[i * g.ldc + j] - c_plain[i * g.ldc + j]));
    }
    for (int64_t j = n; j < g.ldc; ++j) {  // padding columns untouched
      if (c_fast[i * g.ldc + j] != c_plain[i * g.ldc + j]) worst = INFINITY;
    }
  }
  return worst / std::sqrt(static_cast<double>(k) + 1);
}

}  // namespace

TEST(gemm_blocked_matches_plain_all_transposes_and_edges) {
  const int64_t sizes[][3] = {{1, 1, 1},    {7, 17, 33},    {33, 1, 300}, {97, 130, 257},
                              {6, 16, 256}, {200, 50, 600}, {5, 2100, 9}};
  for (auto& s : sizes) {
    for (int t = 0; t < 4; ++t) {
      const double err = gemm_error(t & 1, t & 2, s[0], s[1], s[2], 0.7f, t == 3 ? 0.0f : 0.5f, 2);
      if (!(err < 2e-5)) {
        std::fprintf(stderr, "  m=%lld n=%lld k=%lld t=%d err=%g\n", (long long)s[0],
                     (long long)s[1], (long long)s[2], t, err);
      }
      CHECK(err < 2e-5);
    }
  }
}

TEST(gemm_result_independent_of_thread_count) {
  GemmArgs g;
  g.m = 150;
  g.n = 130;
  g.k = 700;
  g.lda = g.k;
  g.ldb = g.n;
  g.ldc = g.n;
  const auto a = dgtest::normal_vec(g.m * g.k, 4, kDataStream);
  const auto b = dgtest::normal_vec(g.k * g.n, 5, kDataStream);
  std::vector<float> c1(g.m * g.n), c3(g.m * g.n);
  g.a = a.data();
  g.b = b.data();
  g.c = c1.data();
  sgemm(g, 1);
  g.c = c3.data();
  sgemm(g, 3);
  int diff = 0;
  for (size_t i = 0; i < c1.size(); ++i) diff += c1[i] != c3[i];
  CHECK_EQ(diff, 0);
}

TEST(gemm_micro_kernels_agree) {
  const int64_t kc = 37;
  const auto a = dgtest::normal_vec(kc * kGemmMR, 6, kDataStream);
  const auto b = dgtest::normal_vec(kc * kGemmNR, 7, kDataStream);
  std::vector<float> c1(kGemmMR * kGemmNR, 1.0f), c2 = c1;
  sgemm_micro_portable(kc, a.data(), b.data(), c1.data(), kGemmNR, 0.5f, 2.0f);
  sgemm_micro_avx2(kc, a.data(), b.data(), c2.data(), kGemmNR, 0.5f, 2.0f);
  double worst = 0;
  for (size_t i = 0; i < c1.size(); ++i) worst = std::fmax(worst, std::fabs(c1[i] - c2[i]));
  CHECK(worst < 1e-4);
}

// The AVX-512 pair kernel must reproduce two AVX2 tiles bit for bit (same FMA chain per
// element), for every row count and for both C updates, so that the wide path changes speed
// and nothing else.
TEST(gemm_avx512_pair_kernel_equals_two_avx2_tiles_bit_for_bit) {
  if (!use_avx512()) return;  // nothing to compare on a CPU without AVX-512F
  const int64_t kc = 53, ldc = 2 * kGemmNR + 5;
  const auto a = dgtest::normal_vec(kc * kGemmMR, 16, kDataStream);
  const auto b0 = dgtest::normal_vec(kc * kGemmNR, 17, kDataStream);
  const auto b1 = dgtest::normal_vec(kc * kGemmNR, 18, kDataStream);
  int diff = 0;
  for (int rows = 1; rows <= kGemmMR; ++rows) {
    for (float beta : {0.0f, 0.75f}) {
      std::vector<float> c1 = dgtest::normal_vec(kGemmMR * ldc, 19, kDataStream), c2 = c1;
      sgemm_micro_rows_avx2(rows, kc, a.data(), b0.data(), c1.data(), ldc, 1.5f, beta);
      sgemm_micro_rows_avx2(rows, kc, a.data(), b1.data(), c1.data() + kGemmNR, ldc, 1.5f, beta);
      sgemm_micro_pair_avx512(rows, kc, a.data(), b0.data(), b1.data(), c2.data(), ldc, 1.5f, beta);
      for (size_t i = 0; i < c1.size(); ++i) diff += c1[i] != c2[i];
    }
  }
  CHECK_EQ(diff, 0);
}

TEST(gemm_transposed_b_packing_moves_every_value) {
  if (!use_avx2_fma()) return;  // the AVX2 packing is what is tested here
  const int64_t ldb = 45;
  const auto b = dgtest::normal_vec(kGemmNR * ldb, 20, kDataStream);
  for (int64_t kc : {1, 8, 13, 40}) {
    std::vector<float> out(static_cast<size_t>(kc * kGemmNR), NAN);
    sgemm_pack_b_trans_avx2(b.data() + 2, ldb, kc, out.data());
    int diff = 0;
    for (int64_t p = 0; p < kc; ++p)
      for (int64_t c = 0; c < kGemmNR; ++c) diff += out[p * kGemmNR + c] != b[c * ldb + 2 + p];
    CHECK_EQ(diff, 0);
  }
}

TEST(gemm_beta_zero_ignores_nan_in_c_and_k_zero_scales) {
  GemmArgs g;
  g.m = 20;
  g.n = 20;
  g.k = 20;
  g.lda = g.ldb = g.ldc = 20;
  const auto a = dgtest::normal_vec(400, 8, kDataStream);
  const auto b = dgtest::normal_vec(400, 9, kDataStream);
  std::vector<float> c(400, NAN);
  g.a = a.data();
  g.b = b.data();
  g.c = c.data();
  sgemm(g);
  bool finite = true;
  for (float v : c) finite = finite && std::isfinite(v);
  CHECK(finite);
  g.k = 0;
  g.beta = 2.0f;
  std::vector<float> c2(400, 1.5f);
  g.c = c2.data();
  sgemm(g);
  CHECK_EQ(c2[17], 3.0f);
}

TEST(gemm_batched_strides) {
  GemmArgs g;
  g.m = 3;
  g.n = 4;
  g.k = 5;
  g.lda = 5;
  g.ldb = 4;
  g.ldc = 4;
  g.batch = 7;
  g.stride_a = 15;
  g.stride_b = 0;  // shared B
  g.stride_c = 12;
  const auto a = dgtest::normal_vec(7 * 15, 10, kDataStream);
  const auto b = dgtest::normal_vec(20, 11, kDataStream);
  std::vector<float> c(7 * 12), ref(7 * 12);
  g.a = a.data();
  g.b = b.data();
  g.c = c.data();
  sgemm(g);
  g.c = ref.data();
  sgemm_plain(g);
  double worst = 0;
  for (size_t i = 0; i < c.size(); ++i) worst = std::fmax(worst, std::fabs(c[i] - ref[i]));
  CHECK(worst < 1e-5);
}

TEST(gemm_rejects_bad_leading_dimensions) {
  GemmArgs g;
  g.m = 2;
  g.n = 2;
  g.k = 2;
  g.lda = 1;
  g.ldb = 2;
  g.ldc = 2;
  CHECK_THROWS(sgemm_check(g));
  g.lda = 2;
  g.m = -1;
  CHECK_THROWS(sgemm_check(g));
}
