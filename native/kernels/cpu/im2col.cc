#include "im2col.h"

#include <algorithm>
#include <cstring>

#include "../../common/errors.h"
#include "../../common/thread_pool.h"

namespace deepgen {

bool conv_tap_masked(int64_t ky, int64_t kx, int64_t k_h, int64_t k_w, ConvMask mask) {
  if (mask == ConvMask::kNone) return false;
  const int64_t cy = k_h / 2, cx = k_w / 2;
  if (ky > cy) return true;                             // rows below the centre
  if (ky == cy && kx > cx) return true;                 // right of the centre, centre row
  return mask == ConvMask::kA && ky == cy && kx == cx;  // mask A also hides the centre
}

ConvTaps conv_taps(int64_t k_h, int64_t k_w, ConvMask mask) {
  ConvTaps t;
  for (int64_t ky = 0; ky < k_h; ++ky) {
    for (int64_t kx = 0; kx < k_w; ++kx) {
      if (conv_tap_masked(ky, kx, k_h, k_w, mask)) continue;
      t.ky.push_back(static_cast<int32_t>(ky));
      t.kx.push_back(static_cast<int32_t>(kx));
    }
  }
  return t;
}

int64_t conv_mul(int64_t a, int64_t b) {
  constexpr int64_t kMax = int64_t{1} << 53;
  if (a < 0 || b < 0) throw KernelError("E_ARG", "conv: negative size");
  if (a != 0 && b > kMax / a) throw KernelError("E_ARG", "conv: sizes too large");
  return a * b;
}

namespace {

// Roughly this many floats of work per parallel task: enough to amortize the pool's per-task
// cost, small enough to balance over a few cores. (These loops only move data, so how they
// are split never changes a result.)
constexpr int64_t kFloatsPerTask = 1 << 15;

// Runs fn(task) for task in [0, n): on this thread alone when max_threads == 1 (no pool
// round trip per call: chunk tasks call this many times), else through parallel_for.
template <typename F>
void run_tasks(int64_t n, int max_threads, F&& fn) {
  if (max_threads == 1 || n <= 1) {
    for (int64_t i = 0; i < n; ++i) fn(i);
  } else {
    parallel_for(n, fn, max_threads);
  }
}

// The window positions o in [lo, hi) of [0, out_n) whose pixel o * stride - pad + k lies
// inside [0, n).
inline void valid_range(int64_t out_n, int64_t stride, int64_t pad, int64_t k, int64_t n,
                        int64_t* lo, int64_t* hi) {
  const int64_t first = pad - k;  // o * stride >= first
  *lo = first <= 0 ? 0 : (first + stride - 1) / stride;
  const int64_t last = n - 1 + pad - k;  // o * stride <= last
  *hi = last < 0 ? 0 : std::min(out_n, last / stride + 1);
  if (*lo > *hi) *lo = *hi;
}

// Phase-plane geometry of a window (see im2col.h): stride_h * stride_w planes of hq x wq.
struct Phases {
  int64_t ph, pw, hq, wq;
  explicit Phases(const ConvWindow& g)
      : ph(g.stride_h),
        pw(g.stride_w),
        hq(g.out_h + (g.k_h - 1) / g.stride_h),
        wq(g.out_w + (g.k_w - 1) / g.stride_w) {}
  int64_t plane() const { return hq * wq; }
  int64_t size() const { return ph * pw * hq * wq; }
  // Offset of the first pixel tap (ky, kx) reads (output (0, 0)) inside the phase planes.
  int64_t tap_offset(int64_t ky, int64_t kx) const {
    return ((ky % ph) * pw + kx % pw) * plane() + (ky / ph) * wq + kx / pw;
  }
};

// One h x w plane -> its phase planes: phase (py, px) at [u][v] holds the padded pixel
// (u * stride_h + py, v * stride_w + px), i.e. x[u*sh + py - pad_h][v*sw + px - pad_w] or 0.
// Only the entries that hold pixels are written: which ones those are depends on the window
// alone, so the zeros of the padding are written once per buffer (zero_phases) and stay.
void split_phases(const float* src, const ConvWindow& g, const Phases& q, float* dst) {
  for (int64_t py = 0; py < q.ph; ++py) {
    int64_t u_lo, u_hi;
    valid_range(q.hq, g.stride_h, g.pad_h, py, g.h, &u_lo, &u_hi);
    for (int64_t px = 0; px < q.pw; ++px) {
      int64_t v_lo, v_hi;
      valid_range(q.wq, g.stride_w, g.pad_w, px, g.w, &v_lo, &v_hi);
      if (v_lo == v_hi) continue;
      float* plane = dst + (py * q.pw + px) * q.plane();
      const int64_t n = v_hi - v_lo;
      for (int64_t u = u_lo; u < u_hi; ++u) {
        float* row = plane + u * q.wq + v_lo;
        // First pixel read: (u*sh + py - pad_h, v_lo*sw + px - pad_w), inside the plane.
        const float* s =
            src + (u * g.stride_h + py - g.pad_h) * g.w + (v_lo * g.stride_w + px - g.pad_w);
        if (g.stride_w == 1) {
          std::memcpy(row, s, sizeof(float) * n);
        } else {
          for (int64_t v = 0; v < n; ++v) row[v] = s[v * g.stride_w];
        }
      }
    }
  }
}

// The adjoint of split_phases for the pixels inside the plane: out = bias + phase value.
// Pixels no phase entry covers (beyond every window) get just the bias.
void merge_phases(const float* src, const ConvWindow& g, const Phases& q, float bias, float* out) {
  std::fill(out, out + g.h * g.w, bias);
  for (int64_t py = 0; py < q.ph; ++py) {
    int64_t u_lo, u_hi;
    valid_range(q.hq, g.stride_h, g.pad_h, py, g.h, &u_lo, &u_hi);
    for (int64_t px = 0; px < q.pw; ++px) {
      int64_t v_lo, v_hi;
      valid_range(q.wq, g.stride_w, g.pad_w, px, g.w, &v_lo, &v_hi);
      if (v_lo == v_hi) continue;
      const float* plane = src + (py * q.pw + px) * q.plane();
      for (int64_t u = u_lo; u < u_hi; ++u) {
        const float* row = plane + u * q.wq;
        float* d = out + (u * g.stride_h + py - g.pad_h) * g.w + (v_lo * g.stride_w + px - g.pad_w);
        for (int64_t v = v_lo; v < v_hi; ++v) d[(v - v_lo) * g.stride_w] += row[v];
      }
    }
  }
}

// Slack after a plane's phases: copy_rows may read up to 8 floats past a row's end.
constexpr int64_t kPhaseSlack = 8;

// A per-thread buffer for one plane's phases (small: about one padded plane), plus slack.
float* phase_buffer(int64_t n) {
  if (n < 0) throw KernelError("E_ARG", "conv: scratch size overflow");
  thread_local std::vector<float> buf;
  if (static_cast<int64_t>(buf.size()) < n + kPhaseSlack) {
    buf.assign(static_cast<size_t>(n + kPhaseSlack), 0.0f);
  }
  return buf.data();
}

// Copies `rows` rows of `width` floats (source rows `src_stride` apart) into one contiguous
// block. Rows are short (7 floats for a 7x7 output), so per-element loops cost more than the
// data: copy in fixed blocks of 8 floats instead (two vector moves), letting a row's last block
// run past its end into the rows after it, which their own copies then overwrite. A row whose
// blocks would run past the end of the whole block is copied exactly, so nothing outside the
// block is written; reads may run up to 8 floats past a source row (the phase buffer has that
// slack).
inline void copy_rows(const float* src, int64_t src_stride, float* dst, int64_t width,
                      int64_t rows) {
  const int64_t span = (width + 7) / 8 * 8;
  const int64_t end = rows * width;
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = src + r * src_stride;
    float* d = dst + r * width;
    if (r * width + span <= end) {
      for (int64_t x = 0; x < width; x += 8) std::memcpy(d + x, s + x, 8 * sizeof(float));
    } else {
      for (int64_t x = 0; x < width; ++x) d[x] = s[x];
    }
  }
}

}  // namespace

