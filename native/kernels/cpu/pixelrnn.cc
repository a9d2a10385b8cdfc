// Batched PixelRNN log-likelihood and gradients (see pixelrnn.h for the network).
//
// Samples are processed in blocks of kPixelRnnBlock; inside a block every activation is
// stored position-major ([position, sample, channel]) so that one step of a direction (a row
// or a diagonal, for all samples of the block) is a contiguous run of rows: its input-to-
// state products for all cells are ONE gemm up front, its state-to-state product one gemm per
// step, then the fused LSTM gate kernel. Backward walks the steps in reverse (BPTT) with the
// transposed gemms. Blocks run in parallel (one thread each, single-threaded gemms) with
// per-block gradient buffers summed in a fixed order: results do not depend on thread count.
#include "pixelrnn.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/scratch.h"
#include "gemm.h"
#include "lstm_gates.h"
#include "pixelrnn_plan.h"
#include "sample_blocks.h"

namespace deepgen {

namespace {

constexpr int64_t kPixelRnnBlock = 16;

}  // namespace

std::vector<PixelRnnDirection> pixelrnn_directions(PixelRnnKind kind) {
  if (kind == PixelRnnKind::kRowLstm) {
    PixelRnnDirection d;
    d.nis = 2;
    d.is_dr[0] = 0, d.is_dc[0] = -1, d.is_dr[1] = 0, d.is_dc[1] = 0;
    d.nss = 3;
    d.ss_dr[0] = -1, d.ss_dc[0] = -1, d.ss_dr[1] = -1, d.ss_dc[1] = 0, d.ss_dr[2] = -1,
    d.ss_dc[2] = 1;
    d.cp_dr = -1, d.cp_dc = 0;
    return {d};
  }
  PixelRnnDirection f;
  f.nis = 1;
  f.nss = 2;
  f.ss_dr[0] = -1, f.ss_dc[0] = 0, f.ss_dr[1] = 0, f.ss_dc[1] = -1;
  f.cp_dr = 0, f.cp_dc = -1;
  PixelRnnDirection r = f;
  r.ss_dc[1] = 1;
  r.cp_dc = 1;
  r.shift = 1;
  return {f, r};
}

PixelRnnLayout pixelrnn_layout(const PixelRnnSpec& s) {
  const int64_t h = s.hidden;
  PixelRnnLayout l;
  int64_t at = 0;
  l.in_w = at, at += kMaskATaps * h;
  l.in_b = at, at += h;
  const auto dirs = pixelrnn_directions(s.kind);
  for (int64_t layer = 0; layer < s.layers; ++layer) {
    for (const auto& d : dirs) {
      l.wis.push_back(at), at += d.nis * h * 4 * h;
      l.wss.push_back(at), at += d.nss * h * 4 * h;
      l.bias.push_back(at), at += 4 * h;
    }
  }
  l.out1_w = at, at += h * h;
  l.out1_b = at, at += h;
  l.out2_w = at, at += h;
  l.out2_b = at, at += 1;
  l.total = at;
  return l;
}

void pixelrnn_check(const PixelRnnSpec& s) {
  if (s.kind != PixelRnnKind::kRowLstm && s.kind != PixelRnnKind::kDiagBiLstm) {
    throw KernelError("E_ARG", "pixelrnn: kind must be 0 (Row LSTM) or 1 (Diagonal BiLSTM)");
  }
  if (s.layers < 1 || s.layers > 64)
    throw KernelError("E_ARG", "pixelrnn: layers must be in [1, 64]");
  if (s.hidden < 1 || s.hidden > 4096)
    throw KernelError("E_ARG", "pixelrnn: hidden must be in [1, 4096]");
  if (s.rows < 1 || s.cols < 1 || s.rows > 4096 || s.cols > 4096) {
    throw KernelError("E_ARG", "pixelrnn: rows and cols must be in [1, 4096]");
  }
  // Block buffers hold [D * block * 4H] floats, indexed with int64 but sized as vectors.
  if (s.rows * s.cols * s.hidden * 4 * kPixelRnnBlock > (int64_t{1} << 34)) {
    throw KernelError("E_ARG", "pixelrnn: image x hidden too large");
  }
  if (s.params == nullptr) throw KernelError("E_ARG", "pixelrnn: null parameters");
}

PixelRnnPlan make_pixelrnn_plan(const PixelRnnDirection& d, int64_t rows, int64_t cols) {
  PixelRnnPlan p;
  p.dir = d;
  p.rows = rows;
  p.cols = cols;
  const int64_t n = rows * cols;
  p.order.reserve(static_cast<size_t>(n));
  p.steps.push_back(0);
  if (d.cp_dr == -1) {  // Row LSTM: a row per step
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < cols; ++c) p.order.push_back(static_cast<int32_t>(r * cols + c));
      p.steps.push_back(static_cast<int32_t>(p.order.size()));
    }
  } else {  // a diagonal per step; mirrored columns for the right-to-left direction
    const bool mirror = d.cp_dc == 1;
    for (int64_t s = 0; s < rows + cols - 1; ++s) {
      for (int64_t r = std::max<int64_t>(0, s - cols + 1); r <= std::min(rows - 1, s); ++r) {
        const int64_t c = mirror ? cols - 1 - (s - r) : s - r;
        p.order.push_back(static_cast<int32_t>(r * cols + c));
      }
      p.steps.push_back(static_cast<int32_t>(p.order.size()));
    }
  }
  std::vector<int32_t> inv(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    inv[static_cast<size_t>(p.order[static_cast<size_t>(i)])] = static_cast<int32_t>(i);
  auto raster = [&](int64_t r, int64_t c) -> int32_t {
    return (r < 0 || r >= rows || c < 0 || c >= cols) ? -1 : static_cast<int32_t>(r * cols + c);
  };
  auto ordered = [&](int64_t r, int64_t c) -> int32_t {
    const int32_t q = raster(r, c);
    return q < 0 ? -1 : inv[static_cast<size_t>(q)];
  };
  p.ss.resize(static_cast<size_t>(n * d.nss));
  p.is.resize(static_cast<size_t>(n * d.nis));
  p.cp.resize(static_cast<size_t>(n));
  p.out.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t r = p.order[static_cast<size_t>(i)] / cols,
                  c = p.order[static_cast<size_t>(i)] % cols;
    for (int t = 0; t < d.nss; ++t)
      p.ss[static_cast<size_t>(i * d.nss + t)] = ordered(r + d.ss_dr[t], c + d.ss_dc[t]);
    for (int t = 0; t < d.nis; ++t)
      p.is[static_cast<size_t>(i * d.nis + t)] = raster(r + d.is_dr[t], c + d.is_dc[t]);
    p.cp[static_cast<size_t>(i)] = ordered(r + d.cp_dr, c + d.cp_dc);
    p.out[static_cast<size_t>(i)] = raster(r + d.shift, c);
  }
  return p;
}

