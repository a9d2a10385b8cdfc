// PixelRNN sampling, one image at a time in plain loops (see pixelrnn.h).
//
// SampleNet computes single cells: x0 at a pixel, one LSTM cell of one direction, the
// residual sum at a pixel, the output logit at a pixel. Each reads only its inputs, always in
// the same order, so a value is bit-identical whenever it is computed from the same inputs.
//
// Cached sampler (linear time). At pixel (r, c), before drawing it:
//   x0(r, c)                          reads pixels before (r, c) only (mask A)
//   per layer: the cells of the "same-row" directions at (r, c) (Row LSTM: reads x_l at
//     (r, c-1), (r, c) and h of row r-1; Diagonal BiLSTM left-to-right: x_l(r, c), h at
//     (r-1, c) and (r, c-1)), then x_l+1(r, c) = x_l(r, c) + h(r, c) [+ h_rl(r-1, c)]
//   logit(r, c), then draw.
// After row r is complete: per layer in order, the right-to-left cells of row r (they read
// x_l over the whole row r), needed from row r+1 on because of the one-row shift.
// Every cell of every layer is computed exactly once: O(R W L H^2) per image, against
// O((R W)^2 L H^2) for the naive sampler that reruns the whole network for every pixel.
// By causality the cells the cached sampler reads have the same inputs as in the full pass,
// hence the same bits: both samplers draw the same image.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/philox.h"
#include "pixelrnn.h"
#include "pixelrnn_plan.h"
#include "sample_blocks.h"
#include "vmath.h"

namespace deepgen {

void pixelrnn_matvec_acc_plain(float* out, const float* v, const float* w, int64_t m, int64_t n) {
  for (int64_t k = 0; k < m; ++k) {
    const float vk = v[k];
    const float* wr = w + k * n;
    for (int64_t j = 0; j < n; ++j) out[j] += vk * wr[j];
  }
}

namespace {

using Vec = std::vector<float>;

struct SampleNet {
  const PixelRnnSpec& s;
  const PixelRnnLayout& lay;
  const std::vector<PixelRnnPlan>& plans;
  int64_t d, h, ndir;
  Vec pix;                  // [D] 0/1
  std::vector<Vec> xs;      // L+1 of [D, H]
  std::vector<Vec> hs, cs;  // per (layer, dir) [D, H], raster
  Vec pre, gates, tc, y;
  const bool simd = use_avx2_fma();

  SampleNet(const PixelRnnSpec& spec, const PixelRnnLayout& l, const std::vector<PixelRnnPlan>& pl)
      : s(spec),
        lay(l),
        plans(pl),
        d(spec.rows * spec.cols),
        h(spec.hidden),
        ndir(static_cast<int64_t>(pl.size())) {
    pix.assign(static_cast<size_t>(d), 0.0f);
    xs.assign(static_cast<size_t>(s.layers + 1), Vec(static_cast<size_t>(d * h)));
    hs.assign(static_cast<size_t>(s.layers * ndir), Vec(static_cast<size_t>(d * h)));
    cs.assign(static_cast<size_t>(s.layers * ndir), Vec(static_cast<size_t>(d * h)));
    pre.resize(static_cast<size_t>(4 * h));
    gates.resize(static_cast<size_t>(4 * h));
    tc.resize(static_cast<size_t>(h));
    y.resize(static_cast<size_t>(h));
  }
  const float* P(int64_t off) const { return s.params + off; }
  bool inside(int64_t r, int64_t c) const { return r >= 0 && r < s.rows && c >= 0 && c < s.cols; }

  void x0(int64_t p) {
    const int64_t r = p / s.cols, c = p % s.cols;
    float* o = xs[0].data() + p * h;
    std::memcpy(o, P(lay.in_b), sizeof(float) * h);
    const float* w = P(lay.in_w);
    for (int t = 0; t < kMaskATaps; ++t) {
      int dr, dc;
      pixelrnn_mask_a_tap(t, &dr, &dc);
      if (!inside(r + dr, c + dc) || !(pix[static_cast<size_t>((r + dr) * s.cols + c + dc)] > 0.5f))
        continue;
      for (int64_t j = 0; j < h; ++j) o[j] += w[t * h + j];  // exact 0/1 inputs: no product
    }
  }