int64_t conv_phase_size(const ConvWindow& g) { return Phases(g).size(); }

void im2col(const float* x, int64_t images, int64_t channels, const ConvWindow& g,
            const ConvTaps& taps, float* col, int max_threads) {
  const int64_t T = taps.size();
  const int64_t planes = images * channels;
  const int64_t plane_in = g.h * g.w, plane_out = g.out_h * g.out_w;
  const int64_t ld = images * plane_out;
  if (T == 0 || planes == 0 || plane_out == 0) return;
  const Phases q(g);
  std::vector<int64_t> offsets(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) offsets[t] = q.tap_offset(taps.ky[t], taps.kx[t]);
  const int64_t per_task =
      std::max<int64_t>(1, kFloatsPerTask / std::max<int64_t>(1, T * plane_out));
  const int64_t tasks = (planes + per_task - 1) / per_task;
  run_tasks(tasks, max_threads, [&](int64_t task) {
    float* phases = phase_buffer(q.size());
    std::fill(phases, phases + q.size(), 0.0f);  // the padding; split_phases writes the rest
    const int64_t p_end = std::min(planes, (task + 1) * per_task);
    for (int64_t p = task * per_task; p < p_end; ++p) {
      const int64_t j = p / channels, c = p % channels;
      split_phases(x + p * plane_in, g, q, phases);
      for (int64_t t = 0; t < T; ++t) {
        const float* s = phases + offsets[t];
        float* d = col + (c * T + t) * ld + j * plane_out;
        copy_rows(s, q.wq, d, g.out_w, g.out_h);
      }
    }
  });
}

