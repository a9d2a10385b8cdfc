// Type tags of the External handles the addon hands out. A function accepts a handle only if
// it carries the tag of its own kind, so a handle of one kind passed to another kind's
// function is an E_ARG, not a pointer reinterpreted as the wrong struct: the tags must differ
// (checked at compile time below; keep every tag in this one file).
#pragma once
#include <node_api.h>

namespace deepgen {
namespace addon {

inline constexpr napi_type_tag kCudaNadeTag = {0x6a0d1c5e2f3b4a79ULL, 0x9e3779b97f4a7c15ULL};
inline constexpr napi_type_tag kCudaPixelRnnTag = {0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL};
inline constexpr napi_type_tag kCudaDcganTag = {0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL};
inline constexpr napi_type_tag kPreparedNetTag = {0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

constexpr bool distinct_tags(const napi_type_tag& a, const napi_type_tag& b) {
  return a.lower != b.lower || a.upper != b.upper;
}
static_assert(distinct_tags(kCudaNadeTag, kCudaPixelRnnTag) &&
                  distinct_tags(kCudaNadeTag, kCudaDcganTag) &&
                  distinct_tags(kCudaPixelRnnTag, kCudaDcganTag) &&
                  distinct_tags(kPreparedNetTag, kCudaNadeTag) &&
                  distinct_tags(kPreparedNetTag, kCudaPixelRnnTag) &&
                  distinct_tags(kPreparedNetTag, kCudaDcganTag),
              "every handle kind needs its own type tag");

}  // namespace addon
}  // namespace deepgen
