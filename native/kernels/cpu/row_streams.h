// Where each row of a sampler's batch draws its Philox numbers. A lone call gives every row
// the call's key and the index offset + r; a coalesced call (many requests, each with its own
// seed, in one batch) gives row r the key of its request and its index within that request, so
// that the row draws exactly what it would draw in a call of its own. The counter layout is
// the samplers' own (see nade.h, rnade.h, pixelrnn.h); only where key and index come from
// changes.
#pragma once
#include <cstdint>

namespace deepgen {

// The key and sample index of one row.
struct RowStream {
  uint64_t index;
  uint32_t key0, key1;
};

struct SampleStreams {
  uint64_t offset = 0;  // index of row 0 when rows is null
  uint32_t key0 = 0, key1 = 0;
  uint32_t stream = 0;  // Philox stream of the whole call (a model constant)
  // [n, 4] or null: key0, key1, index mod 2^32, index / 2^32 of every row.
  const uint32_t* rows = nullptr;

  // Called from the baseline-ISA files only (the AVX2 block kernels get RowStream arrays), so
  // no copy of it compiled with -mavx2 can be picked by the linker.
  RowStream row(int64_t r) const {
    if (rows == nullptr) return {offset + static_cast<uint64_t>(r), key0, key1};
    const uint32_t* w = rows + 4 * r;
    return {(static_cast<uint64_t>(w[3]) << 32) | w[2], w[0], w[1]};
  }
};

}  // namespace deepgen
