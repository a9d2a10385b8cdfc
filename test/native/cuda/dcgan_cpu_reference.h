// The CPU reference of one DCGAN training step (the default configuration: no discNorm, no
// discStddev), composed call by call from the CPU kernels in the order of Gan.fit and the TS
// layers (lib/nn/dense.ts, norm-act.ts, conv-block.ts, dcgan-nets.ts, lib/nn/adam.ts). The
// state is kept in the flat layout of cuda_api.h (dcgan_*_tensors), so it can be compared
// with the device handle entry by entry.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "../../../native/kernels/cpu/activation.h"
#include "../../../native/kernels/cpu/batchnorm.h"
#include "../../../native/kernels/cpu/conv_block.h"
#include "../../../native/kernels/cpu/gemm.h"
#include "../../../native/kernels/cpu/loss.h"
#include "../../../native/kernels/cpu/optim.h"
#include "../../../native/kernels/cuda/cuda_api.h"

namespace cudatest {

struct DcganCpuReference {
  deepgen::cuda::DcganSpec spec;
  std::vector<deepgen::cuda::DcganTensor> gt, dt, bt;
  std::vector<int64_t> go, dof, bo;
  std::vector<float> gp, gg, gm, gv, dp, dg, dm, dv, buf;
  int64_t gen_step = 0, disc_step = 0;
  int64_t H, W, P, Z, c0, c1, d0, d1, s, A, B, E, F;
  // activations of the last forward
  std::vector<float> z, h0, y1, pre2, y2, mean1, rstd1, mean2, rstd2, pre3, y3;
  std::vector<float> pre4, y4, pre5, y5, logits;

  explicit DcganCpuReference(const deepgen::cuda::DcganSpec& sp) : spec(sp) {
    gt = deepgen::cuda::dcgan_gen_tensors(sp);
    dt = deepgen::cuda::dcgan_disc_tensors(sp);
    bt = deepgen::cuda::dcgan_gen_buffer_tensors(sp);
    go = offsets(gt, &gp);
    dof = offsets(dt, &dp);
    bo = offsets(bt, &buf);
    gg = gm = gv = std::vector<float>(gp.size());
    dg = dm = dv = std::vector<float>(dp.size());
    H = sp.height;
    W = sp.width;
    P = H * W;
    Z = sp.zdim;
    c0 = sp.channels[0];
    c1 = sp.channels[1];
    d0 = sp.disc_channels[0];
    d1 = sp.disc_channels[1];
    s = (H / 4) * (W / 4);
    A = c0 * s;
    B = c1 * 4 * s;
    E = d0 * (P / 4);
    F = d1 * s;
  }

  static std::vector<int64_t> offsets(const std::vector<deepgen::cuda::DcganTensor>& t,
                                      std::vector<float>* flat) {
    std::vector<int64_t> o;
    int64_t at = 0;
    for (const auto& x : t) {
      o.push_back(at);
      at += x.size;
    }
    flat->assign(static_cast<size_t>(at), 0.0f);
    return o;
  }

  float* g(int t) { return gp.data() + go[t]; }
  float* gd(int t) { return gg.data() + go[t]; }
  float* dpar(int t) { return dp.data() + dof[t]; }
  float* dgrad(int t) { return dg.data() + dof[t]; }
  float* b(int t) { return buf.data() + bo[t]; }

  static deepgen::ConvBlockParams block(bool transposed, int64_t n, int64_t cin, int64_t h,
                                        int64_t w, int64_t cout, deepgen::ConvBlockNorm norm,
                                        deepgen::Activation act) {
    deepgen::ConvBlockParams p;
    p.transposed = transposed;
    p.batch = n;
    p.in_c = cin;
    p.in_h = h;
    p.in_w = w;
    p.out_c = cout;
    p.k_h = p.k_w = 4;
    p.stride_h = p.stride_w = 2;
    p.pad_h = p.pad_w = 1;
    p.norm = norm;
    p.activation = act;
    p.slope = 0.2f;
    p.eps = 1e-5f;
    p.momentum = 0.1f;
    return p;
  }

  // Tensor indices (cuda_api.h order).
  enum { G0w, G0b, G1gamma, G1beta, G2w, G2gamma, G2beta, G3w, G3b };
  enum { D0w, D0b, D1w, D1b, D2w, D2b };
  enum { B1mean, B1var, B2mean, B2var };

