import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import * as twin from "../lib/kernels/js/loss.js";
import { nativeAddon } from "../lib/kernels/native.js";
import { cudaLoss } from "../lib/kernels/ops/loss.js";
import { code } from "./helpers/errors.js";
import { dot, maxRelDiff, numericGradient, randomNormal, randomUniform, to64 } from "./helpers/numeric.js";

const native = getKernels("native");
const js = getKernels("js");
const SIZES = [
  [1, 1],
  [3, 17],
  [5, 33],
  [17, 3],
  [2, 784],
  [40, 1000], // several parallel row chunks
] as const;

function relTotal(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}

// ---- parity native vs JS --------------------------------------------------------------------

test("BCE with logits: native matches the JS twin (rows, total, gradient)", (t) => {
  let seed = 1;
  for (const [R, D] of SIZES) {
    const z = randomNormal(R * D, seed++, 4);
    const x = randomUniform(R * D, seed++, 0, 1);
    const rowN = new Float32Array(R);
    const rowJ = new Float32Array(R);
    const totalN = native.bceWithLogitsForward(rowN, z, x, R, D);
    const totalJ = js.bceWithLogitsForward(rowJ, z, x, R, D);
    // Native: float elements (vector exp/log within ~3 ulp), float64 row sums; JS: float64.
    t.true(relTotal(totalN, totalJ) < 1e-6, `total R${R} D${D}: ${totalN} vs ${totalJ}`);
    t.true(maxRelDiff(rowN, rowJ) < 1e-6, `rows R${R} D${D}`);
    t.is(native.bceWithLogitsForward(null, z, x, R, D), totalN);
    const up = randomNormal(R, seed++);
    for (const scale of [undefined, 0.125, up]) {
      const gN = new Float32Array(R * D);
      const gJ = new Float32Array(R * D);
      native.bceWithLogitsBackward(gN, z, x, R, D, scale);
      js.bceWithLogitsBackward(gJ, z, x, R, D, scale);
      t.true(maxRelDiff(gN, gJ) < 1e-6, `grad R${R} D${D}: ${maxRelDiff(gN, gJ)}`);
    }
  }
});

test("Gaussian KL and log-density: native matches the JS twin", (t) => {
  let seed = 50;
  for (const [R, D] of SIZES) {
    const mu = randomNormal(R * D, seed++, 2);
    const lv = randomNormal(R * D, seed++, 2);
    const x = randomNormal(R * D, seed++, 2);
    const up = randomNormal(R, seed++);
    const rN = new Float32Array(R);
    const rJ = new Float32Array(R);
    t.true(relTotal(native.gaussianKlForward(rN, mu, lv, R, D), js.gaussianKlForward(rJ, mu, lv, R, D)) < 1e-12);
    t.true(maxRelDiff(rN, rJ) < 1e-7);
    t.true(relTotal(native.gaussianLogProbForward(rN, x, mu, lv, R, D), js.gaussianLogProbForward(rJ, x, mu, lv, R, D)) < 1e-12);
    t.true(maxRelDiff(rN, rJ) < 1e-7);
    for (const scale of [1, up]) {
      const n = Array.from({ length: 3 }, () => new Float32Array(R * D));
      const j = Array.from({ length: 3 }, () => new Float32Array(R * D));
      native.gaussianKlBackward(n[0]!, n[1]!, mu, lv, R, D, scale);
      js.gaussianKlBackward(j[0]!, j[1]!, mu, lv, R, D, scale);
      t.true(maxRelDiff(n[0]!, j[0]!) < 1e-7 && maxRelDiff(n[1]!, j[1]!) < 1e-7, `kl grads R${R} D${D}`);
      native.gaussianLogProbBackward({ dx: n[0]!, dmu: n[1]!, dlogvar: n[2]! }, x, mu, lv, R, D, scale);
      js.gaussianLogProbBackward({ dx: j[0]!, dmu: j[1]!, dlogvar: j[2]! }, x, mu, lv, R, D, scale);
      for (let k = 0; k < 3; k++) t.true(maxRelDiff(n[k]!, j[k]!) < 1e-7, `logp grad ${k} R${R} D${D}`);
    }
  }
});

