// See prepared_net.h.
#include "prepared_net.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "../../common/errors.h"
#include "../../common/scratch.h"
#include "../../common/thread_pool.h"

namespace deepgen {

namespace {

constexpr int64_t kMaxSize = int64_t{1} << 31;
// Rows per chunk: at most this many, and few enough that the largest column matrix of a
// transposed conv stays under kColsBudget floats (64 MB).
constexpr int64_t kMaxChunkRows = 64;
constexpr int64_t kColsBudget = int64_t{16} << 20;
// Floats of a transposed conv's column matrix per image group (1 MB: within L2).
constexpr int64_t kGroupCols = int64_t{256} << 10;

void check(bool ok, const char* code, const std::string& what) {
  if (!ok) throw KernelError(code, "preparedNet: " + what);
}

// a * b * c, or kMaxSize when it reaches it (the sizes' checks then refuse it, no overflow).
int64_t size_of(int64_t a, int64_t b, int64_t c) {
  int64_t ab, abc;
  if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc) || abc >= kMaxSize)
    return kMaxSize;
  return abc;
}

// y[0 .. len) = f(y + bias) on one row or plane: a span of fixed length, so its SIMD body and
// scalar tail fall on the same elements whatever the batch.
void bias_act_span(Activation act, float slope, float bias, float* y, int64_t len) {
  if (bias != 0.0f)
    for (int64_t i = 0; i < len; ++i) y[i] += bias;
  if (act != Activation::kIdentity) activation_forward_span(act, y, y, len, slope);
}

}  // namespace

PreparedNet::PreparedNet(const std::vector<PreparedLayerSpec>& specs) {
  check(!specs.empty(), "E_ARG", "a network needs at least one layer");
  for (size_t i = 0; i < specs.size(); ++i) {
    const PreparedLayerSpec& s = specs[i];
    const std::string at = "layer " + std::to_string(i) + ": ";
    check(s.kind == PreparedLayerKind::kDense || s.kind == PreparedLayerKind::kConvT, "E_ARG",
          at + "unknown kind");
    check(static_cast<int>(s.activation) >= 0 && static_cast<int>(s.activation) < kActivationCount,
          "E_ARG", at + "unknown activation");
    check(s.slope >= 0.0f && s.slope < 1e30f, "E_ARG", at + "slope must be >= 0");
    check(s.in_c >= 1 && s.out_c >= 1 && s.in_h >= 1 && s.in_w >= 1 && s.in_c < kMaxSize &&
              s.out_c < kMaxSize && s.in_h < kMaxSize && s.in_w < kMaxSize,
          "E_SHAPE", at + "sizes must be >= 1");
    check(s.weight != nullptr, "E_ARG", at + "no weight");
    auto l = std::make_unique<Layer>();
    l->spec = s;
    l->in_size = size_of(s.in_c, s.in_h, s.in_w);
    check(l->in_size < kMaxSize, "E_SHAPE", at + "input too large");
    if (i > 0)
      check(l->in_size == layers_.back()->out_size, "E_SHAPE",
            at + "input size " + std::to_string(l->in_size) + " is not the previous output size " +
                std::to_string(layers_.back()->out_size));
    if (s.kind == PreparedLayerKind::kDense) {
      check(s.in_h == 1 && s.in_w == 1, "E_SHAPE", at + "a dense layer's input is [N, in]");
      l->out_size = s.out_c;
      // op(B) = W^T [in, out]: W [out, in] read transposed.
      l->weights = std::make_unique<PackedWeights>(s.weight, s.in_c, s.out_c, s.in_c, true);
    } else {
      check(s.kernel >= 1 && s.kernel <= 64 && s.stride >= 1 && s.stride <= 64 && s.pad >= 0 &&
                s.pad < s.kernel,
            "E_ARG", at + "kernel in [1, 64], stride in [1, 64], pad in [0, kernel)");
      l->out_h = (s.in_h - 1) * s.stride - 2 * s.pad + s.kernel;
      l->out_w = (s.in_w - 1) * s.stride - 2 * s.pad + s.kernel;
      check(l->out_h >= 1 && l->out_w >= 1, "E_SHAPE", at + "empty output");
      l->out_size = size_of(s.out_c, l->out_h, l->out_w);
      const int64_t m = s.out_c * s.kernel * s.kernel;
      check(l->out_size < kMaxSize && m < kMaxSize, "E_SHAPE", at + "output too large");
      // op(B) = W [Cin, Cout k k] as stored.
      l->weights = std::make_unique<PackedWeights>(s.weight, s.in_c, m, m, false);
      cols_per_row_ = std::max(cols_per_row_, m * s.in_h * s.in_w);
    }
    l->bias.assign(static_cast<size_t>(s.out_c), 0.0f);
    if (s.bias != nullptr) std::copy(s.bias, s.bias + s.out_c, l->bias.begin());
    widest_ = std::max(widest_, l->out_size);
    layers_.push_back(std::move(l));
  }
}

