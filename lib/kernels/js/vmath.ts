/**
 * JS twins of native/kernels/cpu/vmath.h: elementwise exp / log and the scalar functions the
 * activation twins share. Computed in double (Math.*) and rounded once on store, so for a
 * Float32Array they are the correctly rounded float results the native AVX2 polynomials
 * approximate (within 2 ulp; see vmath.h).
 */
import type { FloatArray } from "./types.js";

/** y[i] = exp(x[i]); y may be x. */
export function vexp(x: FloatArray, y: FloatArray): void {
  for (let i = 0; i < x.length; i++) y[i] = Math.exp(x[i]!);
}

/** y[i] = log(x[i]); y may be x. log(0) = -Infinity, log(x < 0) = NaN. */
export function vlog(x: FloatArray, y: FloatArray): void {
  for (let i = 0; i < x.length; i++) y[i] = Math.log(x[i]!);
}

/** 1 / (1 + exp(-x)); exp(-x) overflowing gives 0, the correct limit. */
export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** max(x, 0) + log1p(exp(-|x|)): no overflow, exact asymptotes; NaN stays NaN. */
export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}
