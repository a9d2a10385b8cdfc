// Conv2d / ConvTranspose2d: the fast (im2col + sgemm) kernels against their plain twins, on
// odd shapes; thread-count independence; masks that never read masked weights; bad params.
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "../../native/common/cpu_features.h"
#include "../../native/common/errors.h"
#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/conv2d.h"
#include "../../native/kernels/cpu/conv_transpose2d.h"
#include "check.h"

using namespace deepgen;

namespace {

std::vector<float> random_vec(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  uint64_t s = seed * 6364136223846793005ULL + 1442695040888963407ULL;
  for (auto& x : v) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    x = static_cast<float>(static_cast<double>(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
  }
  return v;
}

// max |a - b| / max(1, |b|)
double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double m = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]) / std::fmax(1.0, std::fabs(b[i]));
    if (std::isnan(d)) return std::numeric_limits<double>::infinity();
    m = std::fmax(m, d);
  }
  return m;
}

bool all_finite(const std::vector<float>& v) {
  for (float x : v) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

std::string describe(const Conv2dParams& p) {
  return "conv N" + std::to_string(p.batch) + " Cin" + std::to_string(p.in_c) + " " +
         std::to_string(p.in_h) + "x" + std::to_string(p.in_w) + " Cout" + std::to_string(p.out_c) +
         " k" + std::to_string(p.k_h) + "x" + std::to_string(p.k_w) + " s" +
         std::to_string(p.stride_h) + "," + std::to_string(p.stride_w) + " p" +
         std::to_string(p.pad_h) + "," + std::to_string(p.pad_w) + " mask" +
         std::to_string(static_cast<int>(p.mask));
}

// Float sums of up to ~1000 products of values in [-1, 1]: well inside 1e-4 relative.
constexpr double kTol = 1e-4;

void check_conv_case(const Conv2dParams& p, uint64_t seed) {
  int64_t oh, ow;
  conv2d_check(p, &oh, &ow);
  const int64_t nx = conv2d_x_size(p), nw = conv2d_weight_size(p), ny = conv2d_y_size(p);
  const auto x = random_vec(nx, seed), w = random_vec(nw, seed + 1),
             b = random_vec(p.out_c, seed + 2);
  const auto dy = random_vec(ny, seed + 3);
  std::vector<float> y_fast(ny, 7.f), y_plain(ny, 9.f);
  conv2d_forward(x.data(), w.data(), b.data(), y_fast.data(), p);
  conv2d_forward_plain(x.data(), w.data(), b.data(), y_plain.data(), p);
  const double e1 = rel_err(y_fast, y_plain);
  if (!(e1 <= kTol))
    dgtest::fail(__FILE__, __LINE__, describe(p) + " forward err " + std::to_string(e1));

  std::vector<float> dx_fast(nx, 7.f), dx_plain(nx, 9.f);
  conv2d_backward_data(dy.data(), w.data(), dx_fast.data(), p);
  conv2d_backward_data_plain(dy.data(), w.data(), dx_plain.data(), p);
  const double e2 = rel_err(dx_fast, dx_plain);
  if (!(e2 <= kTol))
    dgtest::fail(__FILE__, __LINE__, describe(p) + " backward-data err " + std::to_string(e2));

  // Accumulate onto a nonzero start so both modes are covered.
  for (bool acc : {false, true}) {
    std::vector<float> dw_fast = random_vec(nw, seed + 4), dw_plain = dw_fast;
    std::vector<float> db_fast = random_vec(p.out_c, seed + 5), db_plain = db_fast;
    conv2d_backward_weight(x.data(), dy.data(), dw_fast.data(), db_fast.data(), p, acc);
    conv2d_backward_weight_plain(x.data(), dy.data(), dw_plain.data(), db_plain.data(), p, acc);
    const double e3 = rel_err(dw_fast, dw_plain), e4 = rel_err(db_fast, db_plain);
    if (!(e3 <= 1e-3 && e4 <= 1e-5)) {
      dgtest::fail(__FILE__, __LINE__,
                   describe(p) + " backward-weight err " + std::to_string(e3) + " bias " +
                       std::to_string(e4) + (acc ? " (acc)" : ""));
    }
  }
}

void check_convt_case(const ConvTranspose2dParams& p, uint64_t seed) {
  const int64_t nx = conv_transpose2d_x_size(p), nw = conv_transpose2d_weight_size(p);
  const int64_t ny = conv_transpose2d_y_size(p);
  const auto x = random_vec(nx, seed), w = random_vec(nw, seed + 1),
             b = random_vec(p.out_c, seed + 2);
  const auto dy = random_vec(ny, seed + 3);
  const std::string what = "convT N" + std::to_string(p.batch) + " Cin" + std::to_string(p.in_c) +
                           " " + std::to_string(p.in_h) + "x" + std::to_string(p.in_w) + " Cout" +
                           std::to_string(p.out_c) + " k" + std::to_string(p.k_h) + " s" +
                           std::to_string(p.stride_h) + " p" + std::to_string(p.pad_h);
  std::vector<float> y_fast(ny, 7.f), y_plain(ny, 9.f);
  conv_transpose2d_forward(x.data(), w.data(), b.data(), y_fast.data(), p);
  conv_transpose2d_forward_plain(x.data(), w.data(), b.data(), y_plain.data(), p);
  const double e1 = rel_err(y_fast, y_plain);
  if (!(e1 <= kTol)) dgtest::fail(__FILE__, __LINE__, what + " forward err " + std::to_string(e1));
  std::vector<float> dx_fast(nx, 7.f), dx_plain(nx, 9.f);
  conv_transpose2d_backward_data(dy.data(), w.data(), dx_fast.data(), p);
  conv_transpose2d_backward_data_plain(dy.data(), w.data(), dx_plain.data(), p);
  const double e2 = rel_err(dx_fast, dx_plain);
  if (!(e2 <= kTol))
    dgtest::fail(__FILE__, __LINE__, what + " backward-data err " + std::to_string(e2));
  for (bool acc : {false, true}) {
    std::vector<float> dw_fast = random_vec(nw, seed + 4), dw_plain = dw_fast;
    std::vector<float> db_fast = random_vec(p.out_c, seed + 5), db_plain = db_fast;
    conv_transpose2d_backward_weight(x.data(), dy.data(), dw_fast.data(), db_fast.data(), p, acc);
    conv_transpose2d_backward_weight_plain(x.data(), dy.data(), dw_plain.data(), db_plain.data(), p,
                                           acc);
    const double e3 = rel_err(dw_fast, dw_plain), e4 = rel_err(db_fast, db_plain);
    if (!(e3 <= 1e-3 && e4 <= 1e-5)) {
      dgtest::fail(
          __FILE__, __LINE__,
          what + " backward-weight err " + std::to_string(e3) + " bias " + std::to_string(e4));
    }
  }
}

Conv2dParams conv(int64_t n, int64_t ci, int64_t h, int64_t w, int64_t co, int64_t kh, int64_t kw,
                  int64_t s, int64_t pad, ConvMask mask = ConvMask::kNone) {
  Conv2dParams p;
  p.batch = n;
  p.in_c = ci;
  p.in_h = h;
  p.in_w = w;
  p.out_c = co;
  p.k_h = kh;
  p.k_w = kw;
  p.stride_h = s;
  p.stride_w = s;
  p.pad_h = pad;
  p.pad_w = pad;
  p.mask = mask;
  return p;
}

ConvTranspose2dParams convt(int64_t n, int64_t ci, int64_t h, int64_t w, int64_t co, int64_t k,
                            int64_t s, int64_t pad, int64_t op = 0) {
  ConvTranspose2dParams p;
  p.batch = n;
  p.in_c = ci;
  p.in_h = h;
  p.in_w = w;
  p.out_c = co;
  p.k_h = k;
  p.k_w = k;
  p.stride_h = s;
  p.stride_w = s;
  p.pad_h = pad;
  p.pad_w = pad;
  p.out_pad_h = op;
  p.out_pad_w = op;
  return p;
}

}  // namespace

