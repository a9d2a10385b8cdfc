// NADE CUDA kernels (native/kernels/cuda/nade.cu) against the CPU twins (nade.cc).
//
// Tolerances:
//   logProb: |gpu - cpu| <= 1e-4 (1 + |cpu|). The GPU repeats the CPU's arithmetic order
//            (16 dot lanes combined in the same tree, the same sigmoid/softplus polynomials);
//            what remains is fused-vs-separate multiply-add rounding (the CPU's portable path
//            has no FMA) accumulated over D steps.
//   sampling: the same seed gives the same samples. A sample may legitimately differ only at
//            a near tie: at its first differing step, the uniform u and the CPU probability p
//            must satisfy |u - p| <= 1e-5 (a float-rounding difference of p flipped u < p);
//            after that step the two samples are different conditionals and are not compared.
//            At most 1% of samples (or one) may do so: a flip needs u to land between the two
//            probabilities, about D * |p_gpu - p_cpu| ~ 1e-4 per sample. Before divergence
//            the per-step probabilities agree to 1e-5.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "../../../native/common/philox.h"
#include "../../../native/kernels/cpu/nade.h"
#include "../check.h"
#include "cuda_test_util.h"

using namespace deepgen;
using cudatest::error_code;
using cudatest::have_device;
using cudatest::uniform;

namespace {

struct Model {
  int64_t d, h;
  std::vector<float> wt, c, v, b;
  std::vector<int32_t> order;
  NadeParams params() const {
    NadeParams p;
    p.d = d;
    p.h = h;
    p.wt = wt.data();
    p.c = c.data();
    p.v = v.data();
    p.b = b.data();
    p.order = order.data();
    return p;
  }
};

Model random_model(int64_t d, int64_t h, uint32_t seed) {
  Model m{d, h};
  const float w = 2.0f / std::sqrt(static_cast<float>(h));
  m.wt = uniform(static_cast<size_t>(d * h), -w, w, seed);
  m.v = uniform(static_cast<size_t>(d * h), -w, w, seed + 1);
  m.c = uniform(static_cast<size_t>(h), -1.0f, 1.0f, seed + 2);
  m.b = uniform(static_cast<size_t>(d), -1.5f, 1.5f, seed + 3);
  m.order.resize(static_cast<size_t>(d));
  std::iota(m.order.begin(), m.order.end(), 0);
  std::mt19937 rng(seed + 4);
  std::shuffle(m.order.begin(), m.order.end(), rng);
  return m;
}

// Owns a device model for the scope.
struct Uploaded {
  cuda::NadeDeviceModel* m;
  explicit Uploaded(const NadeParams& p) : m(cuda::nade_upload(p)) {}
  ~Uploaded() { cuda::nade_release(m); }
};

void check_log_prob(int64_t d, int64_t h, int64_t n, uint32_t seed) {
  const Model model = random_model(d, h, seed);
  const NadeParams p = model.params();
  std::vector<float> x = uniform(static_cast<size_t>(n * d), 0.0f, 1.0f, seed + 9);
  for (float& v : x) v = v < 0.3f ? 1.0f : 0.0f;
  std::vector<float> cpu(static_cast<size_t>(n)), gpu(static_cast<size_t>(n));
  nade_log_prob(p, x.data(), n, cpu.data());
  Uploaded up(p);
  cuda::nade_log_prob(up.m, x.data(), n, gpu.data());
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i)
    bad += !(std::fabs(gpu[i] - cpu[i]) <= 1e-4 * (1.0 + std::fabs(cpu[i])));
  CHECK_EQ(bad, 0);
}

