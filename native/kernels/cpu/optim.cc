#include "optim.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/thread_pool.h"
#include "loss.h"

namespace deepgen {
namespace {

constexpr int64_t kChunk = int64_t{1} << 15;  // elements per parallel chunk

// Runs fn(begin, end) over [0, n) in chunks of kChunk elements.
template <typename Fn>
void for_chunks(int64_t n, Fn&& fn) {
  parallel_for((n + kChunk - 1) / kChunk, [&](int64_t c) {
    const int64_t begin = c * kChunk;
    fn(begin, std::min(n, begin + kChunk));
  });
}

bool finite_at_least(double v, double lo) { return std::isfinite(v) && v >= lo; }

void check_arrays(const char* fn, int64_t n, std::initializer_list<const void*> arrays) {
  if (n < 0) throw KernelError("E_ARG", std::string(fn) + ": negative size");
  if (n == 0) return;
  for (const void* a : arrays) {
    if (a == nullptr) throw KernelError("E_ARG", std::string(fn) + ": null array");
  }
}

}  // namespace

// ---- Adam ------------------------------------------------------------------------------------

void adam_check(const AdamConfig& c) {
  if (!finite_at_least(c.lr, 0) || !finite_at_least(c.beta1, 0) || !(c.beta1 < 1) ||
      !finite_at_least(c.beta2, 0) || !(c.beta2 < 1) || !std::isfinite(c.eps) || !(c.eps > 0) ||
      !finite_at_least(c.weight_decay, 0) || !(c.bias_correction1 > 0) ||
      !(c.bias_correction1 <= 1) || !(c.bias_correction2 > 0) || !(c.bias_correction2 <= 1)) {
    throw KernelError("E_ARG",
                      "adam_step: need lr >= 0, beta1/beta2 in [0, 1), eps > 0, weight_decay >= 0 "
                      "and bias corrections in (0, 1]");
  }
}

AdamScalars adam_scalars(const AdamConfig& c) {
  return {1.0 - c.lr * c.weight_decay,
          c.lr / c.bias_correction1,
          1.0 / c.bias_correction2,
          c.beta1,
          c.beta2,
          1.0 - c.beta1,
          1.0 - c.beta2,
          c.eps};
}

void adam_step_plain(float* params, const float* grads, float* m, float* v, int64_t begin,
                     int64_t end, const AdamConfig& c) {
  const AdamScalars s = adam_scalars(c);
  const double decay = s.decay, step_size = s.step_size, inv_bc2 = s.inv_bc2;
  const double b1 = s.b1, b2 = s.b2, one_b1 = s.one_b1, one_b2 = s.one_b2;
  for (int64_t i = begin; i < end; ++i) {
    const double g = grads[i];
    const double mi = b1 * static_cast<double>(m[i]) + one_b1 * g;
    const double vi = b2 * static_cast<double>(v[i]) + one_b2 * (g * g);
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    const double p = static_cast<double>(params[i]) * decay;
    params[i] = static_cast<float>(p - step_size * mi / (std::sqrt(vi * inv_bc2) + c.eps));
  }
}

void adam_step(float* params, const float* grads, float* m, float* v, int64_t n,
               const AdamConfig& cfg) {
  adam_check(cfg);
  check_arrays("adam_step", n, {params, grads, m, v});
  const bool simd = use_avx2_fma(), wide = use_avx512();
  for_chunks(n, [&](int64_t begin, int64_t end) {
    if (wide)
      adam_step_avx512(params, grads, m, v, begin, end, cfg);
    else if (simd)
      adam_step_avx2(params, grads, m, v, begin, end, cfg);
    else
      adam_step_plain(params, grads, m, v, begin, end, cfg);
  });
}

// ---- SGD -------------------------------------------------------------------------------------

void sgd_check(const SgdConfig& c) {
  if (!finite_at_least(c.lr, 0) || !finite_at_least(c.momentum, 0) || !(c.momentum <= 1) ||
      !finite_at_least(c.weight_decay, 0) || (c.nesterov && !(c.momentum > 0))) {
    throw KernelError("E_ARG",
                      "sgd_step: need lr >= 0, momentum in [0, 1], weight_decay >= 0, and "
                      "momentum > 0 for nesterov");
  }
}

void sgd_step(float* params, const float* grads, float* velocity, int64_t n, const SgdConfig& c) {
  sgd_check(c);
  const bool momentum = c.momentum != 0;
  check_arrays("sgd_step", n, {params, grads});
  if (n > 0 && momentum && velocity == nullptr) {
    throw KernelError("E_ARG", "sgd_step: momentum needs a velocity array");
  }
  const bool decay = c.weight_decay != 0;  // skipped when 0 so Inf params do not turn NaN
  const double lr = c.lr, mu = c.momentum, wd = c.weight_decay;
  const bool nesterov = c.nesterov;
  // The flags are loop-invariant: the compiler unswitches the loop, one branch-free body each.
  for_chunks(n, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const double p = params[i];
      double g = grads[i];
      if (decay) g += wd * p;
      double update = g;
      if (momentum) {
        const double vi = mu * static_cast<double>(velocity[i]) + g;
        velocity[i] = static_cast<float>(vi);
        update = nesterov ? g + mu * vi : vi;
      }
      params[i] = static_cast<float>(p - lr * update);
    }
  });
}

