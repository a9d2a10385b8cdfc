// Kernel group "norm": BatchNorm (training / eval forward, training backward) and LayerNorm
// (forward / backward). Native vs JS parity, float64 finite-difference gradients through the
// batch statistics and through gamma / beta, exact tiny cases, bad arguments, zero sizes,
// thread-count independence.
import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import * as bn from "../lib/kernels/js/batchnorm.js";
import * as ln from "../lib/kernels/js/layernorm.js";
import { nativeAddon } from "../lib/kernels/native.js";
import { cudaNorm } from "../lib/kernels/ops/norm.js";
import { dot, maxAbsDiff, maxRelDiff, numericGradient, randomNormal, randomUniform, to64 } from "./helpers/numeric.js";

const js = getKernels("js");
const native = getKernels("native");
type K = typeof js;

const BN_SHAPES: Array<[number, number, number]> = [
  [2, 1, 1],
  [3, 17, 1],
  [64, 33, 1],
  [4, 3, 17],
  [2, 5, 33],
  [1, 3, 1000],
  [5, 2, 8],
];

interface BnOut {
  y: Float32Array;
  mean: Float32Array;
  rstd: Float32Array;
  rm: Float32Array;
  rv: Float32Array;
  dx: Float32Array;
  dgamma: Float32Array;
  dbeta: Float32Array;
  yEval: Float32Array;
}

function runBn(k: K, x: Float32Array, dy: Float32Array, gamma: Float32Array, beta: Float32Array, n: number, c: number, s: number): BnOut {
  const o: BnOut = {
    y: new Float32Array(x.length),
    mean: new Float32Array(c),
    rstd: new Float32Array(c),
    rm: randomUniform(c, 77, -0.5, 0.5),
    rv: randomUniform(c, 78, 0.5, 2),
    dx: new Float32Array(x.length),
    dgamma: new Float32Array(c),
    dbeta: new Float32Array(c),
    yEval: new Float32Array(x.length),
  };
  k.batchNormForwardTrain(x, gamma, beta, o.y, o.mean, o.rstd, o.rm, o.rv, n, c, s);
  k.batchNormBackward(x, dy, gamma, o.mean, o.rstd, o.dx, o.dgamma, o.dbeta, n, c, s);
  k.batchNormForwardEval(x, gamma, beta, o.rm, o.rv, o.yEval, n, c, s);
  return o;
}

test("batchNorm: native matches JS (train forward, running stats, eval forward, backward)", (t) => {
  for (const [n, c, s] of BN_SHAPES) {
    const len = n * c * s;
    const x = randomNormal(len, len + 1, 2);
    for (let i = 0; i < len; i++) x[i] = x[i]! + 0.5; // a non-zero mean
    const dy = randomNormal(len, len + 2);
    const gamma = randomUniform(c, 3, 0.5, 1.5);
    const beta = randomUniform(c, 4, -1, 1);
    const a = runBn(js, x, dy, gamma, beta, n, c, s);
    const b = runBn(native, x, dy, gamma, beta, n, c, s);
    const shape = `[${n},${c},${s}]`;
    // Statistics in double on both sides: mean and rstd within float rounding.
    t.true(maxRelDiff(b.mean, a.mean) <= 2e-7, `${shape} mean ${maxRelDiff(b.mean, a.mean)}`);
    t.true(maxRelDiff(b.rstd, a.rstd) <= 2e-7, `${shape} rstd ${maxRelDiff(b.rstd, a.rstd)}`);
    t.true(maxRelDiff(b.rm, a.rm) <= 2e-7 && maxRelDiff(b.rv, a.rv) <= 2e-7, `${shape} running stats`);
    // Outputs O(1): a few float32 roundings apart (native rounds per operation, JS once).
    t.true(maxRelDiff(b.y, a.y) <= 2e-6, `${shape} y ${maxRelDiff(b.y, a.y)}`);
    t.true(maxRelDiff(b.yEval, a.yEval) <= 2e-6, `${shape} yEval ${maxRelDiff(b.yEval, a.yEval)}`);
    t.true(maxRelDiff(b.dx, a.dx) <= 2e-6, `${shape} dx ${maxRelDiff(b.dx, a.dx)}`);
    t.true(maxRelDiff(b.dgamma, a.dgamma) <= 2e-6, `${shape} dgamma ${maxRelDiff(b.dgamma, a.dgamma)}`);
    t.true(maxRelDiff(b.dbeta, a.dbeta) <= 2e-6, `${shape} dbeta ${maxRelDiff(b.dbeta, a.dbeta)}`);
  }
});