test("log-sum-exp: native matches the JS twin", (t) => {
  let seed = 90;
  for (const [R, D] of SIZES) {
    const x = randomNormal(R * D, seed++, 10);
    const oN = new Float32Array(R);
    const oJ = new Float32Array(R);
    native.logSumExpForward(oN, x, R, D);
    js.logSumExpForward(oJ, x, R, D);
    // Native: float exp (AVX2) with float64 row sums; JS: float64 throughout.
    t.true(maxRelDiff(oN, oJ) < 5e-7, `lse R${R} D${D}: ${maxRelDiff(oN, oJ)}`);
    const dout = randomNormal(R, seed++);
    const gN = new Float32Array(R * D);
    const gJ = new Float32Array(R * D);
    native.logSumExpBackward(gN, x, oN, dout, R, D);
    js.logSumExpBackward(gJ, x, oN, dout, R, D);
    t.true(maxRelDiff(gN, gJ) < 1e-6, `lse grad R${R} D${D}: ${maxRelDiff(gN, gJ)}`);
  }
});

test("reductions: native and JS give the same bits, for any thread count", (t) => {
  const addon = nativeAddon();
  const saved = addon.threadLimit();
  try {
    for (const n of [1, 3, 8, 17, 33, 4095, 4097, 100_003, 1_000_003]) {
      const x = randomNormal(n, n, 100);
      const sumJ = js.reduceSum(x);
      addon.setThreadLimit(1);
      const sum1 = native.reduceSum(x);
      addon.setThreadLimit(4);
      t.is(native.reduceSum(x), sum1, `threads n=${n}`);
      t.is(sum1, sumJ, `native vs js n=${n}`);
      t.is(native.reduceMean(x), js.reduceMean(x));
      t.is(js.reduceMean(x), sumJ / n);
    }
  } finally {
    addon.setThreadLimit(saved);
  }
  // The float64 accumulation keeps what a float32 running sum would lose.
  const x = new Float32Array(1_000_001).fill(0.1);
  x[0] = 1e8;
  for (const k of [native, js]) t.true(Math.abs(k.reduceSum(x) - (1e8 + 1e6 * Math.fround(0.1))) < 1e-3);
});

// ---- finite-difference gradient checks (float64 JS twin) --------------------------------------

const GRAD_SHAPES = [
  [1, 1],
  [2, 3],
  [3, 5],
] as const;

test("BCE gradient matches finite differences", (t) => {
  let seed = 200;
  for (const [R, D] of GRAD_SHAPES) {
    const z = to64(randomNormal(R * D, seed++, 3));
    const x = to64(randomUniform(R * D, seed++, 0, 1));
    const up = to64(randomNormal(R, seed++));
    const rows = new Float64Array(R);
    const num = numericGradient((zz) => {
      twin.bceWithLogitsForward(rows, zz, x, R, D);
      return dot(rows, up);
    }, z);
    const g = new Float64Array(R * D);
    twin.bceWithLogitsBackward(g, z, x, R, D, 1, up);
    t.true(maxRelDiff(g, num) < 1e-7, `R${R} D${D}: ${maxRelDiff(g, num)}`);
    // A scalar upstream factor scales the gradient of the total.
    const gs = new Float64Array(R * D);
    twin.bceWithLogitsBackward(gs, z, x, R, D, 0.5, null);
    const numTotal = numericGradient((zz) => 0.5 * twin.bceWithLogitsForward(null, zz, x, R, D), z);
    t.true(maxRelDiff(gs, numTotal) < 1e-7);
  }
});

test("KL gradients (mu, logvar) match finite differences", (t) => {
  let seed = 300;
  for (const [R, D] of GRAD_SHAPES) {
    const mu = to64(randomNormal(R * D, seed++, 2));
    const lv = to64(randomNormal(R * D, seed++, 2));
    const up = to64(randomNormal(R, seed++));
    const rows = new Float64Array(R);
    const f = (m: Float64Array, l: Float64Array): number => {
      twin.gaussianKlForward(rows, m, l, R, D);
      return dot(rows, up);
    };
    const dmu = new Float64Array(R * D);
    const dlv = new Float64Array(R * D);
    twin.gaussianKlBackward(dmu, dlv, mu, lv, R, D, 1, up);
    t.true(
      maxRelDiff(
        dmu,
        numericGradient((m) => f(m, lv), mu),
      ) < 1e-7,
    );
    t.true(
      maxRelDiff(
        dlv,
        numericGradient((l) => f(mu, l), lv),
      ) < 1e-7,
    );
  }
});

