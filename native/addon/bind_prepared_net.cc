// Binding of prepared networks (native/kernels/cpu/prepared_net.h): build one from layer
// specs, run its forward on the calling thread or as an async job. The network lives behind a
// type-tagged External; an async forward holds it (shared) until the job settles, so dropping
// the JS handle mid-run frees nothing the job still reads.
#include <napi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../kernels/cpu/prepared_net.h"
#include "args.h"
#include "bindings.h"
#include "handle_tags.h"
#include "kernel_job.h"

namespace deepgen {
namespace addon {
namespace {

struct PreparedNetHandle {
  std::shared_ptr<const PreparedNet> net;
};

// preparedNetCreate(layers): layers is an array of {kind (0 dense, 1 convT), inChannels,
// height, width, outChannels, kernel, stride, pad, activation (code), slope, weight, bias}
// (lib/kernels/ops/prepared-net.ts); returns the handle.
Napi::Value create(const Napi::CallbackInfo& info) {
  const char* fn = "preparedNetCreate";
  require_args(info, 1, fn);
  if (!info[0].IsArray())
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": layers must be an array");
  const Napi::Array arr = info[0].As<Napi::Array>();
  if (arr.Length() == 0 || arr.Length() > 256)
    throw make_error(info.Env(), "E_ARG", std::string(fn) + ": 1 to 256 layers");
  std::vector<PreparedLayerSpec> layers;
  std::vector<Napi::Float32Array> held;  // the arrays stay referenced while PreparedNet copies them
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    const Spec spec(info.Env(), arr.Get(i), fn);
    PreparedLayerSpec s;
    s.kind = static_cast<PreparedLayerKind>(spec.integer("kind", 0, 1));
    s.in_c = spec.integer("inChannels", 1, kMaxDim);
    s.in_h = spec.integer("height", 1, kMaxDim);
    s.in_w = spec.integer("width", 1, kMaxDim);
    s.out_c = spec.integer("outChannels", 1, kMaxDim);
    s.kernel = spec.integer("kernel", 1, 64);
    s.stride = spec.integer("stride", 1, 64);
    s.pad = spec.integer("pad", 0, 64);
    s.activation = static_cast<Activation>(spec.integer("activation", 0, kActivationCount - 1));
    s.slope = static_cast<float>(spec.finite("slope", {0.0, 3.4e38}));
    const int64_t taps = s.kind == PreparedLayerKind::kConvT ? s.kernel * s.kernel : 1;
    const int64_t wlen = elements(info.Env(), fn, "weight", {s.in_c, s.out_c, taps});
    held.push_back(spec.f32("weight", wlen));
    s.weight = held.back().Data();
    held.push_back(spec.f32("bias", s.out_c, true));
    s.bias = data_of(held.back());
    layers.push_back(s);
  }
  auto handle = std::make_unique<PreparedNetHandle>();
  handle->net = std::make_shared<const PreparedNet>(layers);
  auto ext = Napi::External<PreparedNetHandle>::New(
      info.Env(), handle.release(), [](Napi::Env, PreparedNetHandle* h) { delete h; });
  ext.TypeTag(&kPreparedNetTag);
  return ext;
}

const PreparedNetHandle& handle_at(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (!info[i].IsExternal() ||
      !info[i].As<Napi::External<PreparedNetHandle>>().CheckTypeTag(&kPreparedNetTag)) {
    throw make_error(info.Env(), "E_ARG",
                     std::string(fn) + ": argument 'handle' must come from preparedNetCreate");
  }
  return *info[i].As<Napi::External<PreparedNetHandle>>().Data();
}

// preparedNetSizes(handle): [inSize, outSize].
Napi::Value sizes(const Napi::CallbackInfo& info) {
  require_args(info, 1, "preparedNetSizes");
  const PreparedNetHandle& h = handle_at(info, 0, "preparedNetSizes");
  Napi::Array out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(h.net->in_size())));
  out.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(h.net->out_size())));
  return out;
}

// preparedNetForward(handle, x, n, y, activation, shift, scale): y [n, out] from x [n, in], each
// output then (act(y) + shift) * scale (activation: a code of activation.h, 0 for none).
struct Forward {
  static constexpr const char* kName = "preparedNetForward";
  static constexpr const char* kAsyncName = "preparedNetForwardAsync";
  static constexpr size_t kArgs = 7;
  struct Args {
    std::shared_ptr<const PreparedNet> net;
    const float* x;
    int64_t n;
    float* y;
    PreparedNet::OutputMap map;
  };
  static Args parse(const Napi::CallbackInfo& info, const char* fn, Keep& keep) {
    Args a;
    a.net = handle_at(info, 0, fn).net;
    a.n = arg_int(info, 2, fn, "n", 0, kMaxDim);
    const int64_t xlen = elements(info.Env(), fn, "x", {a.n, a.net->in_size()});
    const int64_t ylen = elements(info.Env(), fn, "y", {a.n, a.net->out_size()});
    Napi::Float32Array x = arg_f32(info, 1, fn, "x", xlen);
    Napi::Float32Array y = arg_f32(info, 3, fn, "y", ylen);
    keep.hold({info[0], x, y});
    a.x = x.Data();
    a.y = y.Data();
    const Range finite_float{-3.4e38, 3.4e38, false, true};
    a.map.act =
        static_cast<Activation>(arg_int(info, 4, fn, "activation", 0, kActivationCount - 1));
    a.map.shift = static_cast<float>(arg_finite(info, 5, fn, "shift", finite_float));
    a.map.scale = static_cast<float>(arg_finite(info, 6, fn, "scale", finite_float));
    return a;
  }
  static void run(const Args& a, const JobHooks& hooks) {
    a.net->forward(a.x, a.n, a.y, hooks, a.map);
  }
};

}  // namespace

void register_prepared_net(Napi::Env env, Napi::Object exports) {
  define(env, exports, "preparedNetCreate", create);
  define(env, exports, "preparedNetSizes", sizes);
  define_pair<Forward>(env, exports);
}

}  // namespace addon
}  // namespace deepgen
