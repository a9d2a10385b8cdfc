// The NADE block kernels compiled for AVX-512F (chosen at run time in nade.cc when
// use_avx512()): the same source as nade_avx2.cc, each 16-lane partial sum and each row update
// one zmm register instead of two ymm. Its library compiles it with -mavx2 -mfma; the pragma
// adds AVX-512F (and 512-bit auto-vectorization) to every function defined below it, headers
// included. Off x86 it is the generic code, never selected.
#include <cmath>
#include <cstdint>
#include <cstring>

// Declarations and library templates come first, outside the pragma (clang warns when a target
// attribute reaches an already defined library function): what follows the pragma is the
// kernels and the small inline math they vectorize.
#include "../../common/philox.h"
#include "nade.h"

#if defined(__x86_64__) || defined(_M_X64)
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#elif defined(__GNUC__)
#pragma GCC target("avx512f", "prefer-vector-width=512")
#endif
#endif

#define NADE_IMPL_NAMESPACE nade_avx512
#include "nade_impl.h"

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__clang__)
#pragma clang attribute pop
#endif
