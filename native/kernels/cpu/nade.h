// NADE (Larochelle & Murray 2011) for binary vectors of length D with H hidden units.
//
// Parameters, stored per dimension so every step reads contiguous rows:
//   WT [D, H]  (the paper's W [H, D], transposed)   c [H]
//   V  [D, H]                                        b [D]
//   order [D]: the autoregressive ordering, a permutation of 0..D-1; step d models
//              dimension o = order[d] given the dimensions of steps < d.
// Step d: h_d = sigmoid(a_d), l_d = b[o] + V[o] . h_d, p(x_o = 1 | x_<) = sigmoid(l_d),
//         a_{d+1} = a_d + WT[o] * x_o, with a_0 = c.
// Because a only changes when x_o = 1, h is recomputed only after such steps (about 13%
// of MNIST pixels): the O(DH) sigmoid cost becomes O(ones * H) with identical results.
//
// Samples are processed in blocks of kNadeBlock in lockstep so each V/WT row is read once
// per block; blocks run in parallel and each sample's arithmetic is independent of the
// blocking, so results do not depend on batch size or thread count.
#pragma once
#include <cstdint>

#include "../../common/job.h"
#include "row_streams.h"

namespace deepgen {

struct NadeParams {
  int64_t d = 0, h = 0;
  const float* wt = nullptr;       // [D, H]
  const float* c = nullptr;        // [H]
  const float* v = nullptr;        // [D, H]
  const float* b = nullptr;        // [D]
  const int32_t* order = nullptr;  // [D]
};

// Throws KernelError(E_ARG) unless sizes are positive and order is a permutation.
void nade_check(const NadeParams& p);

// logp[i] = log p(x_i) in nats, x [n, D] with entries 0 or 1 (> 0.5 counts as 1).
void nade_log_prob(const NadeParams& p, const float* x, int64_t n, float* logp,
                   const JobHooks& hooks = no_hooks());

// Draws n samples into x [n, D]. Sample i (global index sample_offset + i) uses Philox key
// (key0, key1) with counter (d / 4, index mod 2^32, stream, index / 2^32), word d % 4, as
// u = philox_uniform_f64(word); x = u < p. The first `known` steps of the ordering are not
// drawn: x already holds them (completion of a partially observed vector). probs [n, D]
// (optional) receives p(x_o = 1 | x_<) of every dimension.
void nade_sample(const NadeParams& p, int64_t n, uint64_t sample_offset, uint32_t key0,
                 uint32_t key1, uint32_t stream, int64_t known, float* x, float* probs,
                 const JobHooks& hooks = no_hooks());
// The same with each row's key and index from `streams` (row_streams.h): row r of a
// coalesced batch draws bit for bit what it draws as row streams.row(r).index of a lone call
// keyed streams.row(r).key.
void nade_sample(const NadeParams& p, int64_t n, const SampleStreams& streams, int64_t known,
                 float* x, float* probs, const JobHooks& hooks = no_hooks());

// Gradients of  scale * sum_i -log p(x_i)  written (not accumulated) to dwt [D, H], dc [H],
// dv [D, H], db [D]; logp [n] (optional) receives log p(x_i). O(n D H).
void nade_backward(const NadeParams& p, const float* x, int64_t n, float scale, float* logp,
                   float* dwt, float* dc, float* dv, float* db, const JobHooks& hooks = no_hooks());

constexpr int64_t kNadeBlock = 8;

// Scratch memory of one block, allocated by the caller (nade.cc) so that the AVX2 build of
// the block kernels uses no library templates (whose AVX2 instantiations could otherwise
// replace the baseline ones at link time).
struct NadeWorkspace {
  float* a;       // [nb, H] pre-activations
  float* h;       // [nb, H] hidden units
  float* acc;     // [nb, H] backward: sum of later dL/da
  char* stale;    // [nb] h needs recomputing
  float* z;       // [nb, D] signed logits (x ? -l : l): -log p(x_o | .) = softplus(z)
  float* tmp;     // [D] scratch
  float* l;       // [nb] dot products of the current step
  uint32_t* rng;  // [nb, 4] current Philox block per sample
};

// The three builds of the block kernels (nade_impl.h compiled plain, with AVX2/FMA and with
// AVX-512F).
#define DEEPGEN_NADE_BLOCK_KERNELS                                                             \
  void log_prob_block(const NadeParams& p, const NadeWorkspace& w, const float* x, int64_t nb, \
                      float* logp);                                                            \
  void sample_block(const NadeParams& p, const NadeWorkspace& w, int64_t nb,                   \
                    const RowStream* rows, uint32_t stream, int64_t known, float* x,           \
                    float* probs);                                                             \
  void backward_block(const NadeParams& p, const NadeWorkspace& w, const float* x, int64_t nb, \
                      float scale, float* logp, float* dwt, float* dc, float* dv, float* db);
namespace nade_portable {
DEEPGEN_NADE_BLOCK_KERNELS
}  // namespace nade_portable
namespace nade_avx2 {
DEEPGEN_NADE_BLOCK_KERNELS
}  // namespace nade_avx2
namespace nade_avx512 {
DEEPGEN_NADE_BLOCK_KERNELS
}  // namespace nade_avx512

}  // namespace deepgen
