// CUDA mirror of native/kernels/cpu/nade.cc (log_prob, sample and backward; see nade.h).
//
// Layout: one launch per chunk of samples; each sample is owned by a group of 16 threads
// (a half warp), 16 / 8 / ... samples per block. Lane L of a group owns the hidden units
// j = L, L + 16, ...: its slice of the running pre-activation a and of h = sigmoid(a) stays
// in shared memory across all D steps and is touched by no other lane, so the steps need no
// __syncthreads at all. V[o] . h is computed exactly like the CPU's dot_lanes.h: lane L
// accumulates the products of j = L mod 16 in ascending j (one fused multiply-add per
// product, as the AVX2 build does), and the 16 partial sums are combined by xor shuffles in
// the tree of combine_lanes(). sigmoid/softplus are the CPU's polynomials
// (fast_math_device.cuh). Each sample's arithmetic is independent of the batch size and of
// the other samples of its block.
//
// Sampling draws with the CPU's Philox counters: sample index i = sample_offset + s, block
// (d / 4, i mod 2^32, stream, i / 2^32), word d % 4, x = philox_uniform_f64(word) < p with
// p = 1 / (1 + exp(-(double(b[o]) + l))) in double, as nade_impl.h.
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>

#include "../../common/errors.h"
#include "../../common/philox.h"
#include "cuda_api.h"
#include "cuda_check.h"
#include "fast_math_device.cuh"
#include "resident.h"