void col2im(const float* col, int64_t images, int64_t channels, const ConvWindow& g,
            const ConvTaps& taps, const float* bias, float* out, int max_threads) {
  const int64_t T = taps.size();
  const int64_t planes = images * channels;
  const int64_t plane_in = g.h * g.w, plane_out = g.out_h * g.out_w;
  const int64_t ld = images * plane_out;
  if (planes == 0 || plane_in == 0) return;
  const Phases q(g);
  std::vector<int64_t> offsets(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) offsets[t] = q.tap_offset(taps.ky[t], taps.kx[t]);
  const int64_t work = std::max<int64_t>(1, T * plane_out + plane_in);
  const int64_t per_task = std::max<int64_t>(1, kFloatsPerTask / work);
  const int64_t tasks = (planes + per_task - 1) / per_task;
  run_tasks(tasks, max_threads, [&](int64_t task) {
    float* phases = phase_buffer(q.size());
    const int64_t p_end = std::min(planes, (task + 1) * per_task);
    for (int64_t p = task * per_task; p < p_end; ++p) {
      const int64_t j = p / channels, c = p % channels;
      std::fill(phases, phases + q.size(), 0.0f);
      for (int64_t t = 0; t < T; ++t) {
        float* d = phases + offsets[t];
        const float* s = col + (c * T + t) * ld + j * plane_out;
        for (int64_t oy = 0; oy < g.out_h; ++oy) {
          float* dr = d + oy * q.wq;
          const float* sr = s + oy * g.out_w;
          for (int64_t ox = 0; ox < g.out_w; ++ox) dr[ox] += sr[ox];
        }
      }
      merge_phases(phases, g, q, bias != nullptr ? bias[c] : 0.0f, out + p * plane_in);
    }
  });
}

void im2col_reference(const float* x, int64_t images, int64_t channels, const ConvWindow& g,
                      const ConvTaps& taps, float* col) {
  const int64_t T = taps.size(), plane_out = g.out_h * g.out_w, ld = images * plane_out;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t j = 0; j < images; ++j) {
        for (int64_t oy = 0; oy < g.out_h; ++oy) {
          for (int64_t ox = 0; ox < g.out_w; ++ox) {
            const int64_t iy = oy * g.stride_h - g.pad_h + taps.ky[t];
            const int64_t ix = ox * g.stride_w - g.pad_w + taps.kx[t];
            const bool inside = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w;
            col[(c * T + t) * ld + j * plane_out + oy * g.out_w + ox] =
                inside ? x[((j * channels + c) * g.h + iy) * g.w + ix] : 0.0f;
          }
        }
      }
    }
  }
}

void col2im_reference(const float* col, int64_t images, int64_t channels, const ConvWindow& g,
                      const ConvTaps& taps, const float* bias, float* out) {
  const int64_t T = taps.size(), plane_out = g.out_h * g.out_w, ld = images * plane_out;
  for (int64_t j = 0; j < images; ++j) {
    for (int64_t c = 0; c < channels; ++c) {
      float* plane = out + (j * channels + c) * g.h * g.w;
      std::fill(plane, plane + g.h * g.w, bias != nullptr ? bias[c] : 0.0f);
    }
  }
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t j = 0; j < images; ++j) {
        for (int64_t oy = 0; oy < g.out_h; ++oy) {
          for (int64_t ox = 0; ox < g.out_w; ++ox) {
            const int64_t iy = oy * g.stride_h - g.pad_h + taps.ky[t];
            const int64_t ix = ox * g.stride_w - g.pad_w + taps.kx[t];
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
            out[((j * channels + c) * g.h + iy) * g.w + ix] +=
                col[(c * T + t) * ld + j * plane_out + oy * g.out_w + ox];
          }
        }
      }
    }
  }
}

void nchw_to_cn(const float* x, int64_t images, int64_t channels, int64_t plane, float* out,
                int max_threads) {
  const int64_t rows = images * channels;
  if (rows == 0 || plane == 0) return;
  const int64_t per_task = std::max<int64_t>(1, kFloatsPerTask / plane);
  const int64_t tasks = (rows + per_task - 1) / per_task;
  run_tasks(tasks, max_threads, [&](int64_t task) {
    const int64_t end = std::min(rows, (task + 1) * per_task);
    for (int64_t r = task * per_task; r < end; ++r) {
      const int64_t c = r / images, j = r % images;
      std::memcpy(out + (c * images + j) * plane, x + (j * channels + c) * plane,
                  sizeof(float) * plane);
    }
  });
}

