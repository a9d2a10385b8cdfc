#include "args.h"

#include <cstdio>

namespace deepgen {
namespace addon {

Napi::Error make_error(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  return err;
}

void require_args(const Napi::CallbackInfo& info, size_t n, const char* fn) {
  if (info.Length() < n) {
    throw make_error(info.Env(), "E_ARG",
                     std::string(fn) + ": expected " + std::to_string(n) + " arguments, got " +
                         std::to_string(info.Length()));
  }
}

namespace {

// What a value is, for messages: "<fn>: argument '<name>'", or "<fn>: argument 'spec.<name>'"
// for a field of a spec object. Built only when a check fails.
struct Where {
  const char* fn;
  const char* name;
  bool field = false;
  std::string str() const {
    return std::string(fn) + ": argument '" + (field ? "spec." : "") + name + "'";
  }
};

Napi::Error arg_error(Napi::Env env, const Where& w, const std::string& rule) {
  return make_error(env, "E_ARG", w.str() + " " + rule);
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// The readers both positional arguments and spec fields go through.

Napi::Float32Array read_f32(Napi::Env env, const Napi::Value& v, const Where& w) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw arg_error(env, w, "must be a Float32Array");
  }
  return v.As<Napi::Float32Array>();
}

int64_t read_int(Napi::Env env, const Napi::Value& v, const Where& w, int64_t lo, int64_t hi) {
  if (!v.IsNumber()) throw arg_error(env, w, "must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(lo) ||
      d > static_cast<double>(hi)) {
    throw arg_error(
        env, w, "must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int64_t>(d);
}

bool read_bool(Napi::Env env, const Napi::Value& v, const Where& w) {
  if (!v.IsBoolean()) throw arg_error(env, w, "must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

double read_number(Napi::Env env, const Napi::Value& v, const Where& w) {
  if (!v.IsNumber()) throw arg_error(env, w, "must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

std::string range_text(const Range& r) {
  const bool has_lo = std::isfinite(r.lo), has_hi = std::isfinite(r.hi);
  if (has_lo && has_hi) {
    return std::string(" in ") + (r.lo_open ? "(" : "[") + number_text(r.lo) + ", " +
           number_text(r.hi) + "]";
  }
  if (has_lo) return std::string(r.lo_open ? " > " : " >= ") + number_text(r.lo);
  if (has_hi) return " <= " + number_text(r.hi);
  return "";
}

double read_finite(Napi::Env env, const Napi::Value& v, const Where& w, const Range& r) {
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  bool ok = std::isfinite(d) && d >= r.lo && d <= r.hi && !(r.lo_open && d == r.lo);
  if (ok && r.as_float) {
    const float f = static_cast<float>(d);
    ok = std::isfinite(f) && f >= r.lo && !(r.lo_open && f <= r.lo);
  }
  if (!ok) {
    throw arg_error(
        env, w,
        std::string("must be a finite number") + range_text(r) + (r.as_float ? " (in float)" : ""));
  }
  return d;
}

}  // namespace

Napi::Float32Array arg_f32(const Napi::CallbackInfo& info, size_t i, const char* fn,
                           const char* name, int64_t min_len) {
  Napi::Float32Array a = read_f32(info.Env(), info[i], {fn, name});
  require_len(info, a, min_len, fn, name);
  return a;
}

Napi::Float32Array arg_optional_f32(const Napi::CallbackInfo& info, size_t i, const char* fn,
                                    const char* name, int64_t min_len) {
  const Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return Napi::Float32Array();
  return arg_f32(info, i, fn, name, min_len);
}

int64_t arg_int(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
                int64_t lo, int64_t hi) {
  return read_int(info.Env(), info[i], {fn, name}, lo, hi);
}

uint32_t arg_u32(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  return static_cast<uint32_t>(arg_int(info, i, fn, name, 0, 0xFFFFFFFFLL));
}

bool arg_bool(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  return read_bool(info.Env(), info[i], {fn, name});
}

double arg_finite(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
                  const Range& r) {
  return read_finite(info.Env(), info[i], {fn, name}, r);
}

double arg_number(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  return read_number(info.Env(), info[i], {fn, name});
}

Napi::Int32Array arg_cancel(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
      v.As<Napi::Int32Array>().ElementLength() < 1) {
    throw arg_error(info.Env(), {fn, "cancel"}, "must be an Int32Array(1)");
  }
  return v.As<Napi::Int32Array>();
}

Napi::Function arg_optional_fn(const Napi::CallbackInfo& info, size_t i, const char* fn,
                               const char* name) {
  const Napi::Value v = info[i];
  if (v.IsUndefined() || v.IsNull()) return Napi::Function();
  if (!v.IsFunction()) throw arg_error(info.Env(), {fn, name}, "must be a function or undefined");
  return v.As<Napi::Function>();
}

Spec::Spec(const Napi::CallbackInfo& info, size_t i, const char* fn) : env_(info.Env()), fn_(fn) {
  const Napi::Value v = info[i];
  if (!v.IsObject() || v.IsTypedArray() || v.IsArray() || v.IsFunction()) {
    throw arg_error(env_, {fn, "spec"}, "must be an object");
  }
  object_ = v.As<Napi::Object>();
}

Spec::Spec(Napi::Env env, Napi::Value v, const char* fn) : env_(env), fn_(fn) {
  if (!v.IsObject() || v.IsTypedArray() || v.IsArray() || v.IsFunction()) {
    throw arg_error(env_, {fn, "spec"}, "must be an object");
  }
  object_ = v.As<Napi::Object>();
}

Napi::Value Spec::get(const char* key) const { return object_.Get(key); }

Napi::Float32Array Spec::f32(const char* key, int64_t len, bool optional) const {
  const Napi::Value v = get(key);
  if (optional && (v.IsNull() || v.IsUndefined())) return Napi::Float32Array();
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw arg_error(env_, {fn_, key, true}, "must be a Float32Array");
  }
  const Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (static_cast<int64_t>(a.ElementLength()) != len) {
    throw make_error(env_, "E_SHAPE",
                     std::string(fn_) + ": " + key + " has " + std::to_string(a.ElementLength()) +
                         " elements, expected " + std::to_string(len));
  }
  return a;
}

int64_t Spec::integer(const char* key, int64_t lo, int64_t hi) const {
  return read_int(env_, get(key), {fn_, key, true}, lo, hi);
}

bool Spec::boolean(const char* key) const { return read_bool(env_, get(key), {fn_, key, true}); }

double Spec::finite(const char* key, const Range& r) const {
  return read_finite(env_, get(key), {fn_, key, true}, r);
}

double Spec::number(const char* key) const { return read_number(env_, get(key), {fn_, key, true}); }

void Spec::integers(const char* key, int64_t* out, uint32_t n, int64_t lo, int64_t hi) const {
  const Napi::Value v = get(key);
  const Where w{fn_, key, true};
  if (!v.IsArray() || v.As<Napi::Array>().Length() != n) {
    throw arg_error(env_, w, "must be an array of " + std::to_string(n) + " integers");
  }
  const Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i < n; ++i) out[i] = read_int(env_, a.Get(i), w, lo, hi);
}

void require_len(const Napi::CallbackInfo& info, const Napi::TypedArray& a, int64_t need,
                 const char* fn, const char* name) {
  if (!a.IsEmpty() && static_cast<int64_t>(a.ElementLength()) < need) {
    throw make_error(info.Env(), "E_SHAPE",
                     std::string(fn) + ": '" + name + "' has " + std::to_string(a.ElementLength()) +
                         " elements, needs " + std::to_string(need));
  }
}

int64_t elements(Napi::Env env, const char* fn, const char* what,
                 std::initializer_list<int64_t> dims) {
  for (const int64_t d : dims) {
    if (d == 0) return 0;
  }
  int64_t total = 1;
  for (const int64_t d : dims) {
    if (total > kMaxElements / d)
      throw make_error(env, "E_SHAPE", std::string(fn) + ": " + what + " is too large");
    total *= d;
  }
  return total;
}

Ncs arg_ncs(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  Ncs d;
  d.n = arg_int(info, i, fn, "n", 0, kMaxDim);
  d.c = arg_int(info, i + 1, fn, "c", 0, kMaxDim);
  d.s = arg_int(info, i + 2, fn, "s", 0, kMaxDim);
  d.numel = elements(info.Env(), fn, "n * c * s", {d.n, d.c, d.s});
  return d;
}

SampleDraw arg_sample_draw(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const uint32_t lo = arg_u32(info, i, fn, "offsetLo");
  const uint32_t hi = arg_u32(info, i + 1, fn, "offsetHi");
  return {(static_cast<uint64_t>(hi) << 32) | lo, arg_u32(info, i + 2, fn, "key0"),
          arg_u32(info, i + 3, fn, "key1"), arg_u32(info, i + 4, fn, "stream")};
}

}  // namespace addon
}  // namespace deepgen
