// Reads a fuzzer's bytes as bounded parameters. Past the end every read returns its lower
// bound, so any input (the empty one too) decodes to a valid-looking case.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace fuzz {

// Inputs that passed the parameter checks and ran the kernels (the driver reports it, so a
// run that only ever exercised the refusals shows as such).
inline long long reached = 0;

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  // An integer in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) {
    if (hi <= lo) return lo;
    uint64_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | byte();
    return lo + static_cast<int64_t>(v % static_cast<uint64_t>(hi - lo + 1));
  }
  bool flag() { return (byte() & 1) != 0; }
  // Values in [-1, 1], deterministic from the input's remaining bytes.
  std::vector<float> values(int64_t n) {
    std::vector<float> v(static_cast<size_t>(n));
    uint32_t s = static_cast<uint32_t>(range(0, 1 << 30)) | 1u;
    for (auto& x : v) {
      s ^= s << 13;
      s ^= s >> 17;
      s ^= s << 5;
      x = static_cast<float>(s % 2001) / 1000.0f - 1.0f;
    }
    return v;
  }

 private:
  uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A property failure: print and abort, which libFuzzer and the standalone driver both report.
[[noreturn]] inline void fail(const char* what, double got, double want, int64_t at) {
  std::fprintf(stderr, "fuzz property failed: %s at %lld: %g vs %g\n", what,
               static_cast<long long>(at), got, want);
  std::abort();
}

// The fast kernel and its plain twin agree to float rounding.
inline void expect_close(const char* what, const std::vector<float>& got,
                         const std::vector<float>& want) {
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    if (!(std::abs(g - w) <= 1e-3 * (1.0 + std::abs(w)))) fail(what, g, w, static_cast<int64_t>(i));
  }
}

}  // namespace fuzz