test("layerNorm: native matches JS (forward, backward)", (t) => {
  for (const [rows, dim] of [
    [1, 1],
    [1, 3],
    [3, 17],
    [33, 64],
    [300, 9],
    [7, 1030],
    [5, 33],
  ] as Array<[number, number]>) {
    const len = rows * dim;
    const x = randomNormal(len, len + 5, 3);
    for (let i = 0; i < len; i++) x[i] = x[i]! - 1;
    const dy = randomNormal(len, len + 6);
    const gamma = randomUniform(dim, 7, 0.5, 1.5);
    const beta = randomUniform(dim, 8, -1, 1);
    const out = (k: K) => {
      const o = {
        y: new Float32Array(len),
        mean: new Float32Array(rows),
        rstd: new Float32Array(rows),
        dx: new Float32Array(len),
        dg: new Float32Array(dim),
        db: new Float32Array(dim),
      };
      k.layerNormForward(x, gamma, beta, o.y, o.mean, o.rstd, rows, dim);
      k.layerNormBackward(x, dy, gamma, o.mean, o.rstd, o.dx, o.dg, o.db, rows, dim);
      return o;
    };
    const a = out(js);
    const b = out(native);
    const shape = `[${rows},${dim}]`;
    t.true(maxRelDiff(b.mean, a.mean) <= 2e-7 && maxRelDiff(b.rstd, a.rstd) <= 2e-7, `${shape} stats`);
    t.true(maxRelDiff(b.y, a.y) <= 2e-6, `${shape} y ${maxRelDiff(b.y, a.y)}`);
    // dx = rstd (g - mean g - xhat mean(g xhat)) cancels: compare against the scale of rstd |g|.
    t.true(maxAbsDiff(b.dx, a.dx) <= 2e-6 * Math.max(...a.rstd) * 1.5, `${shape} dx ${maxAbsDiff(b.dx, a.dx)}`);
    t.true(maxRelDiff(b.dg, a.dg) <= 2e-6, `${shape} dgamma ${maxRelDiff(b.dg, a.dg)}`);
    t.true(maxRelDiff(b.db, a.db) <= 1e-6, `${shape} dbeta ${maxRelDiff(b.db, a.db)}`);
  }
});

test("native norm results do not depend on the thread count", (t) => {
  const addon = nativeAddon();
  const before = addon.threadLimit();
  const [n, c, s] = [8, 24, 200];
  const len = n * c * s;
  const x = randomNormal(len, 91);
  const dy = randomNormal(len, 92);
  const gamma = randomUniform(c, 93, 0.5, 1.5);
  const beta = randomUniform(c, 94);
  const ld = 96;
  const lr = len / ld;
  const lg = randomUniform(ld, 95, 0.5, 1.5);
  const run = (threads: number) => {
    addon.setThreadLimit(threads);
    const o = runBn(native, x, dy, gamma, beta, n, c, s);
    const dense = runBn(native, x, dy, randomUniform(c * s, 9, 0.5, 1.5), randomUniform(c * s, 10), n, c * s, 1);
    const y = new Float32Array(len);
    const m = new Float32Array(lr);
    const r = new Float32Array(lr);
    const dx = new Float32Array(len);
    const dg = new Float32Array(ld);
    const db = new Float32Array(ld);
    native.layerNormForward(x, lg, lg, y, m, r, lr, ld);
    native.layerNormBackward(x, dy, lg, m, r, dx, dg, db, lr, ld);
    return [o.y, o.dx, o.dgamma, o.dbeta, o.rv, dense.y, dense.dx, dense.dgamma, dense.dbeta, y, dx, dg, db];
  };
  try {
    const one = run(1);
    const many = run(4);
    for (let i = 0; i < one.length; i++) t.deepEqual(many[i], one[i], `output ${i}`);
  } finally {
    addon.setThreadLimit(before);
  }
});