// Compares GPU and CPU samples of the same seed as described at the top of the file.
void check_sample(int64_t d, int64_t h, int64_t n, int64_t known, uint32_t seed) {
  const Model model = random_model(d, h, seed);
  const NadeParams p = model.params();
  const uint64_t offset = 5;
  const uint32_t key0 = 0x1234u + seed, key1 = 0xBEEFu, stream = 3;
  std::vector<float> x_cpu(static_cast<size_t>(n * d), 0.0f);
  if (known > 0) {  // completion: the first `known` steps come from random data
    x_cpu = uniform(x_cpu.size(), 0.0f, 1.0f, seed + 7);
    for (float& v : x_cpu) v = v < 0.5f ? 1.0f : 0.0f;
  }
  std::vector<float> x_gpu = x_cpu;
  const std::vector<float> x_in = x_cpu;
  std::vector<float> p_cpu(x_cpu.size()), p_gpu(x_cpu.size());
  nade_sample(p, n, offset, key0, key1, stream, known, x_cpu.data(), p_cpu.data());
  Uploaded up(p);
  cuda::nade_sample(up.m, n, offset, key0, key1, stream, known, x_gpu.data(), p_gpu.data());
  int64_t identical = 0, near_ties = 0, bad = 0;
  for (int64_t s = 0; s < n; ++s) {
    const uint64_t index = offset + static_cast<uint64_t>(s);
    bool diverged = false;
    for (int64_t step = 0; step < d && !diverged; ++step) {
      const int64_t o = model.order[static_cast<size_t>(step)];
      const size_t at = static_cast<size_t>(s * d + o);
      if (!(std::fabs(p_gpu[at] - p_cpu[at]) <= 1e-5)) ++bad;
      if (step < known && x_gpu[at] != x_in[at]) ++bad;  // known steps are never redrawn
      if (x_gpu[at] == x_cpu[at]) continue;
      const PhiloxBlock blk =
          philox4x32_10(static_cast<uint32_t>(step >> 2), static_cast<uint32_t>(index), stream,
                        static_cast<uint32_t>(index >> 32), key0, key1);
      const double u = philox_uniform_f64(blk.v[step & 3]);
      if (std::fabs(u - p_cpu[at]) <= 1e-5)
        ++near_ties;
      else
        ++bad;
      diverged = true;
    }
    identical += !diverged;
  }
  CHECK_EQ(bad, 0);
  CHECK(near_ties <= std::max<int64_t>(1, n / 100));
  CHECK_EQ(identical + near_ties, n);

  // Same seed, another batch size and offset: rows 11..17 drawn alone equal those rows of
  // the big batch exactly (the device result of a sample does not depend on its batch).
  if (n >= 18 && known == 0) {
    std::vector<float> part(static_cast<size_t>(7 * d));
    cuda::nade_sample(up.m, 7, offset + 11, key0, key1, stream, 0, part.data(), nullptr);
    int64_t diff = 0;
    for (int64_t i = 0; i < 7 * d; ++i) diff += part[i] != x_gpu[static_cast<size_t>(11 * d + i)];
    CHECK_EQ(diff, 0);
  }
}

// Gradients: per element |gpu - cpu| <= 1e-4 max|cpu grad of that array| + 1e-6 (float sums
// over the batch in another order); logp as in check_log_prob.
void check_backward(int64_t d, int64_t h, int64_t n, uint32_t seed) {
  const Model model = random_model(d, h, seed);
  const NadeParams p = model.params();
  std::vector<float> x = uniform(static_cast<size_t>(n * d), 0.0f, 1.0f, seed + 9);
  for (float& v : x) v = v < 0.3f ? 1.0f : 0.0f;
  const size_t dh = static_cast<size_t>(d * h);
  std::vector<float> cw(dh), cc(h), cv(dh), cb(d), gw(dh), gc(h), gv(dh), gb(d);
  std::vector<float> clp(n), glp(n);
  const float scale = 1.0f / static_cast<float>(n);
  nade_backward(p, x.data(), n, scale, clp.data(), cw.data(), cc.data(), cv.data(), cb.data());
  Uploaded up(p);
  // Poison the outputs: the kernel must overwrite every element.
  std::fill(gw.begin(), gw.end(), 1e30f);
  std::fill(gv.begin(), gv.end(), 1e30f);
  cuda::nade_backward(up.m, x.data(), n, scale, glp.data(), gw.data(), gc.data(), gv.data(),
                      gb.data());
  auto far = [](const std::vector<float>& g, const std::vector<float>& c) {
    double mx = 0;
    for (float v : c) mx = std::max(mx, static_cast<double>(std::fabs(v)));
    int64_t bad = 0;
    for (size_t i = 0; i < c.size(); ++i)
      bad += !(std::fabs(static_cast<double>(g[i]) - c[i]) <= 1e-4 * mx + 1e-6);
    return bad;
  };
  CHECK_EQ(far(gw, cw), 0);
  CHECK_EQ(far(gc, cc), 0);
  CHECK_EQ(far(gv, cv), 0);
  CHECK_EQ(far(gb, cb), 0);
  int64_t bad = 0;
  for (int64_t i = 0; i < n; ++i)
    bad += !(std::fabs(glp[i] - clp[i]) <= 1e-4 * (1.0 + std::fabs(clp[i])));
  CHECK_EQ(bad, 0);
}

}  // namespace

