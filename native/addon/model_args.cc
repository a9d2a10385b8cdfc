#include "model_args.h"

#include <string>

namespace deepgen {
namespace addon {

LogProbIo arg_log_prob_io(const Napi::CallbackInfo& info, size_t i, const char* fn, int64_t d,
                          Keep& keep) {
  const int64_t n = arg_int(info, i + 1, fn, "n", 0, kMaxDim);
  Napi::Float32Array x = arg_f32(info, i, fn, "x", elements(info.Env(), fn, "n * D", {n, d}));
  Napi::Float32Array logp = arg_f32(info, i + 2, fn, "logp", n);
  keep.hold({x, logp});
  return {x.Data(), n, logp.Data()};
}

BackwardIo arg_backward_io(const Napi::CallbackInfo& info, size_t i, const char* fn, int64_t d,
                           Keep& keep) {
  const int64_t n = arg_int(info, i + 1, fn, "n", 0, kMaxDim);
  Napi::Float32Array x = arg_f32(info, i, fn, "x", elements(info.Env(), fn, "n * D", {n, d}));
  Range finite_float;
  finite_float.as_float = true;  // the kernels scale in float: 1e300 would become inf
  const float scale = static_cast<float>(arg_finite(info, i + 2, fn, "scale", finite_float));
  Napi::Float32Array logp = arg_optional_f32(info, i + 3, fn, "logp", n);
  keep.hold({x, logp});
  return {x.Data(), n, scale, data_of(logp)};
}

SampleCount arg_sample_count(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  const int64_t n = arg_int(info, i, fn, "n", 0, kMaxDim);
  return {n, arg_sample_draw(info, i + 1, fn)};
}

SampleStreams arg_sample_streams(const Napi::CallbackInfo& info, size_t i, const char* fn,
                                 const SampleCount& count, Keep& keep) {
  SampleStreams s;
  s.offset = count.draw.offset;
  s.key0 = count.draw.key0;
  s.key1 = count.draw.key1;
  s.stream = count.draw.stream;
  const Napi::Value v = info[i];
  if (v.IsNull() || v.IsUndefined()) return s;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
    throw make_error(info.Env(), "E_ARG",
                     std::string(fn) + ": argument 'rowStreams' must be a Uint32Array or null");
  }
  Napi::Uint32Array rows = v.As<Napi::Uint32Array>();
  require_len(info, rows, elements(info.Env(), fn, "n * 4", {count.n, 4}), fn, "rowStreams");
  keep.hold({rows});
  s.rows = rows.Data();
  return s;
}

SampleOut arg_sample_out(const Napi::CallbackInfo& info, size_t i, const char* fn, int64_t n,
                         int64_t d, bool with_probs, Keep& keep) {
  const int64_t need = elements(info.Env(), fn, "n * D", {n, d});
  Napi::Float32Array x = arg_f32(info, i, fn, "x", need);
  Napi::Float32Array probs =
      with_probs ? arg_optional_f32(info, i + 1, fn, "probs", need) : Napi::Float32Array();
  keep.hold({x, probs});
  return {x.Data(), data_of(probs)};
}

}  // namespace addon
}  // namespace deepgen
