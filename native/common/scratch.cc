// See scratch.h.
#include "scratch.h"

#include <mutex>
#include <vector>

namespace deepgen {

namespace {

struct Pool {
  std::mutex mutex;
  std::vector<std::unique_ptr<AlignedBuffer<float>>> free;
};

Pool& pool(PoolKind kind) {
  static Pool pools[static_cast<int>(PoolKind::kCount)];
  return pools[static_cast<int>(kind)];
}

}  // namespace

PooledBuffer::PooledBuffer(PoolKind kind, size_t n) : kind_(kind) {
  {
    Pool& p = pool(kind);
    std::lock_guard<std::mutex> lock(p.mutex);
    // The smallest free buffer that holds n, else the largest (grown below): requests of one
    // kind are mostly of one size, so this keeps the pages already faulted in.
    size_t pick = p.free.size();
    for (size_t i = 0; i < p.free.size(); ++i) {
      const size_t cap = p.free[i]->capacity();
      if (pick == p.free.size()) {
        pick = i;
        continue;
      }
      // A fitting best only gives way to a smaller fitting buffer; a best that does not fit
      // to any larger one (a fitting one is always larger).
      const size_t best = p.free[pick]->capacity();
      if (best >= n ? (cap >= n && cap < best) : cap > best) pick = i;
    }
    if (pick < p.free.size()) {
      buf_ = std::move(p.free[pick]);
      p.free.erase(p.free.begin() + static_cast<std::ptrdiff_t>(pick));
    }
  }
  if (!buf_) buf_ = std::make_unique<AlignedBuffer<float>>();
  buf_->resize(n == 0 ? 1 : n);
}

PooledBuffer::~PooledBuffer() {
  Pool& p = pool(kind_);
  std::lock_guard<std::mutex> lock(p.mutex);
  p.free.push_back(std::move(buf_));
}

}  // namespace deepgen
