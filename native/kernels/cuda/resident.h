// Counts the device memory held by model handles, for `deepgen info` (resident_bytes()).
#pragma once
#include <cstdint>

namespace deepgen {
namespace cuda {

void add_resident_bytes(int64_t delta);

// Adds its byte count on construction and removes it on destruction.
class ResidentBytes {
 public:
  explicit ResidentBytes(uint64_t bytes) : bytes_(bytes) {
    add_resident_bytes(static_cast<int64_t>(bytes));
  }
  ~ResidentBytes() { add_resident_bytes(-static_cast<int64_t>(bytes_)); }
  ResidentBytes(const ResidentBytes&) = delete;
  ResidentBytes& operator=(const ResidentBytes&) = delete;

 private:
  uint64_t bytes_;
};

}  // namespace cuda
}  // namespace deepgen
