#include "conv_args.h"

#include <string>

namespace deepgen {
namespace addon {

void check_conv_arrays(Napi::Env env, const char* fn, std::initializer_list<ConvArray> arrays) {
  const auto length = [](const ConvArray& r) { return static_cast<int64_t>(r.a.ElementLength()); };
  for (const ConvArray& r : arrays) {
    if (r.a.IsEmpty()) {
      if (r.required)
        throw make_error(env, "E_ARG", std::string(fn) + ": " + r.name + " is required");
      continue;
    }
    if (length(r) != r.need) {
      throw make_error(env, "E_SHAPE",
                       std::string(fn) + ": " + r.name + " has " + std::to_string(length(r)) +
                           " elements, expected " + std::to_string(r.need));
    }
  }
  for (auto p = arrays.begin(); p != arrays.end(); ++p) {
    for (auto q = p + 1; q != arrays.end(); ++q) {
      if (!(p->output || q->output) || p->a.IsEmpty() || q->a.IsEmpty()) continue;
      if (length(*p) == 0 || length(*q) == 0) continue;
      const char* p0 = reinterpret_cast<const char*>(p->a.Data());
      const char* q0 = reinterpret_cast<const char*>(q->a.Data());
      if (p0 < q0 + q->a.ByteLength() && q0 < p0 + p->a.ByteLength()) {
        throw make_error(env, "E_ARG",
                         std::string(fn) + ": " + p->name + " and " + q->name + " overlap");
      }
    }
  }
}

}  // namespace addon
}  // namespace deepgen
