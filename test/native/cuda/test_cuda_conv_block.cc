// The GAN conv block forward on the GPU (conv_block.cu) against the CPU block (conv_block.cc).
//
// Tolerances (per element, relative to the value's scale):
//   pre:  |gpu - cpu| <= 1e-5 (sum |x w| + |bias|) + 1e-6   (float sums, different order)
//   y:    |gpu - cpu| <= 1e-4 (1 + |cpu|)   (the pre error scaled by gamma * rstd, then act)
//   mean, rstd, running stats: |gpu - cpu| <= 1e-5 (1 + |cpu|)
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "../../../native/kernels/cpu/conv_block.h"
#include "../check.h"
#include "cuda_test_util.h"

using namespace deepgen;
using cudatest::error_code;
using cudatest::have_device;
using cudatest::uniform;

namespace {

int64_t count_far(const std::vector<float>& a, const std::vector<float>& b, double rel) {
  int64_t bad = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    bad += !(std::fabs(static_cast<double>(a[i]) - b[i]) <= rel * (1.0 + std::fabs(b[i])));
  }
  return bad;
}

void check_block(const ConvBlockParams& p, bool with_bias, uint32_t seed) {
  const int64_t nx = conv_block_x_size(p), nw = conv_block_weight_size(p);
  const int64_t ny = conv_block_y_size(p), C = p.out_c;
  const std::vector<float> x = uniform(nx, -1, 1, seed), w = uniform(nw, -0.5f, 0.5f, seed + 1);
  const std::vector<float> bias = uniform(C, -0.2f, 0.2f, seed + 2);
  const std::vector<float> gamma = uniform(C, 0.5f, 1.5f, seed + 3),
                           beta = uniform(C, -0.3f, 0.3f, seed + 4);
  const std::vector<float> rm0 = uniform(C, -0.2f, 0.2f, seed + 5),
                           rv0 = uniform(C, 0.5f, 2.0f, seed + 6);
  std::vector<float> rm_c = rm0, rv_c = rv0, rm_g = rm0, rv_g = rv0;
  std::vector<float> pre_c(ny), pre_g(ny), y_c(ny), y_g(ny), mu_c(C), mu_g(C), rs_c(C), rs_g(C);
  const float* b = with_bias ? bias.data() : nullptr;
  conv_block_forward(p, x.data(), w.data(), b, gamma.data(), beta.data(), rm_c.data(), rv_c.data(),
                     pre_c.data(), mu_c.data(), rs_c.data(), y_c.data());
  cuda::conv_block_forward(p, x.data(), w.data(), b, gamma.data(), beta.data(), rm_g.data(),
                           rv_g.data(), pre_g.data(), mu_g.data(), rs_g.data(), y_g.data());
  // pre: the bound of a float sum of Cin kH kW products of |x| <= 1 and |w| <= 0.5.
  const double pre_scale = 0.5 * p.in_c * p.k_h * p.k_w + 0.2;
  int64_t bad_pre = 0;
  for (int64_t i = 0; i < ny; ++i)
    bad_pre += !(std::fabs(pre_g[i] - pre_c[i]) <= 1e-5 * pre_scale + 1e-6);
  CHECK_EQ(bad_pre, 0);
  CHECK_EQ(count_far(y_g, y_c, 1e-4), 0);
  if (p.norm == ConvBlockNorm::kTrain) {
    CHECK_EQ(count_far(mu_g, mu_c, 1e-5), 0);
    CHECK_EQ(count_far(rs_g, rs_c, 1e-5), 0);
    CHECK_EQ(count_far(rm_g, rm_c, 1e-5), 0);
    CHECK_EQ(count_far(rv_g, rv_c, 1e-5), 0);
  } else {
    CHECK(rm_g == rm0 && rv_g == rv0);  // eval and none leave the running stats alone
  }
}

ConvBlockParams block(bool transposed, int64_t n, int64_t ci, int64_t hw, int64_t co, int64_t k,
                      int64_t stride, int64_t pad, ConvBlockNorm norm, Activation act) {
  ConvBlockParams p;
  p.transposed = transposed;
  p.batch = n;
  p.in_c = ci;
  p.in_h = hw;
  p.in_w = hw + 1;  // non-square
  p.out_c = co;
  p.k_h = k;
  p.k_w = k;
  p.stride_h = stride;
  p.stride_w = stride;
  p.pad_h = pad;
  p.pad_w = pad;
  p.norm = norm;
  p.activation = act;
  p.slope = 0.2f;
  return p;
}

