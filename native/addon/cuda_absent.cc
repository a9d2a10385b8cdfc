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

uint64_t resident_bytes() { return 0; }

struct NadeDeviceModel {};

NadeDeviceModel* nade_upload(const NadeParams&) { throw KernelError("E_BACKEND", kNotBuilt); }
void nade_release(NadeDeviceModel* m) noexcept { delete m; }
void nade_log_prob(NadeDeviceModel*, const float*, int64_t, float*) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
void nade_sample(NadeDeviceModel*, int64_t, uint64_t, uint32_t, uint32_t, uint32_t, int64_t, float*,
                 float*) {
  throw KernelError("E_BACKEND", kNotBuilt);
}

void nade_backward(NadeDeviceModel*, const float*, int64_t, float, float*, float*, float*, float*,
                   float*) {
  throw KernelError("E_BACKEND", kNotBuilt);
}

void sgemm(const GemmArgs&) { throw KernelError("E_BACKEND", kNotBuilt); }

double clip_grad_norm(float* const*, const int64_t*, int64_t, double) {
  throw KernelError("E_BACKEND", kNotBuilt);
}

void adam_step(float*, const float*, float*, float*, int64_t, const AdamConfig&) {
  throw KernelError("E_BACKEND", kNotBuilt);
}

void activation_forward(Activation, const float*, float*, int64_t, float) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
void bias_activation_forward(Activation, const float*, const float*, float*, int64_t, int64_t,
                             int64_t, float) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
void batchnorm_forward_train(const float*, const float*, const float*, float*, float*, float*,
                             float*, float*, int64_t, int64_t, int64_t, float, float) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
void batchnorm_forward_eval(const float*, const float*, const float*, const float*, const float*,
                            float*, int64_t, int64_t, int64_t, float) {
  throw KernelError("E_BACKEND", kNotBuilt);
}

void conv_block_forward(const ConvBlockParams&, const float*, const float*, const float*,
                        const float*, const float*, float*, float*, float*, float*, float*,
                        float*) {
  throw KernelError("E_BACKEND", kNotBuilt);
}

void conv_block_backward(const ConvBlockParams&, const float*, const float*, const float*,
                         const float*, const float*, const float*, const float*, float*, float*,
                         float*, float*, float*, float*, bool) {
  throw KernelError("E_BACKEND", kNotBuilt);
}

struct PixelRnnDeviceModel {};

PixelRnnDeviceModel* pixelrnn_upload(const PixelRnnSpec&) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
void pixelrnn_release(PixelRnnDeviceModel* m) noexcept { delete m; }
void pixelrnn_log_prob(PixelRnnDeviceModel*, const float*, int64_t, float*) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
void pixelrnn_sample(PixelRnnDeviceModel*, int64_t, uint64_t, uint32_t, uint32_t, uint32_t, float*,
                     float*) {
  throw KernelError("E_BACKEND", kNotBuilt);
}

std::vector<DcganTensor> dcgan_gen_tensors(const DcganSpec&) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
std::vector<DcganTensor> dcgan_disc_tensors(const DcganSpec&) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
std::vector<DcganTensor> dcgan_gen_buffer_tensors(const DcganSpec&) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
struct DcganDeviceModel {};
DcganDeviceModel* dcgan_upload(const DcganSpec&, const DcganState&) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
void dcgan_release(DcganDeviceModel* m) noexcept { delete m; }
DcganStepResult dcgan_step(DcganDeviceModel*, const float*, const float*, int64_t,
                           const DcganStepOptions&) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
void dcgan_generate(DcganDeviceModel*, const float*, int64_t, float*) {
  throw KernelError("E_BACKEND", kNotBuilt);
}
void dcgan_download(DcganDeviceModel*, float*, float*, float*, float*, float*, float*, float*,
                    int64_t*, int64_t*) {
  throw KernelError("E_BACKEND", kNotBuilt);
}

}  // namespace cuda
}  // namespace deepgen
