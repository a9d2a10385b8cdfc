// A device-resident model behind a type-tagged Napi::External (handle_tags.h): the scaffolding
// the CUDA NADE, PixelRNN and DCGAN bindings share. Each kind is described once by a Kind:
//   using Handle;                    // holds `model`, the device object (null once released),
//                                    // and frees it in its destructor, so the garbage collector
//                                    // releases whatever an explicit release did not
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

template <class Kind>
Napi::Value wrap_device_handle(Napi::Env env, std::unique_ptr<typename Kind::Handle> handle) {
  using H = typename Kind::Handle;
  auto ext = Napi::External<H>::New(env, handle.release(), [](Napi::Env, H* h) { delete h; });
  ext.TypeTag(Kind::kTag);
  return ext;
}

// The handle at argument i, released or not: E_ARG for anything not tagged as this kind.
template <class Kind>
typename Kind::Handle& tagged_handle(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  using H = typename Kind::Handle;
  if (!info[i].IsExternal() || !info[i].As<Napi::External<H>>().CheckTypeTag(Kind::kTag)) {
    throw make_error(info.Env(), "E_ARG",
                     std::string(fn) + ": argument 'handle' must come from " + Kind::kUpload);
  }
  return *info[i].As<Napi::External<H>>().Data();
}

// The same, and E_ARG once it was released.
template <class Kind>
typename Kind::Handle& live_handle(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  auto& h = tagged_handle<Kind>(info, i, fn);
  if (h.model == nullptr) {
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": the CUDA model was disposed");
  }
  return h;
}

// Kind::kRelease(handle): frees the device memory now; idempotent.
template <class Kind>
Napi::Value release_device_handle(const Napi::CallbackInfo& info) {
  require_args(info, 1, Kind::kRelease);
  auto& h = tagged_handle<Kind>(info, 0, Kind::kRelease);
  Kind::release(h.model);
  h.model = nullptr;
  return info.Env().Undefined();
}

// <fn>(handle, x, n, logp) of a sampler model whose handle knows its row length `d`.
template <class Kind, class LogProb>
Napi::Value device_log_prob(const Napi::CallbackInfo& info, const char* fn, LogProb log_prob) {
  require_args(info, 4, fn);
  auto& h = live_handle<Kind>(info, 0, fn);
  Keep none(false);
  const LogProbIo io = arg_log_prob_io(info, 1, fn, h.d, none);
  log_prob(h.model, io.x, io.n, io.logp);
  return info.Env().Undefined();
}

}  // namespace addon
}  // namespace deepgen
