// The CUDA kernels' plain C++ entry points. This header has no CUDA include, so the addon's
// own sources compile without the CUDA toolkit; the definitions live in the .cu files (built
// with DEEPGEN_CUDA=ON) or in native/addon/cuda_absent.cc (CPU-only builds).
#pragma once
#include <cstdint>
#include <string>

namespace deepgen {
namespace cuda {

// True when this binary was compiled with the CUDA kernels.
bool built();

// Number of usable devices; 0 when none or no driver (reason in *why, if given).
// Never throws.
int device_count(std::string* why);

struct DeviceInfo {
  std::string name;
  int major = 0, minor = 0;
  uint64_t total_memory = 0;
  uint64_t free_memory = 0;
};
// Throws KernelError(E_BACKEND) if the device cannot be queried.
DeviceInfo device_info(int device);

// Same semantics as the CPU philox_fill (native/kernels/cpu/philox_fill.h): host buffer in,
// host buffer out. Throws KernelError(E_BACKEND) when no device is usable.
void philox_fill(float* host_out, int64_t n, uint32_t key0, uint32_t key1, uint32_t stream,
                 int distribution);

}  // namespace cuda
}  // namespace deepgen
