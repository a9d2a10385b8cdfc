/**
 * JS twin of native/kernels/cpu/loss.cc: row-wise losses over [R, D] with their gradients,
 * and the blocked float64 reductions. Everything is float64 (Math.*), rounded when stored.
 * Forward functions write per-row values to `rowOut` (if given) and return the total over
 * rows, added in row order. Gradients take s_r = scale * rowScale[r] (rowScale given) or scale.
 */
import type { FloatArray } from "./types.js";

const LOG_2PI = 1.8378770664093453;

/** Block length of the reductions; must match kReduceBlock in loss.h. */
export const REDUCE_BLOCK = 4096;

/**
 * One block (n <= REDUCE_BLOCK) from `begin`: 8 interleaved float64 accumulators (element k
 * goes to k % 8) combined as ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)). `square` sums
 * x^2 instead (exact in float64 for float32 x).
 */
export function reduceBlockSum(x: FloatArray, begin: number, n: number, square = false): number {
  const a = [0, 0, 0, 0, 0, 0, 0, 0];
  for (let k = 0; k < n; k++) {
    const v = x[begin + k]!;
    a[k & 7]! += square ? v * v : v;
  }
  return a[0]! + a[1]! + (a[2]! + a[3]!) + (a[4]! + a[5]! + (a[6]! + a[7]!));
}

/** Sum of x[begin, begin + n): block sums in block order (native gives the same bits). */
export function reduceSum(x: FloatArray, begin = 0, n = x.length - begin, square = false): number {
  let total = 0;
  for (let b = 0; b < n; b += REDUCE_BLOCK) total += reduceBlockSum(x, begin + b, Math.min(REDUCE_BLOCK, n - b), square);
  return total;
}

function rowFactor(scale: number, rowScale: FloatArray | null, r: number): number {
  return rowScale !== null ? scale * rowScale[r]! : scale;
}

function finishRows(rowOut: FloatArray | null, sums: Float64Array): number {
  let total = 0;
  for (let r = 0; r < sums.length; r++) {
    total += sums[r]!;
    if (rowOut !== null) rowOut[r] = sums[r]!;
  }
  return total;
}

function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}

/** logits z, targets x [R, D]: per element softplus(z) - x z = max(z, 0) - x z + log1p(exp(-|z|)). */
export function bceWithLogitsForward(
  rowOut: FloatArray | null,
  logits: FloatArray,
  targets: FloatArray,
  rows: number,
  cols: number,
): number {
  const sums = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let d = r * cols; d < (r + 1) * cols; d++) {
      const z = logits[d]!;
      acc += Math.max(z, 0) - targets[d]! * z + Math.log1p(Math.exp(-Math.abs(z)));
    }
    sums[r] = acc;
  }
  return finishRows(rowOut, sums);
}

/** dz = s_r (sigmoid(z) - x). */
export function bceWithLogitsBackward(
  dlogits: FloatArray,
  logits: FloatArray,
  targets: FloatArray,
  rows: number,
  cols: number,
  scale: number,
  rowScale: FloatArray | null,
): void {
  for (let r = 0; r < rows; r++) {
    const s = rowFactor(scale, rowScale, r);
    for (let d = r * cols; d < (r + 1) * cols; d++) dlogits[d] = (sigmoid(logits[d]!) - targets[d]!) * s;
  }
}

/** |z| under this uses the Taylor series (lambda near 0.5); must match kCbTaylor in loss.h. */
export const CB_TAYLOR = 0.05;

/**
 * log C(z) of the continuous Bernoulli with logit z: C = z / tanh(z / 2) (C(0) = 2), as
 * log|z| - log tanh(|z| / 2) or, for |z| < CB_TAYLOR, log 2 + z^2/12 - 7 z^4/1440 + 31 z^6/90720.
 */
export function cbLogNorm(z: number): number {
  const a = Math.abs(z);
  if (a < CB_TAYLOR) {
    const z2 = z * z;
    return Math.LN2 + z2 * (1 / 12 + z2 * (-7 / 1440 + z2 * (31 / 90720)));
  }
  return Math.log(a) - Math.log(-Math.expm1(-a)) + Math.log1p(Math.exp(-a));
}