// ---- finite-difference gradient checks (float64, JS twins) ----------------------------------

test("batchNormBackward matches finite differences through the batch statistics (float64)", (t) => {
  for (const [n, c, s] of [
    [3, 2, 4],
    [5, 3, 1],
    [2, 1, 3],
  ] as Array<[number, number, number]>) {
    const len = n * c * s;
    const x = to64(randomNormal(len, 101, 1.5));
    const gamma = to64(randomUniform(c, 102, 0.5, 1.5));
    const beta = to64(randomUniform(c, 103, -1, 1));
    const g = to64(randomNormal(len, 104));
    const eps = 1e-5;
    const forward = (xv: Float64Array, gv: Float64Array, bv: Float64Array) => {
      const y = new Float64Array(len);
      const mean = new Float64Array(c);
      const rstd = new Float64Array(c);
      bn.batchNormForwardTrain(xv, gv, bv, y, mean, rstd, new Float64Array(c), new Float64Array(c).fill(1), n, c, s, eps, 0.1);
      return { y, mean, rstd };
    };
    const f = forward(x, gamma, beta);
    const dx = new Float64Array(len);
    const dgamma = new Float64Array(c);
    const dbeta = new Float64Array(c);
    bn.batchNormBackward(x, g, gamma, f.mean, f.rstd, dx, dgamma, dbeta, n, c, s);
    const numX = numericGradient((xv) => dot(forward(xv, gamma, beta).y, g), x);
    const numG = numericGradient((gv) => dot(forward(x, gv, beta).y, g), gamma);
    const numB = numericGradient((bv) => dot(forward(x, gamma, bv).y, g), beta);
    const shape = `[${n},${c},${s}]`;
    t.true(maxRelDiff(dx, numX) < 1e-6, `${shape} dx ${maxRelDiff(dx, numX)}`);
    t.true(maxRelDiff(dgamma, numG) < 1e-6, `${shape} dgamma ${maxRelDiff(dgamma, numG)}`);
    t.true(maxRelDiff(dbeta, numB) < 1e-6, `${shape} dbeta ${maxRelDiff(dbeta, numB)}`);
  }
});

test("layerNormBackward matches finite differences for x, gamma and beta (float64)", (t) => {
  for (const [rows, dim] of [
    [4, 5],
    [1, 7],
    [6, 2],
  ] as Array<[number, number]>) {
    const len = rows * dim;
    const x = to64(randomNormal(len, 111, 2));
    const gamma = to64(randomUniform(dim, 112, 0.5, 1.5));
    const beta = to64(randomUniform(dim, 113, -1, 1));
    const g = to64(randomNormal(len, 114));
    const forward = (xv: Float64Array, gv: Float64Array, bv: Float64Array) => {
      const y = new Float64Array(len);
      const mean = new Float64Array(rows);
      const rstd = new Float64Array(rows);
      ln.layerNormForward(xv, gv, bv, y, mean, rstd, rows, dim, 1e-5);
      return { y, mean, rstd };
    };
    const f = forward(x, gamma, beta);
    const dx = new Float64Array(len);
    const dgamma = new Float64Array(dim);
    const dbeta = new Float64Array(dim);
    ln.layerNormBackward(x, g, gamma, f.mean, f.rstd, dx, dgamma, dbeta, rows, dim);
    const numX = numericGradient((xv) => dot(forward(xv, gamma, beta).y, g), x);
    const numG = numericGradient((gv) => dot(forward(x, gv, beta).y, g), gamma);
    const numB = numericGradient((bv) => dot(forward(x, gamma, bv).y, g), beta);
    const shape = `[${rows},${dim}]`;
    t.true(maxRelDiff(dx, numX) < 1e-6, `${shape} dx ${maxRelDiff(dx, numX)}`);
    t.true(maxRelDiff(dgamma, numG) < 1e-6, `${shape} dgamma ${maxRelDiff(dgamma, numG)}`);
    t.true(maxRelDiff(dbeta, numB) < 1e-6, `${shape} dbeta ${maxRelDiff(dbeta, numB)}`);
  }
});

