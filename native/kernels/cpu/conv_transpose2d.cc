#include "conv_transpose2d.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/thread_pool.h"
#include "conv2d.h"
#include "gemm.h"

namespace deepgen {
namespace {

constexpr int64_t kMaxDim = 2147483647;

void check_range(int64_t v, int64_t lo, const char* name) {
  if (v < lo || v > kMaxDim) {
    throw KernelError("E_ARG", std::string("conv_transpose2d: ") + name +
                                   " must be an integer in [" + std::to_string(lo) + ", " +
                                   std::to_string(kMaxDim) + "]");
  }
}

// The transposed conv seen from its output: a conv2d window sliding over y [Ho, Wo] whose
// positions are the input pixels [H, W]. im2col of dy with it is backward-data's column
// matrix; col2im with it is the forward pass's scatter.
ConvWindow window_of(const ConvTranspose2dParams& p, int64_t out_h, int64_t out_w) {
  ConvWindow g;
  g.h = out_h;
  g.w = out_w;
  g.k_h = p.k_h;
  g.k_w = p.k_w;
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  g.out_h = p.in_h;
  g.out_w = p.in_w;
  return g;
}

}  // namespace

void conv_transpose2d_check(const ConvTranspose2dParams& p, int64_t* out_h, int64_t* out_w) {
  check_range(p.batch, 0, "batch");
  check_range(p.in_c, 0, "in_channels");
  check_range(p.out_c, 0, "out_channels");
  check_range(p.k_h, 1, "kernel_h");
  check_range(p.k_w, 1, "kernel_w");
  check_range(p.stride_h, 1, "stride_h");
  check_range(p.stride_w, 1, "stride_w");
  check_range(p.pad_h, 0, "pad_h");
  check_range(p.pad_w, 0, "pad_w");
  check_range(p.out_pad_h, 0, "output_pad_h");
  check_range(p.out_pad_w, 0, "output_pad_w");
  check_range(p.in_h, 0, "height");
  check_range(p.in_w, 0, "width");
  if (p.out_pad_h >= p.stride_h || p.out_pad_w >= p.stride_w) {
    throw KernelError("E_ARG", "conv_transpose2d: output padding must be smaller than the stride");
  }
  if (p.in_h == 0 || p.in_w == 0) {
    throw KernelError("E_SHAPE", "conv_transpose2d: empty image (H or W is 0)");
  }
  const int64_t oh = (p.in_h - 1) * p.stride_h - 2 * p.pad_h + p.k_h + p.out_pad_h;
  const int64_t ow = (p.in_w - 1) * p.stride_w - 2 * p.pad_w + p.k_w + p.out_pad_w;
  if (oh < 1 || ow < 1) {
    throw KernelError("E_SHAPE", "conv_transpose2d: padding leaves an empty output");
  }
  conv_mul(conv_mul(conv_mul(p.batch, p.in_c), p.in_h), p.in_w);
  conv_mul(conv_mul(conv_mul(p.in_c, p.out_c), p.k_h), p.k_w);
  conv_mul(conv_mul(conv_mul(p.batch, p.out_c), oh), ow);
  conv_mul(conv_mul(conv_mul(p.out_c, p.k_h), p.k_w), conv_mul(p.in_h, p.in_w));
  // Scratch planes: padded images and stride phases over input or output (each at most this big).
  conv_mul(conv_mul(std::max<int64_t>({p.in_c, p.out_c, 1}),
                    std::max(p.in_h, oh) + 2 * p.pad_h + p.stride_h + p.k_h),
           std::max(p.in_w, ow) + 2 * p.pad_w + p.stride_w + p.k_w);
  if (out_h != nullptr) *out_h = oh;
  if (out_w != nullptr) *out_w = ow;
}

int64_t conv_transpose2d_x_size(const ConvTranspose2dParams& p) {
  return p.batch * p.in_c * p.in_h * p.in_w;
}
int64_t conv_transpose2d_weight_size(const ConvTranspose2dParams& p) {
  return p.in_c * p.out_c * p.k_h * p.k_w;
}
int64_t conv_transpose2d_y_size(const ConvTranspose2dParams& p) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  return p.batch * p.out_c * oh * ow;
}