/** d log C / dz = 1/z - 1/sinh z (Taylor z/6 - 7 z^3/360 + 31 z^5/15120 for |z| < CB_TAYLOR). */
export function cbLogNormGrad(z: number): number {
  if (Math.abs(z) < CB_TAYLOR) {
    const z2 = z * z;
    return z * (1 / 6 + z2 * (-7 / 360 + z2 * (31 / 15120)));
  }
  return 1 / z - 1 / Math.sinh(z);
}

/** Continuous-Bernoulli nll per element: softplus(z) - x z - log C(z), summed per row (float64). */
export function cbernoulliNllForward(
  rowOut: FloatArray | null,
  logits: FloatArray,
  targets: FloatArray,
  rows: number,
  cols: number,
): number {
  const sums = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let d = r * cols; d < (r + 1) * cols; d++) {
      const z = logits[d]!;
      const a = Math.abs(z);
      // |z| >= CB_TAYLOR: softplus(z) - log C(z) = max(z, 0) - log(a / (1 - e^-a)) (as loss.cc)
      const s = a < CB_TAYLOR ? Math.max(z, 0) + Math.log1p(Math.exp(-a)) - cbLogNorm(z) : Math.max(z, 0) - Math.log(a / -Math.expm1(-a));
      acc += s - targets[d]! * z;
    }
    sums[r] = acc;
  }
  return finishRows(rowOut, sums);
}

/** dz = s_r (sigmoid(z) - x - d log C / dz). */
export function cbernoulliNllBackward(
  dlogits: FloatArray,
  logits: FloatArray,
  targets: FloatArray,
  rows: number,
  cols: number,
  scale: number,
  rowScale: FloatArray | null,
): void {
  for (let r = 0; r < rows; r++) {
    const s = rowFactor(scale, rowScale, r);
    for (let d = r * cols; d < (r + 1) * cols; d++) {
      const z = logits[d]!;
      const a = Math.abs(z);
      const e = Math.exp(-a); // one exp serves the sigmoid and 1 / sinh (as loss.cc)
      const sig = z >= 0 ? 1 / (1 + e) : e / (1 + e);
      const g = a < CB_TAYLOR ? cbLogNormGrad(z) : 1 / z - Math.sign(z) * ((2 * e) / ((1 - e) * (1 + e)));
      dlogits[d] = s * (sig - targets[d]! - g);
    }
  }
}

/** kl_r = 0.5 sum_d (mu^2 + expm1(lv) - lv) = KL(N(mu, e^lv) || N(0, 1)) summed over the row. */
export function gaussianKlForward(rowOut: FloatArray | null, mu: FloatArray, logvar: FloatArray, rows: number, cols: number): number {
  const sums = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let d = r * cols; d < (r + 1) * cols; d++) {
      const m = mu[d]!;
      const lv = logvar[d]!;
      acc += m * m + Math.expm1(lv) - lv;
    }
    sums[r] = 0.5 * acc;
  }
  return finishRows(rowOut, sums);
}

/** dmu = s_r mu, dlogvar = s_r 0.5 expm1(lv). */
export function gaussianKlBackward(
  dmu: FloatArray,
  dlogvar: FloatArray,
  mu: FloatArray,
  logvar: FloatArray,
  rows: number,
  cols: number,
  scale: number,
  rowScale: FloatArray | null,
): void {
  for (let r = 0; r < rows; r++) {
    const s = rowFactor(scale, rowScale, r);
    for (let d = r * cols; d < (r + 1) * cols; d++) {
      dmu[d] = s * mu[d]!;
      dlogvar[d] = s * 0.5 * Math.expm1(logvar[d]!);
    }
  }
}

/** logp_r = sum_d -0.5 (log 2pi + lv + (x - mu)^2 exp(-lv)). */
export function gaussianLogProbForward(
  rowOut: FloatArray | null,
  x: FloatArray,
  mu: FloatArray,
  logvar: FloatArray,
  rows: number,
  cols: number,
): number {
  const sums = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let acc = 0;
    for (let d = r * cols; d < (r + 1) * cols; d++) {
      const diff = x[d]! - mu[d]!;
      const lv = logvar[d]!;
      acc += LOG_2PI + lv + diff * diff * Math.exp(-lv);
    }
    sums[r] = -0.5 * acc;
  }
  return finishRows(rowOut, sums);
}

