#include "conv2d.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/thread_pool.h"
#include "conv_transpose2d.h"
#include "gemm.h"

namespace deepgen {
namespace {

constexpr int64_t kMaxDim = 2147483647;  // every size and parameter fits an int32

void check_range(int64_t v, int64_t lo, const char* name) {
  if (v < lo || v > kMaxDim) {
    throw KernelError("E_ARG", std::string("conv2d: ") + name + " must be an integer in [" +
                                   std::to_string(lo) + ", " + std::to_string(kMaxDim) + "]");
  }
}

ConvWindow window_of(const Conv2dParams& p, int64_t out_h, int64_t out_w) {
  ConvWindow g;
  g.h = p.in_h;
  g.w = p.in_w;
  g.k_h = p.k_h;
  g.k_w = p.k_w;
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  g.out_h = out_h;
  g.out_w = out_w;
  return g;
}

// weight [Cout, Cin, kH, kW] -> packed [Cout, Cin * T] holding only the taps in `taps`.
// Reads only unmasked positions.
void pack_weight(const float* w, const Conv2dParams& p, const ConvTaps& taps, float* out) {
  const int64_t T = taps.size(), kk = p.k_h * p.k_w;
  for (int64_t oc = 0; oc < p.out_c; ++oc) {
    for (int64_t ic = 0; ic < p.in_c; ++ic) {
      const float* src = w + (oc * p.in_c + ic) * kk;
      float* dst = out + (oc * p.in_c + ic) * T;
      for (int64_t t = 0; t < T; ++t) dst[t] = src[taps.ky[t] * p.k_w + taps.kx[t]];
    }
  }
}

}  // namespace

void conv2d_check(const Conv2dParams& p, int64_t* out_h, int64_t* out_w) {
  check_range(p.batch, 0, "batch");
  check_range(p.in_c, 0, "in_channels");
  check_range(p.out_c, 0, "out_channels");
  check_range(p.k_h, 1, "kernel_h");
  check_range(p.k_w, 1, "kernel_w");
  check_range(p.stride_h, 1, "stride_h");
  check_range(p.stride_w, 1, "stride_w");
  check_range(p.pad_h, 0, "pad_h");
  check_range(p.pad_w, 0, "pad_w");
  check_range(p.in_h, 0, "height");
  check_range(p.in_w, 0, "width");
  if (p.mask != ConvMask::kNone && p.mask != ConvMask::kA && p.mask != ConvMask::kB) {
    throw KernelError("E_ARG", "conv2d: mask must be none, A or B");
  }
  if (p.in_h == 0 || p.in_w == 0) throw KernelError("E_SHAPE", "conv2d: empty image (H or W is 0)");
  const int64_t span_h = p.in_h + 2 * p.pad_h - p.k_h;
  const int64_t span_w = p.in_w + 2 * p.pad_w - p.k_w;
  if (span_h < 0 || span_w < 0) {
    throw KernelError("E_SHAPE", "conv2d: kernel larger than the padded input");
  }
  const int64_t oh = span_h / p.stride_h + 1, ow = span_w / p.stride_w + 1;
  // Every buffer size must be addressable (throws E_ARG otherwise).
  conv_mul(conv_mul(conv_mul(p.batch, p.in_c), p.in_h), p.in_w);
  conv_mul(conv_mul(conv_mul(p.out_c, p.in_c), p.k_h), p.k_w);
  conv_mul(conv_mul(conv_mul(p.batch, p.out_c), oh), ow);
  conv_mul(conv_mul(conv_mul(p.in_c, p.k_h), p.k_w), conv_mul(oh, ow));
  // Scratch planes: the zero-padded input and its stride phases (each at most this big).
  conv_mul(conv_mul(std::max<int64_t>(p.in_c, 1), p.in_h + 2 * p.pad_h + p.stride_h + p.k_h),
           p.in_w + 2 * p.pad_w + p.stride_w + p.k_w);
  if (out_h != nullptr) *out_h = oh;
  if (out_w != nullptr) *out_w = ow;
}

int64_t conv2d_x_size(const Conv2dParams& p) { return p.batch * p.in_c * p.in_h * p.in_w; }
int64_t conv2d_weight_size(const Conv2dParams& p) { return p.out_c * p.in_c * p.k_h * p.k_w; }
int64_t conv2d_y_size(const Conv2dParams& p) {
  int64_t oh, ow;
  conv2d_check(p, &oh, &ow);
  return p.batch * p.out_c * oh * ow;
}

void conv2d_mask_weights(float* weight, int64_t out_c, int64_t in_c, int64_t k_h, int64_t k_w,
                         ConvMask mask) {
  if (out_c < 0 || in_c < 0 || k_h < 1 || k_w < 1)
    throw KernelError("E_ARG", "conv2d_mask_weights: bad sizes");
  if (mask == ConvMask::kNone) return;
  const int64_t pairs = conv_mul(out_c, in_c), kk = conv_mul(k_h, k_w);
  conv_mul(pairs, kk);
  for (int64_t ky = 0; ky < k_h; ++ky) {
    for (int64_t kx = 0; kx < k_w; ++kx) {
      if (!conv_tap_masked(ky, kx, k_h, k_w, mask)) continue;
      for (int64_t q = 0; q < pairs; ++q) weight[q * kk + ky * k_w + kx] = 0.0f;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Plain twins: the definitions above as direct loops, double accumulators, one thread.

void conv2d_forward_plain(const float* x, const float* weight, const float* bias, float* y,
                          const Conv2dParams& p) {
  int64_t oh, ow;
  conv2d_check(p, &oh, &ow);
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, p.mask);
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t oc = 0; oc < p.out_c; ++oc) {
      for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          double s = bias != nullptr ? bias[oc] : 0.0;
          for (int64_t ic = 0; ic < p.in_c; ++ic) {
            for (int64_t t = 0; t < taps.size(); ++t) {
              const int64_t iy = oy * p.stride_h - p.pad_h + taps.ky[t];
              const int64_t ix = ox * p.stride_w - p.pad_w + taps.kx[t];
              if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) continue;
              s += static_cast<double>(
                       weight[((oc * p.in_c + ic) * p.k_h + taps.ky[t]) * p.k_w + taps.kx[t]]) *
                   x[((n * p.in_c + ic) * p.in_h + iy) * p.in_w + ix];
            }
          }
          y[((n * p.out_c + oc) * oh + oy) * ow + ox] = static_cast<float>(s);
        }
      }
    }
  }
}