// ---------------------------------------------------------------------------------------------
// Plain twins: direct loops over the definition, double accumulators, one thread.

void conv_transpose2d_forward_plain(const float* x, const float* weight, const float* bias,
                                    float* y, const ConvTranspose2dParams& p) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  // Gathered form of the scatter in the header: y[oy, ox] sums the (iy, ky) with
  // iy * stride - pad + ky == oy.
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t oc = 0; oc < p.out_c; ++oc) {
      for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          double s = bias != nullptr ? bias[oc] : 0.0;
          for (int64_t ic = 0; ic < p.in_c; ++ic) {
            for (int64_t ky = 0; ky < p.k_h; ++ky) {
              const int64_t ty = oy + p.pad_h - ky;
              if (ty < 0 || ty % p.stride_h != 0 || ty / p.stride_h >= p.in_h) continue;
              const int64_t iy = ty / p.stride_h;
              for (int64_t kx = 0; kx < p.k_w; ++kx) {
                const int64_t tx = ox + p.pad_w - kx;
                if (tx < 0 || tx % p.stride_w != 0 || tx / p.stride_w >= p.in_w) continue;
                const int64_t ix = tx / p.stride_w;
                s += static_cast<double>(x[((n * p.in_c + ic) * p.in_h + iy) * p.in_w + ix]) *
                     weight[((ic * p.out_c + oc) * p.k_h + ky) * p.k_w + kx];
              }
            }
          }
          y[((n * p.out_c + oc) * oh + oy) * ow + ox] = static_cast<float>(s);
        }
      }
    }
  }
}

void conv_transpose2d_backward_data_plain(const float* dy, const float* weight, float* dx,
                                          const ConvTranspose2dParams& p) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t ic = 0; ic < p.in_c; ++ic) {
      for (int64_t iy = 0; iy < p.in_h; ++iy) {
        for (int64_t ix = 0; ix < p.in_w; ++ix) {
          double s = 0.0;
          for (int64_t oc = 0; oc < p.out_c; ++oc) {
            for (int64_t ky = 0; ky < p.k_h; ++ky) {
              const int64_t oy = iy * p.stride_h - p.pad_h + ky;
              if (oy < 0 || oy >= oh) continue;
              for (int64_t kx = 0; kx < p.k_w; ++kx) {
                const int64_t ox = ix * p.stride_w - p.pad_w + kx;
                if (ox < 0 || ox >= ow) continue;
                s += static_cast<double>(dy[((n * p.out_c + oc) * oh + oy) * ow + ox]) *
                     weight[((ic * p.out_c + oc) * p.k_h + ky) * p.k_w + kx];
              }
            }
          }
          dx[((n * p.in_c + ic) * p.in_h + iy) * p.in_w + ix] = static_cast<float>(s);
        }
      }
    }
  }
}

