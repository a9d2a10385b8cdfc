// Bindings of the conv-block group (native/kernels/cpu/conv_block.h): one call per block
// forward, one per block backward. Synchronous, like the conv bindings: a block of one batch
// takes milliseconds and is called from model code. Every argument, every array length and
// every aliasing rule is checked here before any work.
#include <napi.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "../kernels/cpu/conv_block.h"
#include "../kernels/cuda/cuda_api.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {
namespace {

constexpr int64_t kMaxDim = 2147483647;
constexpr size_t kGeom = 13;

Napi::Float32Array arg_optional_f32(const Napi::CallbackInfo& info, size_t i, const char* fn,
                                    const char* name) {
  const Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return Napi::Float32Array();
  return arg_f32(info, i, fn, name);
}

bool arg_bool(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name) {
  const Napi::Value v = info[i];
  if (!v.IsBoolean()) {
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": argument '" + name + "' must be a boolean");
  }
  return v.As<Napi::Boolean>().Value();
}

// A finite number in [lo, hi] (lo excluded when lo_open) that stays so in float.
float arg_float(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* name,
                double lo, double hi, bool lo_open) {
  const Napi::Value v = info[i];
  const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  const float f = static_cast<float>(d);
  if (!std::isfinite(d) || !std::isfinite(f) || d < lo || f < lo || (lo_open && f <= lo) || d > hi) {
    throw make_error(info.Env(), "E_ARG",
                     std::string(fn) + ": argument '" + name + "' must be a finite number in " +
                         (lo_open ? "(" : "[") + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return f;
}

int64_t length_of(const Napi::Float32Array& a) {
  return a.IsEmpty() ? 0 : static_cast<int64_t>(a.ElementLength());
}

float* data_of(Napi::Float32Array a) { return a.IsEmpty() ? nullptr : a.Data(); }

struct Arr {
  const char* name;
  Napi::Float32Array a;
  int64_t need;   // exact length when present
  bool required;  // must be present
  bool output;    // written by the kernel
};

// Presence, exact lengths, and no output sharing memory with any other array of the call.
void check_arrays(Napi::Env env, const char* fn, const std::vector<Arr>& arrs) {
  for (const Arr& r : arrs) {
    if (r.a.IsEmpty()) {
      if (r.required) throw make_error(env, "E_ARG", std::string(fn) + ": " + r.name + " is required");
      continue;
    }
    if (length_of(r.a) != r.need) {
      throw make_error(env, "E_SHAPE", std::string(fn) + ": " + r.name + " has " +
                                           std::to_string(length_of(r.a)) + " elements, expected " +
                                           std::to_string(r.need));
    }
  }
  for (size_t i = 0; i < arrs.size(); ++i) {
    for (size_t j = i + 1; j < arrs.size(); ++j) {
      const Arr& p = arrs[i];
      const Arr& q = arrs[j];
      if (!(p.output || q.output) || p.a.IsEmpty() || q.a.IsEmpty()) continue;
      if (length_of(p.a) == 0 || length_of(q.a) == 0) continue;
      const char* p0 = reinterpret_cast<const char*>(p.a.Data());
      const char* q0 = reinterpret_cast<const char*>(q.a.Data());
      if (p0 < q0 + q.a.ByteLength() && q0 < p0 + p.a.ByteLength()) {
        throw make_error(env, "E_ARG", std::string(fn) + ": " + p.name + " and " + q.name + " overlap");
      }
    }
  }
}

// transposed, norm, activation, slope at i .. i+3 and the 13 geometry numbers at g:
// batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW, outputPadH, outputPadW.
ConvBlockParams block_params(const Napi::CallbackInfo& info, size_t i, size_t g, const char* fn) {
  ConvBlockParams p;
  p.transposed = arg_bool(info, i, fn, "transposed");
  p.norm = static_cast<ConvBlockNorm>(arg_int(info, i + 1, fn, "norm", 0, 2));
  p.activation = static_cast<Activation>(arg_int(info, i + 2, fn, "activation", 0, kActivationCount - 1));
  p.slope = arg_float(info, i + 3, fn, "slope", 0.0, 1e30, false);
  const char* names[kGeom] = {"batch",   "inChannels", "height",  "width", "outChannels",
                              "kernelH", "kernelW",    "strideH", "strideW", "padH",
                              "padW",    "outputPadH", "outputPadW"};
  const int64_t lo[kGeom] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0};
  int64_t v[kGeom];
  for (size_t k = 0; k < kGeom; ++k) v[k] = arg_int(info, g + k, fn, names[k], lo[k], kMaxDim);
  p.batch = v[0];
  p.in_c = v[1];
  p.in_h = v[2];
  p.in_w = v[3];
  p.out_c = v[4];
  p.k_h = v[5];
  p.k_w = v[6];
  p.stride_h = v[7];
  p.stride_w = v[8];
  p.pad_h = v[9];
  p.pad_w = v[10];
  p.out_pad_h = v[11];
  p.out_pad_w = v[12];
  return p;
}

// convBlockForward(x, weight, bias|null, gamma|null, beta|null, runningMean|null,
//   runningVar|null, pre, mean|null, rstd|null, y, transposed, norm, activation, slope, eps,
//   momentum, ...geometry)
// cudaConvBlockForward: the same arguments, run by the CUDA kernels (cuda/conv_block.cu).
template <bool kCuda>
Napi::Value conv_block_forward_binding(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaConvBlockForward" : "convBlockForward";
  require_args(info, 17 + kGeom, fn);
  Napi::Env env = info.Env();
  const auto x = arg_f32(info, 0, fn, "x");
  const auto w = arg_f32(info, 1, fn, "weight");
  const auto b = arg_optional_f32(info, 2, fn, "bias");
  const auto gamma = arg_optional_f32(info, 3, fn, "gamma");
  const auto beta = arg_optional_f32(info, 4, fn, "beta");
  const auto rm = arg_optional_f32(info, 5, fn, "runningMean");
  const auto rv = arg_optional_f32(info, 6, fn, "runningVar");
  const auto pre = arg_f32(info, 7, fn, "pre");
  const auto mean = arg_optional_f32(info, 8, fn, "mean");
  const auto rstd = arg_optional_f32(info, 9, fn, "rstd");
  const auto y = arg_f32(info, 10, fn, "y");
  ConvBlockParams p = block_params(info, 11, 17, fn);
  p.eps = arg_float(info, 15, fn, "eps", 0.0, 1e30, true);
  p.momentum = arg_float(info, 16, fn, "momentum", 0.0, 1.0, false);
  const int64_t ys = conv_block_y_size(p);  // validates the geometry
  const bool norm = p.norm != ConvBlockNorm::kNone, train = p.norm == ConvBlockNorm::kTrain;
  const int64_t C = p.out_c;
  check_arrays(env, fn,
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
  return env.Undefined();
}

// convBlockBackward(x, weight, gamma|null, pre, mean|null, rstd|null, y, dy, dx|null, dweight,
//   dbias|null, dgamma|null, dbeta|null, transposed, norm, activation, slope, accumulate,
//   ...geometry)
// cudaConvBlockBackward: the same arguments, run by the CUDA kernels
// (cuda/conv_block_backward.cu).
template <bool kCuda>
Napi::Value conv_block_backward_binding(const Napi::CallbackInfo& info) {
  const char* fn = kCuda ? "cudaConvBlockBackward" : "convBlockBackward";
  require_args(info, 18 + kGeom, fn);
  Napi::Env env = info.Env();
  const auto x = arg_f32(info, 0, fn, "x");
  const auto w = arg_f32(info, 1, fn, "weight");
  const auto gamma = arg_optional_f32(info, 2, fn, "gamma");
  const auto pre = arg_f32(info, 3, fn, "pre");
  const auto mean = arg_optional_f32(info, 4, fn, "mean");
  const auto rstd = arg_optional_f32(info, 5, fn, "rstd");
  const auto y = arg_f32(info, 6, fn, "y");
  const auto dy = arg_f32(info, 7, fn, "dy");
  const auto dx = arg_optional_f32(info, 8, fn, "dx");
  const auto dw = arg_f32(info, 9, fn, "dweight");
  const auto db = arg_optional_f32(info, 10, fn, "dbias");
  const auto dgamma = arg_optional_f32(info, 11, fn, "dgamma");
  const auto dbeta = arg_optional_f32(info, 12, fn, "dbeta");
  const ConvBlockParams p = block_params(info, 13, 18, fn);
  const bool accumulate = arg_bool(info, 17, fn, "accumulate");
  if (p.norm == ConvBlockNorm::kEval) {
    throw make_error(env, "E_ARG", std::string(fn) + ": no backward for an eval-mode forward");
  }
  const int64_t ys = conv_block_y_size(p);
  const bool train = p.norm == ConvBlockNorm::kTrain;
  const int64_t C = p.out_c;
  check_arrays(env, fn,
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
  run(p, data_of(x), data_of(w), data_of(gamma), data_of(pre), data_of(mean),
                      data_of(rstd), data_of(y), data_of(dy), data_of(dx), data_of(dw),
                      data_of(db), data_of(dgamma), data_of(dbeta), accumulate);
  return env.Undefined();
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
