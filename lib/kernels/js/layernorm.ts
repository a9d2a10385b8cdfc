/**
 * JS twin of native/kernels/cpu/layernorm.cc: layer normalization over the last dim of
 * x [rows, dim] with gamma, beta [dim]; mean, rstd [rows] are saved (rounded to the array's
 * precision) and used by the output and the backward. Statistics in double, two passes.
 * Generic over FloatArray for float64 gradient checks. Sizes are validated by the caller.
 */
import type { FloatArray } from "./types.js";

/** y[r, d] = (x[r, d] - mean[r]) rstd[r] gamma[d] + beta[d], rstd = 1 / sqrt(var + eps). */
export function layerNormForward(
  x: FloatArray,
  gamma: FloatArray,
  beta: FloatArray,
  y: FloatArray,
  mean: FloatArray,
  rstd: FloatArray,
  rows: number,
  dim: number,
  eps: number,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    let sum = 0;
    for (let d = 0; d < dim; d++) sum += x[base + d]!;
    const mu = sum / dim;
    let sq = 0;
    for (let d = 0; d < dim; d++) {
      const v = x[base + d]! - mu;
      sq += v * v;
    }
    mean[r] = mu;
    rstd[r] = 1 / Math.sqrt(sq / dim + eps);
    const mf = mean[r]!;
    const rf = rstd[r]!;
    for (let d = 0; d < dim; d++) y[base + d] = (x[base + d]! - mf) * rf * gamma[d]! + beta[d]!;
  }
}

/**
 * xhat = (x - mean) rstd, g = dy gamma:
 *   dx = rstd (g - mean_d(g) - xhat mean_d(g xhat)),  dgamma = sum_r dy xhat,  dbeta = sum_r dy.
 */
export function layerNormBackward(
  x: FloatArray,
  dy: FloatArray,
  gamma: FloatArray,
  mean: FloatArray,
  rstd: FloatArray,
  dx: FloatArray,
  dgamma: FloatArray,
  dbeta: FloatArray,
  rows: number,
  dim: number,
): void {
  const dg = new Float64Array(dim);
  const db = new Float64Array(dim);
  for (let r = 0; r < rows; r++) {
    const base = r * dim;
    const mu = mean[r]!;
    const rs = rstd[r]!;
    let sumG = 0;
    let sumGXhat = 0;
    for (let d = 0; d < dim; d++) {
      const xhat = (x[base + d]! - mu) * rs;
      const g = dy[base + d]! * gamma[d]!;
      sumG += g;
      sumGXhat += g * xhat;
      dg[d] = dg[d]! + dy[base + d]! * xhat;
      db[d] = db[d]! + dy[base + d]!;
    }
    for (let d = 0; d < dim; d++) {
      const xhat = (x[base + d]! - mu) * rs;
      const g = dy[base + d]! * gamma[d]!;
      dx[base + d] = rs * (g - sumG / dim - (xhat * sumGXhat) / dim);
    }
  }
  for (let d = 0; d < dim; d++) {
    dgamma[d] = dg[d]!;
    dbeta[d] = db[d]!;
  }
}
