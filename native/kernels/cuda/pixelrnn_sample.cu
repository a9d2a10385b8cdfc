// CUDA mirror of the cached PixelRNN sampler (native/kernels/cpu/pixelrnn_sample.cc): draws n
// binary images, Row LSTM or Diagonal BiLSTM, with the CPU's Philox counters.
//
// One persistent launch, one block per image. Sampling is R W pixels strictly in sequence,
// each needing L cells of H units: far too little work per pixel for a launch each (that would
// be R W L launches of a few hundred threads), and everything a pixel needs from the previous
// one is inside its own image, so the only barriers are block barriers. The block walks the
// pixels in the CPU's order:
//   pixel (r, c): x0(r, c); per layer the same-row direction's cell at (r, c), then
//                 x_l+1(r, c) = x_l(r, c) + h(r, c) [+ h_rl(r-1, c)]; the logit; the draw.
//   end of row r: per layer, the right-to-left direction's cells of row r, c = W-1 .. 0.
// Thread j (and j + blockDim, ...) owns hidden unit j: it computes the four gate
// pre-activations of unit j in registers, then c_j and h_j, so a cell needs no barrier inside
// it; a barrier follows each step whose outputs other units read (x_l+1 at a pixel, each
// right-to-left cell, the output layer's units, the drawn pixel).
//
// State: a tap reaches at most one row back, and inputs x_l only the current row, so each
// image keeps x_l for one row ([L+1, W, H]) and h, c for two rows ([L ndir, 2, W, H], row r in
// slot r % 2) in a global scratch slab of its own (L1/L2 resident for MNIST-sized models).
//
// Numerics, chosen to follow the CPU sampler as closely as its builds allow:
//   - tap products: out[j] += v[k] w[k, j] for k ascending, one fused multiply-add each, the
//     order and rounding of the CPU's AVX2/FMA pixelrnn_matvec_acc (the portable build rounds
//     product and sum separately);
//   - sigmoid and tanh evaluated in double and rounded once, as the CPU's portable
//     sigmoid_span / tanh_span (its AVX2 ones are polynomials within 2 ulp of that);
//   - c = f c_prev + i g, h = o tanh(c), the x0 sums, the residual sums and the output dot
//     w2 . relu(y) with separately rounded products and sums in the CPU's order
//     (__fmul_rn / __fadd_rn keep nvcc from contracting them into FMAs);
//   - p = 1 / (1 + exp(-logit)) in double, x = philox_uniform_f64(word) < p, the block at
//     counter (pixel / 4, index mod 2^32, stream, index / 2^32), word pixel % 4.
// So probabilities agree with the CPU to a few float ulps, not bit for bit, and an image can
// differ from the CPU's where a uniform lies within that distance of p (a near tie); the test
// counts those.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "../../common/errors.h"
#include "../../common/philox.h"
#include "cuda_api.h"
#include "cuda_check.h"
#include "pixelrnn_device.cuh"

