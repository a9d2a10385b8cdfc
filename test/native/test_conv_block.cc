// Conv blocks (conv / convT + batch norm + activation): the fused kernels against their
// unfused composition, thread-count independence, errors.
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "../../native/common/errors.h"
#include "../../native/common/philox.h"
#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/conv_block.h"
#include "check.h"

using namespace deepgen;

namespace {

std::vector<float> rnd(int64_t n, uint32_t seed, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const PhiloxBlock b = philox4x32_10(static_cast<uint32_t>(i), 0, seed, 0, 7, 3);
    v[static_cast<size_t>(i)] = lo + (hi - lo) * philox_uniform_f32(b.v[0]);
  }
  return v;
}

double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::fabs(static_cast<double>(a[i]) - b[i]) / std::fmax(1.0, std::fabs(b[i]));
    m = std::isnan(d) ? INFINITY : std::fmax(m, d);
  }
  return a.size() == b.size() ? m : INFINITY;
}

struct BlockRun {
  std::vector<float> pre, y, mean, rstd, rm, rv, dy, dx, dw, db, dg, dbeta;
};

BlockRun run(const ConvBlockParams& p, bool fused, uint32_t seed) {
  const int64_t xs = conv_block_x_size(p), ws = conv_block_weight_size(p);
  const int64_t ys = conv_block_y_size(p), C = p.out_c;
  const std::vector<float> x = rnd(xs, seed, -1, 1), w = rnd(ws, seed + 1, -0.3f, 0.3f);
  const std::vector<float> bias = rnd(C, seed + 2, -0.5f, 0.5f),
                           gamma = rnd(C, seed + 3, 0.5f, 1.5f);
  const std::vector<float> beta = rnd(C, seed + 4, -0.5f, 0.5f);
  BlockRun r;
  r.pre.resize(ys);
  r.y.resize(ys);
  r.mean.resize(C);
  r.rstd.resize(C);
  r.rm = rnd(C, seed + 5, -0.2f, 0.2f);
  r.rv = rnd(C, seed + 6, 0.5f, 2.0f);
  r.dy = rnd(ys, seed + 7, -1, 1);
  r.dx.resize(xs);
  r.dw.assign(ws, 0.25f);
  r.db.assign(C, 0.5f);
  r.dg.assign(C, -0.5f);
  r.dbeta.assign(C, 1.0f);
  auto fwd = fused ? conv_block_forward : conv_block_forward_unfused;
  auto bwd = fused ? conv_block_backward : conv_block_backward_unfused;
  fwd(p, x.data(), w.data(), bias.data(), gamma.data(), beta.data(), r.rm.data(), r.rv.data(),
      r.pre.data(), r.mean.data(), r.rstd.data(), r.y.data());
  if (p.norm != ConvBlockNorm::kEval) {
    bwd(p, x.data(), w.data(), gamma.data(), r.pre.data(), r.mean.data(), r.rstd.data(), r.y.data(),
        r.dy.data(), r.dx.data(), r.dw.data(), r.db.data(), r.dg.data(), r.dbeta.data(), true);
  }
  return r;
}

ConvBlockParams block(bool transposed, int64_t n, int64_t ci, int64_t h, int64_t w, int64_t co,
                      int64_t k, int64_t s, int64_t pad, ConvBlockNorm norm, Activation act) {
  ConvBlockParams p;
  p.transposed = transposed;
  p.batch = n;
  p.in_c = ci;
  p.in_h = h;
  p.in_w = w;
  p.out_c = co;
  p.k_h = p.k_w = k;
  p.stride_h = p.stride_w = s;
  p.pad_h = p.pad_w = pad;
  p.norm = norm;
  p.activation = act;
  p.slope = 0.2f;
  return p;
}

