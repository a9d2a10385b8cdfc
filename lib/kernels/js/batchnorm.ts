/**
 * JS twin of native/kernels/cpu/batchnorm.cc: batch normalization over [n, c, s] per channel
 * (S = spatial size, 1 for dense), M = n * s values per channel. Statistics in double, two
 * passes; mean and rstd are stored (rounded to the array's precision) and the output and the
 * backward use the stored values. Generic over FloatArray for float64 gradient checks.
 * Sizes are validated by the caller (lib/kernels/ops/norm.ts): training needs M >= 2.
 */
import type { FloatArray } from "./types.js";

/**
 * Training forward. x, y: [n, c, s]; gamma, beta, mean, rstd, runningMean, runningVar: [c].
 *   y = (x - mean) rstd gamma + beta, rstd = 1 / sqrt(var + eps) (biased var);
 *   runningMean = (1 - momentum) runningMean + momentum mean;
 *   runningVar  = (1 - momentum) runningVar + momentum var M / (M - 1)   (unbiased).
 */
export function batchNormForwardTrain(
  x: FloatArray,
  gamma: FloatArray,
  beta: FloatArray,
  y: FloatArray,
  mean: FloatArray,
  rstd: FloatArray,
  runningMean: FloatArray,
  runningVar: FloatArray,
  n: number,
  c: number,
  s: number,
  eps: number,
  momentum: number,
): void {
  const m = n * s;
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * s;
      for (let k = 0; k < s; k++) sum += x[base + k]!;
    }
    const mu = sum / m;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * s;
      for (let k = 0; k < s; k++) {
        const d = x[base + k]! - mu;
        sq += d * d;
      }
    }
    const variance = sq / m;
    mean[ch] = mu;
    rstd[ch] = 1 / Math.sqrt(variance + eps);
    runningMean[ch] = (1 - momentum) * runningMean[ch]! + momentum * mu;
    runningVar[ch] = (1 - momentum) * runningVar[ch]! + momentum * variance * (m / (m - 1));
    const mf = mean[ch]!;
    const rf = rstd[ch]!;
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * s;
      for (let k = 0; k < s; k++) y[base + k] = (x[base + k]! - mf) * rf * gamma[ch]! + beta[ch]!;
    }
  }
}

/** Eval forward: y = (x - runningMean) / sqrt(runningVar + eps) gamma + beta. */
export function batchNormForwardEval(
  x: FloatArray,
  gamma: FloatArray,
  beta: FloatArray,
  runningMean: FloatArray,
  runningVar: FloatArray,
  y: FloatArray,
  n: number,
  c: number,
  s: number,
  eps: number,
): void {
  for (let ch = 0; ch < c; ch++) {
    const scale = gamma[ch]! / Math.sqrt(runningVar[ch]! + eps);
    const center = runningMean[ch]!;
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * s;
      for (let k = 0; k < s; k++) y[base + k] = (x[base + k]! - center) * scale + beta[ch]!;
    }
  }
}

/**
 * Training backward, xhat = (x - mean) rstd from the saved mean and rstd:
 *   dbeta = sum dy, dgamma = sum dy xhat, dx = gamma rstd (dy - dbeta / M - xhat dgamma / M).
 */
export function batchNormBackward(
  x: FloatArray,
  dy: FloatArray,
  gamma: FloatArray,
  mean: FloatArray,
  rstd: FloatArray,
  dx: FloatArray,
  dgamma: FloatArray,
  dbeta: FloatArray,
  n: number,
  c: number,
  s: number,
): void {
  const m = n * s;
  for (let ch = 0; ch < c; ch++) {
    const mu = mean[ch]!;
    const r = rstd[ch]!;
    let sumDy = 0;
    let sumDyXhat = 0;
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * s;
      for (let k = 0; k < s; k++) {
        sumDy += dy[base + k]!;
        sumDyXhat += dy[base + k]! * (x[base + k]! - mu) * r;
      }
    }
    dbeta[ch] = sumDy;
    dgamma[ch] = sumDyXhat;
    const g = gamma[ch]!;
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * s;
      for (let k = 0; k < s; k++) {
        const xhat = (x[base + k]! - mu) * r;
        dx[base + k] = g * r * (dy[base + k]! - sumDy / m - (xhat * sumDyXhat) / m);
      }
    }
  }
}
