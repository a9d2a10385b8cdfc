// A heap buffer aligned for AVX loads (64 bytes: also a cache line), freed on scope exit.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <new>

namespace deepgen {

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t n) { resize(n); }
  ~AlignedBuffer() { std::free(ptr_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;

  // Grows (never shrinks) to hold n elements; contents are not preserved.
  void resize(size_t n) {
    if (n <= cap_) return;
    std::free(ptr_);
    ptr_ = nullptr;
    cap_ = 0;
    const size_t bytes = ((n * sizeof(T) + 63) / 64) * 64;
    ptr_ = static_cast<T*>(std::aligned_alloc(64, bytes));
    if (ptr_ == nullptr) throw std::bad_alloc();
    cap_ = n;
  }
  T* data() const { return ptr_; }
  size_t capacity() const { return cap_; }

 private:
  T* ptr_ = nullptr;
  size_t cap_ = 0;
};

}  // namespace deepgen
