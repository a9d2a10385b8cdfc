// PixelRNN CUDA kernels (native/kernels/cuda/pixelrnn.cu, pixelrnn_sample.cu) against the CPU
// twins (native/kernels/cpu/pixelrnn.cc, pixelrnn_sample.cc), Row LSTM and Diagonal BiLSTM.
//
// Tolerances:
//   logProb: |gpu - cpu| <= 1e-4 (1 + |cpu|) per image. Same formulas in float; the GPU sums
//            each tap's dot product in another order and uses expf / tanhf / log1pf where the
//            CPU has its AVX2 polynomials or libm; per-pixel terms are summed in double in
//            raster order on both.
//   sampling: the same seed gives the same images. The GPU sampler repeats the CPU's tap
//            products (FMA, ascending k) and sums, but its sigmoid / tanh are double-rounded
//            where the CPU's AVX2 build uses polynomials (within 2 ulp), so probabilities agree
//            to ~1e-6, not bit for bit. Walking each image in raster order, up to its first
//            differing pixel: every probability within 1e-4 of the CPU's, and the differing
//            pixel must be a near tie, |u - p_cpu| <= 1e-4 for the Philox uniform u (a
//            rounding difference of p flipped u < p); after it the two images are different
//            conditionals and are not compared. Near ties are counted and printed; at most
//            max(1, n / 50) images may have one (a flip needs u to land within ~1e-6 of p,
//            about R W 1e-6 per image).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "../../../native/common/philox.h"
#include "../../../native/kernels/cpu/pixelrnn.h"
#include "../check.h"
#include "cuda_test_util.h"

using namespace deepgen;
using cudatest::have_device;
using cudatest::uniform;

namespace {

struct Net {
  PixelRnnSpec spec;
  std::vector<float> params;
};

// Weights uniform in +-1.5 / sqrt(fan-in)-ish: gates neither saturated nor all near 0.5.
Net random_net(PixelRnnKind kind, int64_t layers, int64_t hidden, int64_t rows, int64_t cols,
               uint32_t seed) {
  Net n;
  n.spec.kind = kind;
  n.spec.layers = layers;
  n.spec.hidden = hidden;
  n.spec.rows = rows;
  n.spec.cols = cols;
  const float w = 1.5f / std::sqrt(static_cast<float>(hidden));
  n.params = uniform(static_cast<size_t>(pixelrnn_layout(n.spec).total), -w, w, seed);
  n.spec.params = n.params.data();
  return n;
}

std::vector<float> random_images(int64_t n, int64_t d, uint32_t seed) {
  std::vector<float> x = uniform(static_cast<size_t>(n * d), 0.0f, 1.0f, seed);
  for (float& v : x) v = v < 0.3f ? 1.0f : 0.0f;
  return x;
}

// Owns a device model for the scope.
struct Uploaded {
  cuda::PixelRnnDeviceModel* m;
  explicit Uploaded(const PixelRnnSpec& s) : m(cuda::pixelrnn_upload(s)) {}
  ~Uploaded() { cuda::pixelrnn_release(m); }
};

const char* kind_name(PixelRnnKind k) { return k == PixelRnnKind::kRowLstm ? "row" : "diag"; }

void check_log_prob(PixelRnnKind kind, int64_t layers, int64_t hidden, int64_t rows, int64_t cols,
                    int64_t n, uint32_t seed) {
  const Net net = random_net(kind, layers, hidden, rows, cols, seed);
  const int64_t d = rows * cols;
  const std::vector<float> x = random_images(n, d, seed + 1);
  std::vector<float> cpu(static_cast<size_t>(n)), gpu(static_cast<size_t>(n), 1e30f);
  pixelrnn_log_prob(net.spec, x.data(), n, cpu.data());
  Uploaded up(net.spec);
  cuda::pixelrnn_log_prob(up.m, x.data(), n, gpu.data());
  int64_t bad = 0;
  double worst = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double err = std::fabs(static_cast<double>(gpu[i]) - cpu[i]) / (1.0 + std::fabs(cpu[i]));
    worst = std::max(worst, err);
    bad += !(err <= 1e-4);
  }
  std::printf("  pixelrnn %s L%lld H%lld %lldx%lld n%lld: max rel logp error %.2e\n",
              kind_name(kind), static_cast<long long>(layers), static_cast<long long>(hidden),
              static_cast<long long>(rows), static_cast<long long>(cols), static_cast<long long>(n),
              worst);
  CHECK_EQ(bad, 0);
}

