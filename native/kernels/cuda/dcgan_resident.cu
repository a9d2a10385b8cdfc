// A DCGAN whose two networks and two Adam states live on the device (cuda_api.h, "DCGAN
// training on the device"). The step is the composition of the device launchers of
// device_ops.h in the order of Gan.fit and of the TS layers (dense.ts, norm-act.ts,
// conv-block.ts, dcgan-nets.ts), so every piece has the semantics of its CPU twin; there is
// no host round trip between kernels. A step synchronizes twice, each time to read a few
// doubles: after D's backward (D's gradient norm decides whether Adam steps, as
// lib/nn/adam.ts) and after G's backward (G's norm and the generator loss).
//
// Memory: one arena for the parameters, gradients, Adam moments and running statistics
// (allocated at upload), one workspace for the activations of a batch (grown to the largest
// batch seen). Both count towards resident_bytes().
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "../../common/errors.h"
#include "cuda_api.h"
#include "cuda_check.h"
#include "device_ops.h"
#include "resident.h"

namespace deepgen {
namespace cuda {
namespace {

constexpr float kLeakySlope = 0.2f;  // DCGAN_LEAKY_SLOPE
constexpr float kBnEps = 1e-5f;      // DEFAULT_NORM_EPS
constexpr float kBnMomentum = 0.1f;  // DEFAULT_BN_MOMENTUM

__global__ void fill_kernel(float* x, int64_t n, float value) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    x[i] = value;
  }
}

// One thread: out[0] = sum of sigmoid(logits[i]) for i < m, out[1] for m <= i < 2m, in double
// (the TS sums 1 / (1 + exp(-logit)) in double too).
__global__ void sigmoid_sums_kernel(const float* logits, int64_t m, double* out) {
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  double s[2] = {0.0, 0.0};
  for (int64_t i = 0; i < 2 * m; ++i)
    s[i >= m] += 1.0 / (1.0 + exp(-static_cast<double>(logits[i])));
  out[0] = s[0];
  out[1] = s[1];
}

void fill(float* x, int64_t n, float value) {
  if (n == 0) return;
  const int threads = 256;
  const int64_t blocks = (n + threads - 1) / threads;
  fill_kernel<<<static_cast<unsigned>(blocks < 4096 ? blocks : 4096), threads>>>(x, n, value);
  check(cudaGetLastError(), "fill launch");
}

void up(float* dst, const float* src, int64_t n) {
  if (n > 0) check(cudaMemcpy(dst, src, sizeof(float) * n, cudaMemcpyHostToDevice), "cudaMemcpy");
}

void down(float* dst, const float* src, int64_t n) {
  if (n > 0 && dst != nullptr) {
    check(cudaMemcpy(dst, src, sizeof(float) * n, cudaMemcpyDeviceToHost), "dcgan download");
  }
}

void check_spec(const DcganSpec& s) {
  if (!(s.height >= 4 && s.width >= 4 && s.height % 4 == 0 && s.width % 4 == 0 &&
        s.height <= 4096 && s.width <= 4096)) {
    throw KernelError("E_ARG", "DCGAN: image sides must be multiples of 4 in [4, 4096], got " +
                                   std::to_string(s.height) + "x" + std::to_string(s.width));
  }
  if (!(s.zdim >= 1 && s.zdim <= 4096))
    throw KernelError("E_ARG", "DCGAN: zdim must be in [1, 4096]");
  for (int64_t c : {s.channels[0], s.channels[1], s.disc_channels[0], s.disc_channels[1]}) {
    if (!(c >= 1 && c <= 4096)) {
      throw KernelError("E_ARG",
                        "DCGAN: channels must be integers in [1, 4096], got " + std::to_string(c));
    }
  }
}

// Sizes of the networks' pieces (see dcgan-nets.ts).
struct Dims {
  int64_t H, W, P;  // image, P = H * W
  int64_t Z;        // latent
  int64_t c0, c1, d0, d1;
  int64_t s;     // (H/4) (W/4)
  int64_t A, B;  // generator: dense output c0 s, first convT output c1 (4 s)
  int64_t E, F;  // discriminator: first conv output d0 P / 4, second d1 s
};

Dims dims_of(const DcganSpec& sp) {
  Dims d;
  d.H = sp.height;
  d.W = sp.width;
  d.P = d.H * d.W;
  d.Z = sp.zdim;
  d.c0 = sp.channels[0];
  d.c1 = sp.channels[1];
  d.d0 = sp.disc_channels[0];
  d.d1 = sp.disc_channels[1];
  d.s = (d.H / 4) * (d.W / 4);
  d.A = d.c0 * d.s;
  d.B = d.c1 * 4 * d.s;
  d.E = d.d0 * (d.P / 4);
  d.F = d.d1 * d.s;
  return d;
}

// Indices into the tensor lists (the order of cuda_api.h).
enum GenT { kG0w, kG0b, kG1gamma, kG1beta, kG2w, kG2gamma, kG2beta, kG3w, kG3b, kGenCount };
enum DiscT { kD0w, kD0b, kD1w, kD1b, kD2w, kD2b, kDiscCount };
enum BufT { kB1mean, kB1var, kB2mean, kB2var, kBufCount };

std::vector<DcganTensor> gen_tensors(const Dims& d) {
  return {{"gen.0.w", d.A * d.Z},
          {"gen.0.b", d.A},
          {"gen.1.gamma", d.c0},
          {"gen.1.beta", d.c0},
          {"gen.2.w", d.c0 * d.c1 * 16},
          {"gen.2.gamma", d.c1},
          {"gen.2.beta", d.c1},
          {"gen.3.w", d.c1 * 16},
          {"gen.3.b", 1}};
}

std::vector<DcganTensor> disc_tensors(const Dims& d) {
  return {{"disc.0.w", d.d0 * 16}, {"disc.0.b", d.d0}, {"disc.1.w", d.d1 * d.d0 * 16},
          {"disc.1.b", d.d1},      {"disc.2.w", d.F},  {"disc.2.b", 1}};
}

std::vector<DcganTensor> buffer_tensors(const Dims& d) {
  return {{"gen.1.running_mean", d.c0},
          {"gen.1.running_var", d.c0},
          {"gen.2.running_mean", d.c1},
          {"gen.2.running_var", d.c1}};
}

int64_t total_size(const std::vector<DcganTensor>& t) {
  int64_t n = 0;
  for (const DcganTensor& x : t) n += x.size;
  return n;
}

std::vector<int64_t> offsets(const std::vector<DcganTensor>& t) {
  std::vector<int64_t> o(t.size());
  int64_t at = 0;
  for (size_t i = 0; i < t.size(); ++i) {
    o[i] = at;
    at += t[i].size;
  }
  return o;
}

// The GAN conv blocks (conv-block.ts: 4x4, stride 2, pad 1).
ConvBlockParams block(bool transposed, int64_t n, int64_t cin, int64_t h, int64_t w, int64_t cout,
                      ConvBlockNorm norm, Activation act) {
  ConvBlockParams p;
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
  p.slope = kLeakySlope;
  p.eps = kBnEps;
  p.momentum = kBnMomentum;
  return p;
}

// C = A B^T etc. on device matrices with default leading dimensions (gemm.h's convenience form).
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
          float* c) {
  GemmArgs g;
  g.trans_a = ta;
  g.trans_b = tb;
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a;
  g.lda = ta ? m : k;
  g.b = b;
  g.ldb = tb ? k : n;
  g.c = c;
  g.ldc = n;
  dev::sgemm(g);
}

}  // namespace

