#pragma once
#include <cstdint>

namespace deepgen {

// Reparameterized sampling of a diagonal Gaussian posterior (Kingma & Welling 2014):
//   z = mu + exp(logvar / 2) * eps,  eps ~ N(0, I) from Philox,
// with k draws per row (k = 1 for training, k importance samples for the IWAE bound).
//
// Noise counters. The draw (sample index s, latent dim j) uses the Philox block with
//   counter (j / 4, s, stream, 0x52455041 "REPA"),  key (key0, key1),
// words 2 (j & 2) .. +1 through Box-Muller exactly as philox_fill's "normal" (word pair (0,1)
// gives dims 4q, 4q+1 as r cos t, r sin t; pair (2,3) gives 4q+2, 4q+3). The sample index of
// output row r * k + i is s = first_sample + r * k + i, so eps of one example does not depend
// on the batch it is in or on the thread count, only on (seed, stream, s, j). The constant
// last counter word keeps these blocks apart from philox_fill's (which uses 0 there).
// Requires first_sample + rows * k <= 2^32.

// reparam_forward
//   mu, logvar: [rows, cols]      eps, z (outputs): [rows * k, cols]
//   eps[r*k+i, j] = normal(s = first_sample + r*k + i, j)
//   z[r*k+i, j]   = mu[r, j] + exp(logvar[r, j] / 2) * eps[r*k+i, j]   (double, rounded once)
void reparam_forward(float* z, float* eps, const float* mu, const float* logvar, int64_t rows,
                     int64_t cols, int64_t k, uint32_t key0, uint32_t key1, uint32_t stream,
                     int64_t first_sample);

// reparam_backward
//   dz, eps: [rows * k, cols]     logvar: [rows, cols]     dmu, dlogvar (outputs): [rows, cols]
//   dmu[r, j]     (+)= sum_i dz[r*k+i, j]
//   dlogvar[r, j] (+)= sum_i dz[r*k+i, j] * eps[r*k+i, j] * exp(logvar[r, j] / 2) / 2
// sums in double over i in order, rounded once; accumulate adds to the old output values
// (e.g. the KL gradient written first), else overwrites.
void reparam_backward(float* dmu, float* dlogvar, const float* dz, const float* eps,
                      const float* logvar, int64_t rows, int64_t cols, int64_t k, bool accumulate);

}  // namespace deepgen
