// CUDA mirror of the PixelRNN log-likelihood (native/kernels/cpu/pixelrnn.cc; the network is
// described in pixelrnn.h): Row LSTM and Diagonal BiLSTM, x [n, R*W] binary -> logp [n].
//
// Launch structure: one launch per (layer, direction, step), not a persistent kernel. A step
// (a row, or a diagonal) reads the h and c of the previous step at any sample-independent
// position, so consecutive steps need a barrier across the whole grid. Inside one kernel that
// means a cooperative launch with grid.sync(): the grid is then capped at the blocks that fit
// the device at once, and a barrier mistake deadlocks, which nothing here can run to catch.
// Launches on one stream are that barrier for free, and their cost (a few microseconds, R L
// of them for a Row LSTM, 2 (R + W - 1) L for a Diagonal BiLSTM) is small beside a step's
// work at the batch sizes log-likelihood is evaluated at (hundreds to thousands of images).
// The sampler is the opposite case and is one persistent launch (pixelrnn_sample.cu).
//
// Per step, one thread owns one (cell of the step, sample, hidden unit j) and computes the four
// gate pre-activations of unit j directly (bias + input taps + state taps, each tap a length-H
// dot product with fused multiply-adds), then the gates, c and h: the CPU's input gemm, state
// gemm and lstm_gates in one pass. Neighbouring threads hold neighbouring j, so the weight
// reads are coalesced and the tap vectors are broadcast. The input-to-state products are not
// hoisted into one gemm per layer as on the CPU: recomputing them per step costs the same
// arithmetic and keeps one kernel with no extra [D, n, 4H] buffer.
//
// Activations are [position (raster), sample, channel] over a chunk of samples, like the CPU's
// blocks. Only the current x_l, x_l+1 and each direction's h and c are kept (no backward).
//
// Numerics: the same formulas as the CPU, in float, with expf / tanhf / log1pf (the CPU uses
// its AVX2 polynomials or libm) and other summation orders inside the dot products; per-image
// log-likelihoods are summed in double over pixels in raster order, as on the CPU. The test
// (test_cuda_pixelrnn.cc) allows 1e-4 relative.
#include <cuda_runtime.h>

#include <algorithm>
#include <string>

#include "../../common/errors.h"
#include "../cpu/pixelrnn_plan.h"
#include "cuda_api.h"
#include "cuda_check.h"
#include "pixelrnn_device.cuh"