void conv2d_backward_data_plain(const float* dy, const float* weight, float* dx,
                                const Conv2dParams& p) {
  int64_t oh, ow;
  conv2d_check(p, &oh, &ow);
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, p.mask);
  std::vector<double> acc(static_cast<size_t>(conv2d_x_size(p)), 0.0);
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t oc = 0; oc < p.out_c; ++oc) {
      for (int64_t oy = 0; oy < oh; ++oy) {
        for (int64_t ox = 0; ox < ow; ++ox) {
          const double g = dy[((n * p.out_c + oc) * oh + oy) * ow + ox];
          for (int64_t ic = 0; ic < p.in_c; ++ic) {
            for (int64_t t = 0; t < taps.size(); ++t) {
              const int64_t iy = oy * p.stride_h - p.pad_h + taps.ky[t];
              const int64_t ix = ox * p.stride_w - p.pad_w + taps.kx[t];
              if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w) continue;
              acc[((n * p.in_c + ic) * p.in_h + iy) * p.in_w + ix] +=
                  g * weight[((oc * p.in_c + ic) * p.k_h + taps.ky[t]) * p.k_w + taps.kx[t]];
            }
          }
        }
      }
    }
  }
  for (size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<float>(acc[i]);
}

void conv2d_backward_weight_plain(const float* x, const float* dy, float* dweight, float* dbias,
                                  const Conv2dParams& p, bool accumulate) {
  int64_t oh, ow;
  conv2d_check(p, &oh, &ow);
  for (int64_t oc = 0; oc < p.out_c; ++oc) {
    for (int64_t ic = 0; ic < p.in_c; ++ic) {
      for (int64_t ky = 0; ky < p.k_h; ++ky) {
        for (int64_t kx = 0; kx < p.k_w; ++kx) {
          float& out = dweight[((oc * p.in_c + ic) * p.k_h + ky) * p.k_w + kx];
          if (conv_tap_masked(ky, kx, p.k_h, p.k_w, p.mask)) {
            if (!accumulate) out = 0.0f;
            continue;
          }
          double s = 0.0;
          for (int64_t n = 0; n < p.batch; ++n) {
            for (int64_t oy = 0; oy < oh; ++oy) {
              const int64_t iy = oy * p.stride_h - p.pad_h + ky;
              if (iy < 0 || iy >= p.in_h) continue;
              for (int64_t ox = 0; ox < ow; ++ox) {
                const int64_t ix = ox * p.stride_w - p.pad_w + kx;
                if (ix < 0 || ix >= p.in_w) continue;
                s += static_cast<double>(dy[((n * p.out_c + oc) * oh + oy) * ow + ox]) *
                     x[((n * p.in_c + ic) * p.in_h + iy) * p.in_w + ix];
              }
            }
          }
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
// Fast versions: im2col into [Cin*T, images*Ho*Wo] and one sgemm per chunk of images.
//
// Forward and backward-data treat images independently, so their chunks are small enough
// for a chunk's columns to stay in one core's cache (kConvChunkFloats) and run in parallel, one
// thread each, when the batch gives enough of them (conv_for_chunks). Backward-weight sums
// over the whole batch: there the chunks are large, run in order (their GEMMs accumulate
// into dweight in a fixed order) and each GEMM is threaded internally.

namespace {

// Forward through im2col + sgemm: the path for CPUs without AVX2/FMA and for narrow Cout.
void conv2d_forward_gemm(const float* x, const float* weight, const float* bias, float* y,
                         const Conv2dParams& p, int64_t oh, int64_t ow, const ConvTaps& taps) {
  const int64_t K = p.in_c * taps.size();
  const int64_t plane_out = oh * ow, plane_in = p.in_h * p.in_w;
  const float* w = weight;  // [Cout, K]: the weight as it is, or its unmasked taps packed
  if (p.mask != ConvMask::kNone) {
    float* packed = conv_scratch(2, p.out_c * K);
    pack_weight(weight, p, taps, packed);
    w = packed;
  }
  const ConvWindow g = window_of(p, oh, ow);
  conv_for_chunks(p.batch, (K + p.out_c) * plane_out, plane_out,
                  [&](int64_t n0, int64_t m, int inner) {
                    float* col = conv_scratch(0, K * m * plane_out);
                    im2col(x + n0 * p.in_c * plane_in, m, p.in_c, g, taps, col, inner);
                    float* yc = y + n0 * p.out_c * plane_out;
                    // One image: the GEMM's [Cout, Ho*Wo] result is already the NCHW layout.
                    float* out = m == 1 ? yc : conv_scratch(1, p.out_c * m * plane_out);
                    sgemm(false, false, p.out_c, m * plane_out, K, 1.0f, w, col, 0.0f, out, inner);
                    if (m > 1 || bias != nullptr)
                      cn_to_nchw(out, m, p.out_c, plane_out, bias, yc, inner);
                  });
}

// Forward by direct convolution. im2col + GEMM writes every input value kH*kW times into a
// column matrix, then the GEMM packs that matrix again: for DCGAN's 64 -> 128 4x4 layer those
// two passes cost a third of the multiply-adds' time. Here the tile kernel reads the inputs
// in place from a zero-padded copy of the chunk's images (one pass over the input), against
// weights packed once per call, and accumulates in registers like a GEMM micro-kernel would.
//
// Per chunk of images: xp [m, Cin, Hp, Wp] = the input zero-padded to exactly the rows and
// columns the windows reach; C [m*Ho*Wo pixels, Cout rounded up to 16] pixel-major, filled
// tile by tile, then transposed into y with the bias. K runs in blocks of kDirectKBlock (a
// tile's sums go through C between blocks): measured on the DCGAN layer, fewer, longer blocks
// beat L1-sized ones, the weights streaming from L2 well enough.
constexpr int64_t kDirectKBlock = 1024;     // 1024 x 16 weights = 64 KB
constexpr int64_t kDirectTilesPerTask = 4;  // 24 pixels per parallel task

}  // namespace

void conv2d_run_tiles(int64_t kc, const float* x, const int64_t* pix, const int64_t* koff,
                      const float* w, int64_t w_block_stride, int64_t c_blocks, int64_t t0,
                      int64_t t1, float* c, int64_t ldc, bool accumulate, bool pair,
                      ConvTile tile) {
  constexpr int64_t TP = kConvTilePixels, TC = kConvTileChannels;
  for (int64_t b = 0; b < c_blocks;) {
    const float* wb = w + b * w_block_stride;
    if (pair && b + 1 < c_blocks) {
      for (int64_t tt = t0; tt < t1; ++tt)
        conv2d_tile_pair_avx512(kc, x, pix + tt * TP, koff, wb, wb + w_block_stride,
                                c + tt * TP * ldc + b * TC, ldc, accumulate);
      b += 2;
      continue;
    }
    for (int64_t tt = t0; tt < t1; ++tt)
      tile(kc, x, pix + tt * TP, koff, wb, c + tt * TP * ldc + b * TC, ldc, accumulate);
    ++b;
  }
}

namespace {

void conv2d_forward_direct(const float* x, const float* weight, const float* bias, float* y,
                           const Conv2dParams& p, int64_t oh, int64_t ow, const ConvTaps& taps,
                           ConvTile tile) {
  constexpr int64_t TP = kConvTilePixels, TC = kConvTileChannels;
  const int64_t T = taps.size(), K = p.in_c * T;
  const int64_t c_blocks = (p.out_c + TC - 1) / TC, ldc = c_blocks * TC;
  const bool pair = tile == conv2d_tile_avx2 && use_avx512();
  const int64_t hp = (oh - 1) * p.stride_h + p.k_h, wp = (ow - 1) * p.stride_w + p.k_w;
  const int64_t plane_p = hp * wp, plane_in = p.in_h * p.in_w, plane_out = oh * ow;
  // wpk [c_blocks][K][16]: channel block b holds Cout b*16 .. b*16+15 (zeros past Cout), for
  // each (ci, tap) pair in order. Only unmasked taps are read.
  // Packed output channel by output channel: each reads its weights in order (at batch 1
  // the packing is a good part of the call; gathering across channels thrashed the cache).
  float* wpk = conv_scratch(2, c_blocks * K * TC);
  for (int64_t co = 0; co < c_blocks * TC; ++co) {
    float* dst = wpk + (co / TC) * K * TC + co % TC;
    if (co >= p.out_c) {
      for (int64_t q = 0; q < K; ++q) dst[q * TC] = 0.0f;
      continue;
    }
    const float* src = weight + co * p.in_c * p.k_h * p.k_w;
    for (int64_t ci = 0; ci < p.in_c; ++ci) {
      const float* w_ci = src + ci * p.k_h * p.k_w;
      for (int64_t t = 0; t < T; ++t)
        dst[(ci * T + t) * TC] = w_ci[taps.ky[t] * p.k_w + taps.kx[t]];
    }
  }
  std::vector<int64_t> koff(static_cast<size_t>(K));
  for (int64_t ci = 0; ci < p.in_c; ++ci) {
    for (int64_t t = 0; t < T; ++t) koff[ci * T + t] = ci * plane_p + taps.ky[t] * wp + taps.kx[t];
  }
  conv_for_chunks(p.batch, p.in_c * plane_p + plane_out * ldc, plane_out,
                  [&](int64_t n0, int64_t m, int inner) {
                    // The padded copy: row r, column c of a plane hold x[r - pad_h][c - pad_w] (0
                    // outside).
                    float* xp = conv_scratch(0, m * p.in_c * plane_p);
                    const int64_t c_lo = std::min(p.pad_w, wp);
                    const int64_t c_hi = std::min(wp, p.pad_w + p.in_w);
                    parallel_for(
                        m * p.in_c,
                        [&](int64_t q) {
                          const float* src = x + (n0 * p.in_c + q) * plane_in;
                          float* dst = xp + q * plane_p;
                          for (int64_t r = 0; r < hp; ++r) {
                            float* row = dst + r * wp;
                            const int64_t iy = r - p.pad_h;
                            if (iy < 0 || iy >= p.in_h || c_hi <= c_lo) {
                              std::fill(row, row + wp, 0.0f);
                              continue;
                            }
                            std::fill(row, row + c_lo, 0.0f);
                            std::memcpy(row + c_lo, src + iy * p.in_w + (c_lo - p.pad_w),
                                        sizeof(float) * (c_hi - c_lo));
                            std::fill(row + c_hi, row + wp, 0.0f);
                          }
                        },
                        inner);
                    // Window origins of the chunk's pixels; the last tile's missing pixels repeat
                    // pixel 0 (a valid address; their rows of C are never read).
                    const int64_t pixels = m * plane_out;
                    const int64_t tiles = (pixels + TP - 1) / TP;
                    std::vector<int64_t> pix(static_cast<size_t>(tiles * TP), 0);
                    for (int64_t q = 0; q < pixels; ++q) {
                      const int64_t j = q / plane_out, oy = (q % plane_out) / ow, ox = q % ow;
                      pix[q] = j * p.in_c * plane_p + oy * p.stride_h * wp + ox * p.stride_w;
                    }
                    float* cbuf = conv_scratch(1, tiles * TP * ldc);
                    const int64_t tasks = (tiles + kDirectTilesPerTask - 1) / kDirectTilesPerTask;
                    parallel_for(
                        tasks,
                        [&](int64_t task) {
                          const int64_t t_end = std::min(tiles, (task + 1) * kDirectTilesPerTask);
                          for (int64_t kb = 0; kb < K; kb += kDirectKBlock) {
                            const int64_t kc = std::min(kDirectKBlock, K - kb);
                            conv2d_run_tiles(kc, xp, pix.data(), koff.data() + kb, wpk + kb * TC,
                                             K * TC, c_blocks, task * kDirectTilesPerTask, t_end,
                                             cbuf, ldc, kb > 0, pair, tile);
                          }
                        },
                        inner);
                    // y[n0 + j, co, :] = C[j's pixels, co] + bias[co]
                    parallel_for(
                        m * p.out_c,
                        [&](int64_t r) {
                          const int64_t j = r / p.out_c, co = r % p.out_c;
                          const float b = bias != nullptr ? bias[co] : 0.0f;
                          const float* src = cbuf + j * plane_out * ldc + co;
                          float* dst = y + (n0 * p.out_c + r) * plane_out;
                          for (int64_t i = 0; i < plane_out; ++i) dst[i] = src[i * ldc] + b;
                        },
                        inner);
                  });
}

// When the direct path wins (measured on DCGAN / PixelCNN shapes, one thread): it needs
// AVX2/FMA (its portable tile is the reference, not a fast path), enough output channels that
// rounding Cout up to 16 wastes at most a third of the work, and enough (channel, tap) pairs
// per output, with several taps per channel: for 1x1 and 1xk kernels, or K below ~128, the
// packed GEMM's contiguous panels beat reading scattered input planes in place.
bool use_direct_forward(const Conv2dParams& p, int64_t taps) {
  const bool wide = p.out_c % kConvTileChannels == 0 || p.out_c >= 3 * kConvTileChannels;
  return use_avx2_fma() && wide && taps >= 4 && p.in_c * taps >= 128;
}

}  // namespace

void conv2d_tile_portable(int64_t kc, const float* x, const int64_t* pix, const int64_t* koff,
                          const float* w, float* c, int64_t ldc, bool accumulate) {
  float acc[kConvTilePixels][kConvTileChannels];
  for (int r = 0; r < kConvTilePixels; ++r) {
    for (int j = 0; j < kConvTileChannels; ++j) acc[r][j] = accumulate ? c[r * ldc + j] : 0.0f;
  }
  for (int64_t k = 0; k < kc; ++k) {
    const float* wk = w + k * kConvTileChannels;
    for (int r = 0; r < kConvTilePixels; ++r) {
      const float a = x[pix[r] + koff[k]];
      for (int j = 0; j < kConvTileChannels; ++j) acc[r][j] += a * wk[j];
    }
  }
  for (int r = 0; r < kConvTilePixels; ++r) {
    for (int j = 0; j < kConvTileChannels; ++j) c[r * ldc + j] = acc[r][j];
  }
}

void conv2d_forward(const float* x, const float* weight, const float* bias, float* y,
                    const Conv2dParams& p) {
  int64_t oh, ow;
  conv2d_check(p, &oh, &ow);
  if (p.batch == 0 || p.out_c == 0) return;
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, p.mask);
  const int64_t K = p.in_c * taps.size();
  const int64_t plane_out = oh * ow;
  if (K == 0) {  // nothing to read (Cin = 0, or a 1x1 kernel under mask A): y = bias
    for (int64_t i = 0; i < p.batch * p.out_c; ++i) {
      std::fill(y + i * plane_out, y + (i + 1) * plane_out,
                bias != nullptr ? bias[i % p.out_c] : 0.0f);
    }
    return;
  }
  if (use_direct_forward(p, taps.size())) {
    conv2d_forward_direct(x, weight, bias, y, p, oh, ow, taps, conv2d_tile_avx2);
  } else {
    conv2d_forward_gemm(x, weight, bias, y, p, oh, ow, taps);
  }
}

bool conv2d_forward_is_direct(const Conv2dParams& p) {
  return use_direct_forward(p, conv_taps(p.k_h, p.k_w, p.mask).size());
}

namespace {

// dx of conv2d p is the transposed conv of dy with the same weight ([Cout, Cin, kH, kW] is
// its [in, out, kH, kW]); the output padding restores the rows the stride's floor dropped.
ConvTranspose2dParams data_gradient_as_convt(const Conv2dParams& p, int64_t oh, int64_t ow) {
  ConvTranspose2dParams q;
  q.batch = p.batch;
  q.in_c = p.out_c;
  q.in_h = oh;
  q.in_w = ow;
  q.out_c = p.in_c;
  q.k_h = p.k_h;
  q.k_w = p.k_w;
  q.stride_h = p.stride_h;
  q.stride_w = p.stride_w;
  q.pad_h = p.pad_h;
  q.pad_w = p.pad_w;
  q.out_pad_h = p.in_h - ((oh - 1) * p.stride_h - 2 * p.pad_h + p.k_h);
  q.out_pad_w = p.in_w - ((ow - 1) * p.stride_w - 2 * p.pad_w + p.k_w);
  return q;
}

}  // namespace

bool conv2d_backward_data_is_direct(const Conv2dParams& p) {
  int64_t oh, ow;
  conv2d_check(p, &oh, &ow);
  return p.mask == ConvMask::kNone && p.batch > 0 && p.in_c > 0 && p.out_c > 0 &&
         conv_transpose2d_forward_is_direct(data_gradient_as_convt(p, oh, ow));
}

void conv2d_backward_data(const float* dy, const float* weight, float* dx, const Conv2dParams& p) {
  int64_t oh, ow;
  conv2d_check(p, &oh, &ow);
  if (p.batch == 0 || p.in_c == 0) return;
  if (conv2d_backward_data_is_direct(p)) {
    conv_transpose2d_forward(dy, weight, nullptr, dx, data_gradient_as_convt(p, oh, ow));
    return;
  }
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, p.mask);
  const int64_t T = taps.size(), K = p.in_c * T;
  const int64_t plane_out = oh * ow, plane_in = p.in_h * p.in_w;
  if (T == 0 || p.out_c == 0) {
    std::fill(dx, dx + p.batch * p.in_c * plane_in, 0.0f);
    return;
  }
  // wt [K, Cout] = the (packed) weight transposed, so the GEMM reads A row by row.
  const float* w = weight;
  if (p.mask != ConvMask::kNone) {
    float* packed = conv_scratch(2, p.out_c * K);
    pack_weight(weight, p, taps, packed);
    w = packed;
  }
  float* wt = conv_scratch(3, K * p.out_c);
  transpose_matrix(w, p.out_c, K, wt);
  const ConvWindow g = window_of(p, oh, ow);
  conv_for_chunks(
      p.batch, (K + p.out_c) * plane_out, plane_out, [&](int64_t n0, int64_t m, int inner) {
        const float* dyc = dy + n0 * p.out_c * plane_out;
        const float* dyp = dyc;
        if (m > 1) {
          float* buf = conv_scratch(1, p.out_c * m * plane_out);
          nchw_to_cn(dyc, m, p.out_c, plane_out, buf, inner);
          dyp = buf;
        }
        // dcol [K, m*Ho*Wo] = wt [K, Cout] @ dyp [Cout, m*Ho*Wo]
        float* dcol = conv_scratch(0, K * m * plane_out);
        sgemm(false, false, K, m * plane_out, p.out_c, 1.0f, wt, dyp, 0.0f, dcol, inner);
        col2im(dcol, m, p.in_c, g, taps, nullptr, dx + n0 * p.in_c * plane_in, inner);
      });
}

void conv2d_backward_weight(const float* x, const float* dy, float* dweight, float* dbias,
                            const Conv2dParams& p, bool accumulate) {
  int64_t oh, ow;
  conv2d_check(p, &oh, &ow);
  const int64_t plane_out = oh * ow, plane_in = p.in_h * p.in_w;
  conv_bias_grad(dy, dbias, p.batch, p.out_c, plane_out, accumulate);
  const ConvTaps taps = conv_taps(p.k_h, p.k_w, p.mask);
  const int64_t T = taps.size(), K = p.in_c * T, kk = p.k_h * p.k_w;
  if (p.out_c == 0 || p.in_c == 0) return;
  const bool masked = p.mask != ConvMask::kNone;
  // Unmasked: accumulate straight into dweight ([Cout, Cin*kH*kW] is the GEMM's layout).
  // Masked: into a packed [Cout, Cin*T] buffer, scattered to the unmasked positions after.
  float* dw = masked ? conv_scratch(2, p.out_c * K) : dweight;
  if (p.batch == 0 || T == 0) {
    if (!accumulate || masked) std::fill(dw, dw + p.out_c * K, 0.0f);
  } else {
    const ConvWindow g = window_of(p, oh, ow);
    const int64_t chunk =
        conv_images_per_chunk(p.batch, (K + p.out_c) * plane_out, kReduceChunkFloats);
    for (int64_t n0 = 0; n0 < p.batch; n0 += chunk) {
      const int64_t m = std::min(chunk, p.batch - n0);
      float* col = conv_scratch(0, K * m * plane_out);
      im2col(x + n0 * p.in_c * plane_in, m, p.in_c, g, taps, col);
      const float* dyc = dy + n0 * p.out_c * plane_out;
      const float* dyp = dyc;
      if (m > 1) {
        float* buf = conv_scratch(1, p.out_c * m * plane_out);
        nchw_to_cn(dyc, m, p.out_c, plane_out, buf);
        dyp = buf;
      }
      // dw [Cout, K] (+)= dyp [Cout, m*Ho*Wo] @ col^T; chunks add in order, so the sum's
      // rounding depends on the shapes only.
      const float beta = n0 == 0 ? (accumulate && !masked ? 1.0f : 0.0f) : 1.0f;
      sgemm(false, true, p.out_c, K, m * plane_out, 1.0f, dyp, col, beta, dw);
    }
  }
  if (masked) {
    for (int64_t q = 0; q < p.out_c * p.in_c; ++q) {
      float* dst = dweight + q * kk;
      const float* src = dw + q * T;
      if (!accumulate) std::fill(dst, dst + kk, 0.0f);
      for (int64_t t = 0; t < T; ++t) {
        float& o = dst[taps.ky[t] * p.k_w + taps.kx[t]];
        o = accumulate ? o + src[t] : src[t];
      }
    }
  }
}

}  // namespace deepgen
