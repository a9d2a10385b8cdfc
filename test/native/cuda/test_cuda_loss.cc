// Binary cross-entropy with logits on the GPU (loss.cu) against the CPU kernels.
//
// Tolerances: per element both compute the same float formula; CUDA's expf / log1pf are within
// 2 float ulp of libm's, so
//   forward row losses and total: 1e-6 (1 + |cpu|) (row sums in double, in the same order);
//   backward: 1e-6 |s| + 1e-6 |cpu| (sigmoid within a few ulp, times the upstream factor s).
#include <cmath>
#include <cstdint>
#include <vector>

#include "../../../native/kernels/cpu/loss.h"
#include "../check.h"
#include "cuda_test_util.h"

using namespace deepgen;
using cudatest::have_device;
using cudatest::uniform;

TEST(cuda_bce_with_logits_matches_cpu) {
  if (cudatest::skip_without_device()) return;
  for (const int64_t cols : {int64_t{1}, int64_t{784}}) {  // GAN logits and image pixels
    const int64_t rows = 37, n = rows * cols;
    std::vector<float> z = uniform(n, -30.0f, 30.0f, 101), x = uniform(n, 0.0f, 1.0f, 102);
    z[0] = 100.0f;
    x[0] = 0.0f;  // exactly 100 on both
    const std::vector<float> row_scale = uniform(rows, 0.5f, 2.0f, 103);
    std::vector<float> rc(rows), rg(rows);
    const double tc = bce_with_logits_forward(rc.data(), z.data(), x.data(), rows, cols);
    const double tg = cuda::bce_with_logits_forward(rg.data(), z.data(), x.data(), rows, cols);
    CHECK(std::fabs(tg - tc) <= 1e-6 * (1 + std::fabs(tc)));
    int64_t bad = 0;
    for (int64_t r = 0; r < rows; ++r)
      bad += !(std::fabs(rg[r] - rc[r]) <= 1e-6 * (1 + std::fabs(rc[r])));
    CHECK_EQ(bad, 0);
    CHECK(cuda::bce_with_logits_forward(nullptr, z.data(), x.data(), rows, cols) ==
          tg);  // deterministic
    for (const float* rs : {static_cast<const float*>(nullptr), row_scale.data()}) {
      std::vector<float> dc(n), dg(n);
      bce_with_logits_backward(dc.data(), z.data(), x.data(), rows, cols, -0.25, rs);
      cuda::bce_with_logits_backward(dg.data(), z.data(), x.data(), rows, cols, -0.25, rs);
      bad = 0;
      for (int64_t i = 0; i < n; ++i) {
        const double s = 0.25 * (rs != nullptr ? rs[i / cols] : 1.0f);
        bad += !(std::fabs(dg[i] - dc[i]) <= 1e-6 * s + 1e-6 * std::fabs(dc[i]));
      }
      CHECK_EQ(bad, 0);
    }
  }
}

TEST(cuda_bce_with_logits_reject_bad_input_and_report_no_device) {
  std::vector<float> a(8);
  CHECK_CODE([&] { cuda::bce_with_logits_forward(nullptr, a.data(), a.data(), -1, 2); }, "E_ARG");
  CHECK_CODE([&] { cuda::bce_with_logits_forward(nullptr, nullptr, a.data(), 4, 2); }, "E_ARG");
  CHECK_CODE(
      [&] { cuda::bce_with_logits_backward(a.data(), a.data(), nullptr, 4, 2, 1.0, nullptr); },
      "E_ARG");
  CHECK_CODE(
      [&] {
        cuda::bce_with_logits_backward(a.data(), a.data(), a.data(), int64_t{1} << 40,
                                       int64_t{1} << 40, 1.0, nullptr);
      },
      "E_SHAPE");
  // empty: no device needed; zero columns give zero row losses
  std::vector<float> rows(4, 7.0f);
  CHECK(cuda::bce_with_logits_forward(rows.data(), a.data(), a.data(), 4, 0) == 0.0);
  CHECK(rows[0] == 0.0f && rows[3] == 0.0f);
  cuda::bce_with_logits_backward(a.data(), a.data(), a.data(), 0, 2, 1.0, nullptr);
  if (!have_device()) {
    CHECK_CODE([&] { cuda::bce_with_logits_forward(nullptr, a.data(), a.data(), 4, 2); },
               "E_BACKEND");
    CHECK_CODE(
        [&] { cuda::bce_with_logits_backward(a.data(), a.data(), a.data(), 4, 2, 1.0, nullptr); },
        "E_BACKEND");
  }
}