test("Gaussian log-density gradients (x, mu, logvar) match finite differences", (t) => {
  let seed = 400;
  for (const [R, D] of GRAD_SHAPES) {
    const x = to64(randomNormal(R * D, seed++, 2));
    const mu = to64(randomNormal(R * D, seed++, 2));
    const lv = to64(randomNormal(R * D, seed++, 1));
    const up = to64(randomNormal(R, seed++));
    const rows = new Float64Array(R);
    const f = (a: Float64Array, m: Float64Array, l: Float64Array): number => {
      twin.gaussianLogProbForward(rows, a, m, l, R, D);
      return dot(rows, up);
    };
    const dx = new Float64Array(R * D);
    const dmu = new Float64Array(R * D);
    const dlv = new Float64Array(R * D);
    twin.gaussianLogProbBackward(dx, dmu, dlv, x, mu, lv, R, D, 1, up);
    t.true(
      maxRelDiff(
        dx,
        numericGradient((a) => f(a, mu, lv), x),
      ) < 1e-7,
      "dx",
    );
    t.true(
      maxRelDiff(
        dmu,
        numericGradient((m) => f(x, m, lv), mu),
      ) < 1e-7,
      "dmu",
    );
    t.true(
      maxRelDiff(
        dlv,
        numericGradient((l) => f(x, mu, l), lv),
      ) < 1e-7,
      "dlogvar",
    );
  }
});

test("log-sum-exp gradient matches finite differences, -Infinity entries included", (t) => {
  let seed = 500;
  for (const [R, D] of GRAD_SHAPES) {
    const x = to64(randomNormal(R * D, seed++, 3));
    const up = to64(randomNormal(R, seed++));
    const out = new Float64Array(R);
    const num = numericGradient((a) => {
      twin.logSumExpForward(out, a, R, D);
      return dot(out, up);
    }, x);
    twin.logSumExpForward(out, x, R, D);
    const g = new Float64Array(R * D);
    twin.logSumExpBackward(g, x, out, up, R, D);
    t.true(maxRelDiff(g, num) < 1e-7, `R${R} D${D}`);
  }
  // A -Infinity entry has zero weight; the others are differentiated as if it were absent.
  const x = Float64Array.of(0.5, -Infinity, -1);
  const out = new Float64Array(1);
  twin.logSumExpForward(out, x, 1, 3);
  const g = new Float64Array(3);
  twin.logSumExpBackward(g, x, out, Float64Array.of(1), 1, 3);
  const finite = Float64Array.of(0.5, -1);
  const num = numericGradient((a) => {
    twin.logSumExpForward(out, a, 1, 2);
    return out[0]!;
  }, finite);
  t.true(maxRelDiff([g[0]!, g[2]!], num) < 1e-7);
  t.is(g[1], 0);
});

// ---- exact values and extreme inputs ----------------------------------------------------------

test("exact tiny cases", (t) => {
  for (const k of [native, js]) {
    const rows = new Float32Array(1);
    // softplus(0) = log 2 whatever the target.
    t.true(Math.abs(k.bceWithLogitsForward(rows, Float32Array.of(0, 0), Float32Array.of(0, 1), 1, 2) - 2 * Math.LN2) < 1e-6);
    const dz = new Float32Array(2);
    k.bceWithLogitsBackward(dz, Float32Array.of(0, 0), Float32Array.of(0, 1), 1, 2, 2);
    t.deepEqual([...dz], [1, -1]);
    // KL(N(0, 1) || N(0, 1)) = 0; KL(N(1, 1)) = 0.5 per unit of mu^2.
    t.is(k.gaussianKlForward(rows, Float32Array.of(0, 1), Float32Array.of(0, 0), 1, 2), 0.5);
    // log N(0; 0, 1) = -0.5 log 2pi.
    t.true(
      Math.abs(
        k.gaussianLogProbForward(rows, Float32Array.of(0), Float32Array.of(0), Float32Array.of(0), 1, 1) + 0.5 * Math.log(2 * Math.PI),
      ) < 1e-12,
    );
    const dmu = new Float32Array(1);
    const dlv = new Float32Array(1);
    k.gaussianLogProbBackward({ dmu, dlogvar: dlv }, Float32Array.of(3), Float32Array.of(1), Float32Array.of(0), 1, 1);
    t.is(dmu[0], 2); // (x - mu) / var
    t.is(dlv[0], 1.5); // 0.5 ((x - mu)^2 / var - 1)
    const lse = new Float32Array(2);
    k.logSumExpForward(lse, Float32Array.of(0, 0, 1000, 1000), 2, 2);
    t.is(lse[0], Math.fround(Math.LN2));
    t.is(lse[1], Math.fround(1000 + Math.LN2));
    t.is(k.reduceSum(Float32Array.of(1, 2, 3, 4.5)), 10.5);
    t.is(k.reduceMean(Float32Array.of(1, 2, 3, 4.5)), 2.625);
  }
});

