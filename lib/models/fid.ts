/**
 * Fréchet distance between Gaussians fitted to two sets of feature vectors (the FID of Heusel
 * et al. 2017 when the features are Inception's; here they are the deepgen MNIST classifier's):
 *
 *   FID = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2)
 *
 * with unbiased sample covariances (divisor n - 1, as numpy.cov). Everything runs in float64.
 * The two matrix square roots come from a symmetric eigendecomposition (cyclic Jacobi, written
 * here: the matrices are F x F with F ~ 128, where Jacobi is fast and accurate to the last
 * digits), negative eigenvalues from rounding clamped to 0. S1^1/2 S2 S1^1/2 is symmetric
 * positive semi-definite and has the eigenvalues of S1 S2, so its trace-sqrt is the usual term.
 */
import { checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";

export interface GaussianStats {
  /** Feature dimension F. */
  dim: number;
  /** Number of vectors the statistics were computed from. */
  n: number;
  /** [F] mean. */
  mean: Float64Array;
  /** [F, F] unbiased covariance (row-major, symmetric). */
  cov: Float64Array;
}

/** Mean and unbiased covariance of x [n, dim] (n >= 2). */
export function gaussianStats(x: ArrayLike<number>, dim: number): GaussianStats {
  if (!Number.isInteger(dim) || dim < 1) throw new DeepgenError("E_ARG", `gaussianStats: dim must be a positive integer, got ${dim}`);
  if (x.length % dim !== 0) throw new DeepgenError("E_SHAPE", `gaussianStats: ${x.length} values are not a whole number of ${dim}-vectors`);
  const n = x.length / dim;
  if (n < 2) throw new DeepgenError("E_SHAPE", `gaussianStats: a covariance needs at least 2 vectors, got ${n}`);
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j]! += x[i * dim + j]!;
  for (let j = 0; j < dim; j++) mean[j]! /= n;
  // Centered products, upper triangle, then mirrored.
  const cov = new Float64Array(dim * dim);
  const row = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) row[j] = x[i * dim + j]! - mean[j]!;
    for (let a = 0; a < dim; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      const base = a * dim;
      for (let b = a; b < dim; b++) cov[base + b]! += ra * row[b]!;
    }
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      const v = cov[a * dim + b]! / (n - 1);
      cov[a * dim + b] = v;
      cov[b * dim + a] = v;
    }
  }
  for (let i = 0; i < x.length; i++)
    if (!Number.isFinite(x[i]!)) throw new DeepgenError("E_ARG", "gaussianStats: the features contain NaN or Infinity");
  return { dim, n, mean, cov };
}

/**
 * Eigendecomposition of a symmetric matrix a [n, n] (row-major; not modified) by cyclic
 * Jacobi rotations: a = V diag(values) V^T, V's columns the eigenvectors (row-major [n, n]).
 * Sweeps until the off-diagonal mass is below 1e-30 of the total (or 100 sweeps).
 */
export function symmetricEigen(a: ArrayLike<number>, n: number): { values: Float64Array; vectors: Float64Array } {
  if (a.length !== n * n) throw new DeepgenError("E_SHAPE", `symmetricEigen: expected ${n} x ${n} values, got ${a.length}`);
  const A = Float64Array.from(a);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let total = 0;
  for (let i = 0; i < n * n; i++) total += A[i]! * A[i]!;
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * A[p * n + q]! * A[p * n + q]!;
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0) continue;
        // The rotation J (J_pp = J_qq = c, J_pq = s, J_qp = -s) with (J^T A J)_pq = 0; t = s / c is
        // the smaller root of t^2 + 2 theta t - 1 = 0 (|angle| <= pi/4: stable).
        const theta = (A[q * n + q]! - A[p * n + p]!) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          // columns p and q: A <- A J
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          // rows p and q: A <- J^T A
          const apk = A[p * n + k]!;
          const aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        A[p * n + q] = 0;
        A[q * n + p] = 0;
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p]!;
          const vkq = V[k * n + q]!;
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = A[i * n + i]!;
  return { values, vectors: V };
}

/** The symmetric PSD square root V diag(sqrt(max(l, 0))) V^T of a symmetric matrix. */
export function symmetricSqrt(a: ArrayLike<number>, n: number): Float64Array {
  const { values, vectors: V } = symmetricEigen(a, n);
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const r = Math.sqrt(Math.max(0, values[k]!));
    if (r === 0) continue;
    for (let i = 0; i < n; i++) {
      const vik = V[i * n + k]! * r;
      if (vik === 0) continue;
      for (let j = i; j < n; j++) out[i * n + j]! += vik * V[j * n + k]!;
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) out[i * n + j] = out[j * n + i]!;
  return out;
}

/** c = a b for [n, n] row-major matrices (float64). */
function matmul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < n; k++) {
      const aik = a[i * n + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < n; j++) c[i * n + j]! += aik * b[k * n + j]!;
    }
  }
  return c;
}

/**
 * The Fréchet distance between two Gaussians. Mathematically >= 0; a result below 0 by
 * rounding (identical inputs) is returned as 0.
 */
export function frechetDistance(s1: GaussianStats, s2: GaussianStats): number {
  if (s1.dim !== s2.dim) throw new DeepgenError("E_SHAPE", `frechetDistance: feature dimensions differ (${s1.dim} vs ${s2.dim})`);
  const n = s1.dim;
  let meanTerm = 0;
  for (let j = 0; j < n; j++) meanTerm += (s1.mean[j]! - s2.mean[j]!) ** 2;
  let tr1 = 0;
  let tr2 = 0;
  for (let j = 0; j < n; j++) {
    tr1 += s1.cov[j * n + j]!;
    tr2 += s2.cov[j * n + j]!;
  }
  const root1 = symmetricSqrt(s1.cov, n);
  const m = matmul(matmul(root1, s2.cov, n), root1, n);
  // Symmetrize what rounding left unsymmetric before the eigendecomposition.
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const v = 0.5 * (m[i * n + j]! + m[j * n + i]!);
      m[i * n + j] = v;
      m[j * n + i] = v;
    }
  const { values } = symmetricEigen(m, n);
  let trSqrt = 0;
  for (const v of values) trSqrt += Math.sqrt(Math.max(0, v));
  return Math.max(0, meanTerm + tr1 + tr2 - 2 * trSqrt);
}

const FID_KEYS = optionKeys<{ dim: number }>({ dim: true });

/** FID between two feature sets a [nA, dim] and b [nB, dim]. */
export function fid(a: ArrayLike<number>, b: ArrayLike<number>, options: { dim: number }): number {
  const { dim } = checkOptions("fid", options, FID_KEYS, ["dim"]);
  return frechetDistance(gaussianStats(a, dim), gaussianStats(b, dim));
}