TEST(conv2d_fast_matches_plain_on_odd_shapes) {
  uint64_t seed = 1;
  const int64_t chans[] = {1, 3, 17};
  const int64_t kernels[][2] = {{1, 1}, {1, 3}, {3, 3}, {4, 4}, {7, 7}};
  for (int64_t n : {1, 3}) {
    for (int64_t c : chans) {
      for (int64_t hw : {1, 5, 7, 28}) {
        for (auto& k : kernels) {
          for (int64_t s : {1, 2}) {
            for (int64_t pad : {0, 1, 3}) {
              if (hw + 2 * pad < k[0] || hw + 2 * pad < k[1]) continue;
              if (hw == 28 && c == 17 && k[0] == 7) continue;  // keep the plain twin quick
              // 16 and 48 output channels take the direct-tile path when K = c * taps >= 128.
              const int64_t co = c == 17 ? 16 : c == 3 ? 48 : 17 - c;
              check_conv_case(conv(n, c, hw, hw + (s == 2 ? 1 : 0), co, k[0], k[1], s, pad),
                              seed++);
            }
          }
        }
      }
    }
  }
  // Wide input channels: backward-data runs as the transposed conv's direct forward (the
  // output padding restores rows the stride's floor dropped: 9 and 8 wide inputs).
  check_conv_case(conv(3, 32, 14, 14, 64, 4, 4, 2, 1), seed++);
  check_conv_case(conv(2, 48, 9, 8, 40, 4, 4, 2, 1), seed++);
  check_conv_case(conv(2, 64, 7, 7, 33, 5, 5, 2, 2), seed++);
  // Unequal strides / pads.
  Conv2dParams p = conv(2, 3, 9, 8, 5, 3, 2, 1, 1);
  p.stride_w = 3;
  p.pad_h = 0;
  p.pad_w = 2;
  check_conv_case(p, 999);
}

