// Bindings of the conv group: Conv2d (with PixelCNN masks) and ConvTranspose2d, forward and
// backward (native/kernels/cpu/conv2d.h, conv_transpose2d.h). All synchronous: one call is one
// layer of one batch (milliseconds), made from model code that already runs off the event loop
// or in a *Sync path. Every argument and every array length is checked here before any work.
#include <napi.h>

#include <string>

#include "../kernels/cpu/conv2d.h"
#include "../kernels/cpu/conv_transpose2d.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {
namespace {

constexpr int64_t kMaxDim = 2147483647;

// A Float32Array, or null / undefined (returns a null array).
Napi::Float32Array arg_optional_f32(const Napi::CallbackInfo& info, size_t i, const char* fn,
                                    const char* name) {
  const Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return Napi::Float32Array();
  return arg_f32(info, i, fn, name);
}

bool arg_bool(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsBoolean()) {
    throw make_error(info.Env(), "E_ARG",
                     std::string(fn) + ": argument '" + name + "' must be a boolean");
  }
  return v.As<Napi::Boolean>().Value();
}

int64_t length_of(const Napi::Float32Array& a) {
  return a.IsEmpty() ? 0 : static_cast<int64_t>(a.ElementLength());
}

float* data_of(Napi::Float32Array a) { return a.IsEmpty() ? nullptr : a.Data(); }

void require_length(Napi::Env env, const Napi::Float32Array& a, int64_t n, const char* fn,
                    const char* name) {
  if (length_of(a) != n) {
    throw make_error(env, "E_SHAPE",
                     std::string(fn) + ": " + name + " has " + std::to_string(length_of(a)) +
                         " elements, expected " + std::to_string(n));
  }
}

// Outputs must not share memory with any other array of the call: the kernels read inputs
// while they write outputs.
void require_disjoint(Napi::Env env, const Napi::Float32Array& a, const char* an,
                      const Napi::Float32Array& b, const char* bn, const char* fn) {
  if (a.IsEmpty() || b.IsEmpty() || length_of(a) == 0 || length_of(b) == 0) return;
  const char* a0 = reinterpret_cast<const char*>(a.Data());
  const char* b0 = reinterpret_cast<const char*>(b.Data());
  const char* a1 = a0 + a.ByteLength();
  const char* b1 = b0 + b.ByteLength();
  if (a0 < b1 && b0 < a1) {
    throw make_error(env, "E_ARG", std::string(fn) + ": " + an + " and " + bn + " overlap");
  }
}

// The 12 numbers of a Conv2d geometry, starting at argument i:
// batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, mask (0 none, 1 A, 2 B).
Conv2dParams conv2d_params(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  Conv2dParams p;
  p.batch = arg_int(info, i + 0, fn, "batch", 0, kMaxDim);
  p.in_c = arg_int(info, i + 1, fn, "inChannels", 0, kMaxDim);
  p.in_h = arg_int(info, i + 2, fn, "height", 0, kMaxDim);
  p.in_w = arg_int(info, i + 3, fn, "width", 0, kMaxDim);
  p.out_c = arg_int(info, i + 4, fn, "outChannels", 0, kMaxDim);
  p.k_h = arg_int(info, i + 5, fn, "kernelH", 1, kMaxDim);
  p.k_w = arg_int(info, i + 6, fn, "kernelW", 1, kMaxDim);
  p.stride_h = arg_int(info, i + 7, fn, "strideH", 1, kMaxDim);
  p.stride_w = arg_int(info, i + 8, fn, "strideW", 1, kMaxDim);
  p.pad_h = arg_int(info, i + 9, fn, "padH", 0, kMaxDim);
  p.pad_w = arg_int(info, i + 10, fn, "padW", 0, kMaxDim);
  p.mask = static_cast<ConvMask>(arg_int(info, i + 11, fn, "mask", 0, 2));
  conv2d_check(p, nullptr, nullptr);  // E_SHAPE / E_ARG from the kernel's own rules
  return p;
}

