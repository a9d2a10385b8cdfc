// Activation and batch-norm backward on the GPU (activation.cu, batchnorm.cu) against the CPU
// kernels' plain variants.
//
// Tolerances:
//   activation backward dx: 2.4e-7 |cpu| + 1e-30 (the smooth kinds in double, rounded once, on
//     both; relu, leaky relu and identity are exact);
//   dbias: 1e-6 (1 + |cpu|) (double sums in another order, rounded to float);
//   batch-norm backward dx: 1e-5 (1 + |cpu|) (float a dy + b (x - mean) + k, with or without
//     FMA); dgamma, dbeta: 1e-6 (1 + |cpu|) (double sums in another order).
#include <cmath>
#include <cstdint>
#include <vector>

#include "../../../native/kernels/cpu/activation.h"
#include "../../../native/kernels/cpu/batchnorm.h"
#include "../check.h"
#include "cuda_test_util.h"

using namespace deepgen;
using cudatest::count_far;
using cudatest::have_device;
using cudatest::uniform;

TEST(cuda_activation_backward_matches_cpu_plain) {
  if (cudatest::skip_without_device()) return;
  const int64_t n = 100003;
  const std::vector<float> x = uniform(n, -6.0f, 6.0f, 81), dy = uniform(n, -2.0f, 2.0f, 82);
  for (int k = 0; k < kActivationCount; ++k) {
    const Activation kind = static_cast<Activation>(k);
    std::vector<float> y(n), cpu(n), gpu(n);
    activation_forward_plain(kind, x.data(), y.data(), n, 0.2f);
    activation_backward_plain(kind, y.data(), dy.data(), cpu.data(), n, 0.2f);
    cuda::activation_backward(kind, y.data(), dy.data(), gpu.data(), n, 0.2f);
    CHECK_EQ(count_far(gpu, cpu, 2.4e-7, 1e-30), 0);
  }
}

TEST(cuda_bias_activation_backward_matches_cpu_plain) {
  if (cudatest::skip_without_device()) return;
  for (const int64_t S : {int64_t{1}, int64_t{49}}) {  // dense [N, C] and conv [N, C, 7x7]
    const int64_t N = 9, C = 13, total = N * C * S;
    const std::vector<float> x = uniform(total, -3.0f, 3.0f, 83 + S),
                             dy = uniform(total, -1.0f, 1.0f, 84);
    for (int k = 0; k < kActivationCount; ++k) {
      const Activation kind = static_cast<Activation>(k);
      std::vector<float> y(total), cpu(total), gpu(total), dbc(C), dbg(C);
      activation_forward_plain(kind, x.data(), y.data(), total, 0.01f);
      bias_activation_backward_plain(kind, y.data(), dy.data(), cpu.data(), dbc.data(), N, C, S,
                                     0.01f);
      cuda::bias_activation_backward(kind, y.data(), dy.data(), gpu.data(), dbg.data(), N, C, S,
                                     0.01f);
      CHECK_EQ(count_far(gpu, cpu, 2.4e-7, 1e-30), 0);
      CHECK_EQ(count_far(dbg, dbc, 1e-6, 1e-6), 0);
    }
  }
}