std::vector<ConvBlockParams> cases() {
  std::vector<ConvBlockParams> v;
  const ConvBlockNorm norms[] = {ConvBlockNorm::kTrain, ConvBlockNorm::kNone, ConvBlockNorm::kEval};
  const Activation acts[] = {Activation::kRelu, Activation::kLeakyRelu, Activation::kTanh};
  for (int i = 0; i < 3; ++i) {
    v.push_back(block(true, 5, 16, 7, 7, 9, 4, 2, 1, norms[i], acts[i]));
    v.push_back(block(false, 3, 5, 14, 13, 11, 4, 2, 1, norms[(i + 1) % 3], acts[i]));
    v.push_back(
        block(false, 6, 3, 4, 4, 5, 4, 1, 0, norms[(i + 2) % 3], acts[(i + 1) % 3]));  // 1x1
  }
  return v;
}

bool same(const BlockRun& a, const BlockRun& b) {
  return a.y == b.y && a.pre == b.pre && a.rm == b.rm && a.rv == b.rv && a.dy == b.dy &&
         a.dx == b.dx && a.dw == b.dw && a.db == b.db && a.dg == b.dg && a.dbeta == b.dbeta;
}

}  // namespace

TEST(conv_block_fused_matches_composition) {
  uint32_t seed = 10;
  for (const ConvBlockParams& p : cases()) {
    const BlockRun a = run(p, true, seed), b = run(p, false, seed);
    seed += 10;
    CHECK(rel_diff(a.y, b.y) <= 1e-6);
    CHECK(rel_diff(a.pre, b.pre) == 0.0);
    CHECK(rel_diff(a.rm, b.rm) <= 1e-6);
    CHECK(rel_diff(a.rv, b.rv) <= 1e-6);
    CHECK(rel_diff(a.dy, b.dy) <= 1e-5);
    CHECK(rel_diff(a.dx, b.dx) <= 1e-5);
    CHECK(rel_diff(a.dw, b.dw) <= 1e-5);
    CHECK(rel_diff(a.db, b.db) <= 1e-5);
    CHECK(rel_diff(a.dg, b.dg) <= 1e-5);
    CHECK(rel_diff(a.dbeta, b.dbeta) <= 1e-5);
  }
}

TEST(conv_block_independent_of_threads) {
  uint32_t seed = 300;
  for (const ConvBlockParams& p : cases()) {
    set_thread_limit(1);
    const BlockRun one = run(p, true, seed);
    set_thread_limit(4);
    const BlockRun four = run(p, true, seed);
    CHECK(same(one, four));
    seed += 10;
  }
  set_thread_limit(default_thread_limit());
}

TEST(conv_block_errors) {
  auto code_of = [](const ConvBlockParams& p) -> std::string {
    try {
      conv_block_check(p, nullptr, nullptr);
    } catch (const KernelError& e) {
      return e.code();
    }
    return "";
  };
  ConvBlockParams ok =
      block(true, 2, 3, 3, 3, 2, 4, 2, 1, ConvBlockNorm::kTrain, Activation::kRelu);
  CHECK(code_of(ok).empty());
  ConvBlockParams p = ok;
  p.batch = 1;
  p.in_h = p.in_w = 1;
  p.k_h = p.k_w = 1;
  p.stride_h = p.stride_w = 1;
  p.pad_h = p.pad_w = 0;
  CHECK(code_of(p) == "E_SHAPE");  // one value per channel in training
  p.norm = ConvBlockNorm::kEval;
  CHECK(code_of(p).empty());
  p = ok;
  p.activation = static_cast<Activation>(9);
  CHECK(code_of(p) == "E_ARG");
  p = ok;
  p.norm = static_cast<ConvBlockNorm>(3);
  CHECK(code_of(p) == "E_ARG");
  p = ok;
  p.eps = 0;
  CHECK(code_of(p) == "E_ARG");
  p = ok;
  p.momentum = NAN;
  CHECK(code_of(p) == "E_ARG");
  p = ok;
  p.transposed = false;
  p.out_pad_h = 1;
  CHECK(code_of(p) == "E_ARG");
  p = ok;
  p.norm = ConvBlockNorm::kEval;
  std::vector<float> buf(4096);
  float* b = buf.data();
  CHECK_THROWS(conv_block_backward(p, b, b, b, b, b, b, b, b, b, b, b, b, b, false));
  p = ok;
  CHECK_THROWS(conv_block_forward(p, b, b, nullptr, nullptr, b, b, b, b, b, b, b));  // no gamma
}
