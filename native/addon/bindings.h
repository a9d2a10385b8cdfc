// Registration of binding groups. One register_* per file of bindings; addon.cc calls them.
#pragma once
#include <napi.h>

#include "args.h"

namespace deepgen {
namespace addon {

using Binding = Napi::Value (*)(const Napi::CallbackInfo&);

// Exports `fn` under `name`, wrapped so C++ exceptions become JS exceptions.
inline void define(Napi::Env env, Napi::Object exports, const char* name, Binding fn) {
  exports.Set(name,
              Napi::Function::New(
                  env, [fn](const Napi::CallbackInfo& info) { return guarded(info, fn); }, name));
}

void register_core(Napi::Env env, Napi::Object exports);
void register_activation(Napi::Env env, Napi::Object exports);
void register_norm(Napi::Env env, Napi::Object exports);
void register_gemm(Napi::Env env, Napi::Object exports);
void register_nade(Napi::Env env, Napi::Object exports);
void register_rnade(Napi::Env env, Napi::Object exports);
void register_lstm(Napi::Env env, Napi::Object exports);
void register_loss(Napi::Env env, Napi::Object exports);
void register_optim(Napi::Env env, Napi::Object exports);
void register_conv(Napi::Env env, Napi::Object exports);
void register_reparam(Napi::Env env, Napi::Object exports);
void register_convblock(Napi::Env env, Napi::Object exports);
void register_pixelrnn(Napi::Env env, Napi::Object exports);
void register_dcgan(Napi::Env env, Napi::Object exports);
void register_prepared_net(Napi::Env env, Napi::Object exports);

}  // namespace addon
}  // namespace deepgen
