// PixelRNN (van den Oord, Kalchbrenner, Kavukcuoglu 2016) for binary R x W images:
// Row LSTM and Diagonal BiLSTM networks, whole network per call (JS twin:
// lib/kernels/js/pixelrnn.ts).
//
// Network (H channels everywhere, binary pixels x in {0, 1}):
//   x0    = 7x7 mask-A conv of the image (24 causal taps, 1 -> H) + bias
//   x_l+1 = x_l + sum over the layer's directions of h_dir (shifted down one row for the
//           right-to-left direction of the Diagonal BiLSTM)                       (residual)
//   logit = w2 . relu(W1^T x_L + b1) + b2           (two mask-B 1x1 convs), p(x=1) = sigmoid
// A direction is an LSTM over cells (one per pixel) with
//   pre = b + sum_t Wss_t^T h[cell + ss_t] + sum_t Wis_t^T x_l[cell + is_t]  (zeros outside)
//   gates o, f, i, g (lstm_gates.h order);  c = f * c[cell + cp] + i * g;  h = o * tanh(c)
// Row LSTM (one direction): is taps (0,-1),(0,0) (1x3 mask B along the row); ss taps
//   (-1,-1),(-1,0),(-1,+1) (1x3 conv over the previous row); cell state from (-1,0); a whole
//   row is one step.
// Diagonal BiLSTM (two directions): is tap (0,0) (1x1 mask B); ss taps (-1,0),(0,-1) (the 2x1
//   column conv of the skewed map: in skewed coordinates the previous column holds the cell
//   above and the cell to the left); cell state from (0,-1); one diagonal r + c = s is one
//   step. The right-to-left direction mirrors the columns ((0,+1) instead of (0,-1)) and its
//   output is shifted down one row, so no pixel sees the future. States of the skew's padding
//   positions are zero (the recurrence starts at the image border).
// Every tap reads a cell of an earlier step, so a step's cells are independent: the batched
// kernels run each step as one gemm over (cells of the step x samples).
//
// Parameters: one flat float array (layout in PixelRnnLayout), gradients the same layout.
#pragma once
#include <cstdint>
#include <vector>

#include "../../common/job.h"
#include "row_streams.h"

namespace deepgen {

enum class PixelRnnKind : int32_t { kRowLstm = 0, kDiagBiLstm = 1 };

struct PixelRnnSpec {
  PixelRnnKind kind = PixelRnnKind::kRowLstm;
  int64_t layers = 1, hidden = 1, rows = 1, cols = 1;
  const float* params = nullptr;
};

// One recurrent direction: tap offsets (dr, dc) and the order of its steps.
struct PixelRnnDirection {
  int nis = 0, nss = 0;
  int is_dr[2] = {0, 0}, is_dc[2] = {0, 0};
  int ss_dr[3] = {0, 0, 0}, ss_dc[3] = {0, 0, 0};
  int cp_dr = 0, cp_dc = 0;
  int shift = 0;  // rows the output moves down before the residual sum (0 or 1)
};

constexpr int kMaskATaps = 24;  // 7x7 mask A: rows -3..-1 (cols -3..3), then row 0 cols -3..-1

// Float offsets of every tensor in the flat parameter array.
struct PixelRnnLayout {
  int64_t in_w = 0, in_b = 0;           // [24, H], [H]
  std::vector<int64_t> wis, wss, bias;  // per (layer, direction): [nis*H, 4H], [nss*H, 4H], [4H]
  int64_t out1_w = 0, out1_b = 0, out2_w = 0, out2_b = 0;  // [H, H], [H], [H], [1]
  int64_t total = 0;
};

std::vector<PixelRnnDirection> pixelrnn_directions(PixelRnnKind kind);
PixelRnnLayout pixelrnn_layout(const PixelRnnSpec& s);
// Throws KernelError(E_ARG) on a bad kind or non-positive / too large sizes.
void pixelrnn_check(const PixelRnnSpec& s);

// logp[i] = log p(x_i) in nats, x [n, R*W] (> 0.5 counts as 1). Batched gemm path.
void pixelrnn_log_prob(const PixelRnnSpec& s, const float* x, int64_t n, float* logp,
                       const JobHooks& hooks = no_hooks());

// Gradients of scale * sum_i -log p(x_i) written (not accumulated) into grads [layout.total];
// logp [n] (optional) receives log p(x_i). BPTT over rows / diagonals, one gemm per step.
void pixelrnn_backward(const PixelRnnSpec& s, const float* x, int64_t n, float scale, float* logp,
                       float* grads, const JobHooks& hooks = no_hooks());

// Draws n images into x [n, R*W] in raster order. Sample i (global index sample_offset + i)
// uses Philox key (key0, key1), counter (pixel / 4, index mod 2^32, stream, index / 2^32),
// word pixel % 4: x = philox_uniform_f64(word) < p (p in double). probs [n, R*W] (optional)
// receives p(x = 1 | pixels before). Each sample is computed alone, so results do not depend
// on n or the thread count. cached = true: every state is computed once, when its inputs
// exist, O(R W L H^2) per image; cached = false: the reference that reruns the whole network
// for every pixel, O((R W)^2 L H^2). Both draw bit-identical images.
void pixelrnn_sample(const PixelRnnSpec& s, int64_t n, uint64_t sample_offset, uint32_t key0,
                     uint32_t key1, uint32_t stream, bool cached, float* x, float* probs,
                     const JobHooks& hooks = no_hooks());
// The same with each row's key and index from `streams` (row_streams.h), for coalesced
// batches of requests with their own seeds. known > 0 completes images: the first `known`
// pixels (raster order) of each row of x are read, not drawn (their probs are still written),
// and the rest are drawn on the same counters as a sample, so known = 0 is a sample.
void pixelrnn_sample(const PixelRnnSpec& s, int64_t n, const SampleStreams& streams, bool cached,
                     float* x, float* probs, const JobHooks& hooks = no_hooks(), int64_t known = 0);

// out[j] += sum_k v[k] w[k n + j] for k < m, j < n: the sampler's per-cell product, plain
// (pixelrnn_sample.cc) and AVX2/FMA (pixelrnn_avx2.cc); pixelrnn_matvec_acc picks one.
void pixelrnn_matvec_acc_plain(float* out, const float* v, const float* w, int64_t m, int64_t n);
void pixelrnn_matvec_acc_avx2(float* out, const float* v, const float* w, int64_t m, int64_t n);

}  // namespace deepgen
