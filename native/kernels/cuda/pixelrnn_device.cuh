// Internal to the PixelRNN CUDA kernels (pixelrnn.cu, pixelrnn_sample.cu): the device-resident
// model and a plain-data view of it that kernels take by value.
//
// The CPU layout (pixelrnn_layout) keeps per-(layer, direction) offsets in vectors, which a
// kernel cannot take. Every direction of a kind has the same tap counts, so the blocks are
// evenly spaced: offset(ld) = offset(0) + ld * ld_stride. pixelrnn_upload checks that this
// holds for every ld (a future layout change then fails loudly instead of reading garbage).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "../cpu/pixelrnn.h"
#include "cuda_check.h"
#include "resident.h"

namespace deepgen {
namespace cuda {

struct PixelRnnNetView {
  const float* params;  // device copy of the flat parameter array
  int64_t rows, cols, hidden, layers;
  int ndir;
  PixelRnnDirection dir[2];
  int64_t in_w, in_b, out1_w, out1_b, out2_w, out2_b;
  int64_t wis0, wss0, bias0, ld_stride;  // offsets of (layer, dir) block 0 and the spacing
};

struct PixelRnnDeviceModel {
  PixelRnnSpec spec;  // params points nowhere once uploaded (host memory belongs to JS)
  PixelRnnLayout layout;
  std::vector<PixelRnnDirection> dirs;
  std::vector<std::vector<int32_t>> steps;  // per direction: first ordered position of each step
  DeviceBuffer<float> params;
  DeviceBuffer<int32_t> order;  // [ndir, D] raster index of each ordered position (plan.order)
  ResidentBytes held;
  PixelRnnDeviceModel(int64_t total, int64_t ndir, int64_t d)
      : params(static_cast<size_t>(total)),
        order(static_cast<size_t>(ndir * d)),
        held(sizeof(float) * static_cast<uint64_t>(total) +
             sizeof(int32_t) * static_cast<uint64_t>(ndir * d)) {}

  PixelRnnNetView view() const {
    PixelRnnNetView v{};
    v.params = params.get();
    v.rows = spec.rows;
    v.cols = spec.cols;
    v.hidden = spec.hidden;
    v.layers = spec.layers;
    v.ndir = static_cast<int>(dirs.size());
    for (size_t i = 0; i < dirs.size() && i < 2; ++i) v.dir[i] = dirs[i];
    v.in_w = layout.in_w;
    v.in_b = layout.in_b;
    v.out1_w = layout.out1_w;
    v.out1_b = layout.out1_b;
    v.out2_w = layout.out2_w;
    v.out2_b = layout.out2_b;
    v.wis0 = layout.wis[0];
    v.wss0 = layout.wss[0];
    v.bias0 = layout.bias[0];
    v.ld_stride = layout.wis.size() > 1 ? layout.wis[1] - layout.wis[0] : 0;
    return v;
  }
};

// Throws E_ARG for a null (released) model.
void pixelrnn_check_model(const PixelRnnDeviceModel* m, const char* fn);

__device__ __forceinline__ bool pixelrnn_inside(const PixelRnnNetView& v, int64_t r, int64_t c) {
  return r >= 0 && r < v.rows && c >= 0 && c < v.cols;
}

// Mask-A tap offsets, as pixelrnn_mask_a_tap (pixelrnn_plan.h): rows -3..-1 with columns
// -3..3, then row 0 columns -3..-1.
__device__ __forceinline__ void pixelrnn_mask_a_tap_dev(int t, int* dr, int* dc) {
  *dr = t < 21 ? -3 + t / 7 : 0;
  *dc = t < 21 ? -3 + t % 7 : t - 24;
}

}  // namespace cuda
}  // namespace deepgen
