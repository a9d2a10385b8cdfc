// Internal to the PixelRNN kernels (pixelrnn.cc, pixelrnn_sample.cc): the order in which a
// direction visits its cells, and each cell's neighbours resolved to indices once per call.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "pixelrnn.h"

namespace deepgen {

struct PixelRnnPlan {
  PixelRnnDirection dir;
  int64_t rows = 0, cols = 0;
  std::vector<int32_t> order;  // [D] raster index of the cell at ordered position p
  std::vector<int32_t> steps;  // [nsteps + 1] first ordered position of each step
  std::vector<int32_t> ss;     // [D, nss] ordered position of each state tap, -1 outside
  std::vector<int32_t> is;     // [D, nis] raster index of each input tap, -1 outside
  std::vector<int32_t> cp;     // [D] ordered position of the previous cell state, -1 outside
  std::vector<int32_t>
      out;  // [D] raster index the output is added to (after the shift), -1 outside
};

PixelRnnPlan make_pixelrnn_plan(const PixelRnnDirection& d, int64_t rows, int64_t cols);

// Offset of mask-A tap t (0..23): rows -3..-1 with columns -3..3, then row 0 columns -3..-1.
inline void pixelrnn_mask_a_tap(int t, int* dr, int* dc) {
  *dr = t < 21 ? -3 + t / 7 : 0;
  *dc = t < 21 ? -3 + t % 7 : t - 24;
}

inline float pixelrnn_sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

}  // namespace deepgen