// Compares GPU and CPU (cached) samples of the same seed as described at the top of the file.
void check_sample(PixelRnnKind kind, int64_t layers, int64_t hidden, int64_t rows, int64_t cols,
                  int64_t n, uint32_t seed) {
  const Net net = random_net(kind, layers, hidden, rows, cols, seed);
  const int64_t d = rows * cols;
  const uint64_t offset = 3;
  const uint32_t key0 = 0x5EEDu + seed, key1 = 0xC0DEu, stream = 2;
  std::vector<float> x_cpu(static_cast<size_t>(n * d)), x_gpu(x_cpu.size(), -1.0f);
  std::vector<float> p_cpu(x_cpu.size()), p_gpu(x_cpu.size(), -1.0f);
  pixelrnn_sample(net.spec, n, offset, key0, key1, stream, true, x_cpu.data(), p_cpu.data());
  Uploaded up(net.spec);
  cuda::pixelrnn_sample(up.m, n, offset, key0, key1, stream, x_gpu.data(), p_gpu.data());
  int64_t identical = 0, near_ties = 0, bad = 0, ones = 0;
  for (int64_t s = 0; s < n; ++s) {
    const uint64_t index = offset + static_cast<uint64_t>(s);
    bool diverged = false;
    for (int64_t p = 0; p < d && !diverged; ++p) {
      const size_t at = static_cast<size_t>(s * d + p);
      if (!(std::fabs(p_gpu[at] - p_cpu[at]) <= 1e-4)) ++bad;
      if (!(x_gpu[at] == 0.0f || x_gpu[at] == 1.0f)) ++bad;  // every pixel written, binary
      ones += x_gpu[at] == 1.0f;
      if (x_gpu[at] == x_cpu[at]) continue;
      const PhiloxBlock blk =
          philox4x32_10(static_cast<uint32_t>(p >> 2), static_cast<uint32_t>(index), stream,
                        static_cast<uint32_t>(index >> 32), key0, key1);
      const double u = philox_uniform_f64(blk.v[p & 3]);
      if (std::fabs(u - p_cpu[at]) <= 1e-4)
        ++near_ties;
      else
        ++bad;
      diverged = true;
    }
    identical += !diverged;
  }
  std::printf("  pixelrnn %s sample L%lld H%lld %lldx%lld n%lld: %lld identical, %lld near ties\n",
              kind_name(kind), static_cast<long long>(layers), static_cast<long long>(hidden),
              static_cast<long long>(rows), static_cast<long long>(cols), static_cast<long long>(n),
              static_cast<long long>(identical), static_cast<long long>(near_ties));
  CHECK_EQ(bad, 0);
  CHECK(near_ties <= std::max<int64_t>(1, n / 50));
  CHECK_EQ(identical + near_ties, n);
  CHECK(ones > 0);  // not a degenerate all-zero draw

  // Images 5..9 drawn alone (another batch size and offset) equal those images of the big
  // batch exactly: a device image does not depend on its batch.
  if (n >= 10) {
    std::vector<float> part(static_cast<size_t>(5 * d));
    cuda::pixelrnn_sample(up.m, 5, offset + 5, key0, key1, stream, part.data(), nullptr);
    int64_t diff = 0;
    for (int64_t i = 0; i < 5 * d; ++i)
      diff += part[static_cast<size_t>(i)] != x_gpu[static_cast<size_t>(5 * d + i)];
    CHECK_EQ(diff, 0);
  }
}

}  // namespace

TEST(cuda_pixelrnn_log_prob_matches_cpu) {
  if (cudatest::skip_without_device()) return;
  for (const PixelRnnKind kind : {PixelRnnKind::kRowLstm, PixelRnnKind::kDiagBiLstm}) {
    check_log_prob(kind, 2, 5, 6, 7, 37, 11);    // odd sizes, H below a warp
    check_log_prob(kind, 3, 33, 28, 28, 9, 12);  // MNIST-sized images, H just over a warp
    check_log_prob(kind, 1, 1, 1, 1, 3, 13);     // one pixel: only the biases reach the logit
    check_log_prob(kind, 1, 3, 2, 9, 5, 14);     // wide and short: diagonals shorter than rows
  }
}

TEST(cuda_pixelrnn_log_prob_spans_chunks) {
  if (cudatest::skip_without_device()) return;
  // 4,100 images cross the 4,096-image chunk; image 4,098 alone gives the same value.
  const Net net = random_net(PixelRnnKind::kDiagBiLstm, 1, 3, 4, 5, 15);
  const int64_t n = 4100, d = 20;
  const std::vector<float> x = random_images(n, d, 16);
  std::vector<float> cpu(static_cast<size_t>(n)), gpu(static_cast<size_t>(n)), one(1);
  pixelrnn_log_prob(net.spec, x.data(), n, cpu.data());
  Uploaded up(net.spec);
  cuda::pixelrnn_log_prob(up.m, x.data(), n, gpu.data());
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i)
    bad += !(std::fabs(gpu[i] - cpu[i]) <= 1e-4 * (1.0 + std::fabs(cpu[i])));
  CHECK_EQ(bad, 0);
  cuda::pixelrnn_log_prob(up.m, x.data() + 4098 * d, 1, one.data());
  CHECK(one[0] == gpu[4098]);
}