struct DcganDeviceModel {
  DcganSpec spec;
  Dims d;
  std::vector<DcganTensor> gt, dt, bt;
  std::vector<int64_t> go, dof, bo;
  int64_t ng = 0, nd = 0, nb = 0;  // total sizes
  int64_t gen_step = 0, disc_step = 0;
  // Arena: gen params, grads, m, v; disc params, grads, m, v; buffers.
  std::unique_ptr<DeviceBuffer<float>> arena;
  std::unique_ptr<ResidentBytes> arena_bytes;
  float *gp, *gg, *gm, *gv, *dp, *dg, *dm, *dv, *buf;
  // Workspace for batches up to `capacity` rows.
  int64_t capacity = 0;
  std::unique_ptr<DeviceBuffer<float>> work;
  std::unique_ptr<DeviceBuffer<double>> work_d;
  std::unique_ptr<ResidentBytes> work_bytes;
  // Views into the workspace (see grow()).
  float *z, *h0, *y1, *dy1, *pre2, *y2, *dy2, *pre3, *y3;
  float *mean1, *rstd1, *mean2, *rstd2, *scratch;
  float *xb, *pre4, *y4, *d4, *pre5, *y5, *d5, *logits, *labels, *dlogit, *dfake;
  double *row_sums, *partial, *scalars;

