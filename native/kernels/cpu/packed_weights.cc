// See packed_weights.h.
#include "packed_weights.h"

#include <algorithm>
#include <cstring>

#include "../../common/cpu_features.h"
#include "../../common/scratch.h"
#include "../../common/thread_pool.h"
#include "gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define DEEPGEN_WIDE_KERNEL 1
#endif

namespace deepgen {

namespace {

constexpr int64_t kMr = 12;   // rows of a wide tile
constexpr int64_t kNr = 32;   // columns: two zmm vectors
constexpr int64_t kKc = 192;  // deepest K slice: a kKc x 32 B sliver (24 KB) stays in L1
constexpr int64_t kMc = 120;  // rows per task: their A slivers (90 KB) stay in L2
constexpr int64_t kSliversPerTask = 4;
// Below this many multiply-adds one thread beats waking the pool.
constexpr int64_t kSingleThread = 64 * 64 * 64;
// Below this many values of A, its packing runs on the calling thread.
constexpr int64_t kPackInline = 64 * 1024;

#ifdef DEEPGEN_WIDE_KERNEL

// Rows [0, R) of a 12 x 32 tile: c (ldc) = acc (first slice) or c + acc, acc the FMA chain of
// a[p * 12 + r] * b[p * 32 + j] over p.
template <int R>
__attribute__((target("avx512f"))) void wide_tile(int64_t kc, const float* a, const float* b,
                                                  float* c, int64_t ldc, bool accumulate) {
  __m512 acc[R][2];
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + 16);
    for (int r = 0; r < R; ++r) {
      const __m512 ar = _mm512_set1_ps(a[r]);
      acc[r][0] = _mm512_fmadd_ps(ar, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(ar, b1, acc[r][1]);
    }
    a += kMr;
    b += kNr;
  }
  for (int r = 0; r < R; ++r) {
    float* cr = c + r * ldc;
    if (accumulate) {
      acc[r][0] = _mm512_add_ps(_mm512_loadu_ps(cr), acc[r][0]);
      acc[r][1] = _mm512_add_ps(_mm512_loadu_ps(cr + 16), acc[r][1]);
    }
    _mm512_storeu_ps(cr, acc[r][0]);
    _mm512_storeu_ps(cr + 16, acc[r][1]);
  }
}

using WideTile = void (*)(int64_t, const float*, const float*, float*, int64_t, bool);
constexpr WideTile kWideTiles[kMr] = {wide_tile<1>, wide_tile<2>,  wide_tile<3>,  wide_tile<4>,
                                      wide_tile<5>, wide_tile<6>,  wide_tile<7>,  wide_tile<8>,
                                      wide_tile<9>, wide_tile<10>, wide_tile<11>, wide_tile<12>};

#endif

}  // namespace

PackedWeights::PackedWeights(const float* b, int64_t k, int64_t n, int64_t ldb, bool trans_b)
    : wide_(false), k_(k), n_(n), k_step_(0) {
#ifdef DEEPGEN_WIDE_KERNEL
  wide_ = use_avx512();
#endif
  if (!wide_) {
    GemmArgs g;
    g.trans_b = trans_b;
    g.k = k;
    g.n = n;
    g.b = b;
    g.ldb = ldb;
    data_.resize(static_cast<size_t>(std::max<int64_t>(1, gemm_packed_b_size(n, k))));
    gemm_pack_b(g, data_.data());
    return;
  }
  k_step_ = gemm_k_step(k, kKc);
  const int64_t slivers = (n + kNr - 1) / kNr;
  data_.resize(static_cast<size_t>(std::max<int64_t>(1, slivers * kNr * k)));
  for (int64_t pc = 0; pc < k; pc += k_step_) {
    const int64_t kc = std::min(k_step_, k - pc);
    float* base = data_.data() + pc * slivers * kNr;
    parallel_for(slivers, [&](int64_t s) {
      float* out = base + s * kNr * kc;
      for (int64_t p = 0; p < kc; ++p) {
        for (int64_t j = 0; j < kNr; ++j) {
          const int64_t col = s * kNr + j, row = pc + p;
          out[p * kNr + j] = col >= n ? 0.0f : trans_b ? b[col * ldb + row] : b[row * ldb + col];
        }
      }
    });
  }
}

void PackedWeights::multiply(const float* a, const Layout& layout, int64_t m, float* c, int64_t ldc,
                             int threads, const Epilogue* epilogue) const {
  if (m == 0 || n_ == 0) return;
  if (k_ == 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n_, 0.0f);
    return;
  }
  if (wide_) {
    multiply_wide(a, layout, m, c, ldc, threads, epilogue);
    return;
  }
  // The shared kernels pack row-major A: gather other layouts into it first.
  const float* rows = a;
  if (layout.k_stride != 1 || layout.group_rows < m) {
    float* gathered = thread_scratch(ScratchSlot::kGathered, static_cast<size_t>(m * k_));
    for (int64_t row = 0; row < m; ++row) {
      const float* src = a + (row / layout.group_rows) * layout.group_stride +
                         (row % layout.group_rows) * layout.row_stride;
      for (int64_t p = 0; p < k_; ++p) gathered[row * k_ + p] = src[p * layout.k_stride];
    }
    rows = gathered;
  }
  GemmArgs g;
  g.m = m;
  g.k = k_;
  g.a = rows;
  g.lda = rows == a ? layout.row_stride : k_;
  float* packed_a =
      thread_scratch(ScratchSlot::kPackedA, static_cast<size_t>(gemm_packed_a_size(m, k_)));
  gemm_pack_a(g, packed_a, threads);
  gemm_packed(m, n_, k_, packed_a, data_.data(), c, ldc, threads);
  if (epilogue != nullptr)
    parallel_for(
        m, [&](int64_t i) { epilogue->apply(c + i * ldc, 0, n_); }, threads);
}

