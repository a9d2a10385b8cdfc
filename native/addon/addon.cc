// The deepgen native addon: N-API bindings only. Kernels live in native/kernels/.
#include <napi.h>

#include "bindings.h"

namespace deepgen {
namespace addon {

// Bumped whenever the exported surface changes; lib/kernels/native.ts refuses an addon whose
// number differs (a stale build or prebuild) and says how to rebuild.
constexpr int kAbiVersion = 6;

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, kAbiVersion));
  register_core(env, exports);
  register_activation(env, exports);
  register_norm(env, exports);
  register_gemm(env, exports);
  register_nade(env, exports);
  register_rnade(env, exports);
  register_lstm(env, exports);
  register_loss(env, exports);
  register_optim(env, exports);
  register_conv(env, exports);
  register_reparam(env, exports);
  register_convblock(env, exports);
  register_pixelrnn(env, exports);
  register_dcgan(env, exports);
  register_prepared_net(env, exports);
  return exports;
}

}  // namespace addon
}  // namespace deepgen

static Napi::Object InitDeepgen(Napi::Env env, Napi::Object exports) {
  return deepgen::addon::init(env, exports);
}

NODE_API_MODULE(deepgen, InitDeepgen)
