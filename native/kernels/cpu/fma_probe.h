#pragma once
#include <cstdint>

#include "../../common/job.h"

namespace deepgen {

// The machine-peak probe: `chunks` independent chunks (spread over the pool), each running
// kFmaProbeLanes independent chains acc = acc * m + a for `iters` iterations. Enough
// independent chains to hide FMA latency, so the time measures throughput: the FLOP count
// is 2 * kFmaProbeLanes * iters * chunks. Returns the sum of all accumulators (each tends
// to a / (1 - m) = 1), which the JS twin reproduces to float rounding.
// 12 AVX-512 registers of 16 floats (the AVX2 path runs it as two halves of 12 ymm chains):
// the widest FMA the CPU executes sets the peak that kernels are compared with.
constexpr int kFmaProbeLanes = 192;
constexpr float kFmaProbeM = 0.999f;
constexpr float kFmaProbeA = 0.001f;

double fma_probe(int64_t iters, int64_t chunks, int max_threads,
                 const JobHooks& hooks = no_hooks());

// Implementations: the portable loop, the AVX2/FMA one and the AVX-512F one
// (fma_probe_avx2.cc; the last only when use_avx512()). All run every lane's chain alike.
void fma_probe_lanes_portable(float* acc, int64_t iters);
void fma_probe_lanes_avx2(float* acc, int64_t iters);
void fma_probe_lanes_avx512(float* acc, int64_t iters);

}  // namespace deepgen