namespace deepgen {
namespace cuda {

namespace {

constexpr int64_t kMaxChunk = 1024;                 // images per launch
constexpr size_t kScratchBudget = size_t{1} << 30;  // bytes of per-image state per launch

__device__ __forceinline__ float sigmoid_rounded(float x) {
  return static_cast<float>(1.0 / (1.0 + exp(-static_cast<double>(x))));
}
__device__ __forceinline__ float tanh_rounded(float x) {
  return static_cast<float>(tanh(static_cast<double>(x)));
}

// One image's state (see the top of the file).
struct ImageState {
  const PixelRnnNetView& v;
  float* xs;  // [L+1, W, H]
  float* hs;  // [L ndir, 2, W, H]
  float* cs;  // [L ndir, 2, W, H]
  __device__ float* X(int64_t l, int64_t c) const { return xs + (l * v.cols + c) * v.hidden; }
  __device__ float* Hd(int64_t ld, int64_t r, int64_t c) const {
    return hs + ((ld * 2 + (r & 1)) * v.cols + c) * v.hidden;
  }
  __device__ float* Cd(int64_t ld, int64_t r, int64_t c) const {
    return cs + ((ld * 2 + (r & 1)) * v.cols + c) * v.hidden;
  }
};

// a[g] += sum_k in[k] w[k, g H + j] for k ascending (w: rows of 4H), one FMA per product.
__device__ __forceinline__ void add_tap(float a[4], const float* in, const float* w, int64_t h,
                                        int64_t j) {
  const int64_t h4 = 4 * h;
  for (int64_t k = 0; k < h; ++k) {
    const float x = in[k];
    for (int g = 0; g < 4; ++g) a[g] = fmaf(x, w[k * h4 + g * h + j], a[g]);
  }
}

// The cell of direction di, layer l at (r, c), units j owned by this thread. Reads only cells
// of earlier steps and x_l of row r, all written before the last barrier.
__device__ void cell(const ImageState& st, int64_t l, int di, int64_t r, int64_t c) {
  const PixelRnnNetView& v = st.v;
  const PixelRnnDirection& dir = v.dir[di];
  const int64_t h = v.hidden, ld = l * v.ndir + di;
  const float* wis = v.params + v.wis0 + ld * v.ld_stride;
  const float* wss = v.params + v.wss0 + ld * v.ld_stride;
  const float* bias = v.params + v.bias0 + ld * v.ld_stride;
  const int64_t rp = r + dir.cp_dr, cpc = c + dir.cp_dc;
  const bool has_cp = pixelrnn_inside(v, rp, cpc);
  for (int64_t j = threadIdx.x; j < h; j += blockDim.x) {
    float a[4];
    for (int g = 0; g < 4; ++g) a[g] = bias[g * h + j];
    // The CPU's order: state taps, then input taps, each in tap order.
    for (int t = 0; t < dir.nss; ++t) {
      const int64_t rr = r + dir.ss_dr[t], cc = c + dir.ss_dc[t];
      if (pixelrnn_inside(v, rr, cc)) add_tap(a, st.Hd(ld, rr, cc), wss + t * h * 4 * h, h, j);
    }
    for (int t = 0; t < dir.nis; ++t) {
      const int64_t cc = c + dir.is_dc[t];  // is_dr == 0 (checked at upload): row r
      if (pixelrnn_inside(v, r, cc)) add_tap(a, st.X(l, cc), wis + t * h * 4 * h, h, j);
    }
    const float o = sigmoid_rounded(a[0]), f = sigmoid_rounded(a[1]), i = sigmoid_rounded(a[2]);
    const float g = tanh_rounded(a[3]);
    const float fc = has_cp ? __fmul_rn(f, st.Cd(ld, rp, cpc)[j]) : 0.0f;
    const float cn = __fadd_rn(fc, __fmul_rn(i, g));
    st.Cd(ld, r, c)[j] = cn;
    st.Hd(ld, r, c)[j] = __fmul_rn(o, tanh_rounded(cn));
  }
}

// y_shared: [H] floats of dynamic shared memory (the output layer's units before the dot).
__global__ void pixelrnn_sample_kernel(PixelRnnNetView v, int64_t n, uint64_t first_index,
                                       uint32_t key0, uint32_t key1, uint32_t stream, float* x,
                                       float* probs, float* scratch, int64_t scratch_per_image) {
  extern __shared__ float y_shared[];
  const int64_t s = blockIdx.x;
  if (s >= n) return;  // the whole block leaves: no barrier is skipped by part of it
  const int64_t h = v.hidden, w = v.cols, d = v.rows * v.cols, nld = v.layers * v.ndir;
  float* img = x + s * d;
  float* pr = probs == nullptr ? nullptr : probs + s * d;
  float* base = scratch + s * scratch_per_image;
  const ImageState st{v, base, base + (v.layers + 1) * w * h,
                      base + (v.layers + 1) * w * h + nld * 2 * w * h};
  const uint64_t index = first_index + static_cast<uint64_t>(s);
  const float* in_w = v.params + v.in_w;
  const float* in_b = v.params + v.in_b;
  const float* w1 = v.params + v.out1_w;
  const float* b1 = v.params + v.out1_b;
  const float* w2 = v.params + v.out2_w;
  const float b2 = v.params[v.out2_b];
  for (int64_t r = 0; r < v.rows; ++r) {
    for (int64_t c = 0; c < w; ++c) {
      const int64_t p = r * w + c;
      // x0(r, c) from the pixels drawn so far (mask A), exact 0/1 inputs: no products.
      for (int64_t j = threadIdx.x; j < h; j += blockDim.x) {
        float acc = in_b[j];
        for (int t = 0; t < kMaskATaps; ++t) {
          int dr, dc;
          pixelrnn_mask_a_tap_dev(t, &dr, &dc);
          const int64_t rr = r + dr, cc = c + dc;
          if (pixelrnn_inside(v, rr, cc) && img[rr * w + cc] > 0.5f)
            acc = __fadd_rn(acc, in_w[t * h + j]);
        }
        st.X(0, c)[j] = acc;
      }
      __syncthreads();
      for (int64_t l = 0; l < v.layers; ++l) {
        for (int di = 0; di < v.ndir; ++di)
          if (v.dir[di].shift == 0) cell(st, l, di, r, c);
        // x_l+1(r, c): unit j reads only h(r, c)[j], which this thread just wrote, and
        // right-to-left states of row r-1 (before the last barrier).
        for (int64_t j = threadIdx.x; j < h; j += blockDim.x) {
          float acc = st.X(l, c)[j];
          for (int di = 0; di < v.ndir; ++di) {
            const int64_t rr = r - v.dir[di].shift;
            if (pixelrnn_inside(v, rr, c)) acc = __fadd_rn(acc, st.Hd(l * v.ndir + di, rr, c)[j]);
          }
          st.X(l + 1, c)[j] = acc;
        }
        __syncthreads();
      }
      for (int64_t j = threadIdx.x; j < h; j += blockDim.x) {
        float y = b1[j];
        const float* in = st.X(v.layers, c);
        for (int64_t k = 0; k < h; ++k) y = fmaf(in[k], w1[k * h + j], y);
        y_shared[j] = y;
      }
      __syncthreads();
      if (threadIdx.x == 0) {
        float acc = 0.0f;
        for (int64_t j = 0; j < h; ++j)
          acc = __fadd_rn(acc, __fmul_rn(fmaxf(y_shared[j], 0.0f), w2[j]));
        const float logit = __fadd_rn(acc, b2);
        const double prob = 1.0 / (1.0 + exp(-static_cast<double>(logit)));
        const PhiloxBlock blk =
            philox4x32_10(static_cast<uint32_t>(p >> 2), static_cast<uint32_t>(index), stream,
                          static_cast<uint32_t>(index >> 32), key0, key1);
        img[p] = philox_uniform_f64(blk.v[p & 3]) < prob ? 1.0f : 0.0f;
        if (pr != nullptr) pr[p] = static_cast<float>(prob);
      }
      // The drawn pixel is read by x0 of later pixels, and y_shared is rewritten next pixel.
      __syncthreads();
    }
    // Row r is complete: the right-to-left cells of row r, needed from row r+1 on.
    for (int64_t l = 0; l < v.layers; ++l)
      for (int di = 0; di < v.ndir; ++di)
        if (v.dir[di].shift == 1)
          for (int64_t c = w - 1; c >= 0; --c) {
            cell(st, l, di, r, c);
            __syncthreads();  // the next cell (c - 1) reads h and c at (r, c), all units
          }
  }
}

}  // namespace

void pixelrnn_sample(PixelRnnDeviceModel* m, int64_t n, uint64_t sample_offset, uint32_t key0,
                     uint32_t key1, uint32_t stream, float* x, float* probs) {
  pixelrnn_check_model(m, "pixelrnn_sample");
  if (n < 0) throw KernelError("E_ARG", "pixelrnn_sample: negative batch size");
  if (n == 0) return;
  if (x == nullptr) throw KernelError("E_ARG", "pixelrnn_sample: null output array");
  const PixelRnnNetView v = m->view();
  const int64_t d = v.rows * v.cols, h = v.hidden, w = v.cols;
  const int64_t per_image = (v.layers + 1) * w * h + 4 * v.layers * v.ndir * w * h;
  const size_t per_image_bytes = sizeof(float) * static_cast<size_t>(per_image);
  if (per_image_bytes > kScratchBudget) {
    throw KernelError("E_BACKEND",
                      "pixelrnn_sample (cuda): the model's per-image state (" +
                          std::to_string(per_image_bytes >> 20) +
                          " MiB) exceeds the sampler's scratch budget; use backend 'native'");
  }
  const int64_t chunk = std::max<int64_t>(
      1, std::min<int64_t>({n, kMaxChunk, static_cast<int64_t>(kScratchBudget / per_image_bytes)}));
  DeviceBuffer<float> scratch(static_cast<size_t>(chunk * per_image));
  DeviceBuffer<float> dx(static_cast<size_t>(chunk * d));
  DeviceBuffer<float> dprobs(probs == nullptr ? 0 : static_cast<size_t>(chunk * d));
  // A warp per 32 units up to 256 threads; larger H loops (thread j owns j, j + 256, ...).
  const int threads = static_cast<int>(std::min<int64_t>(256, (h + 31) / 32 * 32));
  const size_t shared = sizeof(float) * static_cast<size_t>(h);  // h <= 4096: 16 KiB at most
  for (int64_t first = 0; first < n; first += chunk) {
    const int64_t nb = std::min(chunk, n - first);
    pixelrnn_sample_kernel<<<static_cast<unsigned>(nb), threads, shared>>>(
        v, nb, sample_offset + static_cast<uint64_t>(first), key0, key1, stream, dx.get(),
        probs == nullptr ? nullptr : dprobs.get(), scratch.get(), per_image);
    check(cudaGetLastError(), "pixelrnn sample launch");
    const size_t bytes = sizeof(float) * static_cast<size_t>(nb * d);
    check(cudaMemcpy(x + first * d, dx.get(), bytes, cudaMemcpyDeviceToHost), "pixelrnn_sample");
    if (probs != nullptr) {
      check(cudaMemcpy(probs + first * d, dprobs.get(), bytes, cudaMemcpyDeviceToHost),
            "pixelrnn_sample");
    }
  }
}

}  // namespace cuda
}  // namespace deepgen