// ---- exact tiny cases ----------------------------------------------------------------------

test("batchNorm tiny case: values 1..4 in one channel", (t) => {
  for (const k of [js, native]) {
    const x = Float32Array.from([1, 2, 3, 4]); // [n=2, c=1, s=2]: mean 2.5, var 1.25, unbiased 5/3
    const y = new Float32Array(4);
    const mean = new Float32Array(1);
    const rstd = new Float32Array(1);
    const rm = Float32Array.from([0]);
    const rv = Float32Array.from([1]);
    k.batchNormForwardTrain(x, Float32Array.from([2]), Float32Array.from([0.5]), y, mean, rstd, rm, rv, 2, 1, 2);
    const r = 1 / Math.sqrt(1.25 + Math.fround(1e-5));
    t.is(mean[0], 2.5);
    t.is(rstd[0], Math.fround(r));
    t.is(rm[0], Math.fround(0.25));
    t.true(Math.abs(rv[0]! - (0.9 + 0.1 * (5 / 3))) < 1e-7);
    const want = [1, 2, 3, 4].map((v) => (v - 2.5) * Math.fround(r) * 2 + 0.5);
    t.true(maxAbsDiff(y, want) < 1e-6, `${k.backend} y ${[...y]}`);
    // Two channels, dense: x = [[1, 10], [3, 30]] -> xhat = [[-1, -1], [1, 1]] (up to eps).
    const y2 = new Float32Array(4);
    k.batchNormForwardTrain(
      Float32Array.from([1, 10, 3, 30]),
      Float32Array.from([1, 1]),
      Float32Array.from([0, 0]),
      y2,
      new Float32Array(2),
      new Float32Array(2),
      new Float32Array(2),
      new Float32Array(2),
      2,
      2,
      1,
    );
    t.true(maxAbsDiff(y2, [-1, -1, 1, 1]) < 1e-4, `${k.backend} dense ${[...y2]}`);
    // Backward with dy = 1: dbeta = M, dgamma = sum xhat = 0, dx = 0.
    const dx = new Float32Array(4);
    const dg = new Float32Array(1);
    const db = new Float32Array(1);
    k.batchNormBackward(x, Float32Array.from([1, 1, 1, 1]), Float32Array.from([2]), mean, rstd, dx, dg, db, 2, 1, 2);
    t.is(db[0], 4);
    t.true(Math.abs(dg[0]!) < 1e-6 && maxAbsDiff(dx, [0, 0, 0, 0]) < 1e-6);
    // Eval: (x - 0.25) / sqrt(rv + eps) * 2 + 0.5.
    const ye = new Float32Array(4);
    k.batchNormForwardEval(x, Float32Array.from([2]), Float32Array.from([0.5]), rm, rv, ye, 1, 1, 4);
    const sc = 2 / Math.sqrt(rv[0]! + Math.fround(1e-5));
    t.true(
      maxAbsDiff(
        ye,
        [1, 2, 3, 4].map((v) => (v - rm[0]!) * sc + 0.5),
      ) < 1e-6,
    );
  }
});