// The 13 numbers of a ConvTranspose2d geometry: batch, inC, inH, inW, outC, kH, kW,
// strideH, strideW, padH, padW, outputPadH, outputPadW.
ConvTranspose2dParams conv_transpose2d_params(const Napi::CallbackInfo& info, size_t i,
                                              const char* fn) {
  ConvTranspose2dParams p;
  p.batch = arg_int(info, i + 0, fn, "batch", 0, kMaxDim);
  p.in_c = arg_int(info, i + 1, fn, "inChannels", 0, kMaxDim);
  p.in_h = arg_int(info, i + 2, fn, "height", 0, kMaxDim);
  p.in_w = arg_int(info, i + 3, fn, "width", 0, kMaxDim);
  p.out_c = arg_int(info, i + 4, fn, "outChannels", 0, kMaxDim);
  p.k_h = arg_int(info, i + 5, fn, "kernelH", 1, kMaxDim);
  p.k_w = arg_int(info, i + 6, fn, "kernelW", 1, kMaxDim);
  p.stride_h = arg_int(info, i + 7, fn, "strideH", 1, kMaxDim);
  p.stride_w = arg_int(info, i + 8, fn, "strideW", 1, kMaxDim);
  p.pad_h = arg_int(info, i + 9, fn, "padH", 0, kMaxDim);
  p.pad_w = arg_int(info, i + 10, fn, "padW", 0, kMaxDim);
  p.out_pad_h = arg_int(info, i + 11, fn, "outputPadH", 0, kMaxDim);
  p.out_pad_w = arg_int(info, i + 12, fn, "outputPadW", 0, kMaxDim);
  conv_transpose2d_check(p, nullptr, nullptr);
  return p;
}

// The two conv kinds, as the three bindings below use them: the JS names, the geometry
// parser and its argument count, the array sizes and the kernels.
struct Conv2dKind {
  using Params = Conv2dParams;
  static constexpr const char* kForward = "conv2dForward";
  static constexpr const char* kBackwardData = "conv2dBackwardData";
  static constexpr const char* kBackwardWeight = "conv2dBackwardWeight";
  static constexpr size_t kGeom = 12;
  static Params params(const Napi::CallbackInfo& info, size_t i, const char* fn) {
    return conv2d_params(info, i, fn);
  }
  static int64_t x_size(const Params& p) { return conv2d_x_size(p); }
  static int64_t y_size(const Params& p) { return conv2d_y_size(p); }
  static int64_t weight_size(const Params& p) { return conv2d_weight_size(p); }
  static constexpr auto forward = conv2d_forward;
  static constexpr auto backward_data = conv2d_backward_data;
  static constexpr auto backward_weight = conv2d_backward_weight;
};

struct ConvTranspose2dKind {
  using Params = ConvTranspose2dParams;
  static constexpr const char* kForward = "convTranspose2dForward";
  static constexpr const char* kBackwardData = "convTranspose2dBackwardData";
  static constexpr const char* kBackwardWeight = "convTranspose2dBackwardWeight";
  static constexpr size_t kGeom = 13;
  static Params params(const Napi::CallbackInfo& info, size_t i, const char* fn) {
    return conv_transpose2d_params(info, i, fn);
  }
  static int64_t x_size(const Params& p) { return conv_transpose2d_x_size(p); }
  static int64_t y_size(const Params& p) { return conv_transpose2d_y_size(p); }
  static int64_t weight_size(const Params& p) { return conv_transpose2d_weight_size(p); }
  static constexpr auto forward = conv_transpose2d_forward;
  static constexpr auto backward_data = conv_transpose2d_backward_data;
  static constexpr auto backward_weight = conv_transpose2d_backward_weight;
};

// <name>Forward(x, weight, bias|null, y, ...geometry)
template <class K>
Napi::Value forward_binding(const Napi::CallbackInfo& info) {
  const char* fn = K::kForward;
  require_args(info, 4 + K::kGeom, fn);
  Napi::Env env = info.Env();
  const auto x = arg_f32(info, 0, fn, "x");
  const auto w = arg_f32(info, 1, fn, "weight");
  const auto b = arg_optional_f32(info, 2, fn, "bias");
  const auto y = arg_f32(info, 3, fn, "y");
  const typename K::Params p = K::params(info, 4, fn);
  require_length(env, x, K::x_size(p), fn, "x");
  require_length(env, w, K::weight_size(p), fn, "weight");
  if (!b.IsEmpty()) require_length(env, b, p.out_c, fn, "bias");
  require_length(env, y, K::y_size(p), fn, "y");
  require_disjoint(env, y, "y", x, "x", fn);
  require_disjoint(env, y, "y", w, "weight", fn);
  if (!b.IsEmpty()) require_disjoint(env, y, "y", b, "bias", fn);
  K::forward(data_of(x), data_of(w), data_of(b), data_of(y), p);
  return env.Undefined();
}