  const std::vector<float>& gen_forward(const float* zin, int64_t n, bool train) {
    using namespace deepgen;
    z.assign(zin, zin + n * Z);
    h0.resize(n * A);
    y1.resize(n * A);
    pre2.resize(n * B);
    y2.resize(n * B);
    pre3.resize(n * P);
    y3.resize(n * P);
    mean1.resize(c0);
    rstd1.resize(c0);
    mean2.resize(c1);
    rstd2.resize(c1);
    sgemm(false, true, n, A, Z, 1.0f, z.data(), g(G0w), 0.0f, h0.data());
    bias_activation_forward(Activation::kIdentity, h0.data(), g(G0b), h0.data(), n, A, 1, 0.0f);
    if (train) {
      batchnorm_forward_train(h0.data(), g(G1gamma), g(G1beta), y1.data(), mean1.data(),
                              rstd1.data(), b(B1mean), b(B1var), n, c0, s, 1e-5f, 0.1f);
    } else {
      batchnorm_forward_eval(h0.data(), g(G1gamma), g(G1beta), b(B1mean), b(B1var), y1.data(), n,
                             c0, s, 1e-5f);
    }
    activation_forward(Activation::kRelu, y1.data(), y1.data(), n * A, 0.0f);
    const ConvBlockNorm norm = train ? ConvBlockNorm::kTrain : ConvBlockNorm::kEval;
    conv_block_forward(block(true, n, c0, H / 4, W / 4, c1, norm, Activation::kRelu), y1.data(),
                       g(G2w), nullptr, g(G2gamma), g(G2beta), b(B2mean), b(B2var), pre2.data(),
                       mean2.data(), rstd2.data(), y2.data());
    conv_block_forward(block(true, n, c1, H / 2, W / 2, 1, ConvBlockNorm::kNone, Activation::kTanh),
                       y2.data(), g(G3w), g(G3b), nullptr, nullptr, nullptr, nullptr, pre3.data(),
                       nullptr, nullptr, y3.data());
    return y3;
  }

  void disc_forward(const float* x, int64_t n) {
    using namespace deepgen;
    pre4.resize(n * E);
    y4.resize(n * E);
    pre5.resize(n * F);
    y5.resize(n * F);
    logits.resize(n);
    conv_block_forward(block(false, n, 1, H, W, d0, ConvBlockNorm::kNone, Activation::kLeakyRelu),
                       x, dpar(D0w), dpar(D0b), nullptr, nullptr, nullptr, nullptr, pre4.data(),
                       nullptr, nullptr, y4.data());
    conv_block_forward(
        block(false, n, d0, H / 2, W / 2, d1, ConvBlockNorm::kNone, Activation::kLeakyRelu),
        y4.data(), dpar(D1w), dpar(D1b), nullptr, nullptr, nullptr, nullptr, pre5.data(), nullptr,
        nullptr, y5.data());
    sgemm(false, true, n, 1, F, 1.0f, y5.data(), dpar(D2w), 0.0f, logits.data());
    bias_activation_forward(Activation::kIdentity, logits.data(), dpar(D2b), logits.data(), n, 1, 1,
                            0.0f);
  }

  // D's gradients from dlogit [n]; returns dx [n, P] (the conv block's input gradient).
  std::vector<float> disc_backward(const float* x, std::vector<float> dlogit, int64_t n) {
    using namespace deepgen;
    std::vector<float> d5(n * F), d4(n * E), dx(n * P);
    bias_activation_backward(Activation::kIdentity, logits.data(), dlogit.data(), dlogit.data(),
                             dgrad(D2b), n, 1, 1, 0.0f);
    sgemm(true, false, 1, F, n, 1.0f, dlogit.data(), y5.data(), 0.0f, dgrad(D2w));
    sgemm(false, false, n, F, 1, 1.0f, dlogit.data(), dpar(D2w), 0.0f, d5.data());
    conv_block_backward(
        block(false, n, d0, H / 2, W / 2, d1, ConvBlockNorm::kNone, Activation::kLeakyRelu),
        y4.data(), dpar(D1w), nullptr, pre5.data(), nullptr, nullptr, y5.data(), d5.data(),
        d4.data(), dgrad(D1w), dgrad(D1b), nullptr, nullptr, false);
    conv_block_backward(block(false, n, 1, H, W, d0, ConvBlockNorm::kNone, Activation::kLeakyRelu),
                        x, dpar(D0w), nullptr, pre4.data(), nullptr, nullptr, y4.data(), d4.data(),
                        dx.data(), dgrad(D0w), dgrad(D0b), nullptr, nullptr, false);
    return dx;
  }