test("BCE is exact for extreme logits (|z| = 30, 100, 1e4) on both backends", (t) => {
  const z = Float32Array.of(30, -30, 100, -100, 1e4, -1e4, 100, -100, 1e4, -1e4);
  const x = Float32Array.of(0, 1, 0, 1, 0, 1, 1, 0, 1, 0);
  const want = [30 + Math.log1p(Math.exp(-30)), 30 + Math.log1p(Math.exp(-30)), 100, 100, 1e4, 1e4];
  for (const k of [native, js]) {
    const rows = new Float32Array(10);
    k.bceWithLogitsForward(rows, z, x, 10, 1);
    for (let i = 0; i < 6; i++) t.is(rows[i], Math.fround(want[i]!), `z=${z[i]} x=${x[i]}`);
    for (let i = 6; i < 10; i++) t.true(rows[i]! >= 0 && rows[i]! < 1e-40, `agreeing z=${z[i]}: ${rows[i]}`);
    const dz = new Float32Array(10);
    k.bceWithLogitsBackward(dz, z, x, 10, 1);
    t.deepEqual(
      [...dz].map((v) => Math.round(v * 1e6) / 1e6),
      [1, -1, 1, -1, 1, -1, 0, 0, 0, 0],
    );
    t.true(dz.every(Number.isFinite));
  }
});

test("extreme log-variances stay finite where float64 allows", (t) => {
  const zero = Float32Array.of(0);
  for (const k of [native, js]) {
    const row = new Float32Array(1);
    // logvar = -100: KL = 0.5 (e^-100 - 1 + 100) = 49.5
    t.true(Math.abs(k.gaussianKlForward(row, zero, Float32Array.of(-100), 1, 1) - 49.5) < 1e-12);
    // logvar = 100: e^100 overflows float32: the row value is +Inf, the float64 total is not.
    const total = k.gaussianKlForward(row, zero, Float32Array.of(100), 1, 1);
    t.true(Number.isFinite(total) && Math.abs(total / (0.5 * Math.expm1(100)) - 1) < 1e-12);
    t.is(row[0], Infinity);
    // logvar = 30 / -30 for the log-density and its gradients.
    const lp = k.gaussianLogProbForward(row, Float32Array.of(1), zero, Float32Array.of(-30), 1, 1);
    t.true(Math.abs(lp / (-0.5 * (Math.log(2 * Math.PI) - 30 + Math.exp(30))) - 1) < 1e-6);
    const dlv = new Float32Array(1);
    k.gaussianLogProbBackward({ dlogvar: dlv }, Float32Array.of(1), zero, Float32Array.of(30), 1, 1);
    t.true(Math.abs(dlv[0]! + 0.5) < 1e-6);
    const dlvKl = new Float32Array(1);
    k.gaussianKlBackward(new Float32Array(1), dlvKl, zero, Float32Array.of(-100), 1, 1);
    t.is(dlvKl[0], -0.5);
  }
});

test("log-sum-exp special rows: -Infinity entries, all -Infinity, +Infinity, NaN, empty", (t) => {
  const I = Infinity;
  const x = Float32Array.of(-I, 0, -I, -I, -I, -I, 1, I, 2, 1, NaN, 2);
  for (const k of [native, js]) {
    const out = new Float32Array(4);
    k.logSumExpForward(out, x, 4, 3);
    t.is(out[0], 0);
    t.is(out[1], -I);
    t.is(out[2], I);
    t.true(Number.isNaN(out[3]));
    const dx = new Float32Array(12);
    k.logSumExpBackward(dx, x, out, Float32Array.of(2, 5, 1, 1), 4, 3);
    t.deepEqual([...dx.subarray(0, 9)], [0, 2, 0, 0, 0, 0, 0, NaN, 0]);
    const empty = new Float32Array(2);
    k.logSumExpForward(empty, new Float32Array(0), 2, 0);
    t.deepEqual([...empty], [-I, -I]);
  }
});

// ---- bad input and zero sizes ---------------------------------------------------------------------