  float* g(int t) const { return gp + go[t]; }
  float* gd(int t) const { return gg + go[t]; }
  float* dpar(int t) const { return dp + dof[t]; }
  float* dgrad(int t) const { return dg + dof[t]; }
  float* b(int t) const { return buf + bo[t]; }

  // Scalars slots (doubles): the download after each phase reads a block of them.
  enum { kDiscNorm2 = 0, kDiscLoss, kDReal, kDFake, kGenNorm2, kGenLoss, kScalarCount };

  void grow(int64_t m) {
    if (m <= capacity) return;
    const int64_t m2 = 2 * m;
    const int64_t cmax = std::max(std::max(d.c0, d.c1), std::max(d.d0, d.d1));
    const int64_t floats = m * d.Z + 3 * m * d.A + 3 * m * d.B + 2 * m * d.P + 2 * (d.c0 + d.c1) +
                           3 * cmax + m2 * d.P + 3 * m2 * d.E + 3 * m2 * d.F + 3 * m2 + m * d.P;
    const int64_t doubles = m2 + int64_t{dev::kGradNormPartials} * kGenCount + kScalarCount;
    work_bytes.reset();
    work.reset();
    work_d.reset();
    capacity = 0;
    work = std::make_unique<DeviceBuffer<float>>(static_cast<size_t>(floats));
    work_d = std::make_unique<DeviceBuffer<double>>(static_cast<size_t>(doubles));
    work_bytes = std::make_unique<ResidentBytes>(sizeof(float) * floats + sizeof(double) * doubles);
    float* at = work->get();
    auto take = [&at](int64_t n) {
      float* p = at;
      at += n;
      return p;
    };
    z = take(m * d.Z);
    h0 = take(m * d.A);
    y1 = take(m * d.A);
    dy1 = take(m * d.A);
    pre2 = take(m * d.B);
    y2 = take(m * d.B);
    dy2 = take(m * d.B);
    pre3 = take(m * d.P);
    y3 = take(m * d.P);
    mean1 = take(d.c0);
    rstd1 = take(d.c0);
    mean2 = take(d.c1);
    rstd2 = take(d.c1);
    scratch = take(3 * cmax);
    xb = take(m2 * d.P);
    pre4 = take(m2 * d.E);
    y4 = take(m2 * d.E);
    d4 = take(m2 * d.E);
    pre5 = take(m2 * d.F);
    y5 = take(m2 * d.F);
    d5 = take(m2 * d.F);
    logits = take(m2);
    labels = take(m2);
    dlogit = take(m2);
    dfake = take(m * d.P);
    row_sums = work_d->get();
    partial = row_sums + m2;
    scalars = partial + int64_t{dev::kGradNormPartials} * kGenCount;
    capacity = m;
  }

  // G(z) for n rows already in `z`: training (batch statistics) or evaluation mode. Leaves
  // every layer's input and output for the backward.
  void gen_forward(int64_t n, bool train) {
    const ConvBlockNorm norm = train ? ConvBlockNorm::kTrain : ConvBlockNorm::kEval;
    // dense: h0 = z W0^T + b0 (identity)
    gemm(false, true, n, d.A, d.Z, z, g(kG0w), h0);
    dev::bias_activation_forward(Activation::kIdentity, h0, g(kG0b), h0, n, d.A, 1, 0.0f);
    // NormAct: y1 = relu(BN(h0)) over [n, c0, s]
    if (train) {
      dev::batchnorm_forward_train(h0, g(kG1gamma), g(kG1beta), y1, mean1, rstd1, b(kB1mean),
                                   b(kB1var), n, d.c0, d.s, kBnEps, kBnMomentum, scratch);
    } else {
      dev::batchnorm_forward_eval(h0, g(kG1gamma), g(kG1beta), b(kB1mean), b(kB1var), y1, n, d.c0,
                                  d.s, kBnEps, scratch);
    }
    dev::bias_activation_forward(Activation::kRelu, y1, nullptr, y1, n, d.A, 1, 0.0f);
    // convT blocks
    const ConvBlockParams u0 =
        block(true, n, d.c0, d.H / 4, d.W / 4, d.c1, norm, Activation::kRelu);
    dev::conv_block_forward(u0, d.H / 2, d.W / 2, y1, g(kG2w), nullptr, g(kG2gamma), g(kG2beta),
                            b(kB2mean), b(kB2var), pre2, mean2, rstd2, y2, scratch);
    const ConvBlockParams u1 =
        block(true, n, d.c1, d.H / 2, d.W / 2, 1, ConvBlockNorm::kNone, Activation::kTanh);
    dev::conv_block_forward(u1, d.H, d.W, y2, g(kG3w), g(kG3b), nullptr, nullptr, nullptr, nullptr,
                            pre3, nullptr, nullptr, y3, scratch);
  }