test("layerNorm tiny case: a ramp row and a constant row", (t) => {
  for (const k of [js, native]) {
    const x = Float32Array.from([1, 2, 3, 4, -1, -1, -1, -1]);
    const gamma = Float32Array.from([1, 2, 3, 4]);
    const beta = Float32Array.from([0, 0, 1, 1]);
    const y = new Float32Array(8);
    const mean = new Float32Array(2);
    const rstd = new Float32Array(2);
    k.layerNormForward(x, gamma, beta, y, mean, rstd, 2, 4);
    t.deepEqual([...mean], [2.5, -1]);
    const r = Math.fround(1 / Math.sqrt(1.25 + Math.fround(1e-5)));
    t.is(rstd[0], r);
    t.true(maxAbsDiff(y.subarray(0, 4), [-1.5 * r, -0.5 * r * 2, 0.5 * r * 3 + 1, 1.5 * r * 4 + 1]) < 2e-6);
    t.deepEqual([...y.subarray(4)], [0, 0, 1, 1]); // a constant row normalizes to beta
    // dy = 1 on the ramp row only: dbeta = [1,1,1,1] (+0 from row 1), dgamma = xhat of row 0.
    const dx = new Float32Array(8);
    const dg = new Float32Array(4);
    const db = new Float32Array(4);
    k.layerNormBackward(x, Float32Array.from([1, 1, 1, 1, 0, 0, 0, 0]), gamma, mean, rstd, dx, dg, db, 2, 4);
    t.deepEqual([...db], [1, 1, 1, 1]);
    t.true(maxAbsDiff(dg, [-1.5 * r, -0.5 * r, 0.5 * r, 1.5 * r]) < 1e-6);
    t.deepEqual([...dx.subarray(4)], [0, 0, 0, 0]);
  }
});

// ---- errors and zero sizes -----------------------------------------------------------------

test("bad arguments throw DeepgenError with the right code on every backend", (t) => {
  const v = (n: number) => new Float32Array(n);
  for (const k of [js, native]) {
    const code = (fn: () => void) => (t.throws(fn) as { code?: string } | undefined)?.code;
    const bnTrain = (x: Float32Array, n: number, c: number, s: number, eps?: number, mom?: number, y = v(x.length)) =>
      k.batchNormForwardTrain(x, v(c), v(c), y, v(c), v(c), v(c), v(c), n, c, s, eps, mom);
    // One value per channel cannot be normalized in training (as PyTorch).
    t.is(
      code(() => bnTrain(v(3), 1, 3, 1)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.batchNormBackward(v(3), v(3), v(3), v(3), v(3), v(3), v(3), v(3), 1, 3, 1)),
      "E_SHAPE",
    );
    t.is(
      code(() => bnTrain(v(8), 2, 2, 2, 0)),
      "E_ARG",
    );
    t.is(
      code(() => bnTrain(v(8), 2, 2, 2, -1e-5)),
      "E_ARG",
    );
    t.is(
      code(() => bnTrain(v(8), 2, 2, 2, 1e-50)),
      "E_ARG",
    ); // 0 in float32
    t.is(
      code(() => bnTrain(v(8), 2, 2, 2, 1e-5, 1.5)),
      "E_ARG",
    );
    t.is(
      code(() => bnTrain(v(8), 2, 2, 2, 1e-5, NaN)),
      "E_ARG",
    );
    t.is(
      code(() => bnTrain(v(8), 2, 2, 2.5)),
      "E_ARG",
    );
    t.is(
      code(() => bnTrain(v(8), -2, 2, 2)),
      "E_ARG",
    );
    t.is(
      code(() => bnTrain(v(7), 2, 2, 2)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.batchNormForwardTrain(v(8), v(2), v(3), v(8), v(2), v(2), v(2), v(2), 2, 2, 2)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.batchNormForwardEval(v(8), v(2), v(2), v(2), v(1), v(8), 2, 2, 2)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.batchNormForwardEval(v(8), v(2), v(2), v(2), v(2), new Float64Array(8) as unknown as Float32Array, 2, 2, 2)),
      "E_ARG",
    );
    const shared = v(16);
    t.is(
      code(() => bnTrain(shared.subarray(0, 8), 2, 2, 2, undefined, undefined, shared.subarray(4, 12))),
      "E_ARG",
    );
    const x = v(8);
    t.is(
      code(() => k.batchNormForwardTrain(x, v(2), v(2), v(8), x.subarray(0, 2), v(2), v(2), v(2), 2, 2, 2)),
      "E_ARG",
    );
    t.is(
      code(() => k.layerNormForward(v(8), v(0), v(0), v(8), v(2), v(2), 2, 0)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.layerNormForward(v(8), v(4), v(4), v(8), v(3), v(2), 2, 4)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.layerNormForward(v(8), v(4), v(4), v(8), v(2), v(2), 2, 4, Infinity)),
      "E_ARG",
    );
    t.is(
      code(() => k.layerNormBackward(v(8), v(8), v(4), v(2), v(2), v(8), v(4), v(5), 2, 4)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.layerNormBackward(v(8), v(8), v(4), v(2), v(2), v(8), v(4), v(4), 2, -4)),
      "E_ARG",
    );
  }
  t.is((t.throws(() => cudaNorm.layerNormForward(v(1), v(1), v(1), v(1), v(1), v(1), 1, 1)) as { code?: string }).code, "E_BACKEND");
});