TEST(conv2d_masked_fast_matches_plain) {
  uint64_t seed = 100;
  for (ConvMask m : {ConvMask::kA, ConvMask::kB}) {
    check_conv_case(conv(2, 3, 7, 7, 5, 7, 7, 1, 3, m), seed++);
    check_conv_case(conv(3, 17, 5, 6, 4, 3, 3, 1, 1, m), seed++);
    check_conv_case(conv(1, 4, 1, 9, 8, 1, 3, 1, 0, m), seed++);
    Conv2dParams row = conv(2, 5, 4, 9, 6, 1, 3, 1, 0, m);
    row.pad_w = 1;
    check_conv_case(row, seed++);
    check_conv_case(conv(2, 2, 5, 5, 3, 1, 1, 1, 0, m), seed++);  // 1x1: A reads nothing
    check_conv_case(conv(2, 3, 8, 8, 4, 4, 4, 2, 1, m), seed++);  // even kernel
    // Wide enough for the direct-tile path (K >= 128, Cout a multiple of 16 or >= 48).
    check_conv_case(conv(2, 32, 6, 7, 16, 3, 3, 1, 1, m), seed++);
    check_conv_case(conv(3, 8, 9, 9, 50, 7, 7, 1, 3, m), seed++);
  }
}

TEST(conv_transpose2d_fast_matches_plain) {
  uint64_t seed = 200;
  for (int64_t n : {1, 3}) {
    for (int64_t c : {1, 3, 17}) {
      for (int64_t hw : {1, 5, 7}) {
        for (int64_t k : {1, 3, 4, 7}) {
          for (int64_t s : {1, 2}) {
            for (int64_t pad : {0, 1, 3}) {
              if ((hw - 1) * s - 2 * pad + k < 1) continue;
              check_convt_case(convt(n, c, hw, hw, c == 17 ? 2 : 5, k, s, pad, s == 2 ? 1 : 0),
                               seed++);
            }
          }
        }
      }
    }
  }
  check_convt_case(convt(3, 8, 7, 7, 6, 4, 2, 1), seed++);    // DCGAN-like 7 -> 14
  check_convt_case(convt(2, 6, 14, 14, 1, 4, 2, 1), seed++);  // 14 -> 28, one output channel
  // Shapes of the direct (stride-phase tile) forward: 16-wide output channels, >= 4 taps and
  // >= 128 (channel, tap) pairs per phase; then odd ones (Cout 48 + a partial block is not
  // taken; 50 is), strides 2 and 3, output padding, pads past the kernel.
  check_convt_case(convt(3, 32, 7, 7, 16, 4, 2, 1), seed++);  // DCGAN 7 -> 14
  check_convt_case(convt(2, 40, 5, 6, 50, 5, 2, 2, 1), seed++);
  check_convt_case(convt(2, 33, 4, 3, 48, 6, 3, 4, 2), seed++);
  check_convt_case(convt(1, 64, 3, 3, 32, 4, 2, 0), seed++);
  check_convt_case(convt(2, 130, 2, 2, 16, 2, 1, 0), seed++);  // stride 1: one phase, 4 taps
  ConvTranspose2dParams p = convt(2, 3, 5, 4, 2, 3, 1, 0);
  p.k_w = 2;
  p.stride_w = 3;
  p.out_pad_w = 2;
  p.pad_h = 1;
  check_convt_case(p, seed++);
}

