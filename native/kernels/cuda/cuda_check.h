// Turns CUDA errors into KernelError(E_BACKEND) so the addon rejects the call cleanly.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "../../common/errors.h"

namespace deepgen {
namespace cuda {

inline void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    cudaGetLastError();
    throw KernelError("E_BACKEND", std::string("CUDA ") + what + ": " + cudaGetErrorString(err));
  }
}

// Device buffer freed on scope exit, also when a later step throws.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    if (n_ > 0) check(cudaMalloc(reinterpret_cast<void**>(&ptr_), n_ * sizeof(T)), "cudaMalloc");
  }
  ~DeviceBuffer() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return ptr_; }
  size_t size() const { return n_; }

 private:
  T* ptr_ = nullptr;
  size_t n_ = 0;
};

// Throws E_BACKEND unless a device is usable.
inline void require_device() {
  std::string why;
  if (device_count(&why) == 0) throw KernelError("E_BACKEND", "no usable CUDA device: " + why);
}

}  // namespace cuda
}  // namespace deepgen
