// Bindings of the LSTM gate kernel (native/kernels/cpu/lstm_gates.h). Synchronous: one call
// per row step of a training loop, far below the cost of a job hand-off.
#include <napi.h>

#include "../kernels/cpu/lstm_gates.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {
namespace {

// batch, hidden at arguments i, i + 1; cells = batch * hidden (4 * cells stays far inside int64).
struct Cells {
  int64_t batch, hidden, n;
};

Cells arg_cells(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  Cells c;
  c.batch = arg_int(info, i, fn, "batch", 0, kMaxDim);
  c.hidden = arg_int(info, i + 1, fn, "hidden", 0, kMaxDim);
  c.n = elements(info.Env(), fn, "batch * hidden", {c.batch, c.hidden});
  return c;
}

// lstmGatesForward(h, c, gates, pre, cPrev, batch, hidden)
Napi::Value lstm_forward(const Napi::CallbackInfo& info) {
  const char* fn = "lstmGatesForward";
  require_args(info, 7, fn);
  const Cells d = arg_cells(info, 5, fn);
  Napi::Float32Array h = arg_f32(info, 0, fn, "h", d.n);
  Napi::Float32Array c = arg_f32(info, 1, fn, "c", d.n);
  Napi::Float32Array gates = arg_f32(info, 2, fn, "gates", 4 * d.n);
  Napi::Float32Array pre = arg_f32(info, 3, fn, "pre", 4 * d.n);
  Napi::Float32Array c_prev = arg_f32(info, 4, fn, "cPrev", d.n);
  lstm_gates_forward(h.Data(), c.Data(), gates.Data(), pre.Data(), c_prev.Data(), d.batch,
                     d.hidden);
  return info.Env().Undefined();
}

// lstmGatesBackward(dpre, dcPrev, dh, dc | null, gates, cPrev, c, batch, hidden)
Napi::Value lstm_backward(const Napi::CallbackInfo& info) {
  const char* fn = "lstmGatesBackward";
  require_args(info, 9, fn);
  const Cells d = arg_cells(info, 7, fn);
  Napi::Float32Array dpre = arg_f32(info, 0, fn, "dpre", 4 * d.n);
  Napi::Float32Array dc_prev = arg_f32(info, 1, fn, "dcPrev", d.n);
  Napi::Float32Array dh = arg_f32(info, 2, fn, "dh", d.n);
  Napi::Float32Array dc = arg_optional_f32(info, 3, fn, "dc", d.n);
  Napi::Float32Array gates = arg_f32(info, 4, fn, "gates", 4 * d.n);
  Napi::Float32Array c_prev = arg_f32(info, 5, fn, "cPrev", d.n);
  Napi::Float32Array c = arg_f32(info, 6, fn, "c", d.n);
  lstm_gates_backward(dpre.Data(), dc_prev.Data(), dh.Data(), data_of(dc), gates.Data(),
                      c_prev.Data(), c.Data(), d.batch, d.hidden);
  return info.Env().Undefined();
}

}  // namespace

void register_lstm(Napi::Env env, Napi::Object exports) {
  define(env, exports, "lstmGatesForward", lstm_forward);
  define(env, exports, "lstmGatesBackward", lstm_backward);
}

}  // namespace addon
}  // namespace deepgen