TEST(conv_results_do_not_depend_on_thread_count) {
  for (int64_t co : {9, 32}) {  // the GEMM path and the direct-tile path
    const Conv2dParams p = conv(5, co == 9 ? 7 : 40, 13, 11, co, 3, 3, 1, 1, ConvMask::kB);
    const ConvTranspose2dParams q =
        co == 9 ? convt(5, 7, 6, 5, 4, 4, 2, 1) : convt(5, 40, 6, 5, 32, 4, 2, 1);
    const auto x = random_vec(conv2d_x_size(p), 1), w = random_vec(conv2d_weight_size(p), 2);
    const auto dy = random_vec(conv2d_y_size(p), 3);
    const auto xt = random_vec(conv_transpose2d_x_size(q), 4),
               wt = random_vec(conv_transpose2d_weight_size(q), 5);
    const auto dyt = random_vec(conv_transpose2d_y_size(q), 6);
    std::vector<std::vector<float>> runs[2];
    for (int r = 0; r < 2; ++r) {
      set_thread_limit(r == 0 ? 1 : 4);
      std::vector<float> y(dy.size()), dx(x.size()), dw(w.size()), db(p.out_c);
      conv2d_forward(x.data(), w.data(), nullptr, y.data(), p);
      conv2d_backward_data(dy.data(), w.data(), dx.data(), p);
      conv2d_backward_weight(x.data(), dy.data(), dw.data(), db.data(), p, false);
      std::vector<float> yt(dyt.size()), dxt(xt.size()), dwt(wt.size()), dbt(q.out_c);
      conv_transpose2d_forward(xt.data(), wt.data(), nullptr, yt.data(), q);
      conv_transpose2d_backward_data(dyt.data(), wt.data(), dxt.data(), q);
      conv_transpose2d_backward_weight(xt.data(), dyt.data(), dwt.data(), dbt.data(), q, false);
      runs[r] = {y, dx, dw, db, yt, dxt, dwt, dbt};
    }
    set_thread_limit(default_thread_limit());
    for (size_t i = 0; i < runs[0].size(); ++i) CHECK(runs[0][i] == runs[1][i]);
  }
}

TEST(conv2d_tile_avx2_matches_portable) {
  if (!use_avx2_fma()) return;  // nothing to compare on this CPU (or DEEPGEN_NO_SIMD=1)
  // A padded "image" of 4000 floats; 6 window origins and 300 (channel, tap) offsets in it.
  const auto x = random_vec(4000, 5);
  const auto w = random_vec(300 * kConvTileChannels, 6);
  const int64_t pix[kConvTilePixels] = {0, 2, 4, 37, 39, 41};
  std::vector<int64_t> koff(300);
  for (int64_t k = 0; k < 300; ++k) koff[k] = (k * 13) % 3900;
  for (bool acc : {false, true}) {
    for (int64_t kc : {1, 7, 300}) {
      const int64_t ldc = 3 * kConvTileChannels;
      std::vector<float> c1 = random_vec(kConvTilePixels * ldc, 7), c2 = c1;
      conv2d_tile_portable(kc, x.data(), pix, koff.data(), w.data(), c1.data(), ldc, acc);
      conv2d_tile_avx2(kc, x.data(), pix, koff.data(), w.data(), c2.data(), ldc, acc);
      CHECK(rel_err(c2, c1) <= 1e-5);
    }
  }
}

