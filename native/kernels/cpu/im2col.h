// im2col / col2im and the layout shuffles that turn NCHW convolutions into GEMMs.
//
// Column layout ("cn": channel-major, images side by side), for a window over `channels`
// planes of h x w, read at the taps (ky[t], kx[t]) t = 0..T-1, for a chunk of `images` images:
//   col[(c * T + t) * ld + j * out_h * out_w + oy * out_w + ox]
//       = x[j, c, oy * stride_h - pad_h + ky[t], ox * stride_w - pad_w + kx[t]]  (0 outside)
//   with ld = images * out_h * out_w.
// Putting several images side by side makes one GEMM with a wide N (images * out_h * out_w)
// instead of several skinny ones (a 7x7 output alone gives N = 49, too narrow to run at speed).
// Only the taps in the list are read: a masked convolution lists the taps it keeps, so the
// masked weights and the input pixels they would meet are never read at all.
//
// Why "phases": with stride s, the pixels a tap reads along a row are every s-th one, and
// near the border some are padding. Gathering them element by element with bounds checks
// costs more than the GEMM for DCGAN-sized layers. So each plane is first split once into
// s_h * s_w zero-padded phase planes, phase (py, px) holding the padded pixels
// (u * s_h + py, v * s_w + px). In phase (ky % s_h, kx % s_w) the pixels tap (ky, kx) reads
// for output row oy are the CONTIGUOUS run starting at (oy + ky / s_h, kx / s_w), already
// zero-padded: im2col becomes short branch-free copies, and col2im short adds.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

namespace deepgen {

// PixelCNN-style spatial masks. For a kernel whose centre is (k_h / 2, k_w / 2) (floor), every
// position after the centre in raster order is masked; kA also masks the centre, kB keeps it.
enum class ConvMask : int { kNone = 0, kA = 1, kB = 2 };

// The kernel positions a convolution reads, in raster order.
struct ConvTaps {
  std::vector<int32_t> ky, kx;
  int64_t size() const { return static_cast<int64_t>(ky.size()); }
};

// True when (ky, kx) of a k_h x k_w kernel is masked out (never read).
bool conv_tap_masked(int64_t ky, int64_t kx, int64_t k_h, int64_t k_w, ConvMask mask);
ConvTaps conv_taps(int64_t k_h, int64_t k_w, ConvMask mask);

// A k_h x k_w window sliding over h x w planes: out_h x out_w positions (oy, ox), each
// reading the pixels (oy * stride_h - pad_h + ky, ox * stride_w - pad_w + kx).
struct ConvWindow {
  int64_t h = 0, w = 0, k_h = 1, k_w = 1;
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;
  int64_t out_h = 0, out_w = 0;
};

// Floats of phase planes for one input plane (see above).
int64_t conv_phase_size(const ConvWindow& g);

// x: [images, channels, h, w] -> col: [channels * T, images * out_h * out_w] (layout above).
// `max_threads` as in parallel_for (1: run on the calling thread only).
void im2col(const float* x, int64_t images, int64_t channels, const ConvWindow& g,
            const ConvTaps& taps, float* col, int max_threads = 0);

// The adjoint of im2col, scatter-adding the columns back onto the planes:
//   out[j, c, iy, ix] = (bias ? bias[c] : 0) + sum of the col entries that im2col takes from
//   (j, c, iy, ix). Overwrites out: [images, channels, h, w]. Each plane is summed by one
//   thread over taps, then rows, then columns, so the result does not depend on threads.
void col2im(const float* col, int64_t images, int64_t channels, const ConvWindow& g,
            const ConvTaps& taps, const float* bias, float* out, int max_threads = 0);

// The same two maps as plain loops with bounds checks: the reference for tests.
void im2col_reference(const float* x, int64_t images, int64_t channels, const ConvWindow& g,
                      const ConvTaps& taps, float* col);
void col2im_reference(const float* col, int64_t images, int64_t channels, const ConvWindow& g,
                      const ConvTaps& taps, const float* bias, float* out);

// x: [images, channels, plane] -> out: [channels, images * plane].
void nchw_to_cn(const float* x, int64_t images, int64_t channels, int64_t plane, float* out,
                int max_threads = 0);
// in: [channels, images * plane] -> y: [images, channels, plane], adding bias[c] if given.
void cn_to_nchw(const float* in, int64_t images, int64_t channels, int64_t plane, const float* bias,
                float* y, int max_threads = 0);
// a: [rows, cols] -> out: [cols, rows].
void transpose_matrix(const float* a, int64_t rows, int64_t cols, float* out);

// dbias[c] (+)= sum over images and pixels of dy[n, c, :], dy: [batch, channels, plane].
// One thread per channel, a fixed order inside it, double accumulators. No-op if dbias is null.
void conv_bias_grad(const float* dy, float* dbias, int64_t batch, int64_t channels, int64_t plane,
                    bool accumulate);

// Per-thread scratch buffers reused across calls (slots 0..3), so a training loop does not
// page-fault fresh megabytes on every call. Contents are unspecified on return. Each thread
// of the pool has its own, so chunk tasks running in parallel never share one.
float* conv_scratch(int slot, int64_t n);

// Runs body(first_image, images, inner_threads) over the batch cut into chunks of about
// kConvChunkColumns GEMM columns (columns_per_image each: wide enough for the packed GEMM to
// run at speed, the packing of its weight operand paid once per chunk) whose scratch
// (floats_per_image each) stays under kConvChunkFloats. The cut depends on the shapes only,
// never on the thread count. When there are enough chunks to keep every thread busy they run
// in parallel, one thread each (inner_threads = 1: the body's GEMM and shuffles then run on
// that thread and its scratch stays in that core's cache); otherwise one after another with
// all threads inside (inner_threads = 0). Results are the same either way.
constexpr int64_t kConvChunkColumns = 512;

// Scratch floats per chunk of the batch reductions (backward-weight of conv and convT): large
// ordered chunks whose GEMMs accumulate into dweight in a fixed order. 16 MB.
constexpr int64_t kReduceChunkFloats = int64_t{1} << 22;
constexpr int64_t kConvChunkFloats = int64_t{1} << 19;  // 2 MB
void conv_for_chunks(int64_t batch, int64_t floats_per_image, int64_t columns_per_image,
                     const std::function<void(int64_t, int64_t, int)>& body);
// Images per chunk of conv_for_chunks, balanced: ceil(batch / ceil(batch / fit)).
int64_t conv_chunk_images(int64_t batch, int64_t floats_per_image, int64_t columns_per_image);
// Images per chunk when only a scratch budget matters (the batch reductions).
int64_t conv_images_per_chunk(int64_t batch, int64_t floats_per_image, int64_t budget);

// a * b, throwing KernelError(E_ARG) if it exceeds 2^53 (sizes JS can address exactly).
int64_t conv_mul(int64_t a, int64_t b);

}  // namespace deepgen
