// What the bindings of the likelihood models share (NADE, RNADE and PixelRNN on the CPU, and
// the CUDA handles of NADE and PixelRNN): after the model come the same argument groups, read
// here once and checked against the model's row length D.
#pragma once
#include <napi.h>

#include <cstdint>

#include "../kernels/cpu/row_streams.h"
#include "args.h"
#include "kernel_job.h"

namespace deepgen {
namespace addon {

// logProb's x [n, D], n, logp [n] at i, i + 1, i + 2.
struct LogProbIo {
  const float* x;
  int64_t n;
  float* logp;
};
LogProbIo arg_log_prob_io(const Napi::CallbackInfo& info, size_t i, const char* fn, int64_t d,
                          Keep& keep);

// backward's x [n, D], n, scale (finite), logp [n] | null at i .. i + 3 (logp, when given,
// receives log p(x)).
struct BackwardIo {
  const float* x;
  int64_t n;
  float scale;
  float* logp;
};
BackwardIo arg_backward_io(const Napi::CallbackInfo& info, size_t i, const char* fn, int64_t d,
                           Keep& keep);

// sample's n at i and where its Philox draws start at i + 1 .. i + 5.
struct SampleCount {
  int64_t n;
  SampleDraw draw;
};
SampleCount arg_sample_count(const Napi::CallbackInfo& info, size_t i, const char* fn);

// sample's row streams: the call's draw (count) and, at i, a Uint32Array [n, 4] of per-row
// (key0, key1, index mod 2^32, index / 2^32) or null (every row on the call's key, index
// offset + r). Any values are valid draws, so only the type and length are checked.
SampleStreams arg_sample_streams(const Napi::CallbackInfo& info, size_t i, const char* fn,
                                 const SampleCount& count, Keep& keep);

// sample's outputs: x [n, D] at i and, with_probs, probs [n, D] | null at i + 1.
struct SampleOut {
  float* x;
  float* probs;
};
SampleOut arg_sample_out(const Napi::CallbackInfo& info, size_t i, const char* fn, int64_t n,
                         int64_t d, bool with_probs, Keep& keep);

}  // namespace addon
}  // namespace deepgen
