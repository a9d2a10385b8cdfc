// Elementwise activations and the fused bias + activation of dense layers and conv blocks.
//
//   identity  f(x) = x                            f' = 1
//   relu      f(x) = x < 0 ? 0 : x                f' = y > 0 ? 1 : 0
//   leakyRelu f(x) = x < 0 ? slope * x : x        f' = y > 0 ? 1 : slope     (slope >= 0)
//   tanh      f(x) = tanh(x)                      f' = 1 - y^2
//   sigmoid   f(x) = 1 / (1 + exp(-x))            f' = y (1 - y)
//   softplus  f(x) = max(x, 0) + log1p(exp(-|x|)) f' = sigmoid(x) = 1 - exp(-y)
//
// Every backward reads the forward OUTPUT y, never x: the forward may therefore run in place
// (y == x) for every kind. (For relu/leakyRelu y > 0 exactly when x > 0, which is why the
// slope must not be negative; softplus recovers sigmoid(x) from y with an expm1-accurate
// formula.) NaN inputs give NaN outputs. Backward results overwrite dx (and dbias): nothing
// is accumulated. dx may be dy.
//
// Results do not depend on the thread count: elementwise work is split by index, and the
// bias gradient is summed in double per (n, c) plane and then over n in order (S > 1), or per
// fixed block of sample rows and then over the blocks in order (dense, S == 1).
#pragma once
#include <cstdint>

namespace deepgen {

enum class Activation : int {
  kIdentity = 0,
  kRelu = 1,
  kLeakyRelu = 2,
  kTanh = 3,
  kSigmoid = 4,
  kSoftplus = 5,
};
constexpr int kActivationCount = 6;

// x, y: [n]. y = f(x); y may be x.
void activation_forward(Activation kind, const float* x, float* y, int64_t n, float slope);
// y, dy, dx: [n]. dx = dy * f'(x), computed from y = f(x); dx may be dy.
void activation_backward(Activation kind, const float* y, const float* dy, float* dx, int64_t n,
                         float slope);

// x, y: [N, C, S]; bias: [C] (S = spatial size; S = 1 for a dense layer's [N, C]).
//   y[n, c, s] = f(x[n, c, s] + bias[c]); y may be x.
void bias_activation_forward(Activation kind, const float* x, const float* bias, float* y,
                             int64_t N, int64_t C, int64_t S, float slope);
// y, dy, dx: [N, C, S]; dbias: [C].
//   dx[n, c, s] = dy[n, c, s] * f'(pre) from y;  dbias[c] = sum over n, s of dx[n, c, s].
void bias_activation_backward(Activation kind, const float* y, const float* dy, float* dx,
                              float* dbias, int64_t N, int64_t C, int64_t S, float slope);

// The same kernels with the plain spans only (the readable reference for tests).
void activation_forward_plain(Activation kind, const float* x, float* y, int64_t n, float slope);
void activation_backward_plain(Activation kind, const float* y, const float* dy, float* dx,
                               int64_t n, float slope);
void bias_activation_forward_plain(Activation kind, const float* x, const float* bias, float* y,
                                   int64_t N, int64_t C, int64_t S, float slope);
void bias_activation_backward_plain(Activation kind, const float* y, const float* dy, float* dx,
                                    float* dbias, int64_t N, int64_t C, int64_t S, float slope);

// A span on the calling thread, AVX2 where the CPU has it: its SIMD body and scalar tail fall
// on positions fixed by n alone (what callers that need batch-independent bits rely on).
void activation_forward_span(Activation kind, const float* x, float* y, int64_t n, float slope);

// Spans on the calling thread: plain loops and their AVX2 twins (activation_avx2.cc).
void activation_forward_span_plain(Activation kind, const float* x, float* y, int64_t n,
                                   float slope);
void activation_forward_span_avx2(Activation kind, const float* x, float* y, int64_t n,
                                  float slope);
void activation_backward_span_plain(Activation kind, const float* y, const float* dy, float* dx,
                                    int64_t n, float slope);
void activation_backward_span_avx2(Activation kind, const float* y, const float* dy, float* dx,
                                   int64_t n, float slope);

}  // namespace deepgen