namespace deepgen {
namespace cuda {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxGrid = int64_t{1} << 20;      // blocks per launch; kernels loop (grid stride)
constexpr int64_t kMaxChunk = 4096;                 // samples per chunk
constexpr size_t kChunkBudget = size_t{512} << 20;  // bytes of activations per chunk

unsigned grid_for(int64_t work) {
  return static_cast<unsigned>(
      std::max<int64_t>(1, std::min(kMaxGrid, (work + kThreads - 1) / kThreads)));
}

__device__ __forceinline__ float sigmoidf_dev(float x) { return 1.0f / (1.0f + expf(-x)); }

// x0 = mask-A conv of the images + bias. x: [nb, D] images; out: [D, nb, H].
__global__ void mask_a_kernel(PixelRnnNetView v, int64_t nb, const float* x, float* out) {
  const int64_t h = v.hidden, d = v.rows * v.cols, total = d * nb * h;
  const float* w = v.params + v.in_w;
  const float* bias = v.params + v.in_b;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = idx % h, rest = idx / h, b = rest % nb, p = rest / nb;
    const int64_t r = p / v.cols, c = p % v.cols;
    float acc = bias[j];
    for (int t = 0; t < kMaskATaps; ++t) {
      int dr, dc;
      pixelrnn_mask_a_tap_dev(t, &dr, &dc);
      const int64_t rr = r + dr, cc = c + dc;
      // Inputs are exact 0/1: a tap adds its weight or nothing.
      if (pixelrnn_inside(v, rr, cc) && x[b * d + rr * v.cols + cc] > 0.5f) acc += w[t * h + j];
    }
    out[idx] = acc;
  }
}

// One step of direction `di` of layer `layer`: the `count` cells at ordered positions
// [p0, p0 + count) of `order`, for all nb samples. xl, hd, cd: [D, nb, H] (raster).
__global__ void lstm_step_kernel(PixelRnnNetView v, int di, int64_t layer, const int32_t* order,
                                 int64_t p0, int64_t count, int64_t nb, const float* xl, float* hd,
                                 float* cd) {
  const PixelRnnDirection& dir = v.dir[di];
  const int64_t h = v.hidden, h4 = 4 * h, total = count * nb * h;
  const int64_t ld = layer * v.ndir + di;
  const float* wis = v.params + v.wis0 + ld * v.ld_stride;
  const float* wss = v.params + v.wss0 + ld * v.ld_stride;
  const float* bias = v.params + v.bias0 + ld * v.ld_stride;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = idx % h, rest = idx / h, b = rest % nb, k = rest / nb;
    const int64_t q = order[p0 + k], r = q / v.cols, c = q % v.cols;
    float a[4];
    for (int g = 0; g < 4; ++g) a[g] = bias[g * h + j];
    for (int t = 0; t < dir.nis; ++t) {
      const int64_t rr = r + dir.is_dr[t], cc = c + dir.is_dc[t];
      if (!pixelrnn_inside(v, rr, cc)) continue;  // zero padding
      const float* in = xl + ((rr * v.cols + cc) * nb + b) * h;
      const float* w = wis + t * h * h4 + j;
      for (int64_t kk = 0; kk < h; ++kk) {
        const float x = in[kk];
        for (int g = 0; g < 4; ++g) a[g] = fmaf(x, w[kk * h4 + g * h], a[g]);
      }
    }
    for (int t = 0; t < dir.nss; ++t) {
      const int64_t rr = r + dir.ss_dr[t], cc = c + dir.ss_dc[t];
      if (!pixelrnn_inside(v, rr, cc)) continue;  // states outside the image are zero
      const float* in = hd + ((rr * v.cols + cc) * nb + b) * h;
      const float* w = wss + t * h * h4 + j;
      for (int64_t kk = 0; kk < h; ++kk) {
        const float x = in[kk];
        for (int g = 0; g < 4; ++g) a[g] = fmaf(x, w[kk * h4 + g * h], a[g]);
      }
    }
    const int64_t rp = r + dir.cp_dr, cpc = c + dir.cp_dc;
    const float c_prev =
        pixelrnn_inside(v, rp, cpc) ? cd[((rp * v.cols + cpc) * nb + b) * h + j] : 0.0f;
    const float o = sigmoidf_dev(a[0]), f = sigmoidf_dev(a[1]), i = sigmoidf_dev(a[2]);
    const float g = tanhf(a[3]);
    const float cn = f * c_prev + i * g;
    const int64_t at = (q * nb + b) * h + j;
    cd[at] = cn;
    hd[at] = o * tanhf(cn);
  }
}

// x_l+1 = x_l + sum over directions (in direction order, as the CPU adds them) of h shifted
// down by the direction's shift. All [D, nb, H].
__global__ void residual_kernel(PixelRnnNetView v, int64_t nb, const float* xl, const float* h0,
                                const float* h1, float* xn) {
  const int64_t h = v.hidden, d = v.rows * v.cols, total = d * nb * h;
  for (int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t j = idx % h, rest = idx / h, b = rest % nb, p = rest / nb;
    const int64_t r = p / v.cols, c = p % v.cols;
    float acc = xl[idx];
    for (int di = 0; di < v.ndir; ++di) {
      const int64_t rr = r - v.dir[di].shift;
      if (!pixelrnn_inside(v, rr, c)) continue;
      const float* hd = di == 0 ? h0 : h1;
      acc += hd[((rr * v.cols + c) * nb + b) * h + j];
    }
    xn[idx] = acc;
  }
}