void PackedWeights::multiply_wide(const float* a, const Layout& layout, int64_t m, float* c,
                                  int64_t ldc, int threads, const Epilogue* epilogue) const {
#ifdef DEEPGEN_WIDE_KERNEL
  const int64_t m_slivers = (m + kMr - 1) / kMr, n_slivers = (n_ + kNr - 1) / kNr;
  if (threads <= 0) threads = thread_limit();
  if (m * n_ * k_ < kSingleThread) threads = 1;
  float* packed_a =
      thread_scratch(ScratchSlot::kPackedA, static_cast<size_t>(m_slivers * kMr * k_));
  // A's slivers for every K slice; small inputs on this thread (waking a helper costs more).
  parallel_for(
      m_slivers,
      [&](int64_t s) {
        const float* src[kMr];
        for (int64_t r = 0; r < kMr; ++r) {
          const int64_t row = s * kMr + r;
          src[r] = row >= m ? nullptr
                            : a + (row / layout.group_rows) * layout.group_stride +
                                  (row % layout.group_rows) * layout.row_stride;
        }
        for (int64_t pc = 0; pc < k_; pc += k_step_) {
          const int64_t kc = std::min(k_step_, k_ - pc);
          float* out = packed_a + pc * m_slivers * kMr + s * kMr * kc;
          for (int64_t p = 0; p < kc; ++p)
            for (int64_t r = 0; r < kMr; ++r)
              out[p * kMr + r] = src[r] == nullptr ? 0.0f : src[r][(pc + p) * layout.k_stride];
        }
      },
      m * k_ < kPackInline ? 1 : threads);
  // One pass of tasks (row block x column chunk), each over all K slices of its tiles, then
  // its part of the epilogue: no barrier between slices.
  const int64_t row_blocks = (m + kMc - 1) / kMc;
  const int64_t col_chunks = (n_slivers + kSliversPerTask - 1) / kSliversPerTask;
  parallel_for(
      row_blocks * col_chunks,
      [&](int64_t task) {
        const int64_t rb = task / col_chunks, cc = task % col_chunks;
        const int64_t s_begin = cc * kSliversPerTask;
        const int64_t s_end = std::min(n_slivers, s_begin + kSliversPerTask);
        const int64_t i_begin = rb * kMc, i_end = std::min(m, i_begin + kMc);
        for (int64_t s = s_begin; s < s_end; ++s) {
          const int64_t j0 = s * kNr, cols = std::min(kNr, n_ - j0);
          for (int64_t pc = 0; pc < k_; pc += k_step_) {
            const int64_t kc = std::min(k_step_, k_ - pc);
            const bool accumulate = pc > 0;
            const float* bs = data_.data() + pc * n_slivers * kNr + s * kNr * kc;
            for (int64_t i0 = i_begin; i0 < i_end; i0 += kMr) {
              const int64_t rows = std::min(kMr, m - i0);
              const WideTile tile = kWideTiles[rows - 1];
              const float* as = packed_a + pc * m_slivers * kMr + (i0 / kMr) * kMr * kc;
              if (cols == kNr) {
                tile(kc, as, bs, c + i0 * ldc + j0, ldc, accumulate);
                continue;
              }
              // A short sliver of columns: the tile in scratch, then its columns (same arithmetic).
              alignas(64) float scratch[kMr * kNr];
              for (int64_t r = 0; r < rows; ++r)
                std::memcpy(scratch + r * kNr, c + (i0 + r) * ldc + j0,
                            static_cast<size_t>(cols) * sizeof(float));
              tile(kc, as, bs, scratch, kNr, accumulate);
              for (int64_t r = 0; r < rows; ++r)
                std::memcpy(c + (i0 + r) * ldc + j0, scratch + r * kNr,
                            static_cast<size_t>(cols) * sizeof(float));
            }
          }
        }
        if (epilogue != nullptr) {
          const int64_t j_begin = s_begin * kNr, j_end = std::min(n_, s_end * kNr);
          for (int64_t i = i_begin; i < i_end; ++i)
            epilogue->apply(c + i * ldc + j_begin, j_begin, j_end - j_begin);
        }
      },
      threads);
#else
  (void)a, (void)layout, (void)m, (void)c, (void)ldc, (void)threads, (void)epilogue;
#endif
}

void PackedWeights::Epilogue::apply(float* y, int64_t j0, int64_t len) const {
  if (bias != nullptr)
    for (int64_t j = 0; j < len; ++j) y[j] += bias[j0 + j];
  if (act != Activation::kIdentity) activation_forward_span(act, y, y, len, slope);
}

}  // namespace deepgen