// <name>BackwardData(dy, weight, dx, ...geometry)
template <class K>
Napi::Value backward_data_binding(const Napi::CallbackInfo& info) {
  const char* fn = K::kBackwardData;
  require_args(info, 3 + K::kGeom, fn);
  Napi::Env env = info.Env();
  const auto dy = arg_f32(info, 0, fn, "dy");
  const auto w = arg_f32(info, 1, fn, "weight");
  const auto dx = arg_f32(info, 2, fn, "dx");
  const typename K::Params p = K::params(info, 3, fn);
  require_length(env, dy, K::y_size(p), fn, "dy");
  require_length(env, w, K::weight_size(p), fn, "weight");
  require_length(env, dx, K::x_size(p), fn, "dx");
  require_disjoint(env, dx, "dx", dy, "dy", fn);
  require_disjoint(env, dx, "dx", w, "weight", fn);
  K::backward_data(data_of(dy), data_of(w), data_of(dx), p);
  return env.Undefined();
}

// <name>BackwardWeight(x, dy, dweight, dbias|null, ...geometry, accumulate)
template <class K>
Napi::Value backward_weight_binding(const Napi::CallbackInfo& info) {
  const char* fn = K::kBackwardWeight;
  require_args(info, 5 + K::kGeom, fn);
  Napi::Env env = info.Env();
  const auto x = arg_f32(info, 0, fn, "x");
  const auto dy = arg_f32(info, 1, fn, "dy");
  const auto dw = arg_f32(info, 2, fn, "dweight");
  const auto db = arg_optional_f32(info, 3, fn, "dbias");
  const typename K::Params p = K::params(info, 4, fn);
  const bool accumulate = arg_bool(info, 4 + K::kGeom, fn, "accumulate");
  require_length(env, x, K::x_size(p), fn, "x");
  require_length(env, dy, K::y_size(p), fn, "dy");
  require_length(env, dw, K::weight_size(p), fn, "dweight");
  if (!db.IsEmpty()) require_length(env, db, p.out_c, fn, "dbias");
  require_disjoint(env, dw, "dweight", x, "x", fn);
  require_disjoint(env, dw, "dweight", dy, "dy", fn);
  if (!db.IsEmpty()) {
    require_disjoint(env, db, "dbias", x, "x", fn);
    require_disjoint(env, db, "dbias", dy, "dy", fn);
    require_disjoint(env, db, "dbias", dw, "dweight", fn);
  }
  K::backward_weight(data_of(x), data_of(dy), data_of(dw), data_of(db), p, accumulate);
  return env.Undefined();
}

// conv2dMaskWeights(weight, outC, inC, kH, kW, mask)
Napi::Value conv2d_mask_weights_binding(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dMaskWeights";
  require_args(info, 6, fn);
  Napi::Env env = info.Env();
  const auto w = arg_f32(info, 0, fn, "weight");
  const int64_t out_c = arg_int(info, 1, fn, "outChannels", 0, kMaxDim);
  const int64_t in_c = arg_int(info, 2, fn, "inChannels", 0, kMaxDim);
  const int64_t k_h = arg_int(info, 3, fn, "kernelH", 1, kMaxDim);
  const int64_t k_w = arg_int(info, 4, fn, "kernelW", 1, kMaxDim);
  const auto mask = static_cast<ConvMask>(arg_int(info, 5, fn, "mask", 0, 2));
  const int64_t n = conv_mul(conv_mul(conv_mul(out_c, in_c), k_h), k_w);
  require_length(env, w, n, fn, "weight");
  conv2d_mask_weights(data_of(w), out_c, in_c, k_h, k_w, mask);
  return env.Undefined();
}

}  // namespace

void register_conv(Napi::Env env, Napi::Object exports) {
  using C = Conv2dKind;
  define(env, exports, C::kForward, forward_binding<C>);
  define(env, exports, C::kBackwardData, backward_data_binding<C>);
  define(env, exports, C::kBackwardWeight, backward_weight_binding<C>);
  define(env, exports, "conv2dMaskWeights", conv2d_mask_weights_binding);
  using T = ConvTranspose2dKind;
  define(env, exports, T::kForward, forward_binding<T>);
  define(env, exports, T::kBackwardData, backward_data_binding<T>);
  define(env, exports, T::kBackwardWeight, backward_weight_binding<T>);
}

}  // namespace addon
}  // namespace deepgen