namespace deepgen {
namespace cuda {

struct NadeDeviceModel {
  int64_t d = 0, h = 0;
  DeviceBuffer<float> wt, c, v, b;
  DeviceBuffer<int32_t> order;
  ResidentBytes held;
  NadeDeviceModel(int64_t d_, int64_t h_)
      : d(d_),
        h(h_),
        wt(static_cast<size_t>(d_ * h_)),
        c(static_cast<size_t>(h_)),
        v(static_cast<size_t>(d_ * h_)),
        b(static_cast<size_t>(d_)),
        order(static_cast<size_t>(d_)),
        held(sizeof(float) * static_cast<uint64_t>(2 * d_ * h_ + h_ + d_) +
             sizeof(int32_t) * static_cast<uint64_t>(d_)) {}
};

namespace {

constexpr int kGroup = 16;  // threads per sample (the CPU's 16 dot lanes)
constexpr int kMaxSamplesPerBlock = 8;
constexpr size_t kSharedBudget = 48 * 1024;  // default dynamic shared memory limit
constexpr int64_t kChunk = 65536;            // samples per launch (bounds the device buffers)

struct NadeView {
  int64_t d, h;
  const float* wt;
  const float* c;
  const float* v;
  const float* b;
  const int32_t* order;
};

// v . h of one group, lane L holding the sum over j = L mod 16; returns the CPU's
// combine_lanes() value in every lane. Floating-point addition is commutative, so the xor
// partner order does not change any sum.
__device__ __forceinline__ float combine16(float acc, unsigned mask) {
  acc += __shfl_xor_sync(mask, acc, 8, kGroup);  // r[j] = acc[j] + acc[j + 8]
  acc += __shfl_xor_sync(mask, acc, 4, kGroup);  // r[0]+r[4], r[1]+r[5], r[2]+r[6], r[3]+r[7]
  acc += __shfl_xor_sync(mask, acc, 1, kGroup);  // (r0+r4)+(r1+r5), (r2+r6)+(r3+r7)
  acc += __shfl_xor_sync(mask, acc, 2, kGroup);  // the two halves
  return acc;
}

// kSample: draw x (or read the first `known` steps of it) and optionally write probs.
// Otherwise: logp[s] = -sum_d softplus(x ? -l : l), summed in double in step order.
template <bool kSample>
__global__ void nade_kernel(NadeView p, int64_t n, float* x, float* probs, float* logp,
                            uint64_t first_index, uint32_t key0, uint32_t key1, uint32_t stream,
                            int64_t known) {
  extern __shared__ float smem[];
  const int group = threadIdx.x / kGroup;
  const int lane = threadIdx.x % kGroup;
  const int64_t s = static_cast<int64_t>(blockIdx.x) * (blockDim.x / kGroup) + group;
  if (s >= n) return;  // whole groups leave together; the mask below names only this group
  const unsigned mask = 0xFFFFu << (16 * ((threadIdx.x / kGroup) & 1));
  float* a = smem + static_cast<int64_t>(group) * 2 * p.h;
  float* h = a + p.h;
  for (int64_t j = lane; j < p.h; j += kGroup) {
    a[j] = p.c[j];
    h[j] = sigmoid_poly_dev(p.c[j]);
  }
  float* xs = x + s * p.d;
  const uint64_t index = first_index + static_cast<uint64_t>(s);
  uint32_t words[4] = {0, 0, 0, 0};
  double total = 0.0;
  for (int64_t d = 0; d < p.d; ++d) {
    const int64_t o = p.order[d];
    const float* vrow = p.v + o * p.h;
    float acc = 0.0f;
    for (int64_t j = lane; j < p.h; j += kGroup) acc = __fmaf_rn(vrow[j], h[j], acc);
    const float dot = combine16(acc, mask);
    bool one;
    if (kSample) {
      const double l = static_cast<double>(p.b[o]) + dot;
      const double prob = 1.0 / (1.0 + exp(-l));
      if (probs != nullptr && lane == 0) probs[s * p.d + o] = static_cast<float>(prob);
      if (d < known) {
        one = xs[o] > 0.5f;
      } else {
        if (d == known || (d & 3) == 0) {
          const PhiloxBlock blk =
              philox4x32_10(static_cast<uint32_t>(d >> 2), static_cast<uint32_t>(index), stream,
                            static_cast<uint32_t>(index >> 32), key0, key1);
          for (int k = 0; k < 4; ++k) words[k] = blk.v[k];
        }
        one = philox_uniform_f64(words[d & 3]) < prob;
        // Every lane has read xs[o] (if at all) before this store: lanes only read x for
        // d < known, a different step.
        if (lane == 0) xs[o] = one ? 1.0f : 0.0f;
      }
    } else {
      const float l = p.b[o] + dot;
      one = xs[o] > 0.5f;
      total += static_cast<double>(softplus_poly_dev(one ? -l : l));
    }
    if (one) {
      const float* wrow = p.wt + o * p.h;
      for (int64_t j = lane; j < p.h; j += kGroup) {
        a[j] += wrow[j];
        h[j] = sigmoid_poly_dev(a[j]);
      }
    }
  }
  if (!kSample && lane == 0) logp[s] = static_cast<float>(-total);
}

// Backward of one sample per group (the CPU's backward_block, nade_impl.h, for one sample):
// the forward pass to the final pre-activation (and the log-likelihood), then the steps in
// reverse, walking a back and accumulating acc = sum of later dL/da. Each sample writes its
// own gradient slab g [2 D H + H + D] = [dwt | dc | dv | db] completely (zeros where it
// contributes nothing), so no slab needs clearing and no atomics are used; reduce_slabs then
// sums the slabs in sample order (deterministic, whatever the launch shape).
__global__ void nade_backward_kernel(NadeView p, int64_t n, const float* x, float scale,
                                     float* logp, float* slabs) {
  extern __shared__ float smem[];
  const int group = threadIdx.x / kGroup;
  const int lane = threadIdx.x % kGroup;
  const int64_t s = static_cast<int64_t>(blockIdx.x) * (blockDim.x / kGroup) + group;
  if (s >= n) return;
  const unsigned mask = 0xFFFFu << (16 * ((threadIdx.x / kGroup) & 1));
  float* a = smem + static_cast<int64_t>(group) * 3 * p.h;
  float* h = a + p.h;
  float* acc = h + p.h;
  const int64_t dh = p.d * p.h;
  float* g = slabs + s * (2 * dh + p.h + p.d);
  float* dwt = g;
  float* dc = g + dh;
  float* dv = dc + p.h;
  float* db = dv + dh;
  for (int64_t j = lane; j < p.h; j += kGroup) {
    a[j] = p.c[j];
    h[j] = sigmoid_poly_dev(p.c[j]);
    acc[j] = 0.0f;
  }
  const float* xs = x + s * p.d;
  double total = 0.0;
  for (int64_t d = 0; d < p.d; ++d) {
    const int64_t o = p.order[d];
    const bool one = xs[o] > 0.5f;
    if (logp != nullptr) {
      const float* vrow = p.v + o * p.h;
      float part = 0.0f;
      for (int64_t j = lane; j < p.h; j += kGroup) part = __fmaf_rn(vrow[j], h[j], part);
      const float l = p.b[o] + combine16(part, mask);
      total += static_cast<double>(softplus_poly_dev(one ? -l : l));
    }
    if (one) {
      const float* wrow = p.wt + o * p.h;
      for (int64_t j = lane; j < p.h; j += kGroup) {
        a[j] += wrow[j];
        h[j] = sigmoid_poly_dev(a[j]);
      }
    }
  }
  if (logp != nullptr && lane == 0) logp[s] = static_cast<float>(-total);
  for (int64_t d = p.d - 1; d >= 0; --d) {
    const int64_t o = p.order[d];
    const bool one = xs[o] > 0.5f;
    const float* wrow = p.wt + o * p.h;
    float* dwt_row = dwt + o * p.h;
    // WT[o] fed a_{d+1..D}: its gradient is the sum of their dL/da, i.e. acc now.
    for (int64_t j = lane; j < p.h; j += kGroup) {
      dwt_row[j] = one ? acc[j] : 0.0f;
      if (one) {
        a[j] -= wrow[j];
        h[j] = sigmoid_poly_dev(a[j]);
      }
    }
    const float* vrow = p.v + o * p.h;
    float part = 0.0f;
    for (int64_t j = lane; j < p.h; j += kGroup) part = __fmaf_rn(vrow[j], h[j], part);
    const double l = static_cast<double>(p.b[o]) + combine16(part, mask);
    const float dl = static_cast<float>((1.0 / (1.0 + exp(-l)) - (one ? 1.0 : 0.0)) * scale);
    if (lane == 0) db[o] = dl;
    float* dv_row = dv + o * p.h;
    for (int64_t j = lane; j < p.h; j += kGroup) {
      dv_row[j] = dl * h[j];
      acc[j] += dl * vrow[j] * h[j] * (1.0f - h[j]);
    }
  }
  for (int64_t j = lane; j < p.h; j += kGroup) dc[j] = acc[j];
}

// out[i] (+)= sum over the count slabs of slab[s][i], in slab order; accumulate adds to out.
__global__ void reduce_slabs(const float* slabs, int64_t count, int64_t size, float* out,
                             bool accumulate) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < size;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    float sum = accumulate ? out[i] : 0.0f;
    for (int64_t s = 0; s < count; ++s) sum += slabs[s * size + i];
    out[i] = sum;
  }
}

NadeView view_of(const NadeDeviceModel& m) {
  return {m.d, m.h, m.wt.get(), m.c.get(), m.v.get(), m.b.get(), m.order.get()};
}

// Samples per block whose `arrays` shared arrays of H floats fit the shared-memory budget
// (2 for log_prob / sample: a and h; 3 for the backward: a, h and acc).
int samples_per_block(int64_t h, int arrays = 2) {
  const size_t per_sample = arrays * sizeof(float) * static_cast<size_t>(h);
  return static_cast<int>(std::min<size_t>(kMaxSamplesPerBlock, kSharedBudget / per_sample));
}

void check_model(const NadeDeviceModel* m, const char* fn) {
  if (m == nullptr) throw KernelError("E_ARG", std::string(fn) + ": the model was released");
}

template <bool kSample>
void launch(const NadeDeviceModel& m, int64_t n, float* x, float* probs, float* logp,
            uint64_t first_index, uint32_t key0, uint32_t key1, uint32_t stream, int64_t known) {
  const int per_block = samples_per_block(m.h);
  const int64_t blocks = (n + per_block - 1) / per_block;
  const size_t shared = 2 * sizeof(float) * static_cast<size_t>(m.h) * per_block;
  nade_kernel<kSample><<<static_cast<unsigned>(blocks), per_block * kGroup, shared>>>(
      view_of(m), n, x, probs, logp, first_index, key0, key1, stream, known);
  check(cudaGetLastError(), "nade kernel launch");
}

}  // namespace

