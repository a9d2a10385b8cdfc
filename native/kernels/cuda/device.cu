#include <cuda_runtime.h>

#include "../../common/errors.h"
#include "cuda_api.h"
#include "cuda_check.h"
#include "resident.h"

#include <atomic>

namespace deepgen {
namespace cuda {

bool built() { return true; }

namespace {
std::atomic<int64_t> g_resident{0};
}  // namespace

void add_resident_bytes(int64_t delta) { g_resident += delta; }

uint64_t resident_bytes() {
  const int64_t v = g_resident.load();
  return v > 0 ? static_cast<uint64_t>(v) : 0;
}

int device_count(std::string* why) {
  int n = 0;
  const cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    // 35 (insufficient driver) and 100 (no device) are the normal answers on a machine
    // without a GPU; any failure means "no usable device", never a crash.
    if (why != nullptr) *why = cudaGetErrorString(err);
    cudaGetLastError();  // clear the sticky error so later queries start clean
    return 0;
  }
  if (n == 0 && why != nullptr) *why = "no CUDA device";
  return n;
}

DeviceInfo device_info(int device) {
  DeviceInfo info;
  cudaDeviceProp prop;
  check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
  info.name = prop.name;
  info.major = prop.major;
  info.minor = prop.minor;
  info.total_memory = prop.totalGlobalMem;
  check(cudaSetDevice(device), "cudaSetDevice");
  size_t free_bytes = 0, total_bytes = 0;
  check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  info.free_memory = free_bytes;
  return info;
}

}  // namespace cuda
}  // namespace deepgen