namespace {

void gemm1(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b,
           float beta, float* c) {
  if (m == 0 || n == 0) return;
  sgemm(ta, tb, m, n, k, 1.0f, a, b, beta, c, 1);
}

void fill_rows(float* dst, const float* row, int64_t rows, int64_t width) {
  for (int64_t i = 0; i < rows; ++i) std::memcpy(dst + i * width, row, sizeof(float) * width);
}

void add_colsum(float* dst, const float* src, int64_t rows, int64_t width) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < width; ++j) dst[j] += src[i * width + j];
}

// Offsets rounded to 16 floats keep every array of a block's arena 64-byte aligned.
int64_t padded(int64_t v) { return (v + 15) / 16 * 16; }

// All activations of one block of nb samples, kept for the backward pass. They live in one
// arena lent by a pool (scratch.h) that keeps its pages between calls: a block of 16 images
// needs tens of MB, and allocating them afresh on every training step cost more in page faults
// and zeroing than the recurrence's arithmetic. Every array is fully written before it is read.
struct BlockNet {
  const PixelRnnSpec& s;
  const PixelRnnLayout& lay;
  const std::vector<PixelRnnPlan>& plans;
  int64_t nb, d, h, ndir;
  std::optional<PooledBuffer> arena;
  float* patches;          // [D*nb, 24] the image under the mask-A taps
  std::vector<float*> xs;  // L+1 maps [D*nb, H], raster
  std::vector<float*> hs, cs, gs,
      cps;             // per (layer, dir), ordered: h, c [D*nb, H], gates [D*nb, 4H], c_prev
  float *y1, *logits;  // [D*nb, H] post-ReLU, [D*nb]
  float *pre, *gather, *gather2;         // scratch
  float *dy, *dx, *dxn, *dh, *dc, *dcp;  // backward: [D*nb, H] each