test("losses refuse bad arguments on every backend", (t) => {
  const f = (n: number): Float32Array => new Float32Array(n);
  for (const k of [native, js]) {
    t.is(
      code(t, () => k.bceWithLogitsForward(null, f(6), f(5), 2, 3)),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.bceWithLogitsForward(f(3), f(6), f(6), 2, 3)),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.bceWithLogitsForward(null, f(6), f(6), -2, 3)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.bceWithLogitsForward(null, f(6), [0, 0, 0, 0, 0, 0] as never, 2, 3)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.bceWithLogitsBackward(f(6), f(6), f(6), 2, 3, NaN)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.bceWithLogitsBackward(f(6), f(6), f(6), 2, 3, f(3))),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.bceWithLogitsBackward(f(6), f(6), f(6), 2, 3, "1" as never)),
      "E_ARG",
    );
    const z = f(6);
    t.is(
      code(t, () => k.bceWithLogitsBackward(z, z, f(6), 2, 3)),
      "E_ARG",
    ); // in place is refused
    t.is(
      code(t, () => k.gaussianKlBackward(f(6), f(6), f(6), f(7), 2, 3)),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.gaussianLogProbBackward(null as never, f(1), f(1), f(1), 1, 1)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.gaussianLogProbBackward({ dx: f(2) }, f(1), f(1), f(1), 1, 1)),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.logSumExpForward(f(1), f(6), 2, 3)),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.logSumExpBackward(f(6), f(6), f(2), f(1), 2, 3)),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.reduceSum(new Float64Array(3) as never)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.reduceMean(f(0))),
      "E_SHAPE",
    );
  }
  // The addon re-checks sizes against every array before touching memory.
  const addon = nativeAddon();
  const shape = (fn: () => unknown): unknown => (t.throws(fn) as { code?: string }).code;
  t.is(
    shape(() => addon.bceWithLogitsForward(null, f(6), f(5), 2, 3)),
    "E_SHAPE",
  );
  t.is(
    shape(() => addon.bceWithLogitsBackward(f(6), f(6), f(6), 2, 3, 1, f(1))),
    "E_SHAPE",
  );
  t.is(
    shape(() => addon.gaussianLogProbBackward(null, f(5), null, f(6), f(6), f(6), 2, 3, 1, null)),
    "E_SHAPE",
  );
  t.is(
    shape(() => addon.logSumExpBackward(f(6), f(6), f(1), f(2), 2, 3)),
    "E_SHAPE",
  );
  t.is(
    shape(() => addon.gaussianKlForward(null, f(2), f(2), 2 ** 40, 2 ** 40)),
    "E_SHAPE",
  );
  t.is(
    shape(() => addon.reduceMean(f(0))),
    "E_SHAPE",
  );
});

test("losses with zero rows or columns", (t) => {
  const e = new Float32Array(0);
  for (const k of [native, js]) {
    t.is(k.bceWithLogitsForward(null, e, e, 0, 784), 0);
    const rows = Float32Array.of(7, 7, 7);
    t.is(k.bceWithLogitsForward(rows, e, e, 3, 0), 0);
    t.deepEqual([...rows], [0, 0, 0]);
    t.is(k.gaussianKlForward(null, e, e, 0, 4), 0);
    t.is(k.gaussianLogProbForward(null, e, e, e, 5, 0), 0);
    t.notThrows(() => k.bceWithLogitsBackward(e, e, e, 0, 3, 1));
    t.notThrows(() => k.gaussianLogProbBackward({}, e, e, e, 0, 3));
    t.is(k.reduceSum(e), 0);
  }
});

test("the cuda backend has no loss kernel yet and says so", (t) => {
  t.is(
    code(t, () => cudaLoss.reduceSum(new Float32Array(3))),
    "E_BACKEND",
  );
});

// ---- continuous Bernoulli ----------------------------------------------------------------------

/** Logits spread over both sides of the Taylor cutoff (|z| < 0.05, lambda near 0.5) and far out. */
function cbLogits(n: number, seed: number): Float32Array {
  const special = [0, 1e-6, -1e-4, 0.0123, -0.03, 0.0499, -0.0501, 0.05, 0.2, -3, 15, -40];
  const z = randomNormal(n, seed, 4);
  for (let i = 0; i < n; i += 3) z[i] = special[(i / 3) % special.length]!;
  return z;
}

