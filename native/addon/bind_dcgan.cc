// Bindings of the device-resident DCGAN trainer (native/kernels/cuda/dcgan_resident.cu) behind
// a type-tagged External handle, as the CUDA NADE model (bind_nade.cc):
//   cudaDcganUpload(spec, genParams, discParams, genBuffers, genM | null, genV | null,
//                   discM | null, discV | null, genStep, discStep) -> handle
//     spec: {height, width, zdim, channels: [c0, c1], discChannels: [d0, d1], discNorm,
//            discStddev} (lib/kernels/ops/dcgan.ts DcganSpec)
//   cudaDcganStep(handle, real, z, m, options) -> { discLossSum, dRealSum, dFakeSum, genLoss,
//                 discGradNorm, genGradNorm, discUpdated, genUpdated }
//     options: {genLr, discLr, beta1, beta2, eps, minimax, updateGenerator}
//   cudaDcganGenerate(handle, z, n, out)
//   cudaDcganDownload(handle, genParams, discParams, genBuffers, genM, genV, discM, discV)
//     (each may be null) -> [genStep, discStep]
//   cudaDcganRelease(handle)   (idempotent; otherwise the garbage collector frees it)
// The flat arrays hold the tensors in the order of cuda_api.h (dcgan_*_tensors).
#include <napi.h>

#include <memory>
#include <string>
#include <utility>

#include "../kernels/cuda/cuda_api.h"
#include "args.h"
#include "bindings.h"
#include "device_handle.h"
#include "handle_tags.h"