  BlockNet(const PixelRnnSpec& spec, const PixelRnnLayout& l, const std::vector<PixelRnnPlan>& pl,
           int64_t n)
      : s(spec),
        lay(l),
        plans(pl),
        nb(n),
        d(spec.rows * spec.cols),
        h(spec.hidden),
        ndir(static_cast<int64_t>(pl.size())) {
    // One layout, laid out twice: first to count the arena's floats, then over the arena.
    int64_t total = 0;
    lay_out([&](int64_t size) -> float* {
      total += padded(size);
      return nullptr;
    });
    arena.emplace(PoolKind::kPixelRnnBlock, static_cast<size_t>(total));
    float* next = arena->data();
    lay_out([&](int64_t size) {
      float* p = next;
      next += padded(size);
      return p;
    });
  }

  // Points every array at take(its size), in a fixed order.
  template <typename Take>
  void lay_out(Take&& take) {
    const int64_t rows = d * nb;
    const int64_t nld = s.layers * ndir;
    xs.clear();
    hs.clear();
    cs.clear();
    cps.clear();
    gs.clear();
    patches = take(rows * kMaskATaps);
    for (int64_t i = 0; i <= s.layers; ++i) xs.push_back(take(rows * h));
    for (int64_t i = 0; i < nld; ++i) {
      hs.push_back(take(rows * h));
      cs.push_back(take(rows * h));
      cps.push_back(take(rows * h));
      gs.push_back(take(rows * 4 * h));
    }
    y1 = take(rows * h);
    logits = take(rows);
    pre = take(rows * 4 * h);
    gather = take(rows * 3 * h);
    gather2 = take(rows * 3 * h);
    dy = take(rows * h);
    dx = take(rows * h);
    dxn = take(rows * h);
    dh = take(rows * h);
    dc = take(rows * h);
    dcp = take(rows * h);
  }

  const float* P(int64_t off) const { return s.params + off; }

  // Input taps of every cell, ordered: [D*nb, nis*H].
  void gather_inputs(const PixelRnnPlan& pl, const float* x, float* out) const {
    const int nis = pl.dir.nis;
    for (int64_t i = 0; i < d; ++i)
      for (int64_t b = 0; b < nb; ++b)
        for (int t = 0; t < nis; ++t) {
          const int32_t q = pl.is[static_cast<size_t>(i * nis + t)];
          float* o = out + ((i * nb + b) * nis + t) * h;
          if (q < 0)
            std::memset(o, 0, sizeof(float) * h);
          else
            std::memcpy(o, x + (q * nb + b) * h, sizeof(float) * h);
        }
  }
  void scatter_inputs(const PixelRnnPlan& pl, const float* g, float* dx) const {
    const int nis = pl.dir.nis;
    for (int64_t i = 0; i < d; ++i)
      for (int64_t b = 0; b < nb; ++b)
        for (int t = 0; t < nis; ++t) {
          const int32_t q = pl.is[static_cast<size_t>(i * nis + t)];
          if (q < 0) continue;
          const float* src = g + ((i * nb + b) * nis + t) * h;
          float* o = dx + (q * nb + b) * h;
          for (int64_t k = 0; k < h; ++k) o[k] += src[k];
        }
  }
  // State taps of the cells of one step [p0, p1): [(p1-p0)*nb, nss*H].
  void gather_states(const PixelRnnPlan& pl, const float* hd, int64_t p0, int64_t p1,
                     float* out) const {
    const int nss = pl.dir.nss;
    for (int64_t i = p0; i < p1; ++i)
      for (int64_t b = 0; b < nb; ++b)
        for (int t = 0; t < nss; ++t) {
          const int32_t q = pl.ss[static_cast<size_t>(i * nss + t)];
          float* o = out + (((i - p0) * nb + b) * nss + t) * h;
          if (q < 0)
            std::memset(o, 0, sizeof(float) * h);
          else
            std::memcpy(o, hd + (q * nb + b) * h, sizeof(float) * h);
        }
  }