void cn_to_nchw(const float* in, int64_t images, int64_t channels, int64_t plane, const float* bias,
                float* y, int max_threads) {
  const int64_t rows = images * channels;
  if (rows == 0 || plane == 0) return;
  const int64_t per_task = std::max<int64_t>(1, kFloatsPerTask / plane);
  const int64_t tasks = (rows + per_task - 1) / per_task;
  run_tasks(tasks, max_threads, [&](int64_t task) {
    const int64_t end = std::min(rows, (task + 1) * per_task);
    for (int64_t r = task * per_task; r < end; ++r) {
      const int64_t j = r / channels, c = r % channels;
      const float* src = in + (c * images + j) * plane;
      float* dst = y + r * plane;
      if (bias != nullptr) {
        const float b = bias[c];
        for (int64_t i = 0; i < plane; ++i) dst[i] = src[i] + b;
      } else if (dst != src) {
        std::memcpy(dst, src, sizeof(float) * plane);
      }
    }
  });
}

void transpose_matrix(const float* a, int64_t rows, int64_t cols, float* out) {
  constexpr int64_t kBlock = 32;  // blocks keep both sides' cache lines in use
  for (int64_t i0 = 0; i0 < rows; i0 += kBlock) {
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock) {
      const int64_t i1 = std::min(rows, i0 + kBlock), j1 = std::min(cols, j0 + kBlock);
      for (int64_t i = i0; i < i1; ++i) {
        for (int64_t j = j0; j < j1; ++j) out[j * rows + i] = a[i * cols + j];
      }
    }
  }
}

void conv_bias_grad(const float* dy, float* dbias, int64_t batch, int64_t channels, int64_t plane,
                    bool accumulate) {
  if (dbias == nullptr || channels == 0) return;
  parallel_for(channels, [&](int64_t c) {
    double s = 0.0;
    for (int64_t n = 0; n < batch; ++n) {
      const float* row = dy + (n * channels + c) * plane;
      for (int64_t i = 0; i < plane; ++i) s += row[i];
    }
    dbias[c] = accumulate ? dbias[c] + static_cast<float>(s) : static_cast<float>(s);
  });
}

float* conv_scratch(int slot, int64_t n) {
  thread_local std::vector<float> buffers[4];
  if (slot < 0 || slot >= 4) throw KernelError("E_ARG", "conv_scratch: bad slot");
  std::vector<float>& b = buffers[slot];
  if (static_cast<int64_t>(b.size()) < n) {
    b.clear();
    b.shrink_to_fit();  // free first: never hold the old and new buffers at once
    b.resize(static_cast<size_t>(n));
  }
  return b.data();
}

int64_t conv_images_per_chunk(int64_t batch, int64_t floats_per_image, int64_t budget) {
  if (batch <= 0) return 1;
  const int64_t per = std::max<int64_t>(1, floats_per_image);
  const int64_t fit = std::max<int64_t>(1, budget / per);
  const int64_t chunks = (batch + fit - 1) / fit;
  return (batch + chunks - 1) / chunks;
}

int64_t conv_chunk_images(int64_t batch, int64_t floats_per_image, int64_t columns_per_image) {
  if (batch <= 0) return 1;
  const int64_t cols = std::max<int64_t>(1, columns_per_image);
  const int64_t by_cols = (kConvChunkColumns + cols - 1) / cols;
  const int64_t by_mem =
      std::max<int64_t>(1, kConvChunkFloats / std::max<int64_t>(1, floats_per_image));
  const int64_t fit = std::max<int64_t>(1, std::min(by_cols, by_mem));
  const int64_t chunks = (batch + fit - 1) / fit;
  return (batch + chunks - 1) / chunks;
}

void conv_for_chunks(int64_t batch, int64_t floats_per_image, int64_t columns_per_image,
                     const std::function<void(int64_t, int64_t, int)>& body) {
  if (batch <= 0) return;
  const int64_t chunk = conv_chunk_images(batch, floats_per_image, columns_per_image);
  const int64_t chunks = (batch + chunk - 1) / chunk;
  auto run = [&](int64_t c, int inner) {
    const int64_t n0 = c * chunk;
    body(n0, std::min(chunk, batch - n0), inner);
  };
  // Two chunks per thread at least, or the last round leaves threads idle for long.
  if (chunks >= 2 * static_cast<int64_t>(thread_limit())) {
    parallel_for(chunks, [&](int64_t c) { run(c, 1); });
  } else {
    for (int64_t c = 0; c < chunks; ++c) run(c, 0);
  }
}

}  // namespace deepgen