// ---- global norm and clipping ------------------------------------------------------------------

namespace {

struct BlockRef {
  int64_t array, begin, size;
};

std::vector<BlockRef> blocks_of(const int64_t* sizes, int64_t count) {
  std::vector<BlockRef> blocks;
  for (int64_t a = 0; a < count; ++a) {
    if (sizes[a] < 0) throw KernelError("E_ARG", "grad_norm: negative size");
    for (int64_t b = 0; b < sizes[a]; b += kReduceBlock) {
      blocks.push_back({a, b, std::min(kReduceBlock, sizes[a] - b)});
    }
  }
  return blocks;
}

constexpr int64_t kBlocksPerChunk = 8;

double norm_of_blocks(const float* const* arrays, const std::vector<BlockRef>& blocks) {
  const int64_t nb = static_cast<int64_t>(blocks.size());
  std::vector<double> partial(blocks.size());
  parallel_for((nb + kBlocksPerChunk - 1) / kBlocksPerChunk, [&](int64_t c) {
    for (int64_t k = c * kBlocksPerChunk; k < std::min(nb, (c + 1) * kBlocksPerChunk); ++k) {
      const BlockRef& b = blocks[static_cast<size_t>(k)];
      partial[static_cast<size_t>(k)] = reduce_block_sum_squares(arrays[b.array] + b.begin, b.size);
    }
  });
  double total = 0;
  for (double p : partial) total += p;
  return std::sqrt(total);
}

void check_list(const char* fn, const void* const* arrays, const int64_t* sizes, int64_t count) {
  if (count < 0) throw KernelError("E_ARG", std::string(fn) + ": negative count");
  if (count > 0 && (arrays == nullptr || sizes == nullptr)) {
    throw KernelError("E_ARG", std::string(fn) + ": null list");
  }
  for (int64_t a = 0; a < count; ++a) {
    if (sizes[a] > 0 && arrays[a] == nullptr)
      throw KernelError("E_ARG", std::string(fn) + ": null array");
  }
}

}  // namespace

double grad_norm(const float* const* arrays, const int64_t* sizes, int64_t count) {
  check_list("grad_norm", reinterpret_cast<const void* const*>(arrays), sizes, count);
  return norm_of_blocks(arrays, blocks_of(sizes, count));
}

double clip_grad_norm(float* const* arrays, const int64_t* sizes, int64_t count, double max_norm) {
  if (!(max_norm > 0)) throw KernelError("E_ARG", "clip_grad_norm: max_norm must be > 0");
  check_list("clip_grad_norm", reinterpret_cast<const void* const*>(arrays), sizes, count);
  const std::vector<BlockRef> blocks = blocks_of(sizes, count);
  const double norm = norm_of_blocks(arrays, blocks);
  if (!std::isfinite(norm) || !(norm > max_norm)) return norm;
  const double scale = max_norm / norm;
  const int64_t nb = static_cast<int64_t>(blocks.size());
  parallel_for((nb + kBlocksPerChunk - 1) / kBlocksPerChunk, [&](int64_t c) {
    for (int64_t k = c * kBlocksPerChunk; k < std::min(nb, (c + 1) * kBlocksPerChunk); ++k) {
      const BlockRef& b = blocks[static_cast<size_t>(k)];
      float* x = arrays[b.array] + b.begin;
      for (int64_t i = 0; i < b.size; ++i)
        x[i] = static_cast<float>(static_cast<double>(x[i]) * scale);
    }
  });
  return norm;
}

}  // namespace deepgen