  void forward(const float* x) {
    const int64_t rows = d * nb;
    // x0: mask-A patches @ in_w + in_b
    for (int64_t p = 0; p < d; ++p) {
      const int64_t r = p / s.cols, c = p % s.cols;
      for (int64_t b = 0; b < nb; ++b) {
        float* o = patches + (p * nb + b) * kMaskATaps;
        for (int t = 0; t < kMaskATaps; ++t) {
          int dr, dc;
          pixelrnn_mask_a_tap(t, &dr, &dc);
          const int64_t rr = r + dr, cc = c + dc;
          const bool in = rr >= 0 && rr < s.rows && cc >= 0 && cc < s.cols;
          o[t] = (in && x[b * d + rr * s.cols + cc] > 0.5f) ? 1.0f : 0.0f;
        }
      }
    }
    fill_rows(xs[0], P(lay.in_b), rows, h);
    gemm1(false, false, rows, h, kMaskATaps, patches, P(lay.in_w), 1.0f, xs[0]);
    const bool simd = use_avx2_fma();
    for (int64_t l = 0; l < s.layers; ++l) {
      const float* xl = xs[static_cast<size_t>(l)];
      float* xn = xs[static_cast<size_t>(l + 1)];
      std::memcpy(xn, xl, sizeof(float) * rows * h);
      for (int64_t di = 0; di < ndir; ++di) {
        const PixelRnnPlan& pl = plans[static_cast<size_t>(di)];
        const size_t ld = static_cast<size_t>(l * ndir + di);
        float *hd = hs[ld], *cd = cs[ld], *gd = gs[ld], *cpd = cps[ld];
        gather_inputs(pl, xl, gather);
        fill_rows(pre, P(lay.bias[ld]), rows, 4 * h);
        gemm1(false, false, rows, 4 * h, pl.dir.nis * h, gather, P(lay.wis[ld]), 1.0f, pre);
        for (size_t st = 0; st + 1 < pl.steps.size(); ++st) {
          const int64_t p0 = pl.steps[st], p1 = pl.steps[st + 1], m = (p1 - p0) * nb;
          gather_states(pl, hd, p0, p1, gather2);
          gemm1(false, false, m, 4 * h, pl.dir.nss * h, gather2, P(lay.wss[ld]), 1.0f,
                pre + p0 * nb * 4 * h);
          for (int64_t i = p0; i < p1; ++i) {
            const int32_t q = pl.cp[static_cast<size_t>(i)];
            float* o = cpd + i * nb * h;
            if (q < 0)
              std::memset(o, 0, sizeof(float) * nb * h);
            else
              std::memcpy(o, cd + q * nb * h, sizeof(float) * nb * h);
          }
          const int64_t off = p0 * nb;
          if (simd)
            lstm_gates_forward_avx2(hd + off * h, cd + off * h, gd + off * 4 * h, pre + off * 4 * h,
                                    cpd + off * h, h, 0, m);
          else
            lstm_gates_forward_plain(hd + off * h, cd + off * h, gd + off * 4 * h,
                                     pre + off * 4 * h, cpd + off * h, h, 0, m);
        }
        for (int64_t i = 0; i < d; ++i) {
          const int32_t q = pl.out[static_cast<size_t>(i)];
          if (q < 0) continue;
          for (int64_t j = 0; j < nb * h; ++j) xn[q * nb * h + j] += hd[i * nb * h + j];
        }
      }
    }
    const float* xl = xs[static_cast<size_t>(s.layers)];
    fill_rows(y1, P(lay.out1_b), rows, h);
    gemm1(false, false, rows, h, h, xl, P(lay.out1_w), 1.0f, y1);
    const float* w2 = P(lay.out2_w);
    const float b2 = *P(lay.out2_b);
    for (int64_t i = 0; i < rows; ++i) {
      float* y = y1 + i * h;
      float acc = 0.0f;
      for (int64_t j = 0; j < h; ++j) {
        y[j] = std::max(y[j], 0.0f);
        acc += y[j] * w2[j];
      }
      logits[i] = acc + b2;
    }
  }