TEST(cuda_nade_backward_matches_cpu) {
  if (cudatest::skip_without_device()) return;
  check_backward(37, 53, 131, 81);   // odd sizes; 131 samples span three 64-sample slabs
  check_backward(784, 500, 20, 82);  // the MNIST model's shape
  check_backward(5, 3, 1, 83);
}

TEST(cuda_nade_log_prob_matches_cpu) {
  if (cudatest::skip_without_device()) return;
  check_log_prob(37, 53, 301, 11);   // odd sizes, H not a multiple of 16
  check_log_prob(784, 500, 64, 12);  // the MNIST model's shape
  check_log_prob(5, 3, 1, 13);       // fewer hidden units than lanes
}

TEST(cuda_nade_sample_same_seed_same_samples_as_cpu) {
  if (cudatest::skip_without_device()) return;
  check_sample(37, 53, 1001, 0, 21);
  check_sample(784, 500, 40, 0, 22);
  check_sample(5, 3, 19, 0, 23);
}

TEST(cuda_nade_completion_keeps_known_steps_and_matches_cpu) {
  if (cudatest::skip_without_device()) return;
  check_sample(37, 53, 257, 10, 31);
  check_sample(37, 53, 33, 37, 32);  // everything known: only the probabilities are computed
}

TEST(cuda_nade_large_batch_spans_chunks) {
  if (cudatest::skip_without_device()) return;
  // 70,000 samples cross the 65,536-sample launch chunk: the second chunk's Philox indices
  // continue from the first (row 65,540 equals the same row drawn alone).
  const Model model = random_model(9, 17, 41);
  Uploaded up(model.params());
  const int64_t n = 70000;
  std::vector<float> all(static_cast<size_t>(n * 9)), one(9);
  cuda::nade_sample(up.m, n, 0, 7, 8, 0, 0, all.data(), nullptr);
  cuda::nade_sample(up.m, 1, 65540, 7, 8, 0, 0, one.data(), nullptr);
  int64_t diff = 0;
  for (int64_t i = 0; i < 9; ++i) diff += one[i] != all[static_cast<size_t>(65540 * 9 + i)];
  CHECK_EQ(diff, 0);
}

TEST(cuda_nade_rejects_bad_input_and_reports_no_device) {
  Model model = random_model(6, 4, 51);
  model.order[0] = model.order[1];  // not a permutation: E_ARG before any device work
  CHECK_CODE([&] { cuda::nade_upload(model.params()); }, "E_ARG");
  const Model good = random_model(6, 4, 52);
  if (!have_device()) {
    CHECK_CODE([&] { cuda::nade_upload(good.params()); }, "E_BACKEND");
    CHECK_EQ(cuda::resident_bytes(), uint64_t{0});
    return;
  }
  const uint64_t before = cuda::resident_bytes();
  {
    Uploaded up(good.params());
    CHECK_EQ(cuda::resident_bytes() - before, uint64_t{(2 * 6 * 4 + 4 + 6) * 4 + 6 * 4});
    std::vector<float> x(6);
    CHECK_CODE([&] { cuda::nade_sample(up.m, 1, 0, 1, 2, 0, 7, x.data(), nullptr); }, "E_ARG");
  }
  CHECK_EQ(cuda::resident_bytes(), before);
  // Too many hidden units for the on-chip state: a clean E_BACKEND, not a failed launch.
  const Model huge = random_model(2, 4097, 53);
  CHECK_CODE([&] { cuda::nade_upload(huge.params()); }, "E_BACKEND");
  {
    Uploaded up(good.params());
    std::vector<float> x(6), g(6 * 4);
    CHECK_CODE(
        [&] {
          cuda::nade_backward(up.m, x.data(), 1, NAN, nullptr, g.data(), g.data(), g.data(),
                              g.data());
        },
        "E_ARG");
  }
}
