// The NADE block kernels compiled with -mavx2 -mfma (chosen at run time in nade.cc).
#define NADE_IMPL_NAMESPACE nade_avx2
#include "nade_impl.h"