// Backward: every output array within 1e-4 of its largest CPU element (+ 1e-6): the CPU sums
// in float through im2col GEMMs, the GPU in double or float in another order.
int64_t far_in_array(const std::vector<float>& g, const std::vector<float>& c) {
  double mx = 0;
  for (float v : c) mx = std::max(mx, static_cast<double>(std::fabs(v)));
  int64_t bad = 0;
  for (size_t i = 0; i < c.size(); ++i)
    bad += !(std::fabs(static_cast<double>(g[i]) - c[i]) <= 1e-4 * mx + 1e-6);
  return bad;
}

void check_block_backward(const ConvBlockParams& p, bool with_bias, bool accumulate,
                          uint32_t seed) {
  const int64_t nx = conv_block_x_size(p), nw = conv_block_weight_size(p);
  const int64_t ny = conv_block_y_size(p), C = p.out_c;
  const std::vector<float> x = uniform(nx, -1, 1, seed), w = uniform(nw, -0.5f, 0.5f, seed + 1);
  const std::vector<float> bias = uniform(C, -0.2f, 0.2f, seed + 2);
  const std::vector<float> gamma = uniform(C, 0.5f, 1.5f, seed + 3),
                           beta = uniform(C, -0.3f, 0.3f, seed + 4);
  std::vector<float> rm(C, 0.0f), rv(C, 1.0f), pre(ny), y(ny), mu(C), rs(C);
  conv_block_forward(p, x.data(), w.data(), with_bias ? bias.data() : nullptr, gamma.data(),
                     beta.data(), rm.data(), rv.data(), pre.data(), mu.data(), rs.data(), y.data());
  const std::vector<float> dy0 = uniform(ny, -1, 1, seed + 5);
  // Accumulation starts from these values (ignored without `accumulate`).
  const std::vector<float> dw0 = uniform(nw, -1, 1, seed + 6), db0 = uniform(C, -1, 1, seed + 7);
  std::vector<float> dy_c = dy0, dy_g = dy0, dx_c(nx), dx_g(nx, 1e30f), dw_c = dw0, dw_g = dw0;
  std::vector<float> db_c = db0, db_g = db0, dg_c = db0, dg_g = db0, dbt_c = db0, dbt_g = db0;
  float* bias_grad_c = with_bias ? db_c.data() : nullptr;
  float* bias_grad_g = with_bias ? db_g.data() : nullptr;
  conv_block_backward(p, x.data(), w.data(), gamma.data(), pre.data(), mu.data(), rs.data(),
                      y.data(), dy_c.data(), dx_c.data(), dw_c.data(), bias_grad_c, dg_c.data(),
                      dbt_c.data(), accumulate);
  cuda::conv_block_backward(p, x.data(), w.data(), gamma.data(), pre.data(), mu.data(), rs.data(),
                            y.data(), dy_g.data(), dx_g.data(), dw_g.data(), bias_grad_g,
                            dg_g.data(), dbt_g.data(), accumulate);
  CHECK_EQ(far_in_array(dy_g, dy_c), 0);  // dL/dpre
  CHECK_EQ(far_in_array(dx_g, dx_c), 0);
  CHECK_EQ(far_in_array(dw_g, dw_c), 0);
  if (with_bias) CHECK_EQ(far_in_array(db_g, db_c), 0);
  CHECK_EQ(far_in_array(dg_g, dg_c), 0);
  CHECK_EQ(far_in_array(dbt_g, dbt_c), 0);
}

}  // namespace

TEST(cuda_conv_block_backward_matches_cpu) {
  if (cudatest::skip_without_device()) return;
  check_block_backward(block(true, 3, 7, 4, 5, 4, 2, 1, ConvBlockNorm::kTrain, Activation::kRelu),
                       false, false, 11);
  check_block_backward(block(true, 2, 5, 8, 1, 4, 2, 1, ConvBlockNorm::kNone, Activation::kTanh),
                       true, false, 12);
  check_block_backward(
      block(false, 4, 3, 9, 6, 4, 2, 1, ConvBlockNorm::kNone, Activation::kLeakyRelu), true, true,
      13);
  check_block_backward(
      block(false, 4, 6, 7, 5, 3, 2, 1, ConvBlockNorm::kTrain, Activation::kSigmoid), false, true,
      14);
  check_block_backward(
      block(true, 3, 11, 1, 7, 4, 1, 0, ConvBlockNorm::kTrain, Activation::kSoftplus), false, false,
      15);
  ConvBlockParams op =
      block(true, 2, 3, 5, 4, 3, 2, 1, ConvBlockNorm::kTrain, Activation::kIdentity);
  op.out_pad_w = 1;
  check_block_backward(op, true, false, 16);
}

