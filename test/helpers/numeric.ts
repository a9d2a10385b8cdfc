/**
 * Shared helpers for kernel tests: seeded random arrays (Philox, so failures reproduce),
 * error measures, and central finite differences in float64 for gradient checks.
 */
import { normalPair, philox4x32, uniformF32 } from "../../lib/core/philox.js";

/** Uniform in [lo, hi), seeded. */
export function randomUniform(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  const block = new Uint32Array(4);
  for (let i = 0; i < n; i++) {
    if ((i & 3) === 0) philox4x32(i >>> 2, 0, 0xbeef, 0, seed, 0, block);
    out[i] = lo + (hi - lo) * uniformF32(block[i & 3]!);
  }
  return out;
}

/** Standard normal * scale, seeded. */
export function randomNormal(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  const block = new Uint32Array(4);
  for (let i = 0; i < n; i++) {
    if ((i & 3) === 0) philox4x32(i >>> 2, 0, 0xcafe, 0, seed, 0, block);
    out[i] = scale * normalPair(block[i & 2]!, block[(i & 2) + 1]!, (i & 1) === 1);
  }
  return out;
}

export function to64(a: ArrayLike<number>): Float64Array {
  return Float64Array.from(a);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Infinity;
    m = Math.max(m, d);
  }
  return m;
}

/** max |a - b| / max(1, |b|): relative for large values, absolute near zero. */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / Math.max(1, Math.abs(b[i]!));
    if (Number.isNaN(d)) return Infinity;
    m = Math.max(m, d);
  }
  return m;
}

/**
 * Central finite differences of a scalar function of x (float64): grad[i] ~
 * (f(x + eps e_i) - f(x - eps e_i)) / (2 eps). `f` may read x in place; x is restored.
 */
export function numericGradient(f: (x: Float64Array) => number, x: Float64Array, eps = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const orig = x[i]!;
    x[i] = orig + eps;
    const fp = f(x);
    x[i] = orig - eps;
    const fm = f(x);
    x[i] = orig;
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

/** sum_i a[i] * b[i] in float64: the scalar "loss" <out, upstream grad> of gradient checks. */
export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
