// GEMM and Adam CUDA kernels (gemm.cu, optim.cu) against their CPU twins.
//
// Tolerances:
//   sgemm: |gpu - cpu| <= 1e-5 * (|alpha| sum_k |a_ik b_kj| + |beta c_ij|) + 1e-6 per element
//          (both sum K products in float, in different orders / with different FMA use).
//   adam:  bit-identical to adam_step_plain (same float64 operations, each rounded on its own).
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "../../../native/kernels/cpu/gemm.h"
#include "../../../native/kernels/cpu/optim.h"
#include "../check.h"
#include "cuda_test_util.h"

using namespace deepgen;
using cudatest::error_code;
using cudatest::have_device;
using cudatest::uniform;

namespace {

void check_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, int64_t pad, int64_t batch,
                float alpha, float beta, uint32_t seed) {
  GemmArgs g;
  g.trans_a = ta;
  g.trans_b = tb;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = alpha;
  g.beta = beta;
  const int64_t a_rows = ta ? k : m, a_cols = ta ? m : k;
  const int64_t b_rows = tb ? n : k, b_cols = tb ? k : n;
  g.lda = a_cols + pad;
  g.ldb = b_cols + pad;
  g.ldc = n + pad;
  g.batch = batch;
  g.stride_a = a_rows * g.lda + 3;
  g.stride_b = b_rows * g.ldb + 1;
  g.stride_c = m * g.ldc + 2;
  const std::vector<float> a = uniform(static_cast<size_t>(batch * g.stride_a), -1, 1, seed);
  const std::vector<float> b = uniform(static_cast<size_t>(batch * g.stride_b), -1, 1, seed + 1);
  std::vector<float> c0 = uniform(static_cast<size_t>(batch * g.stride_c), -1, 1, seed + 2);
  // beta == 0 must ignore NaN already in C.
  if (beta == 0.0f) c0[0] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> cpu = c0, gpu = c0;
  g.a = a.data();
  g.b = b.data();
  g.c = cpu.data();
  sgemm_plain(g);
  g.c = gpu.data();
  cuda::sgemm(g);
  int64_t bad = 0;
  for (int64_t bi = 0; bi < batch; ++bi) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double mag = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          const float av =
              ta ? a[bi * g.stride_a + kk * g.lda + i] : a[bi * g.stride_a + i * g.lda + kk];
          const float bv =
              tb ? b[bi * g.stride_b + j * g.ldb + kk] : b[bi * g.stride_b + kk * g.ldb + j];
          mag += std::fabs(static_cast<double>(av) * bv);
        }
        const size_t at = static_cast<size_t>(bi * g.stride_c + i * g.ldc + j);
        const double c_mag = beta == 0.0f ? 0.0 : std::fabs(beta * c0[at]);
        const double tol = 1e-5 * (std::fabs(alpha) * mag + c_mag) + 1e-6;
        bad += !(std::fabs(static_cast<double>(gpu[at]) - cpu[at]) <= tol);
      }
    }
  }
  CHECK_EQ(bad, 0);
  // Elements outside the C matrices (padding, stride gaps) are never written.
  int64_t touched = 0;
  for (int64_t bi = 0; bi < batch; ++bi) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = n; j < g.ldc; ++j) {
        const size_t at = static_cast<size_t>(bi * g.stride_c + i * g.ldc + j);
        touched += gpu[at] != c0[at];
      }
    }
  }
  CHECK_EQ(touched, 0);
}

}  // namespace

TEST(cuda_sgemm_matches_cpu) {
  if (cudatest::skip_without_device()) return;
  for (int t = 0; t < 4; ++t) {
    const bool ta = t & 1, tb = (t >> 1) & 1;
    check_gemm(ta, tb, 37, 23, 71, 0, 1, 1.0f, 0.0f, 100 + t);
    check_gemm(ta, tb, 5, 129, 3, 2, 3, 0.7f, 0.3f, 200 + t);
    check_gemm(ta, tb, 64, 64, 64, 1, 2, -1.5f, 1.0f, 300 + t);
  }
  check_gemm(false, false, 300, 257, 513, 0, 1, 1.0f, 0.0f, 400);  // many tiles
  check_gemm(false, true, 7, 9, 0, 0, 2, 1.0f, 0.5f, 500);         // K = 0: C = beta C
}