  // D on n rows of x (no batch-dependent layer in the covered configuration): logits [n].
  void disc_forward(const float* x, int64_t n) {
    const ConvBlockParams c0 =
        block(false, n, 1, d.H, d.W, d.d0, ConvBlockNorm::kNone, Activation::kLeakyRelu);
    dev::conv_block_forward(c0, d.H / 2, d.W / 2, x, dpar(kD0w), dpar(kD0b), nullptr, nullptr,
                            nullptr, nullptr, pre4, nullptr, nullptr, y4, scratch);
    const ConvBlockParams c1 =
        block(false, n, d.d0, d.H / 2, d.W / 2, d.d1, ConvBlockNorm::kNone, Activation::kLeakyRelu);
    dev::conv_block_forward(c1, d.H / 4, d.W / 4, y4, dpar(kD1w), dpar(kD1b), nullptr, nullptr,
                            nullptr, nullptr, pre5, nullptr, nullptr, y5, scratch);
    gemm(false, true, n, 1, d.F, y5, dpar(kD2w), logits);
    dev::bias_activation_forward(Activation::kIdentity, logits, dpar(kD2b), logits, n, 1, 1, 0.0f);
  }

  // D's backward from dlogit [n] (overwritten): D's gradients; dx [n, P] into dfake when
  // want_dx (the first conv's input gradient, needed only for the generator).
  void disc_backward(const float* x, int64_t n, bool want_dx) {
    // dense: dpre = dlogit (identity), dW = dpre^T y5, db = sum dpre, dx = dpre W
    dev::bias_activation_backward(Activation::kIdentity, logits, dlogit, dlogit, dgrad(kD2b), n, 1,
                                  1, 0.0f);
    gemm(true, false, 1, d.F, n, dlogit, y5, dgrad(kD2w));
    gemm(false, false, n, d.F, 1, dlogit, dpar(kD2w), d5);
    const ConvBlockParams c1 =
        block(false, n, d.d0, d.H / 2, d.W / 2, d.d1, ConvBlockNorm::kNone, Activation::kLeakyRelu);
    dev::conv_block_backward(c1, d.H / 4, d.W / 4, y4, dpar(kD1w), nullptr, pre5, nullptr, nullptr,
                             y5, d5, d4, dgrad(kD1w), dgrad(kD1b), nullptr, nullptr, false,
                             scratch);
    const ConvBlockParams c0 =
        block(false, n, 1, d.H, d.W, d.d0, ConvBlockNorm::kNone, Activation::kLeakyRelu);
    dev::conv_block_backward(c0, d.H / 2, d.W / 2, x, dpar(kD0w), nullptr, pre4, nullptr, nullptr,
                             y4, d4, want_dx ? dfake : nullptr, dgrad(kD0w), dgrad(kD0b), nullptr,
                             nullptr, false, scratch);
  }