void conv_transpose2d_backward_weight_plain(const float* x, const float* dy, float* dweight,
                                            float* dbias, const ConvTranspose2dParams& p,
                                            bool accumulate) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  for (int64_t ic = 0; ic < p.in_c; ++ic) {
    for (int64_t oc = 0; oc < p.out_c; ++oc) {
      for (int64_t ky = 0; ky < p.k_h; ++ky) {
        for (int64_t kx = 0; kx < p.k_w; ++kx) {
          double s = 0.0;
          for (int64_t n = 0; n < p.batch; ++n) {
            for (int64_t iy = 0; iy < p.in_h; ++iy) {
              const int64_t oy = iy * p.stride_h - p.pad_h + ky;
              if (oy < 0 || oy >= oh) continue;
              for (int64_t ix = 0; ix < p.in_w; ++ix) {
                const int64_t ox = ix * p.stride_w - p.pad_w + kx;
                if (ox < 0 || ox >= ow) continue;
                s += static_cast<double>(x[((n * p.in_c + ic) * p.in_h + iy) * p.in_w + ix]) *
                     dy[((n * p.out_c + oc) * oh + oy) * ow + ox];
              }
            }
          }
          float& out = dweight[((ic * p.out_c + oc) * p.k_h + ky) * p.k_w + kx];
          out = accumulate ? out + static_cast<float>(s) : static_cast<float>(s);
        }
      }
    }
  }
  if (dbias != nullptr) {
    for (int64_t oc = 0; oc < p.out_c; ++oc) {
      double s = 0.0;
      for (int64_t n = 0; n < p.batch; ++n) {
        for (int64_t i = 0; i < oh * ow; ++i) s += dy[(n * p.out_c + oc) * oh * ow + i];
      }
      dbias[oc] = accumulate ? dbias[oc] + static_cast<float>(s) : static_cast<float>(s);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Fast versions. Per chunk of images, with M = Cout*kH*kW and X = images*H*W:
//   forward:       cols [M, X] = weight^T @ x_cn [Cin, X], then col2im scatter-adds onto y
//   backward-data: cols = im2col(dy) [M, X],  dx_cn [Cin, X] = weight [Cin, M] @ cols
//   backward-wgt:  dweight [Cin, M] (+)= x_cn [Cin, X] @ cols^T
// Chunking as in conv2d.cc: small independent chunks in parallel for forward and
// backward-data, large ordered chunks for the batch reduction of backward-weight.
// On AVX2/FMA CPUs wide layers skip the column matrix: the forward runs the direct
// stride-phase path below, and backward-data (a conv2d of dy) runs conv2d_forward's direct
// tiles. Both paths sum every output in a fixed order: thread-count independent, differing
// from the GEMM path by float rounding only.

namespace {

// ---- direct forward over stride phases ------------------------------------------------------
// GEMM + col2im writes a [Cout*kH*kW, pixels] column matrix and scatter-adds it onto y: for
// DCGAN's 128x7 -> 64x14 layer that is 12.8 MB written and read again per batch of 64, on top
// of the multiply-adds. Seen from the output, a transposed conv with stride s splits into
// s_h * s_w phases: the outputs (py + s_h u, px + s_w v) of phase (py, px) all read the same
// taps (ky = py + pad_h mod s_h, likewise kx) at input offsets (u + dy_t, v + dx_t),
// dy_t = (py + pad_h - ky) / s_h exactly. Each phase is thus a small stride-1 correlation of
// the input (2x2 taps for 4x4 / stride 2), which conv2d's direct tile (6 pixels x 16 output
// channels in registers, inputs read in place from a zero-padded copy) computes with no
// column matrix; the tile's pixel-major results are scattered into y with the bias.
constexpr int64_t kDirectTKBlock = 1024;                 // (channel, tap) pairs per pass of a tile
constexpr int64_t kDirectTTilesPerTask = 4;              // 24 pixels per parallel task
constexpr int64_t kDirectTSmallCopy = int64_t{1} << 18;  // floats (1 MB) moved on one thread

int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

struct ConvTPhase {
  int64_t py, px, nu, nv;  // output rows py + s_h u (u < nu), columns px + s_w v (v < nv)
  int64_t taps, k;         // taps of the phase, k = Cin * taps
  int64_t w_offset;        // start of the phase's packed weights
  std::vector<int64_t> kys, kxs, koff;
};

// Taps with at least 4 per phase and 128 (channel, tap) pairs, and output channels that
// waste at most a third of a 16-wide tile: the shapes where the tile beats the GEMM (as for
// conv2d's direct path, conv2d.cc use_direct_forward).
bool use_direct_forward(const ConvTranspose2dParams& p) {
  const bool wide = p.out_c % kConvTileChannels == 0 || p.out_c >= 3 * kConvTileChannels;
  const int64_t min_taps = (p.k_h / p.stride_h) * (p.k_w / p.stride_w);
  return use_avx2_fma() && wide && min_taps >= 4 && p.in_c * min_taps >= 128;
}

void conv_transpose2d_forward_direct(const float* x, const float* weight, const float* bias,
                                     float* y, const ConvTranspose2dParams& p, int64_t oh,
                                     int64_t ow) {
  constexpr int64_t TP = kConvTilePixels, TC = kConvTileChannels;
  const int64_t sh = p.stride_h, sw = p.stride_w;
  const int64_t c_blocks = (p.out_c + TC - 1) / TC, ldc = c_blocks * TC;
  // Input rows / columns the taps reach, and the zero-padded copy that holds them all.
  const int64_t iy_lo = floor_div(p.pad_h - (p.k_h - 1), sh),
                iy_hi = floor_div(oh - 1 + p.pad_h, sh);
  const int64_t ix_lo = floor_div(p.pad_w - (p.k_w - 1), sw),
                ix_hi = floor_div(ow - 1 + p.pad_w, sw);
  const int64_t top = std::max<int64_t>(0, -iy_lo), left = std::max<int64_t>(0, -ix_lo);
  const int64_t hp = top + std::max(iy_hi + 1, p.in_h), wp = left + std::max(ix_hi + 1, p.in_w);
  const int64_t plane_p = hp * wp, plane_in = p.in_h * p.in_w, plane_out = oh * ow;
  // The phases, their taps' offsets in the padded copy, and their packed weights
  // [c_blocks][K][16] (Cout b*16 .. b*16+15, zeros past Cout).
  std::vector<ConvTPhase> phases;
  int64_t w_total = 0, max_pixels = 0;
  for (int64_t py = 0; py < sh; ++py) {
    for (int64_t px = 0; px < sw; ++px) {
      ConvTPhase ph;
      ph.py = py;
      ph.px = px;
      ph.nu = oh > py ? (oh - py + sh - 1) / sh : 0;
      ph.nv = ow > px ? (ow - px + sw - 1) / sw : 0;
      for (int64_t ky = 0; ky < p.k_h; ++ky)
        if (((py + p.pad_h - ky) % sh + sh) % sh == 0) ph.kys.push_back(ky);
      for (int64_t kx = 0; kx < p.k_w; ++kx)
        if (((px + p.pad_w - kx) % sw + sw) % sw == 0) ph.kxs.push_back(kx);
      ph.taps = static_cast<int64_t>(ph.kys.size() * ph.kxs.size());
      ph.k = p.in_c * ph.taps;
      ph.w_offset = w_total;
      ph.koff.resize(static_cast<size_t>(ph.k));
      for (int64_t ci = 0; ci < p.in_c; ++ci) {
        int64_t t = 0;
        for (int64_t ky : ph.kys) {
          for (int64_t kx : ph.kxs) {
            const int64_t ry = floor_div(py + p.pad_h - ky, sh) + top;
            const int64_t rx = floor_div(px + p.pad_w - kx, sw) + left;
            ph.koff[ci * ph.taps + t++] = ci * plane_p + ry * wp + rx;
          }
        }
      }
      w_total += c_blocks * ph.k * TC;
      max_pixels = std::max(max_pixels, ph.nu * ph.nv);
      phases.push_back(std::move(ph));
    }
  }
  // Each tap (ky, kx) belongs to one phase, at position t among its taps. The 16 output
  // channels of a block and one input channel are a contiguous [16, kH*kW] slab of the weight
  // (1 KB for 4x4): the packing transposes slab by slab, so every value is read from L1 and
  // every tap's 16 channels are written as one line. (Packing in packed order read a new cache
  // line per value: DCGAN's 256 -> 128 layer at batch 1 took 1.41 ms per call, now 0.79 ms.)
  const int64_t kk = p.k_h * p.k_w;
  struct TapSlot {
    const ConvTPhase* phase;
    int64_t t;  // the tap's position among its phase's taps
  };
  std::vector<TapSlot> slot(static_cast<size_t>(kk));  // by tap ky * kW + kx
  for (const ConvTPhase& ph : phases) {
    const int64_t nx = static_cast<int64_t>(ph.kxs.size());
    for (size_t a = 0; a < ph.kys.size(); ++a) {
      for (int64_t c = 0; c < nx; ++c) {
        const int64_t q = ph.kys[a] * p.k_w + ph.kxs[static_cast<size_t>(c)];
        slot[static_cast<size_t>(q)] = {&ph, static_cast<int64_t>(a) * nx + c};
      }
    }
  }
  float* wpk = conv_scratch(2, std::max<int64_t>(w_total, 1));
  parallel_for(
      p.in_c,
      [&](int64_t ci) {
        for (int64_t b = 0; b < c_blocks; ++b) {
          const int64_t jn = std::min(TC, p.out_c - b * TC);
          const float* slab = weight + (ci * p.out_c + b * TC) * kk;
          const bool whole_slab = kk == 16 && jn == TC;  // 4x4 taps, 16 real channels
          float* rows[16];
          for (int64_t q = 0; q < kk; ++q) {
            const TapSlot& sl = slot[static_cast<size_t>(q)];
            float* dst =
                wpk + sl.phase->w_offset + (b * sl.phase->k + ci * sl.phase->taps + sl.t) * TC;
            if (whole_slab) {
              rows[q] = dst;
              continue;
            }
            for (int64_t j = 0; j < jn; ++j) dst[j] = slab[j * kk + q];
            for (int64_t j = jn; j < TC; ++j) dst[j] = 0.0f;  // channels past Cout
          }
          if (whole_slab) transpose16_avx2(slab, rows);  // the direct path runs only with AVX2/FMA
        }
      },
      w_total < kDirectTSmallCopy ? 1 : 0);
  conv_for_chunks(
      p.batch, p.in_c * plane_p + max_pixels * ldc, plane_in,
      [&](int64_t n0, int64_t m, int inner) {
        float* xp = conv_scratch(0, m * p.in_c * plane_p);
        // The copies in and out are memory moves: below kDirectTSmallCopy floats one thread does
        // them faster than waking the pool (a batch of one calls this a dozen times).
        const int64_t copied = m * std::max(p.in_c * plane_p, p.out_c * plane_out);
        const int copy_threads = copied < kDirectTSmallCopy ? 1 : inner;
        const int64_t c_lo = std::min(left, wp), c_hi = std::min(wp, left + p.in_w);
        parallel_for(
            m * p.in_c,
            [&](int64_t q) {
              const float* src = x + (n0 * p.in_c + q) * plane_in;
              float* dst = xp + q * plane_p;
              for (int64_t r = 0; r < hp; ++r) {
                float* row = dst + r * wp;
                const int64_t iy = r - top;
                if (iy < 0 || iy >= p.in_h || c_hi <= c_lo) {
                  std::fill(row, row + wp, 0.0f);
                  continue;
                }
                std::fill(row, row + c_lo, 0.0f);
                std::memcpy(row + c_lo, src + iy * p.in_w, sizeof(float) * (c_hi - c_lo));
                std::fill(row + c_hi, row + wp, 0.0f);
              }
            },
            copy_threads);
        float* cbuf =
            conv_scratch(1, std::max<int64_t>(1, ((m * max_pixels + TP - 1) / TP) * TP * ldc));
        std::vector<int64_t> pix;
        for (const ConvTPhase& ph : phases) {
          const int64_t per_image = ph.nu * ph.nv, pixels = m * per_image;
          if (pixels == 0) continue;
          if (ph.taps == 0) {  // no tap lands on this phase: bias only
            parallel_for(
                m * p.out_c,
                [&](int64_t r) {
                  const float b = bias != nullptr ? bias[r % p.out_c] : 0.0f;
                  float* dst = y + (n0 * p.out_c + r) * plane_out;
                  for (int64_t u = 0; u < ph.nu; ++u) {
                    for (int64_t v = 0; v < ph.nv; ++v)
                      dst[(ph.py + sh * u) * ow + ph.px + sw * v] = b;
                  }
                },
                copy_threads);
            continue;
          }
          // Window origins; the last tile's missing pixels repeat pixel 0 (never stored).
          const int64_t tiles = (pixels + TP - 1) / TP;
          pix.assign(static_cast<size_t>(tiles * TP), 0);
          for (int64_t q = 0; q < pixels; ++q) {
            const int64_t j = q / per_image, u = (q % per_image) / ph.nv, v = q % ph.nv;
            pix[q] = j * p.in_c * plane_p + u * wp + v;
          }
          const float* wph = wpk + ph.w_offset;
          const int64_t K = ph.k;
          const int64_t tasks = (tiles + kDirectTTilesPerTask - 1) / kDirectTTilesPerTask;
          parallel_for(
              tasks,
              [&](int64_t task) {
                const int64_t t_end = std::min(tiles, (task + 1) * kDirectTTilesPerTask);
                for (int64_t kb = 0; kb < K; kb += kDirectTKBlock) {
                  const int64_t kc = std::min(kDirectTKBlock, K - kb);
                  conv2d_run_tiles(kc, xp, pix.data(), ph.koff.data() + kb, wph + kb * TC, K * TC,
                                   c_blocks, task * kDirectTTilesPerTask, t_end, cbuf, ldc, kb > 0,
                                   use_avx512(), conv2d_tile_avx2);
                }
              },
              inner);
          // y[n0 + j, co, py + s_h u, px + s_w v] = C[(j, u, v), co] + bias[co]
          parallel_for(
              m * p.out_c,
              [&](int64_t r) {
                const int64_t j = r / p.out_c, co = r % p.out_c;
                const float b = bias != nullptr ? bias[co] : 0.0f;
                const float* src = cbuf + j * per_image * ldc + co;
                float* dst = y + (n0 * p.out_c + r) * plane_out;
                for (int64_t u = 0; u < ph.nu; ++u) {
                  float* row = dst + (ph.py + sh * u) * ow + ph.px;
                  for (int64_t v = 0; v < ph.nv; ++v) row[sw * v] = src[(u * ph.nv + v) * ldc] + b;
                }
              },
              copy_threads);
        }
      });
}

}  // namespace

void transpose16_portable(const float* slab, float* const* dst) {
  for (int q = 0; q < 16; ++q) {
    for (int j = 0; j < 16; ++j) dst[q][j] = slab[j * 16 + q];
  }
}

void conv_transpose2d_forward(const float* x, const float* weight, const float* bias, float* y,
                              const ConvTranspose2dParams& p) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  if (p.batch == 0 || p.out_c == 0) return;
  const int64_t plane_in = p.in_h * p.in_w, plane_out = oh * ow;
  if (p.in_c == 0) {
    for (int64_t i = 0; i < p.batch * p.out_c; ++i) {
      std::fill(y + i * plane_out, y + (i + 1) * plane_out,
                bias != nullptr ? bias[i % p.out_c] : 0.0f);
    }
    return;
  }
  if (use_direct_forward(p)) {
    conv_transpose2d_forward_direct(x, weight, bias, y, p, oh, ow);
    return;
  }
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, ConvMask::kNone);
  const int64_t M = p.out_c * taps.size();
  // wt [M, Cin]: the weight transposed once, so every chunk's GEMM reads A row by row.
  float* wt = conv_scratch(2, M * p.in_c);
  transpose_matrix(weight, p.in_c, M, wt);
  const ConvWindow g = window_of(p, oh, ow);
  conv_for_chunks(p.batch, (M + p.in_c) * plane_in, plane_in,
                  [&](int64_t n0, int64_t m, int inner) {
                    const float* xc = x + n0 * p.in_c * plane_in;
                    const float* xp = xc;
                    if (m > 1) {
                      float* buf = conv_scratch(1, p.in_c * m * plane_in);
                      nchw_to_cn(xc, m, p.in_c, plane_in, buf, inner);
                      xp = buf;
                    }
                    float* cols = conv_scratch(0, M * m * plane_in);
                    sgemm(false, false, M, m * plane_in, p.in_c, 1.0f, wt, xp, 0.0f, cols, inner);
                    col2im(cols, m, p.out_c, g, taps, bias, y + n0 * p.out_c * plane_out, inner);
                  });
}

