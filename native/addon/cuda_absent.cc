// Stand-ins for the CUDA entry points in builds without DEEPGEN_CUDA (the node-gyp build and
// its prebuilds): the cuda backend then reports "not built" instead of failing to link.
#include "../common/errors.h"
#include "../kernels/cuda/cuda_api.h"

namespace deepgen {
namespace cuda {

static const char* kNotBuilt =
    "this deepgen binary was built without CUDA; run `npm run build:cuda` on a machine with "
    "the CUDA toolkit (nvcc) to build the CUDA kernels";

bool built() { return false; }

int device_count(std::string* why) {
  if (why != nullptr) *why = kNotBuilt;
  return 0;
}

DeviceInfo device_info(int) { throw KernelError("E_BACKEND", kNotBuilt); }

void philox_fill(float*, int64_t, uint32_t, uint32_t, uint32_t, int) {
  throw KernelError("E_BACKEND", kNotBuilt);
}

}  // namespace cuda
}  // namespace deepgen
