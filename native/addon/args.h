// Argument checking for the N-API bindings. Every binding validates what it relies on before
// any native work (the TS layer checks too, with friendlier messages; this is the last line
// that keeps a bad call from reading out of bounds) and reports failures as JS errors with a
// stable `code`, never by aborting.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "../common/errors.h"

namespace deepgen {
namespace addon {

// Builds a JS Error with .code set.
Napi::Error make_error(Napi::Env env, const char* code, const std::string& message);

// Throws E_ARG unless info.Length() >= n.
void require_args(const Napi::CallbackInfo& info, size_t n, const char* fn);

Napi::Float32Array arg_f32(const Napi::CallbackInfo& info, size_t i, const char* fn,
                           const char* name);
// A finite number that is an integer in [lo, hi].
int64_t arg_int(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
                int64_t lo, int64_t hi);
uint32_t arg_u32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name);
// Throws E_SHAPE unless typed array `a` holds at least `need` elements (the kernels read that
// many); an empty handle (an optional array left out) passes.
void require_len(const Napi::CallbackInfo& info, const Napi::TypedArray& a, int64_t need,
                 const char* fn, const char* name);
// Where a sampler's Philox draws start: args i..i+4 are offsetLo, offsetHi, key0, key1, stream.
struct SampleDraw {
  uint64_t offset;
  uint32_t key0, key1, stream;
};
SampleDraw arg_sample_draw(const Napi::CallbackInfo& info, size_t i, const char* fn);
// Arg i is null / undefined (nullptr) or a Float32Array of at least `need` elements (its data).
float* arg_optional_f32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
                        int64_t need);
// The cancel flag of an async job: an Int32Array of length >= 1.
Napi::Int32Array arg_cancel(const Napi::CallbackInfo& info, size_t i, const char* fn);
// undefined or a function.
Napi::Function arg_optional_fn(const Napi::CallbackInfo& info, size_t i, const char* fn,
                               const char* name);

// Runs a binding body, converting C++ exceptions (KernelError, bad_alloc, anything else)
// into JS exceptions so nothing escapes into N-API and terminates the process.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, F&& body) {
  try {
    return body(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const KernelError& e) {
    throw make_error(info.Env(), e.code(), e.what());
  } catch (const Cancelled& e) {
    throw make_error(info.Env(), "E_ABORTED", e.what());
  } catch (const std::bad_alloc&) {
    throw make_error(info.Env(), "E_BACKEND", "out of memory");
  } catch (const std::exception& e) {
    throw make_error(info.Env(), "E_BACKEND", e.what());
  }
}

}  // namespace addon
}  // namespace deepgen
