// SGEMM in the BLIS style: for each NC-wide column panel and KC-deep slice of K, pack the
// B panel into NR-wide slivers and A into MR-tall slivers (contiguous, zero-padded at the
// edges), then run an MR x NR micro-kernel over every tile of C. Tiles are spread over the
// thread pool; every element of C is produced by one tile with a fixed order over k, so the
// result is the same for any thread count.
#include "gemm.h"

#include <algorithm>
#include <cstring>

#include "../../common/scratch.h"
#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/thread_pool.h"
#include "dot_lanes.h"
#include "gemm_kernel.h"

namespace deepgen {

namespace {

constexpr int64_t MR = kGemmMR;
constexpr int64_t NR = kGemmNR;
constexpr int64_t KC = 384;   // a KC x NR sliver of B (24 KB) stays in L1
constexpr int64_t MC = 120;   // an MC x KC block of A (180 KB) stays in L2
constexpr int64_t NC = 2048;  // a KC x NC panel of B (2 MB) stays in L3
// Below this many multiply-adds, packing costs more than it saves.
constexpr int64_t kSmallGemm = 16 * 16 * 16;
// Up to this many multiply-adds (a 128^3 product) one thread beats two.
constexpr int64_t kSingleThreadGemm = 128 * 128 * 128 + 1;
// A with at most this many rows times a transposed B: row-by-row dot products (sgemm_dots).
constexpr int64_t kDotsMaxRows = 4;
constexpr int64_t kDotsColsPerTask = 512;

inline float a_at(const GemmArgs& g, const float* a, int64_t i, int64_t p) {
  return g.trans_a ? a[p * g.lda + i] : a[i * g.lda + p];
}
inline float b_at(const GemmArgs& g, const float* b, int64_t p, int64_t j) {
  return g.trans_b ? b[j * g.ldb + p] : b[p * g.ldb + j];
}

// Packs rows [i0, i0 + MR) x k in [p0, p0 + kc) of op(A): out[p * MR + r], zero past M.
void pack_a_sliver(const GemmArgs& g, const float* a, int64_t i0, int64_t p0, int64_t kc,
                   float* out) {
  const int64_t rows = std::min<int64_t>(MR, g.m - i0);
  if (rows == MR) {
    // Full slivers: walk the source along its rows (contiguous reads).
    if (!g.trans_a) {
      for (int64_t r = 0; r < MR; ++r) {
        const float* src = a + (i0 + r) * g.lda + p0;
        for (int64_t p = 0; p < kc; ++p) out[p * MR + r] = src[p];
      }
    } else {
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = a + (p0 + p) * g.lda + i0;
        for (int64_t r = 0; r < MR; ++r) out[p * MR + r] = src[r];
      }
    }
    return;
  }
  for (int64_t p = 0; p < kc; ++p) {
    for (int64_t r = 0; r < MR; ++r) {
      out[p * MR + r] = r < rows ? a_at(g, a, i0 + r, p0 + p) : 0.0f;
    }
  }
}

// Packs k in [p0, p0 + kc) x columns [j0, j0 + NR) of op(B): out[p * NR + c], zero past N.
void pack_b_sliver(const GemmArgs& g, const float* b, int64_t p0, int64_t kc, int64_t j0,
                   float* out) {
  const int64_t cols = std::min<int64_t>(NR, g.n - j0);
  if (cols == NR) {
    // Full slivers: walk the source along its rows (contiguous reads).
    if (!g.trans_b) {
      for (int64_t p = 0; p < kc; ++p) {
        std::memcpy(out + p * NR, b + (p0 + p) * g.ldb + j0, NR * sizeof(float));
      }
    } else if (use_avx2_fma()) {
      sgemm_pack_b_trans_avx2(b + j0 * g.ldb + p0, g.ldb, kc, out);
    } else {
      for (int64_t c = 0; c < NR; ++c) {
        const float* src = b + (j0 + c) * g.ldb + p0;
        for (int64_t p = 0; p < kc; ++p) out[p * NR + c] = src[p];
      }
    }
    return;
  }
  for (int64_t p = 0; p < kc; ++p) {
    for (int64_t c = 0; c < NR; ++c) {
      out[p * NR + c] = c < cols ? b_at(g, b, p0 + p, j0 + c) : 0.0f;
    }
  }
}

using MicroKernel = void (*)(int64_t, const float*, const float*, float*, int64_t, float, float);

// The micro-kernel when AVX2/FMA is not in use: NEON on arm64 (same results as the portable
// one, see gemm_neon.cc), the portable loops elsewhere.
#if defined(__aarch64__) && defined(__ARM_NEON)
constexpr MicroKernel kBaseMicro = sgemm_micro_neon;
#else
constexpr MicroKernel kBaseMicro = sgemm_micro_portable;
#endif

// One tile: full tiles write C directly; edge tiles go through a scratch tile.
inline void run_tile(MicroKernel micro, int64_t kc, const float* ap, const float* bp, float* c,
                     int64_t ldc, int64_t rows, int64_t cols, float alpha, float beta) {
  if (rows == MR && cols == NR) {
    micro(kc, ap, bp, c, ldc, alpha, beta);
    return;
  }
  // A short tile of full width: only its rows, straight into C (same arithmetic, see
  // gemm_kernel.h). Matters most for a product of one row (a layer at batch 1).
  if (cols == NR && micro == sgemm_micro_avx2) {
    sgemm_micro_rows_avx2(static_cast<int>(rows), kc, ap, bp, c, ldc, alpha, beta);
    return;
  }
  alignas(32) float tile[MR * NR];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t col = 0; col < cols; ++col) tile[r * NR + col] = c[r * ldc + col];
  }
  micro(kc, ap, bp, tile, NR, alpha, beta);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t col = 0; col < cols; ++col) c[r * ldc + col] = tile[r * NR + col];
  }
}