// One warp per (position, sample): logit = w2 . relu(W1^T x_L + b1) + b2, then the pixel's
// negative log-likelihood softplus(x ? -logit : logit) into terms [nb, D]. Whole warps leave
// together (the block is a multiple of 32 threads), so the full-mask shuffles are safe.
__global__ void head_kernel(PixelRnnNetView v, int64_t nb, const float* xL, const float* x,
                            float* terms) {
  const int64_t h = v.hidden, d = v.rows * v.cols, total = d * nb;
  const int lane = threadIdx.x % 32;
  const int64_t warps_per_grid = static_cast<int64_t>(gridDim.x) * (blockDim.x / 32);
  const float* w1 = v.params + v.out1_w;
  const float* b1 = v.params + v.out1_b;
  const float* w2 = v.params + v.out2_w;
  const float b2 = v.params[v.out2_b];
  for (int64_t wi = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32;
       wi < total; wi += warps_per_grid) {
    const int64_t p = wi / nb, b = wi % nb;
    const float* in = xL + wi * h;  // (p * nb + b) * h
    float part = 0.0f;
    for (int64_t j = lane; j < h; j += 32) {
      float y = b1[j];
      for (int64_t k = 0; k < h; ++k) y = fmaf(in[k], w1[k * h + j], y);
      part = fmaf(fmaxf(y, 0.0f), w2[j], part);
    }
    for (int off = 16; off > 0; off >>= 1) part += __shfl_xor_sync(0xFFFFFFFFu, part, off);
    if (lane == 0) {
      const float l = part + b2;
      const float z = x[b * d + p] > 0.5f ? -l : l;
      terms[b * d + p] = fmaxf(z, 0.0f) + log1pf(expf(-fabsf(z)));
    }
  }
}

// logp[b] = -sum_p terms[b, p], in double and raster order (the CPU's order).
__global__ void sum_terms_kernel(int64_t nb, int64_t d, const float* terms, float* logp) {
  const int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (b >= nb) return;
  double total = 0.0;
  for (int64_t p = 0; p < d; ++p) total -= static_cast<double>(terms[b * d + p]);
  logp[b] = static_cast<float>(total);
}

void launched(const char* what) { check(cudaGetLastError(), what); }

}  // namespace

void pixelrnn_check_model(const PixelRnnDeviceModel* m, const char* fn) {
  if (m == nullptr) throw KernelError("E_ARG", std::string(fn) + ": the model was released");
}

PixelRnnDeviceModel* pixelrnn_upload(const PixelRnnSpec& s) {
  pixelrnn_check(s);
  require_device();
  const PixelRnnLayout lay = pixelrnn_layout(s);
  const auto dirs = pixelrnn_directions(s.kind);
  const int64_t d = s.rows * s.cols, ndir = static_cast<int64_t>(dirs.size());
  // The kernels' assumptions about the CPU's layout and taps (see pixelrnn_device.cuh and
  // pixelrnn_sample.cu); a mismatch is a build inconsistency, reported instead of misread.
  bool ok = ndir >= 1 && ndir <= 2 && !lay.wis.empty();
  const int64_t stride = lay.wis.size() > 1 ? lay.wis[1] - lay.wis[0] : 0;
  for (size_t ld = 0; ok && ld < lay.wis.size(); ++ld) {
    const int64_t step = static_cast<int64_t>(ld) * stride;
    ok = lay.wis[ld] == lay.wis[0] + step && lay.wss[ld] == lay.wss[0] + step &&
         lay.bias[ld] == lay.bias[0] + step;
  }
  for (const auto& dir : dirs) {
    ok = ok && dir.nis >= 0 && dir.nis <= 2 && dir.nss >= 0 && dir.nss <= 3 &&
         (dir.shift == 0 || dir.shift == 1) && (dir.cp_dr == 0 || dir.cp_dr == -1);
    for (int t = 0; ok && t < dir.nis; ++t) ok = dir.is_dr[t] == 0;
    for (int t = 0; ok && t < dir.nss; ++t) ok = dir.ss_dr[t] == 0 || dir.ss_dr[t] == -1;
  }
  if (!ok)
    throw KernelError(
        "E_BACKEND",
        "pixelrnn (cuda): parameter layout or taps differ from what the kernels assume");
  auto* m = new PixelRnnDeviceModel(lay.total, ndir, d);
  try {
    m->spec = s;
    m->spec.params = nullptr;
    m->layout = lay;
    m->dirs = dirs;
    std::vector<int32_t> order(static_cast<size_t>(ndir * d));
    for (int64_t di = 0; di < ndir; ++di) {
      const PixelRnnPlan plan = make_pixelrnn_plan(dirs[static_cast<size_t>(di)], s.rows, s.cols);
      std::copy(plan.order.begin(), plan.order.end(), order.begin() + di * d);
      m->steps.push_back(plan.steps);
    }
    check(cudaMemcpy(m->params.get(), s.params, sizeof(float) * static_cast<size_t>(lay.total),
                     cudaMemcpyHostToDevice),
          "cudaMemcpy");
    check(cudaMemcpy(m->order.get(), order.data(), sizeof(int32_t) * order.size(),
                     cudaMemcpyHostToDevice),
          "cudaMemcpy");
  } catch (...) {
    delete m;
    throw;
  }
  return m;
}