TEST(cuda_conv_block_forward_matches_cpu) {
  if (cudatest::skip_without_device()) return;
  // DCGAN generator blocks: 1x1 latent -> 4x4, then stride-2 up-sampling, tanh at the end.
  check_block(block(true, 3, 11, 1, 7, 4, 1, 0, ConvBlockNorm::kTrain, Activation::kRelu), false,
              1);
  check_block(block(true, 3, 7, 4, 5, 4, 2, 1, ConvBlockNorm::kTrain, Activation::kRelu), false, 2);
  check_block(block(true, 2, 5, 8, 1, 4, 2, 1, ConvBlockNorm::kNone, Activation::kTanh), true, 3);
  check_block(block(true, 2, 5, 8, 3, 4, 2, 1, ConvBlockNorm::kEval, Activation::kSigmoid), false,
              4);
  // Discriminator-style conv2d blocks.
  check_block(block(false, 2, 3, 9, 6, 3, 2, 1, ConvBlockNorm::kEval, Activation::kLeakyRelu), true,
              5);
  check_block(block(false, 4, 6, 7, 5, 4, 2, 1, ConvBlockNorm::kTrain, Activation::kSoftplus),
              false, 6);
  check_block(block(false, 1, 2, 5, 3, 3, 1, 1, ConvBlockNorm::kNone, Activation::kIdentity), true,
              7);
  // Output padding on a transposed conv.
  ConvBlockParams op =
      block(true, 2, 3, 5, 4, 3, 2, 1, ConvBlockNorm::kTrain, Activation::kLeakyRelu);
  op.out_pad_h = 1;
  check_block(op, true, 8);
}

TEST(cuda_conv_block_backward_rejects_bad_input_and_reports_no_device) {
  ConvBlockParams p = block(true, 1, 2, 1, 3, 4, 1, 0, ConvBlockNorm::kEval, Activation::kRelu);
  std::vector<float> x(2), w(24), g(3, 1), pre(48), mu(3), rs(3, 1), y(48), dy(48), dx(2), dw(24),
      dgb(3);
  auto call = [&](const ConvBlockParams& q) {
    cuda::conv_block_backward(q, x.data(), w.data(), g.data(), pre.data(), mu.data(), rs.data(),
                              y.data(), dy.data(), dx.data(), dw.data(), nullptr, dgb.data(),
                              dgb.data(), false);
  };
  CHECK_CODE([&] { call(p); }, "E_ARG");  // no backward of an eval-mode forward
  p.norm = ConvBlockNorm::kNone;
  if (!have_device()) CHECK_CODE([&] { call(p); }, "E_BACKEND");
}

TEST(cuda_conv_block_rejects_bad_input_and_reports_no_device) {
  ConvBlockParams p = block(true, 1, 2, 1, 3, 4, 1, 0, ConvBlockNorm::kTrain, Activation::kRelu);
  std::vector<float> x(2), w(24), g(3, 1), b(3), rm(3), rv(3, 1), pre(48), mu(3), rs(3), y(48);
  ConvBlockParams bad = p;
  bad.eps = 0;  // E_ARG before any device work
  CHECK_CODE(
      [&] {
        cuda::conv_block_forward(bad, x.data(), w.data(), nullptr, g.data(), b.data(), rm.data(),
                                 rv.data(), pre.data(), mu.data(), rs.data(), y.data());
      },
      "E_ARG");
  if (!have_device()) {
    CHECK_CODE(
        [&] {
          cuda::conv_block_forward(p, x.data(), w.data(), nullptr, g.data(), b.data(), rm.data(),
                                   rv.data(), pre.data(), mu.data(), rs.data(), y.data());
        },
        "E_BACKEND");
  }
}
