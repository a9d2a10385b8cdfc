/**
 * JS twin of native/kernels/cpu/fma_probe.cc: `chunks` chunks of FMA_PROBE_LANES independent
 * chains acc = acc * m + a, `iters` iterations each; returns the sum of the accumulators.
 * JS has no fused multiply-add, so each step rounds twice (the native AVX2 path once): the
 * sums agree to float rounding, not bit for bit.
 */
export const FMA_PROBE_LANES = 192;
const M = Math.fround(0.999);
const A = Math.fround(0.001);

export function fmaProbeChunk(iters: number): number {
  const acc = new Float32Array(FMA_PROBE_LANES);
  for (let l = 0; l < FMA_PROBE_LANES; l++) acc[l] = Math.fround(0.01) * l;
  for (let it = 0; it < iters; it++) {
    for (let l = 0; l < FMA_PROBE_LANES; l++) acc[l] = acc[l]! * M + A;
  }
  let sum = 0;
  for (let l = 0; l < FMA_PROBE_LANES; l++) sum += acc[l]!;
  return sum;
}

export function fmaProbe(iters: number, chunks: number): number {
  let total = 0;
  for (let c = 0; c < chunks; c++) total += fmaProbeChunk(iters);
  return total;
}
