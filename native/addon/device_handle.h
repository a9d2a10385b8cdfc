// A device-resident model behind a type-tagged Napi::External (handle_tags.h), shared by the
// CUDA NADE, PixelRNN and DCGAN bindings. H holds `model`, the device object (null once
// released), and frees it in its destructor, so the garbage collector releases whatever an
// explicit cuda*Release did not. `upload` names the function that makes the handles, for
// the error messages.
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "args.h"

namespace deepgen {
namespace addon {

template <class H>
Napi::Value wrap_device_handle(Napi::Env env, std::unique_ptr<H> handle, const napi_type_tag& tag) {
  auto ext = Napi::External<H>::New(env, handle.release(), [](Napi::Env, H* h) { delete h; });
  ext.TypeTag(&tag);
  return ext;
}

// The handle at argument i, released or not: E_ARG for anything not tagged `tag`.
template <class H>
H& tagged_handle(const Napi::CallbackInfo& info, size_t i, const napi_type_tag& tag,
                 const char* fn, const char* upload) {
  if (!info[i].IsExternal() || !info[i].As<Napi::External<H>>().CheckTypeTag(&tag)) {
    throw make_error(info.Env(), "E_ARG",
                     std::string(fn) + ": argument 'handle' must come from " + upload);
  }
  return *info[i].As<Napi::External<H>>().Data();
}

// The same, and E_ARG once it was released.
template <class H>
H& live_handle(const Napi::CallbackInfo& info, size_t i, const napi_type_tag& tag, const char* fn,
               const char* upload) {
  H& h = tagged_handle<H>(info, i, tag, fn, upload);
  if (h.model == nullptr) {
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": the CUDA model was disposed");
  }
  return h;
}

// cuda*Release(handle): frees the device memory now; idempotent.
template <class H, class Release>
Napi::Value release_device_handle(const Napi::CallbackInfo& info, const napi_type_tag& tag,
                                  const char* fn, const char* upload, Release release) {
  require_args(info, 1, fn);
  H& h = tagged_handle<H>(info, 0, tag, fn, upload);
  release(h.model);
  h.model = nullptr;
  return info.Env().Undefined();
}

}  // namespace addon
}  // namespace deepgen