  void log_prob(const float* x, float* logp) const {
    for (int64_t b = 0; b < nb; ++b) {
      double total = 0.0;
      for (int64_t p = 0; p < d; ++p) {
        const float l = logits[p * nb + b];
        const float z = x[b * d + p] > 0.5f ? -l : l;
        total -= std::max(z, 0.0f) + std::log1p(std::exp(-std::fabs(z)));
      }
      logp[b] = static_cast<float>(total);
    }
  }

  // Adds the gradients of scale * sum -log p to g (same layout as the parameters).
  void backward(const float* x, float scale, float* g) {
    const int64_t rows = d * nb;
    const float* w2 = P(lay.out2_w);
    float* gw2 = g + lay.out2_w;
    double db2 = 0.0;
    for (int64_t p = 0; p < d; ++p)
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t i = p * nb + b;
        const float l = logits[i];
        const float dl = scale * (pixelrnn_sigmoid(l) - (x[b * d + p] > 0.5f ? 1.0f : 0.0f));
        db2 += dl;
        const float* y = y1 + i * h;
        float* dyi = dy + i * h;
        for (int64_t j = 0; j < h; ++j) {
          gw2[j] += y[j] * dl;
          dyi[j] = y[j] > 0.0f ? dl * w2[j] : 0.0f;
        }
      }
    g[lay.out2_b] += static_cast<float>(db2);
    const float* xl = xs[static_cast<size_t>(s.layers)];
    gemm1(true, false, h, h, rows, xl, dy, 1.0f, g + lay.out1_w);
    add_colsum(g + lay.out1_b, dy, rows, h);
    gemm1(false, true, rows, h, h, dy, P(lay.out1_w), 0.0f, dxn);
    const bool simd = use_avx2_fma();
    for (int64_t l = s.layers - 1; l >= 0; --l) {
      std::memcpy(dx, dxn, sizeof(float) * rows * h);  // the residual path
      for (int64_t di = 0; di < ndir; ++di) {
        const PixelRnnPlan& pl = plans[static_cast<size_t>(di)];
        const size_t ld = static_cast<size_t>(l * ndir + di);
        const float *hd = hs[ld], *cd = cs[ld], *gd = gs[ld], *cpd = cps[ld];
        for (int64_t i = 0; i < d; ++i) {
          const int32_t q = pl.out[static_cast<size_t>(i)];
          float* o = dh + i * nb * h;
          if (q < 0)
            std::memset(o, 0, sizeof(float) * nb * h);
          else
            std::memcpy(o, dxn + q * nb * h, sizeof(float) * nb * h);
        }
        std::fill(dc, dc + rows * h, 0.0f);
        const int nss = pl.dir.nss;
        const float* wss = P(lay.wss[ld]);
        for (size_t st = pl.steps.size() - 1; st-- > 0;) {
          const int64_t p0 = pl.steps[st], p1 = pl.steps[st + 1], m = (p1 - p0) * nb, off = p0 * nb;
          float* dp = pre + off * 4 * h;
          if (simd)
            lstm_gates_backward_avx2(dp, dcp, dh + off * h, dc + off * h, gd + off * 4 * h,
                                     cpd + off * h, cd + off * h, h, 0, m);
          else
            lstm_gates_backward_plain(dp, dcp, dh + off * h, dc + off * h, gd + off * 4 * h,
                                      cpd + off * h, cd + off * h, h, 0, m);
          gather_states(pl, hd, p0, p1, gather2);
          gemm1(true, false, nss * h, 4 * h, m, gather2, dp, 1.0f, g + lay.wss[ld]);
          gemm1(false, true, m, nss * h, 4 * h, dp, wss, 0.0f, gather);
          for (int64_t i = p0; i < p1; ++i) {
            for (int t = 0; t < nss; ++t) {
              const int32_t q = pl.ss[static_cast<size_t>(i * nss + t)];
              if (q < 0) continue;
              for (int64_t b = 0; b < nb; ++b) {
                const float* src = gather + (((i - p0) * nb + b) * nss + t) * h;
                float* o = dh + (q * nb + b) * h;
                for (int64_t k = 0; k < h; ++k) o[k] += src[k];
              }
            }
            const int32_t q = pl.cp[static_cast<size_t>(i)];
            if (q < 0) continue;
            const float* src = dcp + (i - p0) * nb * h;
            float* o = dc + q * nb * h;
            for (int64_t k = 0; k < nb * h; ++k) o[k] += src[k];
          }
        }
        add_colsum(g + lay.bias[ld], pre, rows, 4 * h);
        gather_inputs(pl, xs[static_cast<size_t>(l)], gather2);
        gemm1(true, false, pl.dir.nis * h, 4 * h, rows, gather2, pre, 1.0f, g + lay.wis[ld]);
        gemm1(false, true, rows, pl.dir.nis * h, 4 * h, pre, P(lay.wis[ld]), 0.0f, gather);
        scatter_inputs(pl, gather, dx);
      }
      std::swap(dxn, dx);
    }
    gemm1(true, false, kMaskATaps, h, rows, patches, dxn, 1.0f, g + lay.in_w);
    add_colsum(g + lay.in_b, dxn, rows, h);
  }
};