test("continuous Bernoulli: native matches the JS twin (rows, total, gradient)", (t) => {
  let seed = 700;
  for (const [R, D] of SIZES) {
    const z = cbLogits(R * D, seed++);
    const x = randomUniform(R * D, seed++, 0, 1);
    const rowN = new Float32Array(R);
    const rowJ = new Float32Array(R);
    const totalN = native.continuousBernoulliNllForward(rowN, z, x, R, D);
    const totalJ = js.continuousBernoulliNllForward(rowJ, z, x, R, D);
    t.true(relTotal(totalN, totalJ) < 1e-12, `total R${R} D${D}: ${totalN} vs ${totalJ}`);
    t.true(maxRelDiff(rowN, rowJ) < 1e-6, `rows R${R} D${D}`);
    const up = randomNormal(R, seed++);
    for (const scale of [undefined, 0.125, up]) {
      const gN = new Float32Array(R * D);
      const gJ = new Float32Array(R * D);
      native.continuousBernoulliNllBackward(gN, z, x, R, D, scale);
      js.continuousBernoulliNllBackward(gJ, z, x, R, D, scale);
      t.true(maxRelDiff(gN, gJ) < 1e-6, `grad R${R} D${D}: ${maxRelDiff(gN, gJ)}`);
    }
  }
});

test("continuous Bernoulli: a normalized density on [0, 1] for every logit; log C exact near lambda = 0.5", (t) => {
  // integral_0^1 exp(-nll(z, x)) dx = 1 (Simpson, 2000 intervals), across the Taylor cutoff
  for (const z of [0, 1e-5, 0.03, 0.0499, 0.0501, 0.7, -2.5, 9, -30]) {
    const n = 2000;
    let s = 0;
    for (let i = 0; i <= n; i++) {
      const x = i / n;
      const w = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
      s += w * Math.exp(-twin.cbernoulliNllForward(null, Float64Array.of(z), Float64Array.of(x), 1, 1));
    }
    t.true(Math.abs(s / (3 * n) - 1) < 1e-6, `z = ${z}: integral ${s / (3 * n)}`);
  }
  t.is(twin.cbLogNorm(0), Math.LN2);
  // the Taylor branch against the closed form log(z / tanh(z / 2)) where that is still accurate
  for (const z of [0.01, -0.03, 0.0499]) t.true(Math.abs(twin.cbLogNorm(z) - Math.log(z / Math.tanh(z / 2))) < 1e-13, `log C(${z})`);
  // continuous across the cutoff, value and gradient
  const c = twin.CB_TAYLOR;
  t.true(Math.abs(twin.cbLogNorm(c - 1e-12) - twin.cbLogNorm(c + 1e-12)) < 1e-13);
  t.true(Math.abs(twin.cbLogNormGrad(c - 1e-12) - twin.cbLogNormGrad(c + 1e-12)) < 1e-12);
  // far out: no overflow; log C ~ log|z| (tanh -> 1)
  t.true(Math.abs(twin.cbLogNorm(800) - Math.log(800)) < 1e-12);
  t.true(Number.isFinite(twin.cbLogNormGrad(-800)));
});

test("continuous Bernoulli gradient matches finite differences (float64), near lambda = 0.5 included", (t) => {
  let seed = 760;
  for (const [R, D] of [
    [1, 1],
    [3, 17],
    [5, 12],
  ] as const) {
    const z = to64(cbLogits(R * D, seed++));
    const x = to64(randomUniform(R * D, seed++, 0, 1));
    const up = to64(randomNormal(R, seed++));
    const rows = new Float64Array(R);
    const g = new Float64Array(R * D);
    twin.cbernoulliNllBackward(g, z, x, R, D, 1, up);
    const num = numericGradient((zz) => {
      twin.cbernoulliNllForward(rows, zz, x, R, D);
      return dot(rows, up);
    }, z);
    t.true(maxRelDiff(g, num) < 1e-7, `R${R} D${D}: ${maxRelDiff(g, num)}`);
  }
  // zero gradient at the mode of the expected log-likelihood: x = E[x] of the distribution
  const z0 = Float64Array.of(0.8);
  const mean = 1 / (1 - Math.exp(-0.8)) - 1 / 0.8; // E[x] = lambda / (2 lambda - 1) + 1 / (2 atanh(1 - 2 lambda))
  const g0 = new Float64Array(1);
  twin.cbernoulliNllBackward(g0, z0, Float64Array.of(mean), 1, 1, 1, null);
  t.true(Math.abs(g0[0]!) < 1e-12, `gradient at the mean: ${g0[0]}`);
});