void pixelrnn_release(PixelRnnDeviceModel* m) noexcept { delete m; }

void pixelrnn_log_prob(PixelRnnDeviceModel* m, const float* x, int64_t n, float* logp) {
  pixelrnn_check_model(m, "pixelrnn_log_prob");
  if (n < 0) throw KernelError("E_ARG", "pixelrnn_log_prob: negative batch size");
  if (n == 0) return;
  if (x == nullptr || logp == nullptr) throw KernelError("E_ARG", "pixelrnn_log_prob: null array");
  const PixelRnnNetView v = m->view();
  const int64_t d = v.rows * v.cols, h = v.hidden, ndir = v.ndir;
  // x_l, x_l+1, h and c per direction: (2 + 2 ndir) [D, H] maps per sample, + image + terms.
  const size_t per_sample = sizeof(float) * static_cast<size_t>(d * h * (2 + 2 * ndir) + 2 * d);
  const int64_t chunk = std::max<int64_t>(
      1, std::min<int64_t>({n, kMaxChunk, static_cast<int64_t>(kChunkBudget / per_sample)}));
  const size_t maps = static_cast<size_t>(d * chunk * h);
  DeviceBuffer<float> dx(static_cast<size_t>(chunk * d)), terms(static_cast<size_t>(chunk * d));
  DeviceBuffer<float> xa(maps), xb(maps), h0(maps), c0(maps);
  DeviceBuffer<float> h1(ndir > 1 ? maps : 0), c1(ndir > 1 ? maps : 0);
  DeviceBuffer<float> dlogp(static_cast<size_t>(chunk));
  float* hs[2] = {h0.get(), h1.get()};
  float* cs[2] = {c0.get(), c1.get()};
  for (int64_t first = 0; first < n; first += chunk) {
    const int64_t nb = std::min(chunk, n - first);
    check(cudaMemcpy(dx.get(), x + first * d, sizeof(float) * static_cast<size_t>(nb * d),
                     cudaMemcpyHostToDevice),
          "cudaMemcpy");
    const int64_t cells = d * nb * h;
    float* cur = xa.get();
    float* next = xb.get();
    mask_a_kernel<<<grid_for(cells), kThreads>>>(v, nb, dx.get(), cur);
    launched("pixelrnn mask-A launch");
    for (int64_t l = 0; l < v.layers; ++l) {
      for (int di = 0; di < ndir; ++di) {
        const std::vector<int32_t>& steps = m->steps[static_cast<size_t>(di)];
        const int32_t* order = m->order.get() + di * d;
        for (size_t st = 0; st + 1 < steps.size(); ++st) {
          const int64_t p0 = steps[st], count = steps[st + 1] - p0;
          lstm_step_kernel<<<grid_for(count * nb * h), kThreads>>>(v, di, l, order, p0, count, nb,
                                                                   cur, hs[di], cs[di]);
          launched("pixelrnn step launch");
        }
      }
      residual_kernel<<<grid_for(cells), kThreads>>>(v, nb, cur, hs[0], hs[1], next);
      launched("pixelrnn residual launch");
      std::swap(cur, next);
    }
    head_kernel<<<grid_for(d * nb * 32), kThreads>>>(v, nb, cur, dx.get(), terms.get());
    launched("pixelrnn output launch");
    sum_terms_kernel<<<grid_for(nb), kThreads>>>(nb, d, terms.get(), dlogp.get());
    launched("pixelrnn sum launch");
    check(cudaMemcpy(logp + first, dlogp.get(), sizeof(float) * static_cast<size_t>(nb),
                     cudaMemcpyDeviceToHost),
          "pixelrnn_log_prob");
  }
}

}  // namespace cuda
}  // namespace deepgen