// One KC slice of C's tiles, for the tasks of sgemm_blocked and gemm_packed.
struct SliceTiles {
  MicroKernel micro;
  bool wide;  // AVX-512: adjacent full-width slivers in pairs (sgemm_micro_pair_avx512)
  int64_t m, n, kc, j_base, ldc;
  const float* ap;  // the slice's packed A slivers
  const float* bp;  // the slice's packed B slivers, from column j_base on
  float* c;         // C at row 0, column j_base
  float alpha, beta;
};

// Tasks: MC-tall row blocks x column chunks of 4 slivers (64 columns).
constexpr int64_t kSliversPerTask = 4;

// The tiles of task `task` (row block x column chunk) of a slice with n_slivers slivers.
void run_task(const SliceTiles& t, int64_t task, int64_t n_slivers) {
  const int64_t col_chunks = (n_slivers + kSliversPerTask - 1) / kSliversPerTask;
  const int64_t rb = task / col_chunks, cc = task % col_chunks;
  const int64_t s_end = std::min(n_slivers, (cc + 1) * kSliversPerTask);
  const int64_t i_end = std::min(t.m, (rb + 1) * MC);
  for (int64_t s = cc * kSliversPerTask; s < s_end;) {
    const int64_t j0 = s * NR;
    const float* bs = t.bp + s * NR * t.kc;
    if (t.wide && s + 1 < s_end && t.j_base + j0 + 2 * NR <= t.n) {
      for (int64_t i0 = rb * MC; i0 < i_end; i0 += MR) {
        const int rows = static_cast<int>(std::min<int64_t>(MR, t.m - i0));
        sgemm_micro_pair_avx512(rows, t.kc, t.ap + (i0 / MR) * MR * t.kc, bs, bs + NR * t.kc,
                                t.c + i0 * t.ldc + j0, t.ldc, t.alpha, t.beta);
      }
      s += 2;
      continue;
    }
    const int64_t cols = std::min<int64_t>(NR, t.n - t.j_base - j0);
    for (int64_t i0 = rb * MC; i0 < i_end; i0 += MR) {
      const int64_t rows = std::min<int64_t>(MR, t.m - i0);
      run_tile(t.micro, t.kc, t.ap + (i0 / MR) * MR * t.kc, bs, t.c + i0 * t.ldc + j0, t.ldc, rows,
               cols, t.alpha, t.beta);
    }
    ++s;
  }
}

