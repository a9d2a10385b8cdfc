// Activation and batch-norm forward on the GPU (activation.cu, batchnorm.cu) against the CPU
// kernels' plain variants.
//
// Tolerances:
//   activations (+ bias): |gpu - cpu| <= 2.4e-7 |cpu| + 1e-30: both compute the smooth kinds
//     in double and round once, so they differ at most where CUDA's and libm's double
//     tanh/exp/log1p straddle a float rounding boundary (one float ulp); relu, leaky relu and
//     identity are exact.
//   batch norm: y within 1e-5 (1 + |y|) (float affine with or without FMA); mean, rstd and the
//     running statistics within 1e-6 (1 + |v|) (double sums in another order, rounded to float).
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

TEST(cuda_activation_forward_matches_cpu_plain) {
  if (cudatest::skip_without_device()) return;
  const int64_t n = 100003;
  const std::vector<float> x = uniform(n, -12.0f, 12.0f, 61);
  for (int k = 0; k < kActivationCount; ++k) {
    const Activation kind = static_cast<Activation>(k);
    std::vector<float> cpu(n), gpu(n);
    activation_forward_plain(kind, x.data(), cpu.data(), n, 0.2f);
    cuda::activation_forward(kind, x.data(), gpu.data(), n, 0.2f);
    CHECK_EQ(count_far(gpu, cpu, 2.4e-7, 1e-30), 0);
  }
}

TEST(cuda_bias_activation_forward_matches_cpu_plain) {
  if (cudatest::skip_without_device()) return;
  const int64_t N = 7, C = 13, S = 49;
  const std::vector<float> x = uniform(N * C * S, -4.0f, 4.0f, 62),
                           bias = uniform(C, -1.0f, 1.0f, 63);
  for (int k = 0; k < kActivationCount; ++k) {
    const Activation kind = static_cast<Activation>(k);
    std::vector<float> cpu(x.size()), gpu(x.size());
    bias_activation_forward_plain(kind, x.data(), bias.data(), cpu.data(), N, C, S, 0.01f);
    cuda::bias_activation_forward(kind, x.data(), bias.data(), gpu.data(), N, C, S, 0.01f);
    CHECK_EQ(count_far(gpu, cpu, 2.4e-7, 1e-30), 0);
  }
  // S = 1: a dense layer's [N, C].
  std::vector<float> cpu(N * C), gpu(N * C);
  bias_activation_forward_plain(Activation::kTanh, x.data(), bias.data(), cpu.data(), N, C, 1,
                                0.01f);
  cuda::bias_activation_forward(Activation::kTanh, x.data(), bias.data(), gpu.data(), N, C, 1,
                                0.01f);
  CHECK_EQ(count_far(gpu, cpu, 2.4e-7, 1e-30), 0);
}

TEST(cuda_batchnorm_forward_matches_cpu_plain) {
  if (cudatest::skip_without_device()) return;
  for (const int64_t S : {int64_t{1}, int64_t{49}}) {  // dense [N, C] and conv [N, C, 7x7]
    const int64_t N = 9, C = 11, total = N * C * S;
    const std::vector<float> x = uniform(total, -3.0f, 5.0f, 70 + S);
    const std::vector<float> gamma = uniform(C, 0.5f, 1.5f, 71), beta = uniform(C, -0.5f, 0.5f, 72);
    const std::vector<float> rm0 = uniform(C, -0.3f, 0.3f, 73), rv0 = uniform(C, 0.5f, 2.0f, 74);
    std::vector<float> yc(total), yg(total), mc(C), mg(C), sc(C), sg(C);
    std::vector<float> rmc = rm0, rvc = rv0, rmg = rm0, rvg = rv0;
    batchnorm_forward_train_plain(x.data(), gamma.data(), beta.data(), yc.data(), mc.data(),
                                  sc.data(), rmc.data(), rvc.data(), N, C, S, 1e-5f, 0.1f);
    cuda::batchnorm_forward_train(x.data(), gamma.data(), beta.data(), yg.data(), mg.data(),
                                  sg.data(), rmg.data(), rvg.data(), N, C, S, 1e-5f, 0.1f);
    CHECK_EQ(count_far(yg, yc, 1e-5, 1e-5), 0);
    CHECK_EQ(count_far(mg, mc, 1e-6, 1e-6), 0);
    CHECK_EQ(count_far(sg, sc, 1e-6, 1e-6), 0);
    CHECK_EQ(count_far(rmg, rmc, 1e-6, 1e-6), 0);
    CHECK_EQ(count_far(rvg, rvc, 1e-6, 1e-6), 0);
    batchnorm_forward_eval_plain(x.data(), gamma.data(), beta.data(), rm0.data(), rv0.data(),
                                 yc.data(), N, C, S, 1e-5f);
    cuda::batchnorm_forward_eval(x.data(), gamma.data(), beta.data(), rm0.data(), rv0.data(),
                                 yg.data(), N, C, S, 1e-5f);
    CHECK_EQ(count_far(yg, yc, 1e-5, 1e-5), 0);
  }
}

TEST(cuda_norm_act_reject_bad_input_and_report_no_device) {
  std::vector<float> a(8), g(2, 1.0f), b(2), m(2), s(2), rm(2), rv(2, 1.0f);
  CHECK_CODE(
      [&] { cuda::activation_forward(static_cast<Activation>(9), a.data(), a.data(), 8, 0.1f); },
      "E_ARG");
  CHECK_CODE(
      [&] {
        cuda::batchnorm_forward_eval(a.data(), g.data(), b.data(), rm.data(), rv.data(), a.data(),
                                     2, 2, 2, 0.0f);
      },
      "E_ARG");
  CHECK_CODE(
      [&] {
        cuda::batchnorm_forward_train(a.data(), g.data(), b.data(), a.data(), m.data(), s.data(),
                                      rm.data(), rv.data(), 1, 2, 1, 1e-5f, 0.1f);
      },
      "E_SHAPE");  // one value per channel
  if (!have_device()) {
    CHECK_CODE([&] { cuda::activation_forward(Activation::kRelu, a.data(), a.data(), 8, 0.1f); },
               "E_BACKEND");
    CHECK_CODE(
        [&] {
          cuda::bias_activation_forward(Activation::kRelu, a.data(), g.data(), a.data(), 2, 2, 2,
                                        0.1f);
        },
        "E_BACKEND");
    CHECK_CODE(
        [&] {
          cuda::batchnorm_forward_train(a.data(), g.data(), b.data(), a.data(), m.data(), s.data(),
                                        rm.data(), rv.data(), 2, 2, 2, 1e-5f, 0.1f);
        },
        "E_BACKEND");
    CHECK_CODE(
        [&] {
          cuda::batchnorm_forward_eval(a.data(), g.data(), b.data(), rm.data(), rv.data(), a.data(),
                                       2, 2, 2, 1e-5f);
        },
        "E_BACKEND");
  }
}