  // G's backward from dfake [n, P] (overwritten), with the activations of gen_forward(n, true).
  void gen_backward(int64_t n) {
    const ConvBlockParams u1 =
        block(true, n, d.c1, d.H / 2, d.W / 2, 1, ConvBlockNorm::kNone, Activation::kTanh);
    dev::conv_block_backward(u1, d.H, d.W, y2, g(kG3w), nullptr, pre3, nullptr, nullptr, y3, dfake,
                             dy2, gd(kG3w), gd(kG3b), nullptr, nullptr, false, scratch);
    const ConvBlockParams u0 =
        block(true, n, d.c0, d.H / 4, d.W / 4, d.c1, ConvBlockNorm::kTrain, Activation::kRelu);
    dev::conv_block_backward(u0, d.H / 2, d.W / 2, y1, g(kG2w), g(kG2gamma), pre2, mean2, rstd2, y2,
                             dy2, dy1, gd(kG2w), nullptr, gd(kG2gamma), gd(kG2beta), false,
                             scratch);
    // NormAct: dz = relu'(from y1) dy1, then the batch norm's backward into dy1 (dx may be dy)
    dev::bias_activation_backward(Activation::kRelu, y1, dy1, dy1, nullptr, n, d.A, 1, 0.0f);
    dev::batchnorm_backward(h0, dy1, g(kG1gamma), mean1, rstd1, dy1, gd(kG1gamma), gd(kG1beta), n,
                            d.c0, d.s, scratch);
    // dense (first layer: no dx): dpre = dh0, db0 = sum dpre, dW0 = dpre^T z
    dev::bias_activation_backward(Activation::kIdentity, h0, dy1, dy1, gd(kG0b), n, d.A, 1, 0.0f);
    gemm(true, false, d.A, d.Z, n, dy1, z, gd(kG0w));
  }

  // Squared gradient norm of one network into scalars[slot] (device).
  void grad_norm2(const std::vector<DcganTensor>& t, const std::vector<int64_t>& o, float* grads,
                  int slot) {
    std::vector<const float*> arrays(t.size());
    std::vector<int64_t> sizes(t.size());
    for (size_t i = 0; i < t.size(); ++i) {
      arrays[i] = grads + o[i];
      sizes[i] = t[i].size;
    }
    dev::sum_squares(arrays.data(), sizes.data(), static_cast<int64_t>(t.size()), partial,
                     scalars + slot);
  }

  // lib/nn/adam.ts's update after a finite norm: the step counter, then adamStep per tensor.
  void adam(const std::vector<DcganTensor>& t, const std::vector<int64_t>& o, float* p, float* gr,
            float* m, float* v, int64_t* step, double lr, const DcganStepOptions& opts) {
    ++*step;
    AdamConfig cfg;
    cfg.lr = lr;
    cfg.beta1 = opts.beta1;
    cfg.beta2 = opts.beta2;
    cfg.eps = opts.eps;
    cfg.bias_correction1 = 1.0 - std::pow(opts.beta1, static_cast<double>(*step));
    cfg.bias_correction2 = 1.0 - std::pow(opts.beta2, static_cast<double>(*step));
    adam_check(cfg);
    for (size_t i = 0; i < t.size(); ++i) {
      dev::adam_step(p + o[i], gr + o[i], m + o[i], v + o[i], t[i].size, cfg);
    }
  }
};

std::vector<DcganTensor> dcgan_gen_tensors(const DcganSpec& spec) {
  check_spec(spec);
  return gen_tensors(dims_of(spec));
}

std::vector<DcganTensor> dcgan_disc_tensors(const DcganSpec& spec) {
  check_spec(spec);
  return disc_tensors(dims_of(spec));
}

std::vector<DcganTensor> dcgan_gen_buffer_tensors(const DcganSpec& spec) {
  check_spec(spec);
  return buffer_tensors(dims_of(spec));
}