TEST(cuda_sgemm_rejects_bad_input_and_reports_no_device) {
  std::vector<float> a(6), b(6), c(4);
  GemmArgs g;
  g.m = 2;
  g.n = 2;
  g.k = 3;
  g.a = a.data();
  g.lda = 2;  // smaller than K: E_ARG before any device work
  g.b = b.data();
  g.ldb = 2;
  g.c = c.data();
  g.ldc = 2;
  CHECK_CODE([&] { cuda::sgemm(g); }, "E_ARG");
  g.lda = 3;
  if (!have_device()) CHECK_CODE([&] { cuda::sgemm(g); }, "E_BACKEND");
}

TEST(cuda_adam_bit_identical_to_cpu_plain) {
  if (cudatest::skip_without_device()) return;
  const int64_t n = 100003;
  std::vector<float> p = uniform(n, -1, 1, 1), m(n, 0.0f), v(n, 0.0f);
  std::vector<float> pc = p, mc = m, vc = v;
  for (int step = 1; step <= 3; ++step) {
    const std::vector<float> g = uniform(n, -2, 2, 10 + step);
    AdamConfig cfg;
    cfg.lr = 1e-2;
    cfg.weight_decay = step == 2 ? 0.01 : 0.0;
    cfg.bias_correction1 = 1.0 - std::pow(cfg.beta1, step);
    cfg.bias_correction2 = 1.0 - std::pow(cfg.beta2, step);
    adam_step_plain(pc.data(), g.data(), mc.data(), vc.data(), 0, n, cfg);
    cuda::adam_step(p.data(), g.data(), m.data(), v.data(), n, cfg);
  }
  int64_t diff = 0;
  for (int64_t i = 0; i < n; ++i) diff += p[i] != pc[i] || m[i] != mc[i] || v[i] != vc[i];
  CHECK_EQ(diff, 0);
}

TEST(cuda_adam_rejects_bad_input_and_reports_no_device) {
  std::vector<float> p(4), g(4), m(4), v(4);
  AdamConfig bad;
  bad.beta1 = 1.0;  // E_ARG before any device work
  CHECK_CODE([&] { cuda::adam_step(p.data(), g.data(), m.data(), v.data(), 4, bad); }, "E_ARG");
  if (!have_device()) {
    CHECK_CODE([&] { cuda::adam_step(p.data(), g.data(), m.data(), v.data(), 4, AdamConfig{}); },
               "E_BACKEND");
  }
}

// clip_grad_norm: the norm within 1e-12 relative (float64 sums in another order); clipped
// values within 1.2e-7 relative (the scale max_norm / norm may differ in its last float64 bit,
// which can move a float result by one ulp).
TEST(cuda_clip_grad_norm_matches_cpu) {
  if (cudatest::skip_without_device()) return;
  std::vector<float> a = uniform(100003, -1, 1, 91), b = uniform(17, -3, 3, 92), e;
  for (const double max_norm : {1e-3, 1e9}) {  // clipping, then only measuring
    std::vector<float> ca = a, cb = b, ga = a, gb = b;
    float* cpu_arrays[3] = {ca.data(), e.data(), cb.data()};
    float* gpu_arrays[3] = {ga.data(), e.data(), gb.data()};
    const int64_t sizes[3] = {static_cast<int64_t>(a.size()), 0, static_cast<int64_t>(b.size())};
    const double nc = clip_grad_norm(cpu_arrays, sizes, 3, max_norm);
    const double ng = cuda::clip_grad_norm(gpu_arrays, sizes, 3, max_norm);
    CHECK(std::fabs(nc - ng) <= 1e-12 * nc);
    int64_t bad = 0;
    for (size_t i = 0; i < a.size(); ++i)
      bad += !(std::fabs(ga[i] - ca[i]) <= 1.2e-7 * std::fabs(ca[i]));
    for (size_t i = 0; i < b.size(); ++i)
      bad += !(std::fabs(gb[i] - cb[i]) <= 1.2e-7 * std::fabs(cb[i]));
    CHECK_EQ(bad, 0);
  }
}

TEST(cuda_clip_grad_norm_rejects_bad_input_and_reports_no_device) {
  std::vector<float> a(4, 1.0f);
  float* arrays[1] = {a.data()};
  const int64_t sizes[1] = {4};
  CHECK_CODE([&] { cuda::clip_grad_norm(arrays, sizes, 1, 0.0); }, "E_ARG");
  if (!have_device()) CHECK_CODE([&] { cuda::clip_grad_norm(arrays, sizes, 1, 1.0); }, "E_BACKEND");
}