bool conv_transpose2d_forward_is_direct(const ConvTranspose2dParams& p) {
  return use_direct_forward(p);
}

namespace {

// dx of the transposed conv p is a conv2d of dy with the same weight ([Cin, Cout, kH, kW] is
// its [out, in, kH, kW]).
Conv2dParams data_gradient_as_conv(const ConvTranspose2dParams& p, int64_t oh, int64_t ow) {
  Conv2dParams c;
  c.batch = p.batch;
  c.in_c = p.out_c;
  c.in_h = oh;
  c.in_w = ow;
  c.out_c = p.in_c;
  c.k_h = p.k_h;
  c.k_w = p.k_w;
  c.stride_h = p.stride_h;
  c.stride_w = p.stride_w;
  c.pad_h = p.pad_h;
  c.pad_w = p.pad_w;
  return c;
}

}  // namespace

bool conv_transpose2d_backward_data_is_direct(const ConvTranspose2dParams& p) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  return p.batch > 0 && p.in_c > 0 && p.out_c > 0 &&
         conv2d_forward_is_direct(data_gradient_as_conv(p, oh, ow));
}

void conv_transpose2d_backward_data(const float* dy, const float* weight, float* dx,
                                    const ConvTranspose2dParams& p) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  if (p.batch == 0 || p.in_c == 0) return;
  const int64_t plane_in = p.in_h * p.in_w, plane_out = oh * ow;
  if (p.out_c == 0) {
    std::fill(dx, dx + p.batch * p.in_c * plane_in, 0.0f);
    return;
  }
  if (conv_transpose2d_backward_data_is_direct(p)) {
    conv2d_forward(dy, weight, nullptr, dx, data_gradient_as_conv(p, oh, ow));
    return;
  }
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, ConvMask::kNone);
  const int64_t M = p.out_c * taps.size();
  const ConvWindow g = window_of(p, oh, ow);
  conv_for_chunks(
      p.batch, (M + p.in_c) * plane_in, plane_in, [&](int64_t n0, int64_t m, int inner) {
        float* cols = conv_scratch(0, M * m * plane_in);
        im2col(dy + n0 * p.out_c * plane_out, m, p.out_c, g, taps, cols, inner);
        float* dxc = dx + n0 * p.in_c * plane_in;
        float* out = m == 1 ? dxc : conv_scratch(1, p.in_c * m * plane_in);
        sgemm(false, false, p.in_c, m * plane_in, M, 1.0f, weight, cols, 0.0f, out, inner);
        if (m > 1) cn_to_nchw(out, m, p.in_c, plane_in, nullptr, dxc, inner);
      });
}

