#include "args.h"

#include <cmath>

namespace deepgen {
namespace addon {

Napi::Error make_error(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

static std::string where(const char* fn, const char* name) {
  return std::string(fn) + ": argument '" + name + "'";
}

void require_args(const Napi::CallbackInfo& info, size_t n, const char* fn) {
  if (info.Length() < n) {
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": expected " + std::to_string(n) +
                                              " arguments, got " + std::to_string(info.Length()));
  }
}

Napi::Float32Array arg_f32(const Napi::CallbackInfo& info, size_t i, const char* fn,
                           const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw make_error(info.Env(), "E_ARG", where(fn, name) + " must be a Float32Array");
  }
  return v.As<Napi::Float32Array>();
}

int64_t arg_int(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
                int64_t lo, int64_t hi) {
  const Napi::Value v = info[i];
  if (!v.IsNumber()) throw make_error(info.Env(), "E_ARG", where(fn, name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(lo) ||
      d > static_cast<double>(hi)) {
    throw make_error(info.Env(), "E_ARG",
                     where(fn, name) + " must be an integer in [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "]");
  }
  return static_cast<int64_t>(d);
}

void require_len(const Napi::CallbackInfo& info, const Napi::TypedArray& a, int64_t need,
                 const char* fn, const char* name) {
  if (!a.IsEmpty() && static_cast<int64_t>(a.ElementLength()) < need) {
    throw make_error(info.Env(), "E_SHAPE",
                     std::string(fn) + ": '" + name + "' has " + std::to_string(a.ElementLength()) +
                         " elements, needs " + std::to_string(need));
  }
}

uint32_t arg_u32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  return static_cast<uint32_t>(arg_int(info, i, fn, name, 0, 0xFFFFFFFFLL));
}

SampleDraw arg_sample_draw(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const uint32_t lo = arg_u32(info, i, fn, "offsetLo");
  const uint32_t hi = arg_u32(info, i + 1, fn, "offsetHi");
  return {(static_cast<uint64_t>(hi) << 32) | lo, arg_u32(info, i + 2, fn, "key0"),
          arg_u32(info, i + 3, fn, "key1"), arg_u32(info, i + 4, fn, "stream")};
}

float* arg_optional_f32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
                        int64_t need) {
  if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  Napi::Float32Array a = arg_f32(info, i, fn, name);
  require_len(info, a, need, fn, name);
  return a.Data();
}

Napi::Int32Array arg_cancel(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      v.As<Napi::Int32Array>().ElementLength() < 1) {
    throw make_error(info.Env(), "E_ARG", where(fn, "cancel") + " must be an Int32Array(1)");
  }
  return v.As<Napi::Int32Array>();
}

Napi::Function arg_optional_fn(const Napi::CallbackInfo& info, size_t i, const char* fn,
                               const char* name) {
  const Napi::Value v = info[i];
  if (v.IsUndefined() || v.IsNull()) return Napi::Function();
  if (!v.IsFunction()) {
    throw make_error(info.Env(), "E_ARG", where(fn, name) + " must be a function or undefined");
  }
  return v.As<Napi::Function>();
}

}  // namespace addon
}  // namespace deepgen
