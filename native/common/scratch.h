// Per-thread scratch memory that keeps its pages between calls. A layer's buffers of a few MB,
// freshly allocated on every call, cost more in page faults than the layer's arithmetic at
// small batches; these are allocated once per thread and grow to the largest request.
//
// Each slot is one buffer per thread: a caller must not use a slot that a caller further up
// its own stack is using. Pool threads run one chunk at a time and a waiting caller runs only
// its own call's chunks (thread_pool.h), so distinct slots per nesting level suffice.
#pragma once
#include <cstddef>
#include <memory>

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

// Big per-call working memory (a PixelRNN block's activations, the gradient buffers of the
// fused autoregressive kernels) lent from a process-wide pool for one scope. Per-thread scratch
// does not fit these: an async job runs on whichever libuv worker is free, and each worker's
// first call would fault in tens of MB of fresh pages (several ms per call in a VM). The pool
// hands any thread a buffer whose pages are already there; it holds at most as many buffers
// per kind as have been in use at once.
enum class PoolKind : int { kPixelRnnBlock = 0, kGradBuffers, kCount };

class PooledBuffer {
 public:
  // A buffer of at least n floats, contents undefined.
  PooledBuffer(PoolKind kind, size_t n);
  ~PooledBuffer();
  PooledBuffer(const PooledBuffer&) = delete;
  PooledBuffer& operator=(const PooledBuffer&) = delete;
  float* data() const { return buf_->data(); }

 private:
  PoolKind kind_;
  std::unique_ptr<AlignedBuffer<float>> buf_;
};

}  // namespace deepgen