TEST(cuda_batchnorm_backward_matches_cpu_plain) {
  if (cudatest::skip_without_device()) return;
  for (const int64_t S : {int64_t{1}, int64_t{49}}) {
    const int64_t N = 9, C = 11, total = N * C * S;
    const std::vector<float> x = uniform(total, -3.0f, 5.0f, 90 + S),
                             dy = uniform(total, -1.0f, 1.0f, 91);
    const std::vector<float> gamma = uniform(C, 0.5f, 1.5f, 92), beta = uniform(C, -0.5f, 0.5f, 93);
    std::vector<float> y(total), mean(C), rstd(C), rm(C), rv(C, 1.0f);
    batchnorm_forward_train_plain(x.data(), gamma.data(), beta.data(), y.data(), mean.data(),
                                  rstd.data(), rm.data(), rv.data(), N, C, S, 1e-5f, 0.1f);
    std::vector<float> dxc(total), dxg(total), dgc(C), dgg(C), dbc(C), dbg(C);
    batchnorm_backward_plain(x.data(), dy.data(), gamma.data(), mean.data(), rstd.data(),
                             dxc.data(), dgc.data(), dbc.data(), N, C, S);
    cuda::batchnorm_backward(x.data(), dy.data(), gamma.data(), mean.data(), rstd.data(),
                             dxg.data(), dgg.data(), dbg.data(), N, C, S);
    CHECK_EQ(count_far(dxg, dxc, 1e-5, 1e-5), 0);
    CHECK_EQ(count_far(dgg, dgc, 1e-6, 1e-6), 0);
    CHECK_EQ(count_far(dbg, dbc, 1e-6, 1e-6), 0);
    // dx may be dy
    std::vector<float> inplace = dy;
    cuda::batchnorm_backward(x.data(), inplace.data(), gamma.data(), mean.data(), rstd.data(),
                             inplace.data(), dgg.data(), dbg.data(), N, C, S);
    CHECK_EQ(count_far(inplace, dxc, 1e-5, 1e-5), 0);
  }
}

TEST(cuda_norm_act_backward_reject_bad_input_and_report_no_device) {
  std::vector<float> a(8), g(2, 1.0f), m(2), s(2, 1.0f), dg(2), db(2);
  CHECK_CODE(
      [&] {
        cuda::activation_backward(static_cast<Activation>(9), a.data(), a.data(), a.data(), 8,
                                  0.1f);
      },
      "E_ARG");
  CHECK_CODE(
      [&] { cuda::activation_backward(Activation::kRelu, a.data(), a.data(), a.data(), 8, -1.0f); },
      "E_ARG");
  CHECK_CODE(
      [&] { cuda::activation_backward(Activation::kRelu, nullptr, a.data(), a.data(), 8, 0.1f); },
      "E_ARG");
  CHECK_CODE(
      [&] {
        cuda::bias_activation_backward(Activation::kRelu, a.data(), a.data(), a.data(), nullptr, 2,
                                       2, 2, 0.1f);
      },
      "E_ARG");
  CHECK_CODE(
      [&] {
        cuda::bias_activation_backward(Activation::kRelu, a.data(), a.data(), a.data(), db.data(),
                                       -1, 2, 2, 0.1f);
      },
      "E_ARG");
  CHECK_CODE(
      [&] {
        cuda::batchnorm_backward(a.data(), a.data(), g.data(), m.data(), s.data(), a.data(),
                                 dg.data(), db.data(), 1, 2, 1);
      },
      "E_SHAPE");  // one value per channel
  CHECK_CODE(
      [&] {
        cuda::batchnorm_backward(a.data(), nullptr, g.data(), m.data(), s.data(), a.data(),
                                 dg.data(), db.data(), 2, 2, 2);
      },
      "E_ARG");
  // empty inputs: nothing to do, no device needed; an empty bias sum is 0
  db.assign(2, 5.0f);
  cuda::bias_activation_backward(Activation::kRelu, a.data(), a.data(), a.data(), db.data(), 0, 2,
                                 2, 0.1f);
  CHECK(db[0] == 0.0f && db[1] == 0.0f);
  cuda::activation_backward(Activation::kRelu, a.data(), a.data(), a.data(), 0, 0.1f);
  if (!have_device()) {
    CHECK_CODE(
        [&] {
          cuda::activation_backward(Activation::kRelu, a.data(), a.data(), a.data(), 8, 0.1f);
        },
        "E_BACKEND");
    CHECK_CODE(
        [&] {
          cuda::bias_activation_backward(Activation::kRelu, a.data(), a.data(), a.data(), db.data(),
                                         2, 2, 2, 0.1f);
        },
        "E_BACKEND");
    CHECK_CODE(
        [&] {
          cuda::batchnorm_backward(a.data(), a.data(), g.data(), m.data(), s.data(), a.data(),
                                   dg.data(), db.data(), 2, 2, 2);
        },
        "E_BACKEND");
  }
}