  void gen_backward(std::vector<float> dfake, int64_t n) {
    using namespace deepgen;
    std::vector<float> dy2(n * B), dy1(n * A), dz(n * A), dh0(n * A);
    conv_block_backward(
        block(true, n, c1, H / 2, W / 2, 1, ConvBlockNorm::kNone, Activation::kTanh), y2.data(),
        g(G3w), nullptr, pre3.data(), nullptr, nullptr, y3.data(), dfake.data(), dy2.data(),
        gd(G3w), gd(G3b), nullptr, nullptr, false);
    conv_block_backward(
        block(true, n, c0, H / 4, W / 4, c1, ConvBlockNorm::kTrain, Activation::kRelu), y1.data(),
        g(G2w), g(G2gamma), pre2.data(), mean2.data(), rstd2.data(), y2.data(), dy2.data(),
        dy1.data(), gd(G2w), nullptr, gd(G2gamma), gd(G2beta), false);
    activation_backward(Activation::kRelu, y1.data(), dy1.data(), dz.data(), n * A, 0.0f);
    batchnorm_backward(h0.data(), dz.data(), g(G1gamma), mean1.data(), rstd1.data(), dh0.data(),
                       gd(G1gamma), gd(G1beta), n, c0, s);
    std::vector<float> dpre(n * A);
    bias_activation_backward(Activation::kIdentity, h0.data(), dh0.data(), dpre.data(), gd(G0b), n,
                             A, 1, 0.0f);
    sgemm(true, false, A, Z, n, 1.0f, dpre.data(), z.data(), 0.0f, gd(G0w));
  }

  // lib/nn/adam.ts: the norm (clipGradNorm with +Inf), then, when finite, one adamStep per tensor.
  static double adam(const std::vector<deepgen::cuda::DcganTensor>& t,
                     const std::vector<int64_t>& o, std::vector<float>& p, std::vector<float>& gr,
                     std::vector<float>& m, std::vector<float>& v, int64_t* step, double lr) {
    std::vector<float*> arrays;
    std::vector<int64_t> sizes;
    for (size_t i = 0; i < t.size(); ++i) {
      arrays.push_back(gr.data() + o[i]);
      sizes.push_back(t[i].size);
    }
    const double norm = deepgen::clip_grad_norm(arrays.data(), sizes.data(),
                                                static_cast<int64_t>(t.size()), INFINITY);
    if (!std::isfinite(norm)) return norm;
    ++*step;
    deepgen::AdamConfig cfg;
    cfg.lr = lr;
    cfg.beta1 = 0.5;
    cfg.beta2 = 0.999;
    cfg.eps = 1e-8;
    cfg.bias_correction1 = 1.0 - std::pow(0.5, static_cast<double>(*step));
    cfg.bias_correction2 = 1.0 - std::pow(0.999, static_cast<double>(*step));
    for (size_t i = 0; i < t.size(); ++i) {
      deepgen::adam_step(p.data() + o[i], gr.data() + o[i], m.data() + o[i], v.data() + o[i],
                         t[i].size, cfg);
    }
    return norm;
  }

  // One Gan.fit step (nonsaturating loss, beta1 0.5, generator updated).
  deepgen::cuda::DcganStepResult step(const float* real, const float* zin, int64_t m, double lr) {
    using namespace deepgen;
    cuda::DcganStepResult r;
    const std::vector<float> fake = gen_forward(zin, m, true);
    std::vector<float> xb(real, real + m * P);
    xb.insert(xb.end(), fake.begin(), fake.end());
    std::vector<float> lab(2 * m, 0.0f);
    for (int64_t i = 0; i < m; ++i) lab[i] = 1.0f;
    disc_forward(xb.data(), 2 * m);
    std::vector<float> dd(2 * m);
    bce_with_logits_backward(dd.data(), logits.data(), lab.data(), 2 * m, 1, 1.0 / (2 * m),
                             nullptr);
    disc_backward(xb.data(), dd, 2 * m);
    r.disc_loss_sum = bce_with_logits_forward(nullptr, logits.data(), lab.data(), 2 * m, 1);
    for (int64_t i = 0; i < 2 * m; ++i) {
      (i < m ? r.d_real_sum : r.d_fake_sum) +=
          1.0 / (1.0 + std::exp(-static_cast<double>(logits[i])));
    }
    r.disc_grad_norm = adam(dt, dof, dp, dg, dm, dv, &disc_step, lr);
    disc_forward(fake.data(), m);
    std::vector<float> t(m, 1.0f), dl(m);
    r.gen_loss = bce_with_logits_forward(nullptr, logits.data(), t.data(), m, 1) / m;
    bce_with_logits_backward(dl.data(), logits.data(), t.data(), m, 1, 1.0 / m, nullptr);
    gen_backward(disc_backward(fake.data(), dl, m), m);
    r.gen_grad_norm = adam(gt, go, gp, gg, gm, gv, &gen_step, lr);
    return r;
  }
};

}  // namespace cudatest
