// CUDA mirror of the CPU sgemm (native/kernels/cpu/gemm.h): C = alpha op(A) op(B) + beta C,
// row-major, leading dimensions, transposes and batches with strides. A plain 16 x 16
// shared-memory tiled kernel (correctness first; no cuBLAS: this toolkit has no static
// cuBLAS to link). Each C element is accumulated over k in ascending order by one thread
// with fused multiply-adds, so results differ from the CPU only by float rounding.
#include <cuda_runtime.h>

#include <algorithm>

#include "../../common/errors.h"
#include "cuda_api.h"
#include "cuda_check.h"
#include "device_ops.h"

namespace deepgen {
namespace cuda {
namespace {

constexpr int kTile = 16;
constexpr int64_t kMaxGridZ = 65535;

struct GemmView {
  bool trans_a, trans_b;
  int64_t m, n, k;
  float alpha, beta;
  const float* a;
  int64_t lda;
  const float* b;
  int64_t ldb;
  float* c;
  int64_t ldc;
  int64_t batch_first, batch_count;
  int64_t stride_a, stride_b, stride_c;
};

__global__ void sgemm_kernel(GemmView g) {
  __shared__ float ta[kTile][kTile + 1];
  __shared__ float tb[kTile][kTile + 1];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int64_t row = static_cast<int64_t>(blockIdx.y) * kTile + ty;
  const int64_t col = static_cast<int64_t>(blockIdx.x) * kTile + tx;
  for (int64_t bi = g.batch_first + blockIdx.z; bi < g.batch_first + g.batch_count;
       bi += gridDim.z) {
    const float* a = g.a + bi * g.stride_a;
    const float* b = g.b + bi * g.stride_b;
    float* c = g.c + bi * g.stride_c;
    float acc = 0.0f;
    for (int64_t k0 = 0; k0 < g.k; k0 += kTile) {
      // ta[ty][tx] = op(A)[row, k0 + tx]; tb[ty][tx] = op(B)[k0 + ty, col].
      const int64_t ka = k0 + tx, kb = k0 + ty;
      float va = 0.0f, vb = 0.0f;
      if (row < g.m && ka < g.k) va = g.trans_a ? a[ka * g.lda + row] : a[row * g.lda + ka];
      if (col < g.n && kb < g.k) vb = g.trans_b ? b[col * g.ldb + kb] : b[kb * g.ldb + col];
      ta[ty][tx] = va;
      tb[ty][tx] = vb;
      __syncthreads();
      const int64_t span = g.k - k0 < kTile ? g.k - k0 : kTile;
      for (int64_t kk = 0; kk < span; ++kk) acc = __fmaf_rn(ta[ty][kk], tb[kk][tx], acc);
      __syncthreads();
    }
    if (row < g.m && col < g.n) {
      float* out = c + row * g.ldc + col;
      // beta == 0 overwrites (NaN/Inf already in C are ignored), as the CPU kernel.
      const float prior = g.beta == 0.0f ? 0.0f : g.beta * *out;
      *out = g.alpha * acc + prior;
    }
  }
}

// Floats spanned by `batch` matrices of `rows` x `cols` with leading dimension ld.
int64_t extent(int64_t rows, int64_t cols, int64_t ld, int64_t batch, int64_t stride) {
  if (rows == 0 || cols == 0 || batch == 0) return 0;
  return (batch - 1) * stride + (rows - 1) * ld + cols;
}

}  // namespace

namespace dev {

void sgemm(const GemmArgs& g) {
  if (g.batch == 0 || g.m == 0 || g.n == 0) return;
  if ((g.m + kTile - 1) / kTile > 65535) {
    throw KernelError("E_BACKEND", "sgemm (cuda): more than 1,048,560 rows; use backend 'native'");
  }
  GemmView v{g.trans_a, g.trans_b, g.m, g.n,   g.k, g.alpha, g.beta,     g.a,        g.lda,
             g.b,       g.ldb,     g.c, g.ldc, 0,   g.batch, g.stride_a, g.stride_b, g.stride_c};
  const dim3 threads(kTile, kTile);
  const unsigned gx = static_cast<unsigned>((g.n + kTile - 1) / kTile);
  const unsigned gy = static_cast<unsigned>((g.m + kTile - 1) / kTile);
  // Matrices whose C blocks may overlap run one launch each, in batch order (as the CPU).
  const bool c_disjoint = g.stride_c >= (g.m - 1) * g.ldc + g.n;
  if (c_disjoint) {
    const dim3 grid(gx, gy, static_cast<unsigned>(std::min(g.batch, kMaxGridZ)));
    sgemm_kernel<<<grid, threads>>>(v);
    check(cudaGetLastError(), "sgemm launch");
  } else {
    for (int64_t bi = 0; bi < g.batch; ++bi) {
      v.batch_first = bi;
      v.batch_count = 1;
      sgemm_kernel<<<dim3(gx, gy, 1), threads>>>(v);
      check(cudaGetLastError(), "sgemm launch");
    }
  }
}

}  // namespace dev

void sgemm(const GemmArgs& g) {
  sgemm_check(g);
  if (g.batch == 0 || g.m == 0 || g.n == 0) return;
  if (g.a == nullptr || g.b == nullptr || g.c == nullptr) {
    if (g.k > 0 || g.c == nullptr) throw KernelError("E_ARG", "sgemm: null matrix");
  }
  require_device();
  const int64_t ea =
      extent(g.trans_a ? g.k : g.m, g.trans_a ? g.m : g.k, g.lda, g.batch, g.stride_a);
  const int64_t eb =
      extent(g.trans_b ? g.n : g.k, g.trans_b ? g.k : g.n, g.ldb, g.batch, g.stride_b);
  const int64_t ec = extent(g.m, g.n, g.ldc, g.batch, g.stride_c);
  DeviceBuffer<float> da(static_cast<size_t>(ea)), db(static_cast<size_t>(eb)),
      dc(static_cast<size_t>(ec));
  if (ea > 0)
    check(cudaMemcpy(da.get(), g.a, sizeof(float) * ea, cudaMemcpyHostToDevice), "cudaMemcpy");
  if (eb > 0)
    check(cudaMemcpy(db.get(), g.b, sizeof(float) * eb, cudaMemcpyHostToDevice), "cudaMemcpy");
  check(cudaMemcpy(dc.get(), g.c, sizeof(float) * ec, cudaMemcpyHostToDevice), "cudaMemcpy");
  GemmArgs on_device = g;
  on_device.a = da.get();
  on_device.b = db.get();
  on_device.c = dc.get();
  dev::sgemm(on_device);
  check(cudaMemcpy(g.c, dc.get(), sizeof(float) * ec, cudaMemcpyDeviceToHost), "sgemm");
}

}  // namespace cuda
}  // namespace deepgen
