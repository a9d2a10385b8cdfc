#include <cmath>
#include <vector>

#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/gemm.h"
#include "../../native/kernels/cpu/packed_weights.h"
#include "check.h"
#include "random_data.h"

using namespace deepgen;

namespace {

// Philox stream of this file's test data.
constexpr uint32_t kDataStream = 13;

// C = A B through PackedWeights (B transposed or not) against the plain loops; and each row
// of C computed alone equals its row in the batch, bit for bit.
void check_shape(int64_t m, int64_t k, int64_t n, bool trans_b) {
  const auto a = dgtest::normal_vec(m * k, 1, kDataStream);
  const auto b = dgtest::normal_vec(k * n, 2, kDataStream);
  PackedWeights w(b.data(), k, n, trans_b ? k : n, trans_b);
  std::vector<float> c(static_cast<size_t>(m * n), NAN), ref(static_cast<size_t>(m * n));
  w.multiply(a.data(), {k, 1, m, 0}, m, c.data(), n, 0);
  GemmArgs g;
  g.trans_b = trans_b;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a.data();
  g.lda = k;
  g.b = b.data();
  g.ldb = trans_b ? k : n;
  g.c = ref.data();
  g.ldc = n;
  sgemm_plain(g);
  double worst = 0;
  for (size_t i = 0; i < c.size(); ++i)
    worst = std::fmax(worst, std::fabs(c[i] - ref[i]) / (1 + std::fabs(ref[i])));
  CHECK(worst < 1e-4);
  for (int64_t row : {int64_t{0}, m / 2, m - 1}) {
    std::vector<float> alone(static_cast<size_t>(n));
    w.multiply(a.data() + row * k, {k, 1, 1, 0}, 1, alone.data(), n, 1);
    bool same = true;
    for (int64_t j = 0; j < n; ++j)
      same = same && alone[static_cast<size_t>(j)] == c[static_cast<size_t>(row * n + j)];
    CHECK(same);
  }
}

}  // namespace

TEST(packed_weights_match_plain_gemm_and_rows_do_not_depend_on_the_batch) {
  for (bool tb : {false, true}) {
    check_shape(1, 100, 37, tb);
    check_shape(13, 7, 64, tb);
    check_shape(49, 256, 2048, tb);
    check_shape(70, 500, 33, tb);  // K in three slices, a short last sliver of columns
  }
}

TEST(packed_weights_read_pixels_in_place) {
  // x [images, k channels, pixels] as rows (image, pixel): the same product as its transpose.
  const int64_t images = 3, k = 5, pixels = 7, n = 20, m = images * pixels;
  const auto x = dgtest::normal_vec(images * k * pixels, 4, kDataStream);
  const auto b = dgtest::normal_vec(k * n, 5, kDataStream);
  std::vector<float> rows(static_cast<size_t>(m * k));
  for (int64_t i = 0; i < images; ++i)
    for (int64_t c = 0; c < k; ++c)
      for (int64_t p = 0; p < pixels; ++p)
        rows[static_cast<size_t>((i * pixels + p) * k + c)] =
            x[static_cast<size_t>((i * k + c) * pixels + p)];
  PackedWeights w(b.data(), k, n, n, false);
  std::vector<float> direct(static_cast<size_t>(m * n)), gathered(static_cast<size_t>(m * n));
  w.multiply(x.data(), {1, pixels, pixels, k * pixels}, m, direct.data(), n, 0);
  w.multiply(rows.data(), {k, 1, m, 0}, m, gathered.data(), n, 0);
  CHECK(direct == gathered);
}
