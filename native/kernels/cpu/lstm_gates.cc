#include "lstm_gates.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/thread_pool.h"

namespace deepgen {
namespace {

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

// Rows per parallel chunk: about 16k gate values, so a chunk is worth a thread hand-off and
// small steps (a 16 x 64 Row LSTM row) run on the calling thread alone.
int64_t rows_per_chunk(int64_t hidden) {
  return std::max<int64_t>(1, (int64_t{1} << 14) / std::max<int64_t>(1, 4 * hidden));
}

void check_sizes(const char* fn, int64_t batch, int64_t hidden) {
  if (batch < 0 || hidden < 0) throw KernelError("E_ARG", std::string(fn) + ": negative size");
}

}  // namespace

void lstm_gates_forward_plain(float* h, float* c, float* gates, const float* pre,
                              const float* c_prev, int64_t hidden, int64_t row_begin,
                              int64_t row_end) {
  const int64_t H = hidden;
  for (int64_t b = row_begin; b < row_end; ++b) {
    const float* p = pre + b * 4 * H;
    float* gt = gates + b * 4 * H;
    for (int64_t j = 0; j < H; ++j) {
      const float o = sigmoid(p[j]);
      const float f = sigmoid(p[H + j]);
      const float i = sigmoid(p[2 * H + j]);
      const float g = std::tanh(p[3 * H + j]);
      const float cn = f * c_prev[b * H + j] + i * g;
      c[b * H + j] = cn;
      h[b * H + j] = o * std::tanh(cn);
      gt[j] = o;
      gt[H + j] = f;
      gt[2 * H + j] = i;
      gt[3 * H + j] = g;
    }
  }
}

void lstm_gates_backward_plain(float* dpre, float* dc_prev, const float* dh, const float* dc,
                               const float* gates, const float* c_prev, const float* c,
                               int64_t hidden, int64_t row_begin, int64_t row_end) {
  const int64_t H = hidden;
  for (int64_t b = row_begin; b < row_end; ++b) {
    const float* gt = gates + b * 4 * H;
    float* dp = dpre + b * 4 * H;
    for (int64_t j = 0; j < H; ++j) {
      const int64_t k = b * H + j;
      const float o = gt[j], f = gt[H + j], i = gt[2 * H + j], g = gt[3 * H + j];
      const float tc = std::tanh(c[k]);
      const float dhk = dh[k];
      const float dct = (dc != nullptr ? dc[k] : 0.0f) + dhk * o * (1.0f - tc * tc);
      dp[j] = dhk * tc * o * (1.0f - o);
      dp[H + j] = dct * c_prev[k] * f * (1.0f - f);
      dp[2 * H + j] = dct * g * i * (1.0f - i);
      dp[3 * H + j] = dct * i * (1.0f - g * g);
      dc_prev[k] = dct * f;
    }
  }
}

void lstm_gates_forward(float* h, float* c, float* gates, const float* pre, const float* c_prev,
                        int64_t batch, int64_t hidden) {
  check_sizes("lstm_gates_forward", batch, hidden);
  if (batch == 0 || hidden == 0) return;
  if (!h || !c || !gates || !pre || !c_prev)
    throw KernelError("E_ARG", "lstm_gates_forward: null array");
  const bool simd = use_avx2_fma();
  const int64_t per = rows_per_chunk(hidden);
  parallel_for((batch + per - 1) / per, [&](int64_t chunk) {
    const int64_t b0 = chunk * per, b1 = std::min(batch, b0 + per);
    if (simd)
      lstm_gates_forward_avx2(h, c, gates, pre, c_prev, hidden, b0, b1);
    else
      lstm_gates_forward_plain(h, c, gates, pre, c_prev, hidden, b0, b1);
  });
}

void lstm_gates_backward(float* dpre, float* dc_prev, const float* dh, const float* dc,
                         const float* gates, const float* c_prev, const float* c, int64_t batch,
                         int64_t hidden) {
  check_sizes("lstm_gates_backward", batch, hidden);
  if (batch == 0 || hidden == 0) return;
  if (!dpre || !dc_prev || !dh || !gates || !c_prev || !c) {
    throw KernelError("E_ARG", "lstm_gates_backward: null array");
  }
  const bool simd = use_avx2_fma();
  const int64_t per = rows_per_chunk(hidden);
  parallel_for((batch + per - 1) / per, [&](int64_t chunk) {
    const int64_t b0 = chunk * per, b1 = std::min(batch, b0 + per);
    if (simd)
      lstm_gates_backward_avx2(dpre, dc_prev, dh, dc, gates, c_prev, c, hidden, b0, b1);
    else
      lstm_gates_backward_plain(dpre, dc_prev, dh, dc, gates, c_prev, c, hidden, b0, b1);
  });
}

}  // namespace deepgen
