// Per-thread scratch memory that keeps its pages between calls. A layer's buffers of a few MB,
// freshly allocated on every call, cost more in page faults than the layer's arithmetic at
// small batches; these are allocated once per thread and grow to the largest request.
//
// Each slot is one buffer per thread: a caller must not use a slot that a caller further up
// its own stack is using. Pool threads run one chunk at a time and a waiting caller runs only
// its own call's chunks (thread_pool.h), so distinct slots per nesting level suffice.
#pragma once
#include <cstddef>

#include "aligned_buffer.h"

namespace deepgen {

enum class ScratchSlot : int {
  kPing = 0,
  kPong,
  kCols,
  kPackedA,
  kGathered,
  kGemmA,
  kGemmB,
  kPixelRnn,
  kGradBuffers,
  kCount
};

// A buffer of at least n floats, contents undefined, valid until this thread's next request of
// the same slot.
inline float* thread_scratch(ScratchSlot slot, size_t n) {
  thread_local AlignedBuffer<float> buffers[static_cast<int>(ScratchSlot::kCount)];
  AlignedBuffer<float>& b = buffers[static_cast<int>(slot)];
  b.resize(n == 0 ? 1 : n);
  return b.data();
}

}  // namespace deepgen