DcganDeviceModel* dcgan_upload(const DcganSpec& spec, const DcganState& st) {
  check_spec(spec);
  if (spec.disc_norm || spec.disc_stddev) {
    throw KernelError("E_BACKEND",
                      "the CUDA DCGAN trainer covers the default discriminator only (discNorm "
                      "false, discStddev false); use backend 'native' for this configuration");
  }
  if (st.gen_params == nullptr || st.disc_params == nullptr || st.gen_buffers == nullptr) {
    throw KernelError("E_ARG", "dcgan_upload: null parameter or buffer array");
  }
  if (st.gen_step < 0 || st.disc_step < 0)
    throw KernelError("E_ARG", "dcgan_upload: negative step");
  require_device();
  auto model = std::make_unique<DcganDeviceModel>();
  DcganDeviceModel& M = *model;
  M.spec = spec;
  M.d = dims_of(spec);
  M.gt = gen_tensors(M.d);
  M.dt = disc_tensors(M.d);
  M.bt = buffer_tensors(M.d);
  M.go = offsets(M.gt);
  M.dof = offsets(M.dt);
  M.bo = offsets(M.bt);
  M.ng = total_size(M.gt);
  M.nd = total_size(M.dt);
  M.nb = total_size(M.bt);
  M.gen_step = st.gen_step;
  M.disc_step = st.disc_step;
  const int64_t floats = 4 * M.ng + 4 * M.nd + M.nb;
  M.arena = std::make_unique<DeviceBuffer<float>>(static_cast<size_t>(floats));
  M.arena_bytes = std::make_unique<ResidentBytes>(sizeof(float) * floats);
  float* at = M.arena->get();
  M.gp = at;
  M.gg = M.gp + M.ng;
  M.gm = M.gg + M.ng;
  M.gv = M.gm + M.ng;
  M.dp = M.gv + M.ng;
  M.dg = M.dp + M.nd;
  M.dm = M.dg + M.nd;
  M.dv = M.dm + M.nd;
  M.buf = M.dv + M.nd;
  check(cudaMemset(M.arena->get(), 0, sizeof(float) * floats), "cudaMemset");
  up(M.gp, st.gen_params, M.ng);
  up(M.dp, st.disc_params, M.nd);
  up(M.buf, st.gen_buffers, M.nb);
  if (st.gen_m != nullptr) up(M.gm, st.gen_m, M.ng);
  if (st.gen_v != nullptr) up(M.gv, st.gen_v, M.ng);
  if (st.disc_m != nullptr) up(M.dm, st.disc_m, M.nd);
  if (st.disc_v != nullptr) up(M.dv, st.disc_v, M.nd);
  return model.release();
}

void dcgan_release(DcganDeviceModel* m) noexcept { delete m; }

