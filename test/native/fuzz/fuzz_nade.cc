// NADE log-probability, sampling and gradients with fuzzed sizes and orderings (sometimes
// not a permutation: the check must refuse it): buffers exactly as large as the shapes say,
// log-probabilities finite and <= 0, samples binary, probabilities in [0, 1].
#include <cmath>
#include <numeric>

#include "../../../native/common/errors.h"
#include "../../../native/kernels/cpu/nade.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  deepgen::NadeParams p;
  p.d = in.range(0, 24);
  p.h = in.range(0, 20);
  std::vector<int32_t> order(static_cast<size_t>(std::max<int64_t>(p.d, 0)));
  std::iota(order.begin(), order.end(), 0);
  for (int64_t i = p.d - 1; i > 0; --i) std::swap(order[i], order[in.range(0, i)]);
  if (p.d > 0 && in.range(0, 7) == 0)
    order[in.range(0, p.d - 1)] = static_cast<int32_t>(in.range(-2, p.d + 2));
  const auto wt = in.values(p.d * p.h), c = in.values(p.h), v = in.values(p.d * p.h),
             b = in.values(p.d);
  p.wt = wt.data();
  p.c = c.data();
  p.v = v.data();
  p.b = b.data();
  p.order = order.data();
  try {
    deepgen::nade_check(p);
  } catch (const deepgen::KernelError&) {
    return 0;
  }
  ++fuzz::reached;
  const int64_t n = in.range(0, 20);
  std::vector<float> x = in.values(n * p.d);
  for (auto& xi : x) xi = xi > 0 ? 1.0f : 0.0f;
  std::vector<float> logp(static_cast<size_t>(n));
  deepgen::nade_log_prob(p, x.data(), n, logp.data());
  for (int64_t i = 0; i < n; ++i) {
    if (!(std::isfinite(logp[i]) && logp[i] <= 1e-5f))
      fuzz::fail("nade_log_prob finite and <= 0", logp[i], 0, i);
  }
  const int64_t known = in.range(0, p.d);
  std::vector<float> probs(x.size());
  deepgen::nade_sample(p, n, static_cast<uint64_t>(in.range(0, 1 << 30)), 7, 9, 3, known, x.data(),
                       probs.data());
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] != 0.0f && x[i] != 1.0f)
      fuzz::fail("nade_sample binary", x[i], 1, static_cast<int64_t>(i));
    if (!(probs[i] >= 0.0f && probs[i] <= 1.0f))
      fuzz::fail("nade_sample probs in [0, 1]", probs[i], 0.5, static_cast<int64_t>(i));
  }
  std::vector<float> dwt(wt.size()), dc(c.size()), dv(v.size()), db(b.size());
  deepgen::nade_backward(p, x.data(), n, 1.0f / static_cast<float>(std::max<int64_t>(n, 1)),
                         logp.data(), dwt.data(), dc.data(), dv.data(), db.data());
  for (size_t i = 0; i < dwt.size(); ++i) {
    if (!std::isfinite(dwt[i]))
      fuzz::fail("nade_backward finite", dwt[i], 0, static_cast<int64_t>(i));
  }
  return 0;
}