// One matrix of the batch with the blocked algorithm, tiles spread over `threads`.
void sgemm_blocked(const GemmArgs& g, const float* a, const float* b, float* c, int threads) {
  const MicroKernel micro = use_avx2_fma() ? sgemm_micro_avx2 : kBaseMicro;
  const bool wide = use_avx512();
  const int64_t m_slivers = (g.m + MR - 1) / MR;
  // The packed panels live in per-thread scratch that keeps its pages: training calls this
  // thousands of times an epoch, and fresh buffers each time cost more in page faults than
  // the packing itself (sgemm never runs nested on one thread; see scratch.h).
  float* const ap = thread_scratch(ScratchSlot::kGemmA, static_cast<size_t>(m_slivers * MR * KC));
  float* const bp = thread_scratch(
      ScratchSlot::kGemmB, static_cast<size_t>(std::min(NC, (g.n + NR - 1) / NR * NR) * KC));
  // K is cut into equal slices of at most KC: 784 becomes 3 x 262, not 384 + 384 + 16,
  // so no pass runs the micro-kernel on a sliver too thin to pay for its C update.
  const int64_t kc_step = gemm_k_step(g.k);
  for (int64_t jc = 0; jc < g.n; jc += NC) {
    const int64_t nc = std::min(NC, g.n - jc);
    const int64_t n_slivers = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < g.k; pc += kc_step) {
      const int64_t kc = std::min(kc_step, g.k - pc);
      const float beta = pc == 0 ? g.beta : 1.0f;
      // One parallel region packs both panels: B slivers first, then A slivers.
      parallel_for(
          n_slivers + m_slivers,
          [&](int64_t s) {
            if (s < n_slivers)
              pack_b_sliver(g, b, pc, kc, jc + s * NR, bp + s * NR * kc);
            else
              pack_a_sliver(g, a, (s - n_slivers) * MR, pc, kc, ap + (s - n_slivers) * MR * kc);
          },
          threads);
      const SliceTiles tiles{micro, wide, g.m, g.n, kc, jc, g.ldc, ap, bp, c + jc, g.alpha, beta};
      const int64_t row_blocks = (g.m + MC - 1) / MC;
      const int64_t col_chunks = (n_slivers + kSliversPerTask - 1) / kSliversPerTask;
      parallel_for(
          row_blocks * col_chunks, [&](int64_t task) { run_task(tiles, task, n_slivers); },
          threads);
    }
  }
}

// Tiny matrices: the plain loops of one matrix, no packing.
void sgemm_small(const GemmArgs& g, const float* a, const float* b, float* c) {
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < g.n; ++j) {
      float acc = 0.0f;
      for (int64_t p = 0; p < g.k; ++p) acc += a_at(g, a, i, p) * b_at(g, b, p, j);
      float& out = c[i * g.ldc + j];
      out = g.beta == 0.0f ? g.alpha * acc : g.alpha * acc + g.beta * out;
    }
  }
}

// C = alpha A B^T + beta C for a few rows of A: each C value is one dot product of two
// contiguous rows, so B (e.g. a dense layer's weight at batch 1) is read once, in place.
// Packing it would copy all of B for a handful of multiply-adds per value.
void sgemm_dots(const GemmArgs& g, const float* a, const float* b, float* c, int threads) {
  const auto dots_fn = use_avx2_fma() ? sgemm_dots_avx2 : sgemm_dots_portable;
  const int64_t tasks = (g.n + kDotsColsPerTask - 1) / kDotsColsPerTask;
  const bool parallel = g.m * g.n * g.k >= kSingleThreadGemm;
  parallel_for(
      g.m * tasks,
      [&](int64_t task) {
        const int64_t i = task / tasks, j0 = (task % tasks) * kDotsColsPerTask;
        const int64_t nb = std::min(kDotsColsPerTask, g.n - j0);
        float* out = c + i * g.ldc + j0;
        float dot[kDotsColsPerTask];
        dots_fn(a + i * g.lda, b + j0 * g.ldb, nb, g.k, dot);
        for (int64_t j = 0; j < nb; ++j)
          out[j] = g.beta == 0.0f ? g.alpha * dot[j] : g.alpha * dot[j] + g.beta * out[j];
      },
      parallel ? threads : 1);
}

