// What a long-running kernel gets from its caller: a cancel flag to poll between chunks of
// work and a progress sink. Plain C++ (no N-API), so kernels stay testable from C++ tests.
#pragma once
#include <cstdint>
#include <functional>

#include "errors.h"

namespace deepgen {

struct JobHooks {
  // Points into a JS-owned Int32Array; JS raises it with Atomics.store when an AbortSignal
  // fires. Read relaxed: a late read only delays cancellation by one chunk.
  const int32_t* cancel_flag = nullptr;
  std::function<void(double)> progress;  // fraction done in [0, 1]; may be empty

  bool cancel_requested() const {
    return cancel_flag != nullptr && __atomic_load_n(cancel_flag, __ATOMIC_RELAXED) != 0;
  }
  void throw_if_cancelled() const {
    if (cancel_requested()) throw Cancelled();
  }
  void report(double fraction) const {
    if (progress) progress(fraction);
  }
};

// For synchronous calls and tests: never cancelled, no progress.
inline const JobHooks& no_hooks() {
  static const JobHooks hooks;
  return hooks;
}

}  // namespace deepgen
