/**
 * JS twin of native/kernels/cpu/optim.cc: fused in-place optimizer steps and clipping by the
 * global gradient norm. Same float64 operations in the same order as the C++ loops, so on
 * Float32Array the two backends produce the same bits.
 */
import { REDUCE_BLOCK, reduceBlockSum } from "./loss.js";
import type { FloatArray } from "./types.js";

export interface AdamConstants {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1 - beta1^t and 1 - beta2^t for step t. */
  biasCorrection1: number;
  biasCorrection2: number;
}

/**
 * p = p (1 - lr wd); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
 * p -= (lr / bc1) m / (sqrt(v (1 / bc2)) + eps)
 */
export function adamStep(params: FloatArray, grads: FloatArray, m: FloatArray, v: FloatArray, c: AdamConstants): void {
  const decay = 1 - c.lr * c.weightDecay;
  const stepSize = c.lr / c.biasCorrection1;
  const invBc2 = 1 / c.biasCorrection2;
  const b1 = c.beta1;
  const b2 = c.beta2;
  const oneB1 = 1 - c.beta1;
  const oneB2 = 1 - c.beta2;
  for (let i = 0; i < params.length; i++) {
    const g = grads[i]!;
    const mi = b1 * m[i]! + oneB1 * g;
    const vi = b2 * v[i]! + oneB2 * (g * g);
    m[i] = mi;
    v[i] = vi;
    const p = params[i]! * decay;
    params[i] = p - (stepSize * mi) / (Math.sqrt(vi * invBc2) + c.eps);
  }
}

export interface SgdConstants {
  lr: number;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
}

/** g += wd p (wd != 0); v = mu v + g (mu != 0); p -= lr (nesterov ? g + mu v : v), or lr g without momentum. */
export function sgdStep(params: FloatArray, grads: FloatArray, velocity: FloatArray | null, c: SgdConstants): void {
  const withMomentum = c.momentum !== 0;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    let g = grads[i]!;
    if (c.weightDecay !== 0) g += c.weightDecay * p;
    let update = g;
    if (withMomentum) {
      const vi = c.momentum * velocity![i]! + g;
      velocity![i] = vi;
      update = c.nesterov ? g + c.momentum * vi : vi;
    }
    params[i] = p - c.lr * update;
  }
}

/**
 * sqrt of the sum of squares over the list: the block sums of every array (blocked order of
 * loss.ts), added one by one into a single total, arrays in list order.
 */
export function gradNorm(arrays: readonly FloatArray[]): number {
  let total = 0;
  for (const a of arrays) {
    for (let b = 0; b < a.length; b += REDUCE_BLOCK) {
      total += reduceBlockSum(a, b, Math.min(REDUCE_BLOCK, a.length - b), true);
    }
  }
  return Math.sqrt(total);
}

/**
 * Scales every array by maxNorm / norm when the global norm exceeds maxNorm; returns the norm
 * before clipping. A non-finite norm is returned and nothing is scaled.
 */
export function clipGradNorm(arrays: readonly FloatArray[], maxNorm: number): number {
  const norm = gradNorm(arrays);
  if (!Number.isFinite(norm) || !(norm > maxNorm)) return norm;
  const scale = maxNorm / norm;
  for (const a of arrays) for (let i = 0; i < a.length; i++) a[i] = a[i]! * scale;
  return norm;
}