TEST(conv2d_masked_weights_are_never_read) {
  for (ConvMask m : {ConvMask::kA, ConvMask::kB}) {
    for (auto k : {std::pair<int64_t, int64_t>{7, 7}, {1, 3}, {3, 3}, {4, 4}}) {
      for (int64_t co :
           {4, 16}) {  // 16 x (3 * 6 * 7...) channels: the direct-tile path for 3x3 and up
        Conv2dParams p = conv(2, co == 4 ? 3 : 40, 6, 7, co, k.first, k.second, 1, 0, m);
        p.pad_h = k.first / 2;  // "same" padding, as PixelCNN uses
        p.pad_w = k.second / 2;
        const auto x = random_vec(conv2d_x_size(p), 11);
        const auto dy = random_vec(conv2d_y_size(p), 12);
        std::vector<float> w_nan = random_vec(conv2d_weight_size(p), 13), w_zero = w_nan;
        const int64_t kk = k.first * k.second;
        int64_t masked = 0;
        for (int64_t q = 0; q < p.out_c * p.in_c; ++q) {
          for (int64_t t = 0; t < kk; ++t) {
            if (conv_tap_masked(t / k.second, t % k.second, k.first, k.second, m)) {
              w_nan[q * kk + t] = std::numeric_limits<float>::quiet_NaN();
              ++masked;
            }
          }
        }
        conv2d_mask_weights(w_zero.data(), p.out_c, p.in_c, k.first, k.second, m);
        int64_t zeros = 0;
        for (size_t i = 0; i < w_zero.size(); ++i)
          zeros += std::isnan(w_nan[i]) && w_zero[i] == 0.0f;
        CHECK_EQ(zeros, masked);
        CHECK(masked > 0);
        std::vector<float> y1(dy.size()), y2(dy.size()), y3(dy.size());
        conv2d_forward(x.data(), w_nan.data(), nullptr, y1.data(), p);
        conv2d_forward(x.data(), w_zero.data(), nullptr, y2.data(), p);
        conv2d_forward_plain(x.data(), w_nan.data(), nullptr, y3.data(), p);
        CHECK(all_finite(y1));
        CHECK(y1 == y2);
        CHECK(all_finite(y3));
        std::vector<float> dx1(x.size()), dx2(x.size());
        conv2d_backward_data(dy.data(), w_nan.data(), dx1.data(), p);
        conv2d_backward_data(dy.data(), w_zero.data(), dx2.data(), p);
        CHECK(all_finite(dx1));
        CHECK(dx1 == dx2);
        std::vector<float> dw(w_nan.size(), 5.0f);
        conv2d_backward_weight(x.data(), dy.data(), dw.data(), nullptr, p, false);
        int64_t bad = 0;
        for (size_t i = 0; i < dw.size(); ++i) bad += std::isnan(w_nan[i]) && dw[i] != 0.0f;
        CHECK_EQ(bad, 0);
      }
    }
  }
}

TEST(conv_tiny_hand_computed) {
  // x = [[1,2],[3,4]], 2x2 kernel [[1,10],[100,1000]], no pad: y = 1 + 20 + 300 + 4000 + bias.
  const float x[] = {1, 2, 3, 4}, w[] = {1, 10, 100, 1000}, b[] = {0.5f};
  float y = 0;
  conv2d_forward(x, w, b, &y, conv(1, 1, 2, 2, 1, 2, 2, 1, 0));
  CHECK_EQ(y, 4321.5f);
  // Mask B on 2x2 (centre (1,1)): keeps (0,0), (0,1), (1,0), (1,1) -> all; mask A drops (1,1).
  conv2d_forward(x, w, b, &y, conv(1, 1, 2, 2, 1, 2, 2, 1, 0, ConvMask::kA));
  CHECK_EQ(y, 321.5f);
  // Transposed: x = [1, 2] (1x2), 1x2 kernel [1, 10], stride 2 -> y = [1, 10, 2, 20].
  const float xt[] = {1, 2}, wt[] = {1, 10};
  float yt[4] = {};
  ConvTranspose2dParams q = convt(1, 1, 1, 2, 1, 1, 1, 0);
  q.k_w = 2;
  q.stride_w = 2;
  conv_transpose2d_forward(xt, wt, nullptr, yt, q);
  CHECK_EQ(yt[0], 1.0f);
  CHECK_EQ(yt[1], 10.0f);
  CHECK_EQ(yt[2], 2.0f);
  CHECK_EQ(yt[3], 20.0f);
}

TEST(conv_bad_params_throw_with_codes) {
  auto code_of = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const KernelError& e) {
      return e.code();
    }
    return "none";
  };
  int64_t oh, ow;
  CHECK(code_of([&] { conv2d_check(conv(1, 1, 5, 5, 1, 3, 3, 0, 0), &oh, &ow); }) == "E_ARG");
  CHECK(code_of([&] { conv2d_check(conv(1, 1, 5, 5, 1, 0, 3, 1, 0), &oh, &ow); }) == "E_ARG");
  CHECK(code_of([&] { conv2d_check(conv(1, 1, 5, 5, 1, 3, 3, 1, -1), &oh, &ow); }) == "E_ARG");
  CHECK(code_of([&] { conv2d_check(conv(-1, 1, 5, 5, 1, 3, 3, 1, 0), &oh, &ow); }) == "E_ARG");
  CHECK(code_of([&] { conv2d_check(conv(1, 1, 2, 5, 1, 3, 3, 1, 0), &oh, &ow); }) == "E_SHAPE");
  CHECK(code_of([&] { conv2d_check(conv(1, 1, 0, 5, 1, 1, 1, 1, 0), &oh, &ow); }) == "E_SHAPE");
  CHECK(code_of([&] { conv2d_check(conv(1 << 30, 1 << 30, 8, 8, 1, 1, 1, 1, 0), &oh, &ow); }) ==
        "E_ARG");
  CHECK(code_of([&] { conv_transpose2d_check(convt(1, 1, 3, 3, 1, 3, 2, 0, 2), &oh, &ow); }) ==
        "E_ARG");
  CHECK(code_of([&] { conv_transpose2d_check(convt(1, 1, 1, 1, 1, 1, 1, 1), &oh, &ow); }) ==
        "E_SHAPE");
  CHECK(code_of([&] { conv_transpose2d_check(convt(1, 1, 0, 1, 1, 1, 1, 0), &oh, &ow); }) ==
        "E_SHAPE");
  conv2d_check(conv(1, 1, 5, 5, 1, 3, 3, 2, 1), &oh, &ow);
  CHECK_EQ(oh, 3);
  conv_transpose2d_check(convt(1, 1, 7, 7, 1, 4, 2, 1), &oh, &ow);
  CHECK_EQ(oh, 14);
}