/** w = (x - mu) exp(-lv): dx = -s_r w, dmu = s_r w, dlogvar = 0.5 s_r ((x - mu) w - 1); null outputs are skipped. */
export function gaussianLogProbBackward(
  dx: FloatArray | null,
  dmu: FloatArray | null,
  dlogvar: FloatArray | null,
  x: FloatArray,
  mu: FloatArray,
  logvar: FloatArray,
  rows: number,
  cols: number,
  scale: number,
  rowScale: FloatArray | null,
): void {
  for (let r = 0; r < rows; r++) {
    const s = rowFactor(scale, rowScale, r);
    for (let d = r * cols; d < (r + 1) * cols; d++) {
      const diff = x[d]! - mu[d]!;
      const w = diff * Math.exp(-logvar[d]!);
      if (dx !== null) dx[d] = -s * w;
      if (dmu !== null) dmu[d] = s * w;
      if (dlogvar !== null) dlogvar[d] = 0.5 * s * (diff * w - 1);
    }
  }
}

/** max-shifted log-sum-exp of z[begin, begin + cols) in float64 (cols > 0). */
function rowLse(z: FloatArray, begin: number, cols: number): number {
  let m = z[begin]!;
  for (let c = 1; c < cols; c++) m = Math.max(m, z[begin + c]!);
  if (m === Infinity || m === -Infinity) return m;
  let s = 0;
  for (let c = 0; c < cols; c++) s += Math.exp(z[begin + c]! - m);
  return m + Math.log(s);
}

/**
 * logits z, targets t [R, C] (class probabilities): loss_r = sum_c t_c (lse_r - z_c); entries
 * with t_c = 0 contribute nothing.
 */
export function softmaxCrossEntropyForward(
  rowOut: FloatArray | null,
  logits: FloatArray,
  targets: FloatArray,
  rows: number,
  cols: number,
): number {
  const sums = new Float64Array(rows);
  if (cols > 0) {
    for (let r = 0; r < rows; r++) {
      const lse = rowLse(logits, r * cols, cols);
      let acc = 0;
      for (let d = r * cols; d < (r + 1) * cols; d++) {
        const t = targets[d]!;
        if (t !== 0) acc += t * (lse - logits[d]!);
      }
      sums[r] = acc;
    }
  }
  return finishRows(rowOut, sums);
}

/** dz = s_r (T_r softmax(z) - t), T_r = sum_c t_c. */
export function softmaxCrossEntropyBackward(
  dlogits: FloatArray,
  logits: FloatArray,
  targets: FloatArray,
  rows: number,
  cols: number,
  scale: number,
  rowScale: FloatArray | null,
): void {
  if (cols === 0) return;
  for (let r = 0; r < rows; r++) {
    const s = rowFactor(scale, rowScale, r);
    const lse = rowLse(logits, r * cols, cols);
    let total = 0;
    for (let d = r * cols; d < (r + 1) * cols; d++) total += targets[d]!;
    for (let d = r * cols; d < (r + 1) * cols; d++) dlogits[d] = s * (total * Math.exp(logits[d]! - lse) - targets[d]!);
  }
}

/**
 * out[r] = m + log(sum_d exp(x_d - m)), m = max_d x_d. A row of only -Infinity (or D = 0)
 * gives -Infinity, a +Infinity entry +Infinity, a NaN entry NaN.
 */
export function logSumExpForward(out: FloatArray, x: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    let nan = false;
    for (let d = r * cols; d < (r + 1) * cols; d++) {
      const v = x[d]!;
      if (v > m) m = v;
      else if (Number.isNaN(v)) nan = true;
    }
    if (nan) {
      out[r] = NaN;
    } else if (m === Infinity || m === -Infinity) {
      out[r] = m;
    } else {
      let s = 0;
      for (let d = r * cols; d < (r + 1) * cols; d++) s += Math.exp(x[d]! - m);
      out[r] = m + Math.log(s);
    }
  }
}

/** dx = dout_r exp(x - lse_r); rows with lse = -Infinity get 0. */
export function logSumExpBackward(dx: FloatArray, x: FloatArray, lse: FloatArray, dout: FloatArray, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    const l = lse[r]!;
    const g = dout[r]!;
    for (let d = r * cols; d < (r + 1) * cols; d++) dx[d] = l === -Infinity ? 0 : g * Math.exp(x[d]! - l);
  }
}
