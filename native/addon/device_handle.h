// A device-resident model behind a type-tagged Napi::External (handle_tags.h): the scaffolding
// the CUDA NADE, PixelRNN and DCGAN bindings share. Each kind of handle H describes itself:
//   `model`, the device object (null once released), which its destructor frees, so the
//     garbage collector releases whatever an explicit release did not;
//   static constexpr const napi_type_tag* kTag;
//   static constexpr const char* kUpload, * kRelease;  // the JS names, for messages
//   static constexpr auto release;   // frees a device model (nullptr allowed)
#pragma once
#include <napi.h>

#include <memory>
#include <string>

#include "args.h"
#include "model_args.h"

namespace deepgen {
namespace addon {

template <class H>
Napi::Value wrap_device_handle(Napi::Env env, std::unique_ptr<H> handle) {
  auto ext = Napi::External<H>::New(env, handle.release(), [](Napi::Env, H* h) { delete h; });
  ext.TypeTag(H::kTag);
  return ext;
}

// The handle at argument i, released or not: E_ARG for anything not tagged as this kind.
template <class H>
H& tagged_handle(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (!info[i].IsExternal() || !info[i].As<Napi::External<H>>().CheckTypeTag(H::kTag)) {
    throw make_error(info.Env(), "E_ARG",
                     std::string(fn) + ": argument 'handle' must come from " + H::kUpload);
  }
  return *info[i].As<Napi::External<H>>().Data();
}

// The same, and E_ARG once it was released.
template <class H>
H& live_handle(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  H& h = tagged_handle<H>(info, i, fn);
  if (h.model == nullptr) {
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": the CUDA model was disposed");
  }
  return h;
}

// H::kRelease(handle): frees the device memory now; idempotent.
template <class H>
Napi::Value release_device_handle(const Napi::CallbackInfo& info) {
  require_args(info, 1, H::kRelease);
  H& h = tagged_handle<H>(info, 0, H::kRelease);
  H::release(h.model);
  h.model = nullptr;
  return info.Env().Undefined();
}

// <fn>(handle, x, n, logp) of a sampler model whose handle knows its row length `d`.
template <class H, class LogProb>
Napi::Value device_log_prob(const Napi::CallbackInfo& info, const char* fn, LogProb log_prob) {
  require_args(info, 4, fn);
  H& h = live_handle<H>(info, 0, fn);
  Keep none(false);
  const LogProbIo io = arg_log_prob_io(info, 1, fn, h.d, none);
  log_prob(h.model, io.x, io.n, io.logp);
  return info.Env().Undefined();
}

}  // namespace addon
}  // namespace deepgen
