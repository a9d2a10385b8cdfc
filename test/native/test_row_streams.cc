// Per-row Philox streams of the samplers (row_streams.h): in one call with per-row keys and
// indices, every row draws bit for bit what a lone call with that key and index draws, for
// NADE (also completing a known prefix), RNADE and PixelRNN (cached and naive samplers).
#include <cstring>
#include <random>
#include <vector>

#include "../../native/kernels/cpu/nade.h"
#include "../../native/kernels/cpu/pixelrnn.h"
#include "../../native/kernels/cpu/rnade.h"
#include "check.h"

using namespace deepgen;

namespace {

constexpr int64_t kRows = 11;  // over NADE's block of 8: rows share blocks at other alignments

std::vector<float> normal(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// Scattered keys and indices, with high index words.
std::vector<uint32_t> scattered_rows(int64_t n) {
  std::mt19937 rng(77);
  std::vector<uint32_t> rows(static_cast<size_t>(4 * n));
  for (uint32_t& w : rows) w = rng();
  return rows;
}

SampleStreams per_row(const std::vector<uint32_t>& rows) {
  SampleStreams s;
  s.stream = 3;
  s.rows = rows.data();
  return s;
}

// Row r of rows as a lone call of one row: its key, its index as the offset.
SampleStreams lone(const std::vector<uint32_t>& rows, int64_t r) {
  SampleStreams s;
  s.stream = 3;
  s.key0 = rows[4 * r];
  s.key1 = rows[4 * r + 1];
  s.offset = (static_cast<uint64_t>(rows[4 * r + 3]) << 32) | rows[4 * r + 2];
  return s;
}

bool same_bits(const float* a, const float* b, int64_t n) {
  return std::memcmp(a, b, sizeof(float) * static_cast<size_t>(n)) == 0;
}

}  // namespace

TEST(row_streams_nade_rows_draw_their_lone_samples) {
  const int64_t d = 19, h = 6;
  const auto wt = normal(d * h, 1, 0.5f), c = normal(h, 2, 0.5f), v = normal(d * h, 3, 0.5f),
             b = normal(d, 4, 0.5f);
  std::vector<int32_t> order(d);
  for (int64_t i = 0; i < d; ++i) order[i] = static_cast<int32_t>((i * 7) % d);
  NadeParams p{d, h, wt.data(), c.data(), v.data(), b.data(), order.data()};
  const auto rows = scattered_rows(kRows);
  for (const int64_t known : {int64_t{0}, int64_t{5}}) {
    std::vector<float> x(kRows * d), probs(kRows * d);
    for (size_t i = 0; i < x.size(); ++i) x[i] = (i % 3 == 0) ? 1.0f : 0.0f;
    const std::vector<float> given = x;
    nade_sample(p, kRows, per_row(rows), known, x.data(), probs.data());
    double ones = 0;
    for (int64_t r = 0; r < kRows; ++r) {
      std::vector<float> one(given.begin() + r * d, given.begin() + (r + 1) * d), pone(d);
      nade_sample(p, 1, lone(rows, r), known, one.data(), pone.data());
      CHECK(same_bits(one.data(), x.data() + r * d, d));
      CHECK(same_bits(pone.data(), probs.data() + r * d, d));
      for (float f : one) ones += f;
    }
    CHECK(ones > 0 && ones < kRows * d);
  }
}

TEST(row_streams_rnade_rows_draw_their_lone_samples) {
  const int64_t d = 5, h = 4, k = 3;
  const auto wt = normal(d * h, 5, 0.5f), c = normal(h, 6, 0.5f), va = normal(d * k * h, 7, 0.5f),
             vm = normal(d * k * h, 8, 0.5f), vs = normal(d * k * h, 9, 0.2f),
             ba = normal(d * k, 10, 0.5f), bm = normal(d * k, 11, 0.5f),
             bs = normal(d * k, 12, 0.2f);
  RnadeParams p{d,         h,         k,         wt.data(), c.data(), va.data(),
                vm.data(), vs.data(), ba.data(), bm.data(), bs.data()};
  const auto rows = scattered_rows(kRows);
  std::vector<float> x(kRows * d);
  rnade_sample(p, kRows, per_row(rows), x.data());
  for (int64_t r = 0; r < kRows; ++r) {
    std::vector<float> one(d);
    rnade_sample(p, 1, lone(rows, r), one.data());
    CHECK(same_bits(one.data(), x.data() + r * d, d));
  }
}

TEST(row_streams_pixelrnn_rows_draw_their_lone_samples) {
  for (const PixelRnnKind kind : {PixelRnnKind::kRowLstm, PixelRnnKind::kDiagBiLstm}) {
    PixelRnnSpec s;
    s.kind = kind;
    s.layers = 2;
    s.hidden = 3;
    s.rows = 3;
    s.cols = 4;
    const auto params = normal(pixelrnn_layout(s).total, 13, 0.6f);
    s.params = params.data();
    const int64_t d = s.rows * s.cols, n = 5;
    const auto rows = scattered_rows(n);
    for (const bool cached : {true, false}) {
      std::vector<float> x(n * d), probs(n * d);
      pixelrnn_sample(s, n, per_row(rows), cached, x.data(), probs.data());
      for (int64_t r = 0; r < n; ++r) {
        std::vector<float> one(d), pone(d);
        pixelrnn_sample(s, 1, lone(rows, r), true, one.data(), pone.data());
        CHECK(same_bits(one.data(), x.data() + r * d, d));
        CHECK(same_bits(pone.data(), probs.data() + r * d, d));
      }
    }
  }
}
