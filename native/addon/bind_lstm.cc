// Bindings of the LSTM gate kernel (native/kernels/cpu/lstm_gates.h). Synchronous: one call
// per row step of a training loop, far below the cost of a job hand-off.
#include <napi.h>

#include "../kernels/cpu/lstm_gates.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {
namespace {

// lstmGatesForward(h, c, gates, pre, cPrev, batch, hidden)
Napi::Value lstm_forward(const Napi::CallbackInfo& info) {
  const char* fn = "lstmGatesForward";
  require_args(info, 7, fn);
  Napi::Float32Array h = arg_f32(info, 0, fn, "h");
  Napi::Float32Array c = arg_f32(info, 1, fn, "c");
  Napi::Float32Array gates = arg_f32(info, 2, fn, "gates");
  Napi::Float32Array pre = arg_f32(info, 3, fn, "pre");
  Napi::Float32Array c_prev = arg_f32(info, 4, fn, "cPrev");
  const int64_t batch = arg_int(info, 5, fn, "batch", 0, kMaxDim);
  const int64_t hidden = arg_int(info, 6, fn, "hidden", 0, kMaxDim);
  // B * H; 4 * B * H stays far below int64's range
  const int64_t n = elements(info.Env(), fn, "batch * hidden", {batch, hidden});
  require_len(info, h, n, fn, "h");
  require_len(info, c, n, fn, "c");
  require_len(info, gates, 4 * n, fn, "gates");
  require_len(info, pre, 4 * n, fn, "pre");
  require_len(info, c_prev, n, fn, "cPrev");
  lstm_gates_forward(h.Data(), c.Data(), gates.Data(), pre.Data(), c_prev.Data(), batch, hidden);
  return info.Env().Undefined();
}

// lstmGatesBackward(dpre, dcPrev, dh, dc | null, gates, cPrev, c, batch, hidden)
Napi::Value lstm_backward(const Napi::CallbackInfo& info) {
  const char* fn = "lstmGatesBackward";
  require_args(info, 9, fn);
  Napi::Float32Array dpre = arg_f32(info, 0, fn, "dpre");
  Napi::Float32Array dc_prev = arg_f32(info, 1, fn, "dcPrev");
  Napi::Float32Array dh = arg_f32(info, 2, fn, "dh");
  Napi::Float32Array dc = arg_optional_f32(info, 3, fn, "dc");
  Napi::Float32Array gates = arg_f32(info, 4, fn, "gates");
  Napi::Float32Array c_prev = arg_f32(info, 5, fn, "cPrev");
  Napi::Float32Array c = arg_f32(info, 6, fn, "c");
  const int64_t batch = arg_int(info, 7, fn, "batch", 0, kMaxDim);
  const int64_t hidden = arg_int(info, 8, fn, "hidden", 0, kMaxDim);
  const int64_t n = elements(info.Env(), fn, "batch * hidden", {batch, hidden});
  require_len(info, dpre, 4 * n, fn, "dpre");
  require_len(info, dc_prev, n, fn, "dcPrev");
  require_len(info, dh, n, fn, "dh");
  if (!dc.IsEmpty()) require_len(info, dc, n, fn, "dc");
  require_len(info, gates, 4 * n, fn, "gates");
  require_len(info, c_prev, n, fn, "cPrev");
  require_len(info, c, n, fn, "c");
  lstm_gates_backward(dpre.Data(), dc_prev.Data(), dh.Data(), data_of(dc),
                      gates.Data(), c_prev.Data(), c.Data(), batch, hidden);
  return info.Env().Undefined();
}

}  // namespace

void register_lstm(Napi::Env env, Napi::Object exports) {
  define(env, exports, "lstmGatesForward", lstm_forward);
  define(env, exports, "lstmGatesBackward", lstm_backward);
}

}  // namespace addon
}  // namespace deepgen
