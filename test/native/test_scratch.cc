#include <cstdint>

#include "../../native/common/scratch.h"
#include "check.h"

using namespace deepgen;

// A returned buffer is lent again (its pages already there), and buffers in use at once are
// distinct.
TEST(pooled_buffers_are_reused_and_never_shared) {
  float* first = nullptr;
  {
    PooledBuffer a(PoolKind::kGradBuffers, 1000);
    first = a.data();
    first[999] = 1.0f;  // the whole size is usable
  }
  {
    PooledBuffer b(PoolKind::kGradBuffers, 800);
    CHECK(b.data() == first);
    PooledBuffer c(PoolKind::kGradBuffers, 800);
    CHECK(c.data() != b.data());
    CHECK(reinterpret_cast<uintptr_t>(c.data()) % 64 == 0);
  }
  // Two requests at once get distinct buffers whichever free ones they take.
  PooledBuffer d(PoolKind::kGradBuffers, 100);
  PooledBuffer e(PoolKind::kGradBuffers, 100);
  CHECK(d.data() != e.data());
}
