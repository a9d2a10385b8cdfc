// What the conv and conv-block bindings share: the geometry fields of their spec objects and
// the checks of their array arguments.
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>

#include "args.h"

namespace deepgen {
namespace addon {

// The geometry fields every conv spec has (lib/kernels/js/conv2d.ts Conv2dSpec,
// conv-transpose2d.ts ConvTranspose2dSpec): sizes in [0, kMaxDim], kernel sizes and strides
// >= 1. The kernels' own checks (conv2d_check, ...) refuse what they cannot run.
template <class P>
void read_conv_geometry(const Spec& s, P& p) {
  p.batch = s.integer("batch", 0, kMaxDim);
  p.in_c = s.integer("inC", 0, kMaxDim);
  p.in_h = s.integer("inH", 0, kMaxDim);
  p.in_w = s.integer("inW", 0, kMaxDim);
  p.out_c = s.integer("outC", 0, kMaxDim);
  p.k_h = s.integer("kH", 1, kMaxDim);
  p.k_w = s.integer("kW", 1, kMaxDim);
  p.stride_h = s.integer("strideH", 1, kMaxDim);
  p.stride_w = s.integer("strideW", 1, kMaxDim);
  p.pad_h = s.integer("padH", 0, kMaxDim);
  p.pad_w = s.integer("padW", 0, kMaxDim);
}

// The output padding of a transposed geometry.
template <class P>
void read_output_pad(const Spec& s, P& p) {
  p.out_pad_h = s.integer("outputPadH", 0, kMaxDim);
  p.out_pad_w = s.integer("outputPadW", 0, kMaxDim);
}

// One array argument of a conv call: `need` is its exact length when present.
struct ConvArray {
  const char* name;
  Napi::Float32Array a;
  int64_t need;
  bool required;  // must be present (E_ARG when null)
  bool output;    // written by the kernel
};

// Presence, exact lengths (E_SHAPE), and no output sharing memory with any other array of the
// call (E_ARG): the kernels read their inputs while they write their outputs.
void check_conv_arrays(Napi::Env env, const char* fn, std::initializer_list<ConvArray> arrays);

}  // namespace addon
}  // namespace deepgen