  void matvec_acc(float* out, const float* v, const float* w, int64_t m, int64_t n) const {
    if (simd)
      pixelrnn_matvec_acc_avx2(out, v, w, m, n);
    else
      pixelrnn_matvec_acc_plain(out, v, w, m, n);
  }
  // pre += W^T v for one tap: v [H], W rows [H, 4H].
  void add_tap(const float* v, const float* w) { matvec_acc(pre.data(), v, w, h, 4 * h); }

  void cell(int64_t l, int64_t di, int64_t p) {
    const PixelRnnDirection& dir = plans[static_cast<size_t>(di)].dir;
    const size_t ld = static_cast<size_t>(l * ndir + di);
    const int64_t r = p / s.cols, c = p % s.cols;
    std::memcpy(pre.data(), P(lay.bias[ld]), sizeof(float) * 4 * h);
    for (int t = 0; t < dir.nss; ++t) {
      const int64_t rr = r + dir.ss_dr[t], cc = c + dir.ss_dc[t];
      if (inside(rr, cc))
        add_tap(hs[ld].data() + (rr * s.cols + cc) * h, P(lay.wss[ld]) + t * h * 4 * h);
    }
    for (int t = 0; t < dir.nis; ++t) {
      const int64_t rr = r + dir.is_dr[t], cc = c + dir.is_dc[t];
      if (inside(rr, cc))
        add_tap(xs[static_cast<size_t>(l)].data() + (rr * s.cols + cc) * h,
                P(lay.wis[ld]) + t * h * 4 * h);
    }
    const bool has_cp = inside(r + dir.cp_dr, c + dir.cp_dc);
    const float* cp =
        has_cp ? cs[ld].data() + ((r + dir.cp_dr) * s.cols + c + dir.cp_dc) * h : nullptr;
    float* ho = hs[ld].data() + p * h;
    float* co = cs[ld].data() + p * h;
    float* gt = gates.data();
    sigmoid_span(pre.data(), gt, 3 * h);           // o, f, i
    tanh_span(pre.data() + 3 * h, gt + 3 * h, h);  // g
    for (int64_t j = 0; j < h; ++j)
      co[j] = (has_cp ? gt[h + j] * cp[j] : 0.0f) + gt[2 * h + j] * gt[3 * h + j];
    tanh_span(co, tc.data(), h);
    for (int64_t j = 0; j < h; ++j) ho[j] = gt[j] * tc[static_cast<size_t>(j)];
  }

  void next_x(int64_t l, int64_t p) {
    const int64_t r = p / s.cols, c = p % s.cols;
    const float* xl = xs[static_cast<size_t>(l)].data() + p * h;
    float* o = xs[static_cast<size_t>(l + 1)].data() + p * h;
    std::memcpy(o, xl, sizeof(float) * h);
    for (int64_t di = 0; di < ndir; ++di) {
      const int64_t rr = r - plans[static_cast<size_t>(di)].dir.shift;
      if (!inside(rr, c)) continue;
      const float* hd = hs[static_cast<size_t>(l * ndir + di)].data() + (rr * s.cols + c) * h;
      for (int64_t j = 0; j < h; ++j) o[j] += hd[j];
    }
  }

  float logit(int64_t p) {
    const float* xl = xs[static_cast<size_t>(s.layers)].data() + p * h;
    const float* w1 = P(lay.out1_w);
    std::memcpy(y.data(), P(lay.out1_b), sizeof(float) * h);
    matvec_acc(y.data(), xl, w1, h, h);
    const float* w2 = P(lay.out2_w);
    float acc = 0.0f;
    for (int64_t j = 0; j < h; ++j) acc += std::max(y[static_cast<size_t>(j)], 0.0f) * w2[j];
    return acc + *P(lay.out2_b);
  }