namespace deepgen {
namespace addon {
namespace {

// The device trainer's own limits (dcgan_resident.cu checks them too): checked here as well
// so that a build without CUDA refuses them with E_ARG before it reports E_BACKEND, and so
// that rows * pixels cannot overflow.
constexpr int64_t kMaxRows = int64_t{1} << 20;
constexpr int64_t kMaxSide = 4096;

struct CudaDcganHandle {
  static constexpr const napi_type_tag* kTag = &kCudaDcganTag;
  static constexpr const char* kUpload = "cudaDcganUpload";
  static constexpr const char* kRelease = "cudaDcganRelease";
  static constexpr auto release = cuda::dcgan_release;
  cuda::DcganDeviceModel* model = nullptr;
  int64_t ng = 0, nd = 0, nb = 0, pixels = 0, zdim = 0;
  ~CudaDcganHandle() { cuda::dcgan_release(model); }
};

// A Float32Array of at least `need` elements, or (nullable) null / undefined: its data or nullptr.
float* f32_of(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
              int64_t need, bool nullable) {
  return data_of(nullable ? arg_optional_f32(info, i, fn, name, need)
                          : arg_f32(info, i, fn, name, need));
}

int64_t sum_sizes(const std::vector<cuda::DcganTensor>& t) {
  int64_t n = 0;
  for (const auto& x : t) n += x.size;
  return n;
}

Napi::Value upload(const Napi::CallbackInfo& info) {
  const char* fn = CudaDcganHandle::kUpload;
  require_args(info, 10, fn);
  const Spec s(info, 0, fn);
  cuda::DcganSpec spec;
  spec.height = s.integer("height", 4, kMaxSide);
  spec.width = s.integer("width", 4, kMaxSide);
  spec.zdim = s.integer("zdim", 1, kMaxSide);
  s.integers("channels", spec.channels, 2, 1, kMaxSide);
  s.integers("discChannels", spec.disc_channels, 2, 1, kMaxSide);
  spec.disc_norm = s.boolean("discNorm");
  spec.disc_stddev = s.boolean("discStddev");
  auto hd = std::make_unique<CudaDcganHandle>();
  hd->ng = sum_sizes(cuda::dcgan_gen_tensors(spec));  // E_ARG on a bad spec
  hd->nd = sum_sizes(cuda::dcgan_disc_tensors(spec));
  hd->nb = sum_sizes(cuda::dcgan_gen_buffer_tensors(spec));
  hd->pixels = spec.height * spec.width;
  hd->zdim = spec.zdim;
  cuda::DcganState st;
  st.gen_params = f32_of(info, 1, fn, "genParams", hd->ng, false);
  st.disc_params = f32_of(info, 2, fn, "discParams", hd->nd, false);
  st.gen_buffers = f32_of(info, 3, fn, "genBuffers", hd->nb, false);
  st.gen_m = f32_of(info, 4, fn, "genM", hd->ng, true);
  st.gen_v = f32_of(info, 5, fn, "genV", hd->ng, true);
  st.disc_m = f32_of(info, 6, fn, "discM", hd->nd, true);
  st.disc_v = f32_of(info, 7, fn, "discV", hd->nd, true);
  st.gen_step = arg_int(info, 8, fn, "genStep", 0, int64_t{1} << 52);
  st.disc_step = arg_int(info, 9, fn, "discStep", 0, int64_t{1} << 52);
  hd->model = cuda::dcgan_upload(spec, st);
  return wrap_device_handle<CudaDcganHandle>(info.Env(), std::move(hd));
}

Napi::Value step(const Napi::CallbackInfo& info) {
  const char* fn = "cudaDcganStep";
  require_args(info, 5, fn);
  CudaDcganHandle& hd = live_handle<CudaDcganHandle>(info, 0, fn);
  const int64_t m = arg_int(info, 3, fn, "m", 2, kMaxRows);
  const float* real = f32_of(info, 1, fn, "real", m * hd.pixels, false);
  const float* z = f32_of(info, 2, fn, "z", m * hd.zdim, false);
  // The values the device Adam and loss use; dcgan_step checks their ranges itself.
  const Spec s(info, 4, fn);
  cuda::DcganStepOptions o;
  o.gen_lr = s.number("genLr");
  o.disc_lr = s.number("discLr");
  o.beta1 = s.number("beta1");
  o.beta2 = s.number("beta2");
  o.eps = s.number("eps");
  o.minimax = s.boolean("minimax");
  o.update_generator = s.boolean("updateGenerator");
  const cuda::DcganStepResult r = cuda::dcgan_step(hd.model, real, z, m, o);
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  out.Set("discLossSum", r.disc_loss_sum);
  out.Set("dRealSum", r.d_real_sum);
  out.Set("dFakeSum", r.d_fake_sum);
  out.Set("genLoss", r.gen_loss);
  out.Set("discGradNorm", r.disc_grad_norm);
  out.Set("genGradNorm", r.gen_grad_norm);
  out.Set("discUpdated", r.disc_updated);
  out.Set("genUpdated", r.gen_updated);
  return out;
}

Napi::Value generate(const Napi::CallbackInfo& info) {
  const char* fn = "cudaDcganGenerate";
  require_args(info, 4, fn);
  CudaDcganHandle& hd = live_handle<CudaDcganHandle>(info, 0, fn);
  const int64_t n = arg_int(info, 2, fn, "n", 0, kMaxRows);
  const float* z = f32_of(info, 1, fn, "z", n * hd.zdim, false);
  float* out = f32_of(info, 3, fn, "out", n * hd.pixels, false);
  cuda::dcgan_generate(hd.model, z, n, out);
  return info.Env().Undefined();
}

Napi::Value download(const Napi::CallbackInfo& info) {
  const char* fn = "cudaDcganDownload";
  require_args(info, 8, fn);
  CudaDcganHandle& hd = live_handle<CudaDcganHandle>(info, 0, fn);
  float* gp = f32_of(info, 1, fn, "genParams", hd.ng, true);
  float* dp = f32_of(info, 2, fn, "discParams", hd.nd, true);
  float* gb = f32_of(info, 3, fn, "genBuffers", hd.nb, true);
  float* gm = f32_of(info, 4, fn, "genM", hd.ng, true);
  float* gv = f32_of(info, 5, fn, "genV", hd.ng, true);
  float* dm = f32_of(info, 6, fn, "discM", hd.nd, true);
  float* dv = f32_of(info, 7, fn, "discV", hd.nd, true);
  int64_t gs = 0, ds = 0;
  cuda::dcgan_download(hd.model, gp, dp, gb, gm, gv, dm, dv, &gs, &ds);
  Napi::Array steps = Napi::Array::New(info.Env(), 2);
  steps.Set(uint32_t{0}, static_cast<double>(gs));
  steps.Set(uint32_t{1}, static_cast<double>(ds));
  return steps;
}

}  // namespace

void register_dcgan(Napi::Env env, Napi::Object exports) {
  define(env, exports, CudaDcganHandle::kUpload, upload);
  define(env, exports, CudaDcganHandle::kRelease, release_device_handle<CudaDcganHandle>);
  define(env, exports, "cudaDcganStep", step);
  define(env, exports, "cudaDcganGenerate", generate);
  define(env, exports, "cudaDcganDownload", download);
}

}  // namespace addon
}  // namespace deepgen