test("zero sizes: no channels / no rows do nothing; an empty layer-norm batch has zero gradients", (t) => {
  const e = new Float32Array(0);
  for (const k of [js, native]) {
    k.batchNormForwardTrain(e, e, e, e, e, e, e, e, 4, 0, 3);
    k.batchNormBackward(e, e, e, e, e, e, e, e, 4, 0, 3);
    const rv = Float32Array.from([1, 1]);
    k.batchNormForwardEval(e, Float32Array.from([1, 1]), new Float32Array(2), new Float32Array(2), rv, e, 0, 2, 3);
    k.layerNormForward(e, new Float32Array(3), new Float32Array(3), e, e, e, 0, 3);
    const dg = Float32Array.from([5, 5, 5]);
    const db = Float32Array.from([5, 5, 5]);
    k.layerNormBackward(e, e, new Float32Array(3), e, e, e, dg, db, 0, 3);
    t.deepEqual([...dg, ...db], [0, 0, 0, 0, 0, 0]);
    k.layerNormForward(e, e, e, e, e, e, 0, 0);
  }
});

test("in place: batchNorm / layerNorm forward with y === x, backward with dx === dy", (t) => {
  const [n, c, s] = [3, 4, 5];
  const len = n * c * s;
  const x = randomNormal(len, 121);
  const dy = randomNormal(len, 122);
  const gamma = randomUniform(c, 123, 0.5, 1.5);
  const beta = randomUniform(c, 124);
  for (const k of [js, native]) {
    const ref = runBn(k, x, dy, gamma, beta, n, c, s);
    const xi = x.slice();
    k.batchNormForwardTrain(
      xi,
      gamma,
      beta,
      xi,
      new Float32Array(c),
      new Float32Array(c),
      new Float32Array(c),
      new Float32Array(c),
      n,
      c,
      s,
    );
    t.deepEqual(xi, ref.y);
    const g = dy.slice();
    k.batchNormBackward(x, g, gamma, ref.mean, ref.rstd, g, new Float32Array(c), new Float32Array(c), n, c, s);
    t.deepEqual(g, ref.dx);
    const y = new Float32Array(len);
    const m = new Float32Array(n * c);
    const r = new Float32Array(n * c);
    const lg = randomUniform(s, 125, 0.5, 1.5);
    k.layerNormForward(x, lg, lg, y, m, r, n * c, s);
    const xl = x.slice();
    k.layerNormForward(xl, lg, lg, xl, m, r, n * c, s);
    t.deepEqual(xl, y);
  }
});
