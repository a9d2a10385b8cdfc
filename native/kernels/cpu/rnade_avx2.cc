// The RNADE per-sample kernels compiled with -mavx2 -mfma (chosen at run time in rnade.cc).
#define RNADE_IMPL_NAMESPACE rnade_avx2
#include "rnade_impl.h"