TEST(cuda_pixelrnn_sample_same_seed_same_images_as_cpu) {
  if (cudatest::skip_without_device()) return;
  check_sample(PixelRnnKind::kRowLstm, 2, 5, 6, 7, 200, 21);
  check_sample(PixelRnnKind::kRowLstm, 3, 33, 28, 28, 24, 22);
  check_sample(PixelRnnKind::kRowLstm, 1, 1, 1, 1, 10, 23);
  check_sample(PixelRnnKind::kDiagBiLstm, 2, 5, 6, 7, 200, 24);
  check_sample(PixelRnnKind::kDiagBiLstm, 2, 33, 28, 28, 16, 25);
  check_sample(PixelRnnKind::kDiagBiLstm, 1, 3, 2, 9, 50, 26);
}

TEST(cuda_pixelrnn_sample_spans_chunks) {
  if (cudatest::skip_without_device()) return;
  // 1,030 images cross the 1,024-image launch chunk: the second chunk's Philox indices
  // continue from the first (image 1,027 equals the same image drawn alone).
  const Net net = random_net(PixelRnnKind::kRowLstm, 1, 4, 3, 4, 31);
  Uploaded up(net.spec);
  const int64_t n = 1030, d = 12;
  std::vector<float> all(static_cast<size_t>(n * d)), one(static_cast<size_t>(d));
  cuda::pixelrnn_sample(up.m, n, 0, 7, 8, 0, all.data(), nullptr);
  cuda::pixelrnn_sample(up.m, 1, 1027, 7, 8, 0, one.data(), nullptr);
  int64_t diff = 0;
  for (int64_t i = 0; i < d; ++i)
    diff += one[static_cast<size_t>(i)] != all[static_cast<size_t>(1027 * d + i)];
  CHECK_EQ(diff, 0);
}

TEST(cuda_pixelrnn_rejects_bad_input_and_reports_no_device) {
  Net net = random_net(PixelRnnKind::kRowLstm, 2, 4, 5, 6, 41);
  std::vector<float> x(30), lp(1);
  // Bad specs: E_ARG before any device work.
  PixelRnnSpec bad = net.spec;
  bad.kind = static_cast<PixelRnnKind>(7);
  CHECK_CODE([&] { cuda::pixelrnn_upload(bad); }, "E_ARG");
  bad = net.spec;
  bad.hidden = 0;
  CHECK_CODE([&] { cuda::pixelrnn_upload(bad); }, "E_ARG");
  bad = net.spec;
  bad.params = nullptr;
  CHECK_CODE([&] { cuda::pixelrnn_upload(bad); }, "E_ARG");
  // A released (null) model is an argument error on every path, device or not.
  CHECK_CODE([&] { cuda::pixelrnn_log_prob(nullptr, x.data(), 1, lp.data()); }, "E_ARG");
  CHECK_CODE([&] { cuda::pixelrnn_sample(nullptr, 1, 0, 1, 2, 0, x.data(), nullptr); }, "E_ARG");
  cuda::pixelrnn_release(nullptr);
  if (!have_device()) {
    CHECK_CODE([&] { cuda::pixelrnn_upload(net.spec); }, "E_BACKEND");
    CHECK_EQ(cuda::resident_bytes(), uint64_t{0});
    return;
  }
  const uint64_t before = cuda::resident_bytes();
  {
    Uploaded up(net.spec);
    const uint64_t want = sizeof(float) * static_cast<uint64_t>(pixelrnn_layout(net.spec).total) +
                          sizeof(int32_t) * 30;
    CHECK_EQ(cuda::resident_bytes() - before, want);
    CHECK_CODE([&] { cuda::pixelrnn_log_prob(up.m, x.data(), -1, lp.data()); }, "E_ARG");
    CHECK_CODE([&] { cuda::pixelrnn_log_prob(up.m, nullptr, 1, lp.data()); }, "E_ARG");
    CHECK_CODE([&] { cuda::pixelrnn_sample(up.m, -1, 0, 1, 2, 0, x.data(), nullptr); }, "E_ARG");
    CHECK_CODE([&] { cuda::pixelrnn_sample(up.m, 1, 0, 1, 2, 0, nullptr, nullptr); }, "E_ARG");
    // Zero images: nothing to do, nothing touched.
    CHECK_CODE([&] { cuda::pixelrnn_log_prob(up.m, nullptr, 0, nullptr); }, "");
    CHECK_CODE([&] { cuda::pixelrnn_sample(up.m, 0, 0, 1, 2, 0, nullptr, nullptr); }, "");
  }
  CHECK_EQ(cuda::resident_bytes(), before);
  // Weights upload (100 MB), but one image's sampler state ((4 x 64 x 2 + 65) rows of
  // 4,096 columns x 128 units, 1.2 GB) exceeds the 1 GiB scratch budget: a clean E_BACKEND.
  const Net wide = random_net(PixelRnnKind::kDiagBiLstm, 64, 128, 1, 4096, 42);
  {
    Uploaded up(wide.spec);
    std::vector<float> img(4096);
    CHECK_CODE([&] { cuda::pixelrnn_sample(up.m, 1, 0, 1, 2, 0, img.data(), nullptr); },
               "E_BACKEND");
  }
}