// C = beta * C when there is nothing to multiply (k == 0 or alpha == 0).
void scale_c(const GemmArgs& g, float* c) {
  for (int64_t i = 0; i < g.m; ++i) {
    float* row = c + i * g.ldc;
    for (int64_t j = 0; j < g.n; ++j) row[j] = g.beta == 0.0f ? 0.0f : g.beta * row[j];
  }
}

void sgemm_one(const GemmArgs& g, const float* a, const float* b, float* c, int threads) {
  if (g.m == 0 || g.n == 0) return;
  if (g.k == 0 || g.alpha == 0.0f) {
    scale_c(g, c);
    return;
  }
  if (g.m * g.n * g.k <= kSmallGemm) {
    sgemm_small(g, a, b, c);
    return;
  }
  if (g.m <= kDotsMaxRows && !g.trans_a && g.trans_b && g.ldb == g.k) {
    sgemm_dots(g, a, b, c, threads);
    return;
  }
  // Below a few MFLOP the pool's wake-ups cost more than a second thread saves.
  sgemm_blocked(g, a, b, c, g.m * g.n * g.k < kSingleThreadGemm ? 1 : threads);
}

// Where slice [pc, pc + kc) of a packed operand with `slivers` slivers of width w starts.
inline int64_t slice_offset(int64_t pc, int64_t slivers, int64_t w) { return pc * slivers * w; }

}  // namespace

int64_t gemm_k_step(int64_t k, int64_t max_kc) {
  const int64_t limit = max_kc > 0 ? max_kc : KC;
  const int64_t k_slices = (k + limit - 1) / limit;
  return k_slices == 0 ? 0 : (k + k_slices - 1) / k_slices;
}

int64_t gemm_packed_a_size(int64_t m, int64_t k) { return (m + MR - 1) / MR * MR * k; }
int64_t gemm_packed_b_size(int64_t n, int64_t k) { return (n + NR - 1) / NR * NR * k; }

void gemm_pack_a(const GemmArgs& g, float* out, int max_threads) {
  const int64_t slivers = (g.m + MR - 1) / MR, step = gemm_k_step(g.k);
  for (int64_t pc = 0; pc < g.k; pc += step) {
    const int64_t kc = std::min(step, g.k - pc);
    float* base = out + slice_offset(pc, slivers, MR);
    parallel_for(
        slivers, [&](int64_t s) { pack_a_sliver(g, g.a, s * MR, pc, kc, base + s * MR * kc); },
        max_threads);
  }
}

void gemm_pack_b(const GemmArgs& g, float* out, int max_threads) {
  const int64_t slivers = (g.n + NR - 1) / NR, step = gemm_k_step(g.k);
  for (int64_t pc = 0; pc < g.k; pc += step) {
    const int64_t kc = std::min(step, g.k - pc);
    float* base = out + slice_offset(pc, slivers, NR);
    parallel_for(
        slivers, [&](int64_t s) { pack_b_sliver(g, g.b, pc, kc, s * NR, base + s * NR * kc); },
        max_threads);
  }
}

void gemm_packed(int64_t m, int64_t n, int64_t k, const float* packed_a, const float* packed_b,
                 float* c, int64_t ldc, int max_threads) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const MicroKernel micro = use_avx2_fma() ? sgemm_micro_avx2 : kBaseMicro;
  const int64_t m_slivers = (m + MR - 1) / MR, n_slivers = (n + NR - 1) / NR;
  const int64_t step = gemm_k_step(k);
  const int threads =
      m * n * k < kSingleThreadGemm ? 1 : (max_threads > 0 ? max_threads : thread_limit());
  const int64_t row_blocks = (m + MC - 1) / MC;
  const int64_t col_chunks = (n_slivers + kSliversPerTask - 1) / kSliversPerTask;
  for (int64_t pc = 0; pc < k; pc += step) {
    const int64_t kc = std::min(step, k - pc);
    const SliceTiles tiles{micro,
                           use_avx512(),
                           m,
                           n,
                           kc,
                           0,
                           ldc,
                           packed_a + slice_offset(pc, m_slivers, MR),
                           packed_b + slice_offset(pc, n_slivers, NR),
                           c,
                           1.0f,
                           pc == 0 ? 0.0f : 1.0f};
    parallel_for(
        row_blocks * col_chunks, [&](int64_t task) { run_task(tiles, task, n_slivers); }, threads);
  }
}