  // The whole network on the current pixels (the naive sampler's reference pass).
  void full_forward() {
    for (int64_t p = 0; p < d; ++p) x0(p);
    for (int64_t l = 0; l < s.layers; ++l) {
      for (int64_t di = 0; di < ndir; ++di)
        for (const int32_t p : plans[static_cast<size_t>(di)].order) cell(l, di, p);
      for (int64_t p = 0; p < d; ++p) next_x(l, p);
    }
  }
};

struct Drawer {
  uint64_t index;
  uint32_t key0, key1, stream;
  PhiloxBlock blk{};
  // Draws pixel p with probability sigmoid(logit) and returns 0 or 1; a known pixel (given)
  // is returned as it is. The block of four words is refreshed either way, so the pixels after
  // a known one draw on the counters a sample uses.
  float draw(int64_t p, float logit, float* prob_out, const float* given = nullptr) {
    if ((p & 3) == 0) {
      blk = philox4x32_10(static_cast<uint32_t>(p >> 2), static_cast<uint32_t>(index), stream,
                          static_cast<uint32_t>(index >> 32), key0, key1);
    }
    const double prob = 1.0 / (1.0 + std::exp(-static_cast<double>(logit)));
    if (prob_out != nullptr) *prob_out = static_cast<float>(prob);
    if (given != nullptr) return *given;
    return philox_uniform_f64(blk.v[p & 3]) < prob ? 1.0f : 0.0f;
  }
};

}  // namespace

void pixelrnn_sample(const PixelRnnSpec& s, int64_t n, uint64_t sample_offset, uint32_t key0,
                     uint32_t key1, uint32_t stream, bool cached, float* x, float* probs,
                     const JobHooks& hooks) {
  SampleStreams streams;
  streams.offset = sample_offset;
  streams.key0 = key0;
  streams.key1 = key1;
  streams.stream = stream;
  pixelrnn_sample(s, n, streams, cached, x, probs, hooks);
}

void pixelrnn_sample(const PixelRnnSpec& s, int64_t n, const SampleStreams& streams, bool cached,
                     float* x, float* probs, const JobHooks& hooks, int64_t known) {
  pixelrnn_check(s);
  const PixelRnnLayout lay = pixelrnn_layout(s);
  std::vector<PixelRnnPlan> plans;
  for (const auto& dir : pixelrnn_directions(s.kind))
    plans.push_back(make_pixelrnn_plan(dir, s.rows, s.cols));
  const int64_t d = s.rows * s.cols;
  for_sample_blocks(n, 1, hooks, [&](int64_t first, int64_t) {
    SampleNet net(s, lay, plans);
    const RowStream rs = streams.row(first);
    Drawer dr{rs.index, rs.key0, rs.key1, streams.stream};
    float* xi = x + first * d;
    float* pi = probs == nullptr ? nullptr : probs + first * d;
    if (!cached) {
      for (int64_t p = 0; p < d; ++p) {
        if (p % s.cols == 0) hooks.throw_if_cancelled();
        net.full_forward();
        xi[p] = net.pix[static_cast<size_t>(p)] =
            dr.draw(p, net.logit(p), pi ? pi + p : nullptr, p < known ? xi + p : nullptr);
      }
      return;
    }
    for (int64_t r = 0; r < s.rows; ++r) {
      for (int64_t c = 0; c < s.cols; ++c) {
        const int64_t p = r * s.cols + c;
        net.x0(p);
        for (int64_t l = 0; l < s.layers; ++l) {
          for (int64_t di = 0; di < net.ndir; ++di)
            if (plans[static_cast<size_t>(di)].dir.shift == 0) net.cell(l, di, p);
          net.next_x(l, p);
        }
        xi[p] = net.pix[static_cast<size_t>(p)] =
            dr.draw(p, net.logit(p), pi ? pi + p : nullptr, p < known ? xi + p : nullptr);
      }
      for (int64_t l = 0; l < s.layers; ++l)
        for (int64_t di = 0; di < net.ndir; ++di)
          if (plans[static_cast<size_t>(di)].dir.shift == 1)
            for (int64_t c = s.cols - 1; c >= 0; --c) net.cell(l, di, r * s.cols + c);
    }
  });
}

}  // namespace deepgen
