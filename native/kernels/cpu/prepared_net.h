// A feed-forward network prepared once for inference: its weights packed for the GEMM
// micro-kernel when it is built, so each forward only packs its input. The generators and
// decoders of the GANs, VAEs and AAEs run through it (lib/nn/prepared-net.ts builds the
// layers, with evaluation-mode batch norm already folded into weights and biases).
//
// Layers, in order, each y = act(op(x) + bias):
//   kDense   x [N, in] -> y [N, out]; weight [out, in] (PyTorch layout)
//   kConvT   x [N, Cin, H, W] -> y [N, Cout, Ho, Wo], Ho = (H - 1) * stride - 2 pad + k (same
//            for W), weight [Cin, Cout, k, k] (PyTorch's ConvTranspose2d layout)
// A transposed conv runs as GEMMs over groups of images, cols [images H W, Cout k k] = X^T W,
// each followed by a col2im that adds each output pixel's taps in a fixed order, with the bias
// and the activation on the plane while it is in cache.
//
// Every row of the output depends only on the same row of the input, bit for bit, whatever
// the batch size, the chunking and the thread count (gemm_packed's property, and fixed-size
// spans for the activations): a server can batch requests without changing any answer.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "../../common/job.h"
#include "activation.h"
#include "packed_weights.h"

namespace deepgen {

enum class PreparedLayerKind : int { kDense = 0, kConvT = 1 };

struct PreparedLayerSpec {
  PreparedLayerKind kind = PreparedLayerKind::kDense;
  // Dense: in_c = inputs, out_c = outputs, in_h = in_w = 1. ConvT: the input's shape.
  int64_t in_c = 0, in_h = 1, in_w = 1, out_c = 0;
  int64_t kernel = 1, stride = 1, pad = 0;  // ConvT only
  Activation activation = Activation::kIdentity;
  float slope = 0.01f;
  const float* weight = nullptr;  // copied and packed by PreparedNet
  const float* bias = nullptr;    // [out_c], copied; nullptr = zeros
};

class PreparedNet {
 public:
  // Checks the chain (each layer's input size is the previous one's output, sizes and
  // activations sane: KernelError E_ARG / E_SHAPE) and packs the weights.
  explicit PreparedNet(const std::vector<PreparedLayerSpec>& layers);

  int64_t in_size() const { return layers_.front()->in_size; }
  int64_t out_size() const { return layers_.back()->out_size; }

  // How forward maps each output value y at the end: act(y), then (act(y) + shift) * scale
  // in float (tanh outputs to [0, 1]: shift 1, scale 0.5; logits to probabilities: sigmoid).
  struct OutputMap {
    Activation act = Activation::kIdentity;
    float shift = 0.0f, scale = 1.0f;
  };

  // y [n, out_size] from x [n, in_size], `chunk` rows at a time (bounding the scratch memory;
  // cancellation is polled and progress reported between chunks), mapped by `map`.
  void forward(const float* x, int64_t n, float* y, const JobHooks& hooks,
               const OutputMap& map) const;
  void forward(const float* x, int64_t n, float* y, const JobHooks& hooks) const {
    forward(x, n, y, hooks, OutputMap{});
  }

 private:
  struct Layer {
    PreparedLayerSpec spec;
    int64_t in_size = 0, out_size = 0, out_h = 1, out_w = 1;
    std::unique_ptr<PackedWeights> weights;  // op(B): W^T (dense), W (transposed conv)
    std::vector<float> bias;
  };
  void forward_chunk(const float* x, int64_t n, float* y) const;
  void dense(const Layer& l, const float* x, int64_t n, float* y) const;
  void conv_transpose(const Layer& l, const float* x, int64_t n, float* y) const;
  void col2im_plane(const Layer& l, const float* src, int64_t co, float* out) const;
  std::vector<std::unique_ptr<Layer>> layers_;  // AlignedBuffer does not move
  int64_t widest_ = 0;                          // the largest layer output, per row
  int64_t cols_per_row_ = 0;                    // the largest convT column matrix, per row
};

}  // namespace deepgen
