// Classifier-FID math (lib/models/fid.ts): exact small cases in float64.
import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { fid, frechetDistance, gaussianStats, type GaussianStats, symmetricEigen, symmetricSqrt } from "../lib/models/fid.js";
import { randomNormal } from "./helpers/numeric.js";

function stats(mean: number[], cov: number[]): GaussianStats {
  return { dim: mean.length, n: 100, mean: Float64Array.from(mean), cov: Float64Array.from(cov) };
}

/** Sample mean and (n - 1) standard deviation of a 1-D set. */
function meanStd(a: ArrayLike<number>): [number, number] {
  let m = 0;
  for (let i = 0; i < a.length; i++) m += a[i]!;
  m /= a.length;
  let v = 0;
  for (let i = 0; i < a.length; i++) v += (a[i]! - m) ** 2;
  return [m, Math.sqrt(v / (a.length - 1))];
}

test("identical feature sets have FID 0 (within 1e-9), whatever their size and correlation", (t) => {
  for (const [n, dim] of [
    [50, 3],
    [300, 16],
    [40, 64],
  ] as const) {
    const x = randomNormal(n * dim, n + dim, 2);
    // correlate the columns: each adds a multiple of the previous one
    for (let i = 0; i < n; i++) for (let j = 1; j < dim; j++) x[i * dim + j]! += 0.7 * x[i * dim + j - 1]!;
    const d = fid(x, x, { dim: dim });
    t.true(d >= 0 && d < 1e-9, `n${n} dim${dim}: ${d}`);
  }
});

test("1-D Gaussians: FID = (m1 - m2)^2 + (s1 - s2)^2 with the sample statistics", (t) => {
  const a = randomNormal(500, 1, 2).map((v) => v + 1);
  const b = randomNormal(700, 2, 0.5).map((v) => v - 3);
  const [m1, s1] = meanStd(a);
  const [m2, s2] = meanStd(b);
  const want = (m1 - m2) ** 2 + (s1 - s2) ** 2;
  t.true(Math.abs(fid(a, b, { dim: 1 }) - want) < 1e-9 * want, `${fid(a, b, { dim: 1 })} vs ${want}`);
});

test("diagonal and commuting covariances: FID = |mu1 - mu2|^2 + sum (sqrt(a_i) - sqrt(b_i))^2", (t) => {
  const d = frechetDistance(stats([1, 2, 3], [4, 0, 0, 0, 9, 0, 0, 0, 0.25]), stats([0, 2, 5], [1, 0, 0, 0, 16, 0, 0, 0, 0.25]));
  t.true(Math.abs(d - (1 + 4 + (2 - 1) ** 2 + (3 - 4) ** 2)) < 1e-12, `${d}`);
  // The same eigenvalues in a rotated basis (S1 and S2 share eigenvectors).
  const c = Math.cos(0.3);
  const s = Math.sin(0.3);
  const rot = (l1: number, l2: number): number[] => [
    c * c * l1 + s * s * l2,
    c * s * (l1 - l2),
    c * s * (l1 - l2),
    s * s * l1 + c * c * l2,
  ];
  const r = frechetDistance(stats([0, 0], rot(4, 1)), stats([0, 0], rot(9, 0.25)));
  t.true(Math.abs(r - ((2 - 3) ** 2 + (1 - 0.5) ** 2)) < 1e-12, `${r}`);
});

test("2x2 covariances that do not commute: the trace term is sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2))", (t) => {
  const S1 = [2, 0.5, 0.5, 1];
  const S2 = [1, -0.7, -0.7, 3];
  const tr12 = S1[0]! * S2[0]! + S1[1]! * S2[2]! + S1[2]! * S2[1]! + S1[3]! * S2[3]!;
  const det = (m: number[]): number => m[0]! * m[3]! - m[1]! * m[2]!;
  const trSqrt = Math.sqrt(tr12 + 2 * Math.sqrt(det(S1) * det(S2)));
  const want = 0.5 ** 2 + 1 + (3 + 4) - 2 * trSqrt;
  const got = frechetDistance(stats([0.5, 1], S1), stats([0, 0], S2));
  t.true(Math.abs(got - want) < 1e-12, `${got} vs ${want}`);
});

test("a shifted set: FID = |shift|^2; a scaled set: (1 - c)^2 (|mu|^2 + tr S)", (t) => {
  const dim = 8;
  const n = 200;
  const a = Float64Array.from(randomNormal(n * dim, 9, 1.5));
  const shift = Array.from({ length: dim }, (_, j) => 0.25 * (j - 3));
  const b = a.map((v, i) => v + shift[i % dim]!);
  const want = shift.reduce((s, v) => s + v * v, 0);
  t.true(Math.abs(fid(a, b, { dim: dim }) - want) < 1e-9, `${fid(a, b, { dim: dim })} vs ${want}`);
  const cScale = 1.5;
  const a64 = a;
  const scaled = a64.map((v) => v * cScale);
  const sa = gaussianStats(a64, dim);
  let base = 0;
  for (let j = 0; j < dim; j++) base += sa.mean[j]! ** 2 + sa.cov[j * dim + j]!;
  const wantScaled = (1 - cScale) ** 2 * base;
  t.true(Math.abs(fid(a64, scaled, { dim: dim }) - wantScaled) < 1e-9 * wantScaled);
});

test("Jacobi eigendecomposition reconstructs the matrix with orthonormal vectors; the square root squares back", (t) => {
  const n = 20;
  const r = randomNormal(n * n, 77);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) a[i * n + j]! += r[i * n + k]! * r[j * n + k]!; // R R^T: PSD
  const { values, vectors: V } = symmetricEigen(a, n);
  let err = 0;
  let orth = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let rec = 0;
      let vv = 0;
      for (let k = 0; k < n; k++) {
        rec += V[i * n + k]! * values[k]! * V[j * n + k]!;
        vv += V[k * n + i]! * V[k * n + j]!;
      }
      err = Math.max(err, Math.abs(rec - a[i * n + j]!));
      orth = Math.max(orth, Math.abs(vv - (i === j ? 1 : 0)));
    }
  t.true(err < 1e-10, `reconstruction ${err}`);
  t.true(orth < 1e-12, `orthonormality ${orth}`);
  const root = symmetricSqrt(a, n);
  let sq = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let v = 0;
      for (let k = 0; k < n; k++) v += root[i * n + k]! * root[k * n + j]!;
      sq = Math.max(sq, Math.abs(v - a[i * n + j]!));
    }
  t.true(sq < 1e-9, `sqrt^2 ${sq}`);
});

test("FID refuses bad input with stable codes", (t) => {
  const code = (fn: () => unknown): string | undefined => {
    const e = t.throws(fn);
    return e instanceof DeepgenError ? e.code : String(e);
  };
  t.is(
    code(() => fid(new Float32Array(6), new Float32Array(6), { dim: 4 })),
    "E_SHAPE",
  );
  t.is(
    code(() => fid(new Float32Array(2), new Float32Array(6), { dim: 2 })),
    "E_SHAPE",
  ); // one vector: no covariance
  t.is(
    code(() => fid(Float32Array.of(0, NaN, 1, 1), new Float32Array(4), { dim: 2 })),
    "E_ARG",
  );
  t.is(
    code(() => frechetDistance(stats([0], [1]), stats([0, 0], [1, 0, 0, 1]))),
    "E_SHAPE",
  );
  t.is(
    code(() => gaussianStats(new Float32Array(4), 0)),
    "E_ARG",
  );
});
