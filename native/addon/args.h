// Argument checking for the N-API bindings: the one toolkit every bind_*.cc uses. Every
// binding validates what it relies on before any native work (the TS layer checks too, with
// friendlier messages; this is the last line that keeps a bad call from reading out of
// bounds) and reports failures as JS errors with a stable `code`, never by aborting.
//
// Values come either from positional arguments (arg_*) or from the fields of one spec object
// (Spec), for calls whose many numbers would otherwise be an order to keep in step in three
// places. Both read through the same checks, so a field is refused with the same rule and
// code as an argument, and its message names the function and the field.
#pragma once
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "../common/errors.h"

namespace deepgen {
namespace addon {

// The one bound on every size, count, leading dimension and stride a binding reads. 2^40 is
// far above the length of any typed array (so it refuses no call that could run) and far
// below 2^53 (so an accepted value is exact as a JS number). Products of sizes go through
// elements(), which refuses them (E_SHAPE) before they could overflow int64. A kernel with a
// tighter limit of its own checks it itself (conv: int32 tap offsets, conv2d.cc), or its
// binding names it with the reason (reparam: kMaxSamples).
constexpr int64_t kMaxDim = int64_t{1} << 40;
// The most elements a size product may reach: no typed array is that long, and 2^52 is exact
// in a double and leaves int64 headroom for the small multiples kernels take of it.
constexpr int64_t kMaxElements = int64_t{1} << 52;

// Builds a JS Error with .code set.
Napi::Error make_error(Napi::Env env, const char* code, const std::string& message);

// Throws E_ARG unless info.Length() >= n.
void require_args(const Napi::CallbackInfo& info, size_t n, const char* fn);

// Bounds of a finite number: [lo, hi], or (lo, hi] when lo_open. as_float: the value must
// also stay finite and within the bounds when rounded to float (for kernels that compute with
// it in float: a positive double below the smallest float would become 0).
struct Range {
  double lo = -HUGE_VAL;
  double hi = HUGE_VAL;
  bool lo_open = false;
  bool as_float = false;
};

// Positional arguments. `fn` and `name` only feed the error messages.
// A Float32Array of at least min_len elements (E_SHAPE otherwise: the kernels read that many).
Napi::Float32Array arg_f32(const Napi::CallbackInfo& info, size_t i, const char* fn,
                           const char* name, int64_t min_len = 0);
// null / undefined give an empty handle (an optional array left out; see data_of); anything
// else is checked as by arg_f32.
Napi::Float32Array arg_optional_f32(const Napi::CallbackInfo& info, size_t i, const char* fn,
                                    const char* name, int64_t min_len = 0);
// An integer in [lo, hi].
int64_t arg_int(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
                int64_t lo, int64_t hi);
uint32_t arg_u32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name);
bool arg_bool(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name);
// A finite number within `r` (E_ARG otherwise).
double arg_finite(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
                  const Range& r = {});
// Any number, NaN and infinities included: for values the kernel's own check (adam_check,
// sgd_check, ...) validates with its own messages.
double arg_number(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name);
// The cancel flag of an async job: an Int32Array of length >= 1.
Napi::Int32Array arg_cancel(const Napi::CallbackInfo& info, size_t i, const char* fn);
// undefined or a function.
Napi::Function arg_optional_fn(const Napi::CallbackInfo& info, size_t i, const char* fn,
                               const char* name);

// The fields of the spec object at argument i. Each field is read once, with the same checks
// as the positional readers; a missing field is undefined and refused like a wrong type.
class Spec {
 public:
  Spec(const Napi::CallbackInfo& info, size_t i, const char* fn);
  // An object found elsewhere (an element of an array argument).
  Spec(Napi::Env env, Napi::Value v, const char* fn);
  int64_t integer(const char* key, int64_t lo, int64_t hi) const;
  bool boolean(const char* key) const;
  double finite(const char* key, const Range& r = {}) const;
  double number(const char* key) const;
  // An array field of exactly n integers in [lo, hi], into out[0 .. n).
  void integers(const char* key, int64_t* out, uint32_t n, int64_t lo, int64_t hi) const;
  // A Float32Array field of exactly `len` elements; null / undefined give an empty handle
  // when `optional`.
  Napi::Float32Array f32(const char* key, int64_t len, bool optional = false) const;

 private:
  Napi::Value get(const char* key) const;
  Napi::Env env_;
  Napi::Object object_;
  const char* fn_;
};

// Throws E_SHAPE unless typed array `a` holds at least `need` elements (the kernels read that
// many); an empty handle (an optional array left out) passes.
void require_len(const Napi::CallbackInfo& info, const Napi::TypedArray& a, int64_t need,
                 const char* fn, const char* name);
// The data of an optional array: nullptr for an empty handle.
inline float* data_of(Napi::Float32Array a) { return a.IsEmpty() ? nullptr : a.Data(); }
// The product of sizes (each in [0, kMaxDim]): E_SHAPE "<fn>: <what> is too large" past
// kMaxElements, so no length computed from sizes overflows.
int64_t elements(Napi::Env env, const char* fn, const char* what,
                 std::initializer_list<int64_t> dims);

// n, c, s at arguments i .. i + 2: the [n, c, s] layout of the activation and norm kernels,
// numel = n * c * s.
struct Ncs {
  int64_t n, c, s, numel;
};
Ncs arg_ncs(const Napi::CallbackInfo& info, size_t i, const char* fn);

// Where a sampler's Philox draws start: args i..i+4 are offsetLo, offsetHi, key0, key1, stream.
struct SampleDraw {
  uint64_t offset;
  uint32_t key0, key1, stream;
};
SampleDraw arg_sample_draw(const Napi::CallbackInfo& info, size_t i, const char* fn);

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
