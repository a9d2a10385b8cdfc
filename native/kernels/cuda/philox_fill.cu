// CUDA mirror of native/kernels/cpu/philox_fill.cc: the same element -> (block, word) map,
// so the device writes the same values as the CPU and JS paths.
#include <cuda_runtime.h>

#include "../../common/philox.h"
#include "cuda_api.h"
#include "cuda_check.h"

namespace deepgen {
namespace cuda {
namespace {

// One thread per Philox block (4 elements).
__global__ void philox_fill_kernel(float* out, int64_t n, uint32_t key0, uint32_t key1,
                                   uint32_t stream, int distribution) {
  const uint64_t j = blockIdx.x * static_cast<uint64_t>(blockDim.x) + threadIdx.x;
  const int64_t first = static_cast<int64_t>(j << 2);
  if (first >= n) return;
  const PhiloxBlock b = philox4x32_10(static_cast<uint32_t>(j), static_cast<uint32_t>(j >> 32),
                                      stream, 0, key0, key1);
  const double two_pi = 6.283185307179586476925286766559;
  for (int word = 0; word < 4 && first + word < n; ++word) {
    float v;
    if (distribution == 0) {
      v = philox_uniform_f32(b.v[word]);
    } else {
      const int pair = word >> 1;
      const double u1 = philox_uniform_f32(b.v[2 * pair]);
      const double u2 = philox_uniform_f32(b.v[2 * pair + 1]);
      const double r = sqrt(-2.0 * log(u1));
      const double t = two_pi * u2;
      v = static_cast<float>((word & 1) ? r * sin(t) : r * cos(t));
    }
    out[first + word] = v;
  }
}

}  // namespace

void philox_fill(float* host_out, int64_t n, uint32_t key0, uint32_t key1, uint32_t stream,
                 int distribution) {
  if (n <= 0) return;
  require_device();
  DeviceBuffer<float> dev(static_cast<size_t>(n));
  const int64_t blocks_of_four = (n + 3) / 4;
  const int threads = 256;
  const int64_t grid = (blocks_of_four + threads - 1) / threads;
  philox_fill_kernel<<<static_cast<unsigned>(grid), threads>>>(dev.get(), n, key0, key1, stream,
                                                               distribution);
  check(cudaGetLastError(), "philox_fill launch");
  check(cudaMemcpy(host_out, dev.get(), static_cast<size_t>(n) * sizeof(float),
                   cudaMemcpyDeviceToHost),
        "cudaMemcpy");
}

}  // namespace cuda
}  // namespace deepgen
