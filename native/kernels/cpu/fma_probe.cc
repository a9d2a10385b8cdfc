#include "fma_probe.h"

#include <algorithm>
#include <atomic>
#include <vector>

#include "../../common/cpu_features.h"
#include "../../common/thread_pool.h"

namespace deepgen {

void fma_probe_lanes_portable(float* acc, int64_t iters) {
  for (int64_t it = 0; it < iters; ++it) {
    for (int l = 0; l < kFmaProbeLanes; ++l) acc[l] = acc[l] * kFmaProbeM + kFmaProbeA;
  }
}

double fma_probe(int64_t iters, int64_t chunks, int max_threads, const JobHooks& hooks) {
  if (iters < 0 || chunks < 1) throw KernelError("E_ARG", "fma_probe: iters >= 0, chunks >= 1");
  // Work in slices so a cancel request is honoured within a few milliseconds.
  constexpr int64_t kSlice = 1 << 18;
  const int64_t slices = (iters + kSlice - 1) / kSlice;
  const auto lanes_fn = use_avx512()     ? fma_probe_lanes_avx512
                        : use_avx2_fma() ? fma_probe_lanes_avx2
                                         : fma_probe_lanes_portable;
  std::vector<double> sums(static_cast<size_t>(chunks), 0.0);
  std::atomic<int64_t> slices_done{0};
  const double total_slices = static_cast<double>(slices * chunks);
  parallel_for(
      chunks,
      [&](int64_t c) {
        alignas(64) float acc[kFmaProbeLanes];
        for (int l = 0; l < kFmaProbeLanes; ++l) acc[l] = 0.01f * static_cast<float>(l);
        for (int64_t s = 0; s < slices; ++s) {
          hooks.throw_if_cancelled();
          const int64_t n = std::min(kSlice, iters - s * kSlice);
          lanes_fn(acc, n);
          const int64_t done = ++slices_done;
          hooks.report(static_cast<double>(done) / total_slices);
        }
        double sum = 0;
        for (int l = 0; l < kFmaProbeLanes; ++l) sum += acc[l];
        sums[static_cast<size_t>(c)] = sum;
      },
      max_threads);
  double total = 0;
  for (double s : sums) total += s;
  return total;
}

}  // namespace deepgen