std::vector<PixelRnnPlan> make_plans(const PixelRnnSpec& s) {
  std::vector<PixelRnnPlan> plans;
  for (const auto& d : pixelrnn_directions(s.kind))
    plans.push_back(make_pixelrnn_plan(d, s.rows, s.cols));
  return plans;
}

}  // namespace

void pixelrnn_log_prob(const PixelRnnSpec& s, const float* x, int64_t n, float* logp,
                       const JobHooks& hooks) {
  pixelrnn_check(s);
  const PixelRnnLayout lay = pixelrnn_layout(s);
  const auto plans = make_plans(s);
  const int64_t d = s.rows * s.cols;
  for_sample_blocks(n, kPixelRnnBlock, hooks, [&](int64_t first, int64_t count) {
    BlockNet net(s, lay, plans, count);
    net.forward(x + first * d);
    net.log_prob(x + first * d, logp + first);
  });
}

void pixelrnn_backward(const PixelRnnSpec& s, const float* x, int64_t n, float scale, float* logp,
                       float* grads, const JobHooks& hooks) {
  pixelrnn_check(s);
  const PixelRnnLayout lay = pixelrnn_layout(s);
  const auto plans = make_plans(s);
  const int64_t d = s.rows * s.cols;
  for_sample_blocks_with_grads(n, kPixelRnnBlock, {{grads, lay.total}}, hooks,
                               [&](int64_t first, int64_t count, float* g) {
                                 BlockNet net(s, lay, plans, count);
                                 net.forward(x + first * d);
                                 if (logp != nullptr) net.log_prob(x + first * d, logp + first);
                                 net.backward(x + first * d, scale, g);
                               });
}

}  // namespace deepgen