void PreparedNet::forward(const float* x, int64_t n, float* y, const JobHooks& hooks,
                          const OutputMap& map) const {
  const int64_t by_cols = cols_per_row_ == 0 ? kMaxChunkRows : kColsBudget / cols_per_row_;
  const int64_t chunk = std::max<int64_t>(1, std::min(kMaxChunkRows, by_cols));
  for (int64_t r = 0; r < n; r += chunk) {
    hooks.throw_if_cancelled();
    const int64_t m = std::min(chunk, n - r);
    float* out = y + r * out_size();
    forward_chunk(x + r * in_size(), m, out);
    if (map.act != Activation::kIdentity)
      for (int64_t row = 0; row < m; ++row)
        bias_act_span(map.act, 0.0f, 0.0f, out + row * out_size(), out_size());
    if (map.shift != 0.0f || map.scale != 1.0f)
      for (int64_t i = 0; i < m * out_size(); ++i) out[i] = (out[i] + map.shift) * map.scale;
    hooks.report(static_cast<double>(r + m) / static_cast<double>(n));
  }
}

void PreparedNet::forward_chunk(const float* x, int64_t n, float* y) const {
  float* ping = thread_scratch(ScratchSlot::kPing, static_cast<size_t>(n * widest_));
  float* pong = thread_scratch(ScratchSlot::kPong, static_cast<size_t>(n * widest_));
  const float* in = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = *layers_[i];
    float* out = i + 1 == layers_.size() ? y : (i % 2 == 0 ? ping : pong);
    if (l.spec.kind == PreparedLayerKind::kDense)
      dense(l, in, n, out);
    else
      conv_transpose(l, in, n, out);
    in = out;
  }
}

void PreparedNet::dense(const Layer& l, const float* x, int64_t n, float* y) const {
  const int64_t in = l.spec.in_c, out = l.spec.out_c;
  PackedWeights::Epilogue epilogue;
  epilogue.bias = l.bias.data();
  epilogue.act = l.spec.activation;
  epilogue.slope = l.spec.slope;
  l.weights->multiply(x, {in, 1, n, 0}, n, y, out, 0, &epilogue);
}

void PreparedNet::conv_transpose(const Layer& l, const float* x, int64_t n, float* y) const {
  const PreparedLayerSpec& s = l.spec;
  const int64_t hw = s.in_h * s.in_w, m = s.out_c * s.kernel * s.kernel;
  // Images go in groups whose column matrix stays in the core's cache (the col2im reads it
  // right after the GEMM writes it); with enough groups each thread takes whole groups.
  const int64_t group = std::max<int64_t>(1, std::min(n, kGroupCols / (m * hw)));
  const int64_t groups = (n + group - 1) / group;
  const int threads = thread_limit();
  const bool across = groups >= 2 * threads;
  parallel_for(
      groups,
      [&](int64_t gi) {
        const int inner = across ? 1 : threads;
        const int64_t img0 = gi * group, count = std::min(group, n - img0), rows = count * hw;
        // op(A) = X^T [images x H W, Cin]: one row per input pixel of the group, read in place.
        const PackedWeights::Layout pixels{1, hw, hw, s.in_c * hw};
        // cols [pixel, (co, ky, kx)]: a pixel's taps of one channel share a cache line.
        float* cols = thread_scratch(ScratchSlot::kCols, static_cast<size_t>(rows * m));
        l.weights->multiply(x + img0 * s.in_c * hw, pixels, rows, cols, m, inner);
        parallel_for(
            count * s.out_c,
            [&](int64_t task) {
              const int64_t i = task / s.out_c, co = task % s.out_c;
              col2im_plane(l, cols + i * hw * m, co,
                           y + ((img0 + i) * s.out_c + co) * l.out_h * l.out_w);
            },
            inner);
      },
      across ? threads : 1);
}

// One output plane (image, channel co) of a transposed conv from the image's column rows
// (src: [H W, Cout k k]): input pixel by pixel, each adds its k x k taps, so every output
// pixel sums its taps in one fixed order; then the bias and the activation on the plane while
// it is in cache.
void PreparedNet::col2im_plane(const Layer& l, const float* src, int64_t co, float* out) const {
  const PreparedLayerSpec& s = l.spec;
  const int64_t oh = l.out_h, ow = l.out_w, k = s.kernel, m = s.out_c * k * k;
  std::fill(out, out + oh * ow, 0.0f);
  for (int64_t iy = 0; iy < s.in_h; ++iy) {
    for (int64_t ix = 0; ix < s.in_w; ++ix) {
      const float* taps = src + (iy * s.in_w + ix) * m + co * k * k;
      for (int64_t ky = 0; ky < k; ++ky) {
        const int64_t oy = iy * s.stride - s.pad + ky;
        if (oy < 0 || oy >= oh) continue;
        float* orow = out + oy * ow;
        for (int64_t kx = 0; kx < k; ++kx) {
          const int64_t ox = ix * s.stride - s.pad + kx;
          if (ox >= 0 && ox < ow) orow[ox] += taps[ky * k + kx];
        }
      }
    }
  }
  bias_act_span(s.activation, s.slope, l.bias[static_cast<size_t>(co)], out, oh * ow);
}

}  // namespace deepgen
