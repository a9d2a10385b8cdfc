// Bindings of the conv group: Conv2d (with PixelCNN masks) and ConvTranspose2d, forward and
// backward (native/kernels/cpu/conv2d.h, conv_transpose2d.h). All synchronous: one call is one
// layer of one batch (milliseconds), made from model code that already runs off the event loop
// or in a *Sync path. Every call takes its geometry as one spec object first (the Conv2dSpec /
// ConvTranspose2dSpec that lib/kernels/ops/conv.ts resolves), then its arrays. Every field and
// every array length is checked here before any work.
#include <napi.h>

#include "../kernels/cpu/conv2d.h"
#include "../kernels/cpu/conv_transpose2d.h"
#include "args.h"
#include "bindings.h"
#include "conv_args.h"

namespace deepgen {
namespace addon {
namespace {

// The two conv kinds, as the three bindings below use them: the JS names, the spec reader,
// the array sizes and the kernels.
struct Conv2dKind {
  using Params = Conv2dParams;
  static constexpr const char* kForward = "conv2dForward";
  static constexpr const char* kBackwardData = "conv2dBackwardData";
  static constexpr const char* kBackwardWeight = "conv2dBackwardWeight";
  // {batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, mask (0 none, 1 A, 2 B)}
  static Params params(const Napi::CallbackInfo& info, const char* fn) {
    const Spec s(info, 0, fn);
    Params p;
    read_conv_geometry(s, p);
    p.mask = static_cast<ConvMask>(s.integer("mask", 0, 2));
    conv2d_check(p, nullptr, nullptr);  // E_SHAPE / E_ARG from the kernel's own rules
    return p;
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
  // {batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, outputPadH, outputPadW}
  static Params params(const Napi::CallbackInfo& info, const char* fn) {
    const Spec s(info, 0, fn);
    Params p;
    read_conv_geometry(s, p);
    read_output_pad(s, p);
    conv_transpose2d_check(p, nullptr, nullptr);
    return p;
  }
  static int64_t x_size(const Params& p) { return conv_transpose2d_x_size(p); }
  static int64_t y_size(const Params& p) { return conv_transpose2d_y_size(p); }
  static int64_t weight_size(const Params& p) { return conv_transpose2d_weight_size(p); }
  static constexpr auto forward = conv_transpose2d_forward;
  static constexpr auto backward_data = conv_transpose2d_backward_data;
  static constexpr auto backward_weight = conv_transpose2d_backward_weight;
};

// <name>Forward(spec, x, weight, bias|null, y)
template <class K>
Napi::Value forward_binding(const Napi::CallbackInfo& info) {
  const char* fn = K::kForward;
  require_args(info, 5, fn);
  const typename K::Params p = K::params(info, fn);
  const auto x = arg_f32(info, 1, fn, "x");
  const auto w = arg_f32(info, 2, fn, "weight");
  const auto b = arg_optional_f32(info, 3, fn, "bias");
  const auto y = arg_f32(info, 4, fn, "y");
  check_conv_arrays(info.Env(), fn,
                    {{"y", y, K::y_size(p), true, true},
                     {"x", x, K::x_size(p), true, false},
                     {"weight", w, K::weight_size(p), true, false},
                     {"bias", b, p.out_c, false, false}});
  K::forward(data_of(x), data_of(w), data_of(b), data_of(y), p);
  return info.Env().Undefined();
}

// <name>BackwardData(spec, dy, weight, dx)
template <class K>
Napi::Value backward_data_binding(const Napi::CallbackInfo& info) {
  const char* fn = K::kBackwardData;
  require_args(info, 4, fn);
  const typename K::Params p = K::params(info, fn);
  const auto dy = arg_f32(info, 1, fn, "dy");
  const auto w = arg_f32(info, 2, fn, "weight");
  const auto dx = arg_f32(info, 3, fn, "dx");
  check_conv_arrays(info.Env(), fn,
                    {{"dx", dx, K::x_size(p), true, true},
                     {"dy", dy, K::y_size(p), true, false},
                     {"weight", w, K::weight_size(p), true, false}});
  K::backward_data(data_of(dy), data_of(w), data_of(dx), p);
  return info.Env().Undefined();
}

// <name>BackwardWeight(spec, x, dy, dweight, dbias|null, accumulate)
template <class K>
Napi::Value backward_weight_binding(const Napi::CallbackInfo& info) {
  const char* fn = K::kBackwardWeight;
  require_args(info, 6, fn);
  const typename K::Params p = K::params(info, fn);
  const auto x = arg_f32(info, 1, fn, "x");
  const auto dy = arg_f32(info, 2, fn, "dy");
  const auto dw = arg_f32(info, 3, fn, "dweight");
  const auto db = arg_optional_f32(info, 4, fn, "dbias");
  const bool accumulate = arg_bool(info, 5, fn, "accumulate");
  check_conv_arrays(info.Env(), fn,
                    {{"dweight", dw, K::weight_size(p), true, true},
                     {"dbias", db, p.out_c, false, true},
                     {"x", x, K::x_size(p), true, false},
                     {"dy", dy, K::y_size(p), true, false}});
  K::backward_weight(data_of(x), data_of(dy), data_of(dw), data_of(db), p, accumulate);
  return info.Env().Undefined();
}

// conv2dMaskWeights(spec, weight) with spec {outC, inC, kH, kW, mask}
Napi::Value conv2d_mask_weights_binding(const Napi::CallbackInfo& info) {
  const char* fn = "conv2dMaskWeights";
  require_args(info, 2, fn);
  const Spec s(info, 0, fn);
  const int64_t out_c = s.integer("outC", 0, kMaxDim);
  const int64_t in_c = s.integer("inC", 0, kMaxDim);
  const int64_t k_h = s.integer("kH", 1, kMaxDim);
  const int64_t k_w = s.integer("kW", 1, kMaxDim);
  const auto mask = static_cast<ConvMask>(s.integer("mask", 0, 2));
  const auto w = arg_f32(info, 1, fn, "weight");
  const int64_t n = conv_mul(conv_mul(conv_mul(out_c, in_c), k_h), k_w);
  check_conv_arrays(info.Env(), fn, {{"weight", w, n, true, true}});
  conv2d_mask_weights(data_of(w), out_c, in_c, k_h, k_w, mask);
  return info.Env().Undefined();
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