void sgemm_micro_portable(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                          float alpha, float beta) {
  float acc[kGemmMR][kGemmNR] = {};
  for (int64_t p = 0; p < kc; ++p) {
    for (int r = 0; r < kGemmMR; ++r) {
      const float av = a[p * kGemmMR + r];
      for (int col = 0; col < kGemmNR; ++col) acc[r][col] += av * b[p * kGemmNR + col];
    }
  }
  sgemm_tile_store(&acc[0][0], c, ldc, alpha, beta);
}

// Kept out of line (and unspecialized) so that every caller runs this one compiled copy.
#if defined(__clang__)
__attribute__((noinline))
#elif defined(__GNUC__)
__attribute__((noinline, noclone))
#endif
void sgemm_tile_store(const float* acc, float* c, int64_t ldc, float alpha, float beta) {
  for (int r = 0; r < kGemmMR; ++r) {
    for (int col = 0; col < kGemmNR; ++col) {
      float& out = c[r * ldc + col];
      const float v = acc[r * kGemmNR + col];
      out = beta == 0.0f ? alpha * v : alpha * v + beta * out;
    }
  }
}

void sgemm_dots_portable(const float* v, const float* h, int64_t nb, int64_t n, float* out) {
  dots(v, h, nb, n, out);
}

void sgemm_check(const GemmArgs& g) {
  if (g.m < 0 || g.n < 0 || g.k < 0 || g.batch < 0)
    throw KernelError("E_ARG", "sgemm: negative size");
  const int64_t a_cols = g.trans_a ? g.m : g.k;
  const int64_t b_cols = g.trans_b ? g.k : g.n;
  if (g.lda < a_cols || g.ldb < b_cols || g.ldc < g.n) {
    throw KernelError("E_ARG", "sgemm: leading dimension smaller than the row length");
  }
  if (g.stride_a < 0 || g.stride_b < 0 || g.stride_c < 0) {
    throw KernelError("E_ARG", "sgemm: negative stride");
  }
}

void sgemm_plain(const GemmArgs& g) {
  sgemm_check(g);
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    const float* a = g.a + bi * g.stride_a;
    const float* b = g.b + bi * g.stride_b;
    float* c = g.c + bi * g.stride_c;
    if (g.k == 0 || g.alpha == 0.0f) {
      scale_c(g, c);
      continue;
    }
    sgemm_small(g, a, b, c);
  }
}

void sgemm(const GemmArgs& g, int max_threads) {
  sgemm_check(g);
  if (g.batch == 0) return;
  const int threads = max_threads > 0 ? max_threads : thread_limit();
  // Many small matrices: one matrix per task, when their C blocks cannot overlap (a smaller
  // C stride would make tasks race). Otherwise: matrices in turn, tiles in parallel.
  const bool c_disjoint = g.m == 0 || g.n == 0 || g.stride_c >= (g.m - 1) * g.ldc + g.n;
  if (g.batch > 1 && c_disjoint && g.m * g.n * g.k <= 128 * 128 * 128) {
    parallel_for(
        g.batch,
        [&](int64_t bi) {
          sgemm_one(g, g.a + bi * g.stride_a, g.b + bi * g.stride_b, g.c + bi * g.stride_c, 1);
        },
        threads);
    return;
  }
  for (int64_t bi = 0; bi < g.batch; ++bi) {
    sgemm_one(g, g.a + bi * g.stride_a, g.b + bi * g.stride_b, g.c + bi * g.stride_c, threads);
  }
}

}  // namespace deepgen