TEST(conv_zero_sizes) {
  // Batch 0: nothing to do. Cin 0: y = bias, dweight empty, dbias = sum dy.
  const float b[] = {1.5f, -2.0f};
  std::vector<float> y(2 * 2 * 3 * 3, 0.0f);
  conv2d_forward(nullptr, nullptr, b, y.data(), conv(2, 0, 3, 3, 2, 1, 1, 1, 0));
  CHECK_EQ(y[0], 1.5f);
  CHECK_EQ(y[9], -2.0f);
  CHECK_EQ(y[35], -2.0f);
  std::vector<float> yt(2 * 2 * 3 * 3, 0.0f);
  conv_transpose2d_forward(nullptr, nullptr, b, yt.data(), convt(2, 0, 3, 3, 2, 1, 1, 0));
  CHECK(yt == y);
  conv2d_forward(nullptr, nullptr, nullptr, nullptr, conv(0, 3, 3, 3, 2, 1, 1, 1, 0));
  std::vector<float> dw(2 * 3, 1.0f), db(2, 1.0f);
  conv2d_backward_weight(nullptr, nullptr, dw.data(), db.data(), conv(0, 3, 3, 3, 2, 1, 1, 1, 0),
                         false);
  CHECK(dw == std::vector<float>(6, 0.0f));
  CHECK(db == std::vector<float>(2, 0.0f));
}

TEST(im2col_phases_match_reference) {
  // Every window shape the convs produce, including pads wider than the kernel, strides larger
  // than the kernel (pixels no window covers) and masked tap lists.
  int checked = 0;
  for (int64_t h : {1, 4, 7}) {
    for (int64_t k : {1, 2, 3, 4}) {
      for (int64_t s : {1, 2, 3}) {
        for (int64_t pad : {0, 1, 4}) {
          for (ConvMask m : {ConvMask::kNone, ConvMask::kA}) {
            ConvWindow g;
            g.h = h;
            g.w = h + 1;
            g.k_h = k;
            g.k_w = k;
            g.stride_h = s;
            g.stride_w = s;
            g.pad_h = pad;
            g.pad_w = pad;
            if (h + 2 * pad < k) continue;
            g.out_h = (h + 2 * pad - k) / s + 1;
            g.out_w = (h + 1 + 2 * pad - k) / s + 1;
            const ConvTaps taps = conv_taps(k, k, m);
            const int64_t images = 2, channels = 3;
            const auto x = random_vec(images * channels * g.h * g.w, 77 + checked);
            const int64_t ncol = channels * taps.size() * images * g.out_h * g.out_w;
            std::vector<float> c1(ncol, 5.f), c2(ncol, 6.f);
            im2col(x.data(), images, channels, g, taps, c1.data());
            im2col_reference(x.data(), images, channels, g, taps, c2.data());
            CHECK(c1 == c2);
            const auto col = random_vec(ncol, 91 + checked);
            const float bias[] = {0.25f, -1.0f, 2.0f};
            std::vector<float> o1(x.size(), 5.f), o2(x.size(), 6.f);
            col2im(col.data(), images, channels, g, taps, bias, o1.data(), 1);
            col2im_reference(col.data(), images, channels, g, taps, bias, o2.data());
            CHECK(rel_err(o1, o2) <= 1e-6);
            ++checked;
          }
        }
      }
    }
  }
  CHECK(checked > 100);
}