DcganStepResult dcgan_step(DcganDeviceModel* model, const float* real, const float* z, int64_t m,
                           const DcganStepOptions& opts) {
  const char* fn = "dcgan_step";
  if (model == nullptr) throw KernelError("E_ARG", std::string(fn) + ": released model");
  if (m < 2)
    throw KernelError("E_SHAPE", std::string(fn) + ": a batch needs at least 2 rows (batch norm)");
  if (m > (int64_t{1} << 20)) throw KernelError("E_ARG", std::string(fn) + ": batch too large");
  if (real == nullptr || z == nullptr) throw KernelError("E_ARG", std::string(fn) + ": null array");
  // The Adam settings are checked up front (bias corrections of step 1 stand in), so a bad
  // option never leaves a half-done step.
  for (double lr : {opts.gen_lr, opts.disc_lr}) {
    AdamConfig c;
    c.lr = lr;
    c.beta1 = opts.beta1;
    c.beta2 = opts.beta2;
    c.eps = opts.eps;
    c.bias_correction1 = 1.0 - opts.beta1;
    c.bias_correction2 = 1.0 - opts.beta2;
    adam_check(c);
  }
  DcganDeviceModel& M = *model;
  const Dims& d = M.d;
  M.grow(m);
  const int64_t m2 = 2 * m;
  DcganStepResult r;
  // 1. G(z) in training mode; D on [real; G(z)]
  up(M.z, z, m * d.Z);
  M.gen_forward(m, true);
  up(M.xb, real, m * d.P);
  check(cudaMemcpyAsync(M.xb + m * d.P, M.y3, sizeof(float) * m * d.P, cudaMemcpyDeviceToDevice),
        "cudaMemcpy");
  fill(M.labels, m, 1.0f);
  fill(M.labels + m, m, 0.0f);
  M.disc_forward(M.xb, m2);
  dev::bce_with_logits_backward(M.dlogit, M.logits, M.labels, m2, 1, 1.0 / static_cast<double>(m2),
                                nullptr);
  dev::bce_with_logits_forward(nullptr, M.logits, M.labels, m2, 1, M.row_sums,
                               M.scalars + DcganDeviceModel::kDiscLoss);
  sigmoid_sums_kernel<<<1, 1>>>(M.logits, m, M.scalars + DcganDeviceModel::kDReal);
  check(cudaGetLastError(), "sigmoid sums launch");
  M.disc_backward(M.xb, m2, false);
  M.grad_norm2(M.dt, M.dof, M.dg, DcganDeviceModel::kDiscNorm2);
  double s[DcganDeviceModel::kScalarCount];
  check(cudaMemcpy(s, M.scalars, sizeof(double) * 4, cudaMemcpyDeviceToHost), fn);
  r.disc_loss_sum = s[DcganDeviceModel::kDiscLoss];
  r.d_real_sum = s[DcganDeviceModel::kDReal];
  r.d_fake_sum = s[DcganDeviceModel::kDFake];
  r.disc_grad_norm = std::sqrt(s[DcganDeviceModel::kDiscNorm2]);
  if (std::isfinite(r.disc_grad_norm)) {
    M.adam(M.dt, M.dof, M.dp, M.dg, M.dm, M.dv, &M.disc_step, opts.disc_lr, opts);
    r.disc_updated = true;
  }
  if (!opts.update_generator) {
    check(cudaDeviceSynchronize(), fn);  // kernel faults surface here, not in a later call
    return r;
  }
  // 2. the generator through the updated D, on the same G(z) (still in y3)
  M.disc_forward(M.y3, m);
  fill(M.labels, m, opts.minimax ? 0.0f : 1.0f);
  dev::bce_with_logits_forward(nullptr, M.logits, M.labels, m, 1, M.row_sums,
                               M.scalars + DcganDeviceModel::kGenLoss);
  dev::bce_with_logits_backward(M.dlogit, M.logits, M.labels, m, 1,
                                (opts.minimax ? -1.0 : 1.0) / static_cast<double>(m), nullptr);
  M.disc_backward(M.y3, m, true);  // D's gradients are overwritten and not used
  M.gen_backward(m);
  M.grad_norm2(M.gt, M.go, M.gg, DcganDeviceModel::kGenNorm2);
  check(cudaMemcpy(s + DcganDeviceModel::kGenNorm2, M.scalars + DcganDeviceModel::kGenNorm2,
                   sizeof(double) * 2, cudaMemcpyDeviceToHost),
        fn);
  const double bce = s[DcganDeviceModel::kGenLoss] / static_cast<double>(m);
  r.gen_loss = opts.minimax ? -bce : bce;
  r.gen_grad_norm = std::sqrt(s[DcganDeviceModel::kGenNorm2]);
  if (std::isfinite(r.gen_grad_norm)) {
    M.adam(M.gt, M.go, M.gp, M.gg, M.gm, M.gv, &M.gen_step, opts.gen_lr, opts);
    r.gen_updated = true;
  }
  check(cudaDeviceSynchronize(), fn);
  return r;
}

void dcgan_generate(DcganDeviceModel* model, const float* z, int64_t n, float* out) {
  const char* fn = "dcgan_generate";
  if (model == nullptr) throw KernelError("E_ARG", std::string(fn) + ": released model");
  if (n < 0 || n > (int64_t{1} << 20))
    throw KernelError("E_ARG", std::string(fn) + ": bad row count");
  if (n == 0) return;
  if (z == nullptr || out == nullptr) throw KernelError("E_ARG", std::string(fn) + ": null array");
  DcganDeviceModel& M = *model;
  M.grow(n);
  up(M.z, z, n * M.d.Z);
  M.gen_forward(n, false);
  check(cudaMemcpy(out, M.y3, sizeof(float) * n * M.d.P, cudaMemcpyDeviceToHost), fn);
}

void dcgan_download(DcganDeviceModel* model, float* gen_params, float* disc_params,
                    float* gen_buffers, float* gen_m, float* gen_v, float* disc_m, float* disc_v,
                    int64_t* gen_step, int64_t* disc_step) {
  if (model == nullptr) throw KernelError("E_ARG", "dcgan_download: released model");
  DcganDeviceModel& M = *model;
  down(gen_params, M.gp, M.ng);
  down(disc_params, M.dp, M.nd);
  down(gen_buffers, M.buf, M.nb);
  down(gen_m, M.gm, M.ng);
  down(gen_v, M.gv, M.ng);
  down(disc_m, M.dm, M.nd);
  down(disc_v, M.dv, M.nd);
  if (gen_step != nullptr) *gen_step = M.gen_step;
  if (disc_step != nullptr) *disc_step = M.disc_step;
}

}  // namespace cuda
}  // namespace deepgen
