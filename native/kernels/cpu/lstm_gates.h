// The elementwise half of an LSTM step, fused: gate nonlinearities, cell update and output.
// The matrix products that make the pre-activations (input-to-state and state-to-state
// convolutions of PixelRNN's Row LSTM and Diagonal BiLSTM) are gemm/conv kernels; this one
// runs once per row (or diagonal) step over every position of the batch, so it is fused into
// a single pass over memory in each direction.
//
// Layout: pre-activations and gates are [B, 4H], four blocks of H per row in the order
// o, f, i, g (output, forget, input gate, content), as in the PixelRNN paper (eq. 3).
// B counts every independent cell: batch x width for a Row LSTM row.
#pragma once
#include <cstdint>

namespace deepgen {

// forward: pre [B, 4H], c_prev [B, H] -> h [B, H], c [B, H], gates [B, 4H]
//   o = sigmoid(pre_o), f = sigmoid(pre_f), i = sigmoid(pre_i), g = tanh(pre_g)
//   c = f * c_prev + i * g
//   h = o * tanh(c)
//   gates = [o, f, i, g] (activated), saved for the backward pass.
// Outputs must not overlap the inputs. Zero B or H is a no-op; negative sizes throw E_ARG.
void lstm_gates_forward(float* h, float* c, float* gates, const float* pre, const float* c_prev,
                        int64_t batch, int64_t hidden);

// backward: dh [B, H], dc [B, H] or null (no gradient flows into c from later: zeros),
//           gates [B, 4H], c_prev [B, H], c [B, H]  ->  dpre [B, 4H], dc_prev [B, H]
//   tc = tanh(c)                       (recomputed: cheaper than storing it)
//   dct = dc + dh * o * (1 - tc^2)      total gradient reaching c
//   dpre_o = dh * tc * o (1 - o)
//   dpre_f = dct * c_prev * f (1 - f)
//   dpre_i = dct * g * i (1 - i)
//   dpre_g = dct * i * (1 - g^2)
//   dc_prev = dct * f
// Outputs are overwritten, not accumulated, and must not overlap the inputs.
void lstm_gates_backward(float* dpre, float* dc_prev, const float* dh, const float* dc,
                         const float* gates, const float* c_prev, const float* c, int64_t batch,
                         int64_t hidden);

// The per-row implementations behind the two entry points, over rows [row_begin, row_end),
// one thread. The plain ones use std::exp / std::tanh; the AVX2 ones (lstm_gates_avx2.cc)
// the polynomials of gate_math_avx2.h, within a few float ulps of them. Tests compare both.
void lstm_gates_forward_plain(float* h, float* c, float* gates, const float* pre,
                              const float* c_prev, int64_t hidden, int64_t row_begin,
                              int64_t row_end);
void lstm_gates_forward_avx2(float* h, float* c, float* gates, const float* pre,
                             const float* c_prev, int64_t hidden, int64_t row_begin,
                             int64_t row_end);
void lstm_gates_backward_plain(float* dpre, float* dc_prev, const float* dh, const float* dc,
                               const float* gates, const float* c_prev, const float* c,
                               int64_t hidden, int64_t row_begin, int64_t row_end);
void lstm_gates_backward_avx2(float* dpre, float* dc_prev, const float* dh, const float* dc,
                              const float* gates, const float* c_prev, const float* c,
                              int64_t hidden, int64_t row_begin, int64_t row_end);

}  // namespace deepgen