void conv_transpose2d_backward_weight(const float* x, const float* dy, float* dweight, float* dbias,
                                      const ConvTranspose2dParams& p, bool accumulate) {
  int64_t oh, ow;
  conv_transpose2d_check(p, &oh, &ow);
  const int64_t plane_in = p.in_h * p.in_w, plane_out = oh * ow;
  conv_bias_grad(dy, dbias, p.batch, p.out_c, plane_out, accumulate);
  if (p.in_c == 0 || p.out_c == 0) return;
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, ConvMask::kNone);
  const int64_t M = p.out_c * taps.size();
  if (p.batch == 0) {
    if (!accumulate) std::fill(dweight, dweight + p.in_c * M, 0.0f);
    return;
  }
  const ConvWindow g = window_of(p, oh, ow);
  const int64_t chunk = conv_images_per_chunk(p.batch, (M + p.in_c) * plane_in, kReduceChunkFloats);
  for (int64_t n0 = 0; n0 < p.batch; n0 += chunk) {
    const int64_t m = std::min(chunk, p.batch - n0);
    float* cols = conv_scratch(0, M * m * plane_in);
    im2col(dy + n0 * p.out_c * plane_out, m, p.out_c, g, taps, cols);
    const float* xc = x + n0 * p.in_c * plane_in;
    const float* xp = xc;
    if (m > 1) {
      float* buf = conv_scratch(1, p.in_c * m * plane_in);
      nchw_to_cn(xc, m, p.in_c, plane_in, buf);
      xp = buf;
    }
    const float beta = (n0 == 0 && !accumulate) ? 0.0f : 1.0f;
    sgemm(false, true, p.in_c, M, m * plane_in, 1.0f, xp, cols, beta, dweight);
  }
}

}  // namespace deepgen
