// Bindings of the conv-block group (native/kernels/cpu/conv_block.h): one call per block
// forward, one per block backward. Synchronous, like the conv bindings: a block of one batch
// takes milliseconds and is called from model code. Each call takes the block's flags and
// geometry as one spec object first, then its arrays. Every field, every array length and
// every aliasing rule is checked here before any work.
#include <napi.h>

#include <string>

#include "../kernels/cpu/conv_block.h"
#include "../kernels/cuda/cuda_api.h"
#include "args.h"
#include "bindings.h"
#include "conv_args.h"

namespace deepgen {
namespace addon {
namespace {

// The block spec at argument 0: {transposed, norm, activation, slope, batch, inC, inH, inW,
// outC, kH, kW, strideH, strideW, padH, padW, outputPadH, outputPadW} (outputPad 0 for a plain
// conv), and for the forward eps and momentum too.
ConvBlockParams block_params(const Napi::CallbackInfo& info, const char* fn, bool forward) {
  const Spec s(info, 0, fn);
  ConvBlockParams p;
  p.transposed = s.boolean("transposed");
  p.norm = static_cast<ConvBlockNorm>(s.integer("norm", 0, 2));
  p.activation = static_cast<Activation>(s.integer("activation", 0, kActivationCount - 1));
  // Rounded to float as the kernels use them, and refused unless they stay in range there.
  p.slope = static_cast<float>(s.finite("slope", {0.0, 1e30, false, true}));
  if (forward) {
    p.eps = static_cast<float>(s.finite("eps", {0.0, 1e30, true, true}));
    p.momentum = static_cast<float>(s.finite("momentum", {0.0, 1.0, false, true}));
  }
  read_conv_geometry(s, p);
  read_output_pad(s, p);
  return p;
}

// convBlockForward(spec, x, weight, bias|null, gamma|null, beta|null, runningMean|null,
//   runningVar|null, pre, mean|null, rstd|null, y)
// cudaConvBlockForward: the same arguments, run by the CUDA kernels (cuda/conv_block.cu).
template <bool kCuda>
Napi::Value conv_block_forward_binding(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaConvBlockForward" : "convBlockForward";
  require_args(info, 12, fn);
  const ConvBlockParams p = block_params(info, fn, true);
  const auto x = arg_f32(info, 1, fn, "x");
  const auto w = arg_f32(info, 2, fn, "weight");
  const auto b = arg_optional_f32(info, 3, fn, "bias");
  const auto gamma = arg_optional_f32(info, 4, fn, "gamma");
  const auto beta = arg_optional_f32(info, 5, fn, "beta");
  const auto rm = arg_optional_f32(info, 6, fn, "runningMean");
  const auto rv = arg_optional_f32(info, 7, fn, "runningVar");
  const auto pre = arg_f32(info, 8, fn, "pre");
  const auto mean = arg_optional_f32(info, 9, fn, "mean");
  const auto rstd = arg_optional_f32(info, 10, fn, "rstd");
  const auto y = arg_f32(info, 11, fn, "y");
  const int64_t ys = conv_block_y_size(p);  // validates the geometry
  const bool norm = p.norm != ConvBlockNorm::kNone, train = p.norm == ConvBlockNorm::kTrain;
  const int64_t C = p.out_c;
  check_conv_arrays(info.Env(), fn,
                    {{"x", x, conv_block_x_size(p), true, false},
                     {"weight", w, conv_block_weight_size(p), true, false},
                     {"bias", b, C, false, false},
                     {"gamma", gamma, C, norm, false},
                     {"beta", beta, C, norm, false},
                     {"runningMean", rm, C, norm, true},
                     {"runningVar", rv, C, norm, true},
                     {"pre", pre, ys, true, true},
                     {"mean", mean, C, train, true},
                     {"rstd", rstd, C, train, true},
                     {"y", y, ys, true, true}});
  auto run = kCuda ? cuda::conv_block_forward : conv_block_forward;
  run(p, data_of(x), data_of(w), data_of(b), data_of(gamma), data_of(beta), data_of(rm),
      data_of(rv), data_of(pre), data_of(mean), data_of(rstd), data_of(y));
  return info.Env().Undefined();
}

// convBlockBackward(spec, x, weight, gamma|null, pre, mean|null, rstd|null, y, dy, dx|null,
//   dweight, dbias|null, dgamma|null, dbeta|null, accumulate)
// cudaConvBlockBackward: the same arguments, run by the CUDA kernels
// (cuda/conv_block_backward.cu).
template <bool kCuda>
Napi::Value conv_block_backward_binding(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaConvBlockBackward" : "convBlockBackward";
  require_args(info, 15, fn);
  const ConvBlockParams p = block_params(info, fn, false);
  const auto x = arg_f32(info, 1, fn, "x");
  const auto w = arg_f32(info, 2, fn, "weight");
  const auto gamma = arg_optional_f32(info, 3, fn, "gamma");
  const auto pre = arg_f32(info, 4, fn, "pre");
  const auto mean = arg_optional_f32(info, 5, fn, "mean");
  const auto rstd = arg_optional_f32(info, 6, fn, "rstd");
  const auto y = arg_f32(info, 7, fn, "y");
  const auto dy = arg_f32(info, 8, fn, "dy");
  const auto dx = arg_optional_f32(info, 9, fn, "dx");
  const auto dw = arg_f32(info, 10, fn, "dweight");
  const auto db = arg_optional_f32(info, 11, fn, "dbias");
  const auto dgamma = arg_optional_f32(info, 12, fn, "dgamma");
  const auto dbeta = arg_optional_f32(info, 13, fn, "dbeta");
  const bool accumulate = arg_bool(info, 14, fn, "accumulate");
  if (p.norm == ConvBlockNorm::kEval) {
    throw make_error(info.Env(), "E_ARG",
                     std::string(fn) + ": no backward for an eval-mode forward");
  }
  const int64_t ys = conv_block_y_size(p);
  const bool train = p.norm == ConvBlockNorm::kTrain;
  const int64_t C = p.out_c;
  check_conv_arrays(info.Env(), fn,
                    {{"x", x, conv_block_x_size(p), true, false},
                     {"weight", w, conv_block_weight_size(p), true, false},
                     {"gamma", gamma, C, train, false},
                     {"pre", pre, ys, true, false},
                     {"mean", mean, C, train, false},
                     {"rstd", rstd, C, train, false},
                     {"y", y, ys, true, false},
                     {"dy", dy, ys, true, true},
                     {"dx", dx, conv_block_x_size(p), false, true},
                     {"dweight", dw, conv_block_weight_size(p), true, true},
                     {"dbias", db, C, false, true},
                     {"dgamma", dgamma, C, train, true},
                     {"dbeta", dbeta, C, train, true}});
  auto run = kCuda ? cuda::conv_block_backward : conv_block_backward;
  run(p, data_of(x), data_of(w), data_of(gamma), data_of(pre), data_of(mean), data_of(rstd),
      data_of(y), data_of(dy), data_of(dx), data_of(dw), data_of(db), data_of(dgamma),
      data_of(dbeta), accumulate);
  return info.Env().Undefined();
}

}  // namespace

void register_convblock(Napi::Env env, Napi::Object exports) {
  define(env, exports, "convBlockForward", conv_block_forward_binding<false>);
  define(env, exports, "cudaConvBlockForward", conv_block_forward_binding<true>);
  define(env, exports, "convBlockBackward", conv_block_backward_binding<false>);
  define(env, exports, "cudaConvBlockBackward", conv_block_backward_binding<true>);
}

}  // namespace addon
}  // namespace deepgen