NadeDeviceModel* nade_upload(const NadeParams& p) {
  nade_check(p);
  require_device();
  if (samples_per_block(p.h, 3) < 1) {
    throw KernelError("E_BACKEND", "nade (cuda): H = " + std::to_string(p.h) +
                                       " hidden units do not fit the kernels' shared memory "
                                       "(at most 4096); use backend 'native'");
  }
  auto* m = new NadeDeviceModel(p.d, p.h);
  try {
    const size_t dh = sizeof(float) * static_cast<size_t>(p.d * p.h);
    check(cudaMemcpy(m->wt.get(), p.wt, dh, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaMemcpy(m->v.get(), p.v, dh, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaMemcpy(m->c.get(), p.c, sizeof(float) * p.h, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaMemcpy(m->b.get(), p.b, sizeof(float) * p.d, cudaMemcpyHostToDevice), "cudaMemcpy");
    check(cudaMemcpy(m->order.get(), p.order, sizeof(int32_t) * p.d, cudaMemcpyHostToDevice),
          "cudaMemcpy");
  } catch (...) {
    delete m;
    throw;
  }
  return m;
}

void nade_release(NadeDeviceModel* m) noexcept { delete m; }

void nade_log_prob(NadeDeviceModel* m, const float* x, int64_t n, float* logp) {
  check_model(m, "nade_log_prob");
  if (n < 0) throw KernelError("E_ARG", "nade_log_prob: negative batch size");
  if (n == 0) return;
  const int64_t chunk = std::min(n, kChunk);
  DeviceBuffer<float> dx(static_cast<size_t>(chunk * m->d));
  DeviceBuffer<float> dlogp(static_cast<size_t>(chunk));
  for (int64_t first = 0; first < n; first += chunk) {
    const int64_t count = std::min(chunk, n - first);
    check(cudaMemcpy(dx.get(), x + first * m->d, sizeof(float) * count * m->d,
                     cudaMemcpyHostToDevice),
          "cudaMemcpy");
    launch<false>(*m, count, dx.get(), nullptr, dlogp.get(), 0, 0, 0, 0, 0);
    check(cudaMemcpy(logp + first, dlogp.get(), sizeof(float) * count, cudaMemcpyDeviceToHost),
          "nade_log_prob");
  }
}

void nade_sample(NadeDeviceModel* m, int64_t n, uint64_t sample_offset, uint32_t key0,
                 uint32_t key1, uint32_t stream, int64_t known, float* x, float* probs) {
  check_model(m, "nade_sample");
  if (n < 0) throw KernelError("E_ARG", "nade_sample: negative batch size");
  if (known < 0 || known > m->d) throw KernelError("E_ARG", "nade_sample: known must be in [0, D]");
  if (n == 0) return;
  const int64_t chunk = std::min(n, kChunk);
  DeviceBuffer<float> dx(static_cast<size_t>(chunk * m->d));
  DeviceBuffer<float> dprobs(probs == nullptr ? 0 : static_cast<size_t>(chunk * m->d));
  for (int64_t first = 0; first < n; first += chunk) {
    const int64_t count = std::min(chunk, n - first);
    const size_t bytes = sizeof(float) * count * m->d;
    // Without known steps every entry of x is drawn: nothing to copy in.
    if (known > 0)
      check(cudaMemcpy(dx.get(), x + first * m->d, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
    launch<true>(*m, count, dx.get(), probs == nullptr ? nullptr : dprobs.get(), nullptr,
                 sample_offset + static_cast<uint64_t>(first), key0, key1, stream, known);
    check(cudaMemcpy(x + first * m->d, dx.get(), bytes, cudaMemcpyDeviceToHost), "nade_sample");
    if (probs != nullptr) {
      check(cudaMemcpy(probs + first * m->d, dprobs.get(), bytes, cudaMemcpyDeviceToHost),
            "nade_sample");
    }
  }
}

void nade_backward(NadeDeviceModel* m, const float* x, int64_t n, float scale, float* logp,
                   float* dwt, float* dc, float* dv, float* db) {
  check_model(m, "nade_backward");
  if (n < 0) throw KernelError("E_ARG", "nade_backward: negative batch size");
  if (!std::isfinite(scale)) throw KernelError("E_ARG", "nade_backward: scale must be finite");
  if (dwt == nullptr || dc == nullptr || dv == nullptr || db == nullptr) {
    throw KernelError("E_ARG", "nade_backward: null gradient array");
  }
  const int64_t dh = m->d * m->h;
  const int64_t size = 2 * dh + m->h + m->d;
  DeviceBuffer<float> total(static_cast<size_t>(size));
  check(cudaMemset(total.get(), 0, sizeof(float) * size), "cudaMemset");
  // Slabs of at most kBackwardChunk samples at a time bound the device memory (a slab is
  // 3.1 MB for D 784, H 500).
  constexpr int64_t kBackwardChunk = 64;
  const int64_t chunk = std::max<int64_t>(1, std::min(n, kBackwardChunk));
  DeviceBuffer<float> slabs(static_cast<size_t>(chunk * size));
  DeviceBuffer<float> dx(static_cast<size_t>(chunk * m->d));
  DeviceBuffer<float> dlogp(logp != nullptr ? static_cast<size_t>(chunk) : 0);
  const int per_block = samples_per_block(m->h, 3);
  const size_t shared = 3 * sizeof(float) * static_cast<size_t>(m->h) * per_block;
  for (int64_t first = 0; first < n; first += chunk) {
    const int64_t count = std::min(chunk, n - first);
    check(cudaMemcpy(dx.get(), x + first * m->d, sizeof(float) * count * m->d,
                     cudaMemcpyHostToDevice),
          "cudaMemcpy");
    const int64_t blocks = (count + per_block - 1) / per_block;
    nade_backward_kernel<<<static_cast<unsigned>(blocks), per_block * kGroup, shared>>>(
        view_of(*m), count, dx.get(), scale, logp != nullptr ? dlogp.get() : nullptr, slabs.get());
    check(cudaGetLastError(), "nade backward launch");
    const int threads = 256;
    const int64_t rblocks = std::min<int64_t>((size + threads - 1) / threads, 65535);
    reduce_slabs<<<static_cast<unsigned>(rblocks), threads>>>(slabs.get(), count, size, total.get(),
                                                              true);
    check(cudaGetLastError(), "nade gradient reduction launch");
    if (logp != nullptr) {
      check(cudaMemcpy(logp + first, dlogp.get(), sizeof(float) * count, cudaMemcpyDeviceToHost),
            "nade_backward");
    }
  }
  const float* t = total.get();
  check(cudaMemcpy(dwt, t, sizeof(float) * dh, cudaMemcpyDeviceToHost), "nade_backward");
  check(cudaMemcpy(dc, t + dh, sizeof(float) * m->h, cudaMemcpyDeviceToHost), "nade_backward");
  check(cudaMemcpy(dv, t + dh + m->h, sizeof(float) * dh, cudaMemcpyDeviceToHost), "nade_backward");
  check(cudaMemcpy(db, t + 2 * dh + m->h, sizeof(float) * m->d, cudaMemcpyDeviceToHost),
        "nade_backward");
}

}  // namespace cuda
}  // namespace deepgen
