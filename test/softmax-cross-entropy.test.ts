// Softmax cross-entropy (loss kernel group): native vs JS parity, float64 finite differences,
// exact small cases, large logits, bad input.
import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { DeepgenError } from "../lib/core/errors.js";
import * as twin from "../lib/kernels/js/loss.js";
import { nativeAddon } from "../lib/kernels/native.js";
import { cudaLoss } from "../lib/kernels/ops/loss.js";
import { dot, maxRelDiff, numericGradient, randomNormal, randomUniform, to64 } from "./helpers/numeric.js";

const native = getKernels("native");
const js = getKernels("js");

/** Rows of random soft targets (non-negative, each row summing to `mass`). */
function softTargets(rows: number, cols: number, seed: number, mass = 1): Float32Array {
  const t = randomUniform(rows * cols, seed, 0, 1);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += t[r * cols + c]!;
    for (let c = 0; c < cols; c++) t[r * cols + c] = (mass * t[r * cols + c]!) / s;
  }
  return t;
}

function oneHot(labels: number[], cols: number): Float32Array {
  const t = new Float32Array(labels.length * cols);
  labels.forEach((y, r) => {
    t[r * cols + y] = 1;
  });
  return t;
}

function code(t: { throws: (fn: () => unknown) => unknown }, fn: () => unknown): string | undefined {
  const err = t.throws(fn);
  return err instanceof DeepgenError ? err.code : `not a DeepgenError: ${String(err)}`;
}

test("softmax cross-entropy: native matches the JS twin (rows, total, gradient) on odd sizes", (t) => {
  let seed = 1;
  for (const [R, C] of [
    [1, 1],
    [3, 10],
    [17, 3],
    [5, 33],
    [1000, 10],
    [7, 1001],
  ] as const) {
    const z = randomNormal(R * C, seed++, 5);
    const targets =
      seed % 2 === 0
        ? softTargets(R, C, seed++)
        : oneHot(
            Array.from({ length: R }, (_, r) => (r * 7) % C),
            C,
          );
    const rowN = new Float32Array(R);
    const rowJ = new Float32Array(R);
    const totalN = native.softmaxCrossEntropyForward(rowN, z, targets, R, C);
    const totalJ = js.softmaxCrossEntropyForward(rowJ, z, targets, R, C);
    t.true(Math.abs(totalN - totalJ) <= 1e-12 * Math.max(1, Math.abs(totalJ)), `total R${R} C${C}: ${totalN} vs ${totalJ}`);
    t.true(maxRelDiff(rowN, rowJ) < 1e-7, `rows R${R} C${C}`);
    t.is(native.softmaxCrossEntropyForward(null, z, targets, R, C), totalN);
    for (const scale of [undefined, 0.125, randomNormal(R, seed++)]) {
      const gN = new Float32Array(R * C);
      const gJ = new Float32Array(R * C);
      native.softmaxCrossEntropyBackward(gN, z, targets, R, C, scale);
      js.softmaxCrossEntropyBackward(gJ, z, targets, R, C, scale);
      t.true(maxRelDiff(gN, gJ) < 1e-7, `grad R${R} C${C}: ${maxRelDiff(gN, gJ)}`);
    }
  }
});

test("softmax cross-entropy gradient matches float64 finite differences (one-hot, soft, unnormalized targets)", (t) => {
  let seed = 100;
  for (const [R, C] of [
    [1, 1],
    [2, 3],
    [3, 5],
    [2, 10],
  ] as const) {
    for (const mass of [1, 0.7, 2.5]) {
      const z = to64(randomNormal(R * C, seed++, 3));
      const targets = to64(softTargets(R, C, seed++, mass));
      const up = to64(randomNormal(R, seed++));
      const rows = new Float64Array(R);
      const num = numericGradient((zz) => {
        twin.softmaxCrossEntropyForward(rows, zz, targets, R, C);
        return dot(rows, up);
      }, z);
      const g = new Float64Array(R * C);
      twin.softmaxCrossEntropyBackward(g, z, targets, R, C, 1, up);
      t.true(maxRelDiff(g, num) < 1e-7, `R${R} C${C} mass ${mass}: ${maxRelDiff(g, num)}`);
      const gs = new Float64Array(R * C);
      twin.softmaxCrossEntropyBackward(gs, z, targets, R, C, 0.5, null);
      const numTotal = numericGradient((zz) => 0.5 * twin.softmaxCrossEntropyForward(null, zz, targets, R, C), z);
      t.true(maxRelDiff(gs, numTotal) < 1e-7);
    }
  }
});

test("softmax cross-entropy: exact tiny cases", (t) => {
  for (const k of [native, js]) {
    const rows = new Float32Array(2);
    // Equal logits over C classes: log C whatever the label.
    t.true(Math.abs(k.softmaxCrossEntropyForward(null, new Float32Array(10), oneHot([3], 10), 1, 10) - Math.log(10)) < 1e-12);
    // z = (0, ln 3): p = (1/4, 3/4); label 1 -> -log 3/4, label 0 -> log 4.
    const z = Float32Array.of(0, Math.fround(Math.log(3)), 0, Math.fround(Math.log(3)));
    const total = k.softmaxCrossEntropyForward(rows, z, oneHot([1, 0], 2), 2, 2);
    t.true(Math.abs(rows[0]! - Math.fround(-Math.log(0.75))) < 1e-7);
    t.true(Math.abs(rows[1]! - Math.fround(Math.log(4))) < 1e-7);
    t.true(Math.abs(total - (Math.log(4) - Math.log(0.75))) < 1e-6);
    const dz = new Float32Array(4);
    k.softmaxCrossEntropyBackward(dz, z, oneHot([1, 0], 2), 2, 2, 2);
    // 2 (p - onehot): (0.5, -0.5) and (-1.5, 1.5)
    t.deepEqual(
      [...dz].map((v) => Math.round(v * 1e6) / 1e6),
      [0.5, -0.5, -1.5, 1.5],
    );
  }
});

test("softmax cross-entropy is stable for large logits (|z| = 1e3, 1e4, 1e30) and ignores -Infinity non-targets", (t) => {
  for (const k of [native, js]) {
    const rows = new Float32Array(5);
    const z = Float32Array.of(1000, 0, 0, 1000, 1e4, -1e4, -1e30, 1e30, -Infinity, 2);
    const targets = oneHot([1, 1, 0, 1, 1], 2);
    k.softmaxCrossEntropyForward(rows, z, targets, 5, 2);
    t.deepEqual([...rows], [1000, 0, 0, 0, 0]);
    const dz = new Float32Array(10);
    k.softmaxCrossEntropyBackward(dz, z, targets, 5, 2);
    t.deepEqual([...dz], [1, -1, 0, 0, 0, 0, 0, 0, 0, 0]);
    t.true(dz.every(Number.isFinite));
  }
});

test("softmax cross-entropy with zero rows or columns, and bad input on every backend", (t) => {
  const f = (n: number): Float32Array => new Float32Array(n);
  const e = f(0);
  for (const k of [native, js]) {
    t.is(k.softmaxCrossEntropyForward(null, e, e, 0, 10), 0);
    const rows = Float32Array.of(7, 7);
    t.is(k.softmaxCrossEntropyForward(rows, e, e, 2, 0), 0);
    t.deepEqual([...rows], [0, 0]);
    t.notThrows(() => k.softmaxCrossEntropyBackward(e, e, e, 0, 10));
    t.is(
      code(t, () => k.softmaxCrossEntropyForward(null, f(6), f(5), 2, 3)),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.softmaxCrossEntropyForward(f(1), f(6), f(6), 2, 3)),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.softmaxCrossEntropyForward(null, f(6), f(6), 2.5, 3)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.softmaxCrossEntropyBackward(f(6), f(6), f(6), 2, 3, Infinity)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.softmaxCrossEntropyBackward(f(6), f(6), f(6), 2, 3, f(3))),
      "E_SHAPE",
    );
    const z = f(6);
    t.is(
      code(t, () => k.softmaxCrossEntropyBackward(z, z, f(6), 2, 3)),
      "E_ARG",
    ); // in place is refused
  }
  const addon = nativeAddon();
  const shape = (fn: () => unknown): unknown => (t.throws(fn) as { code?: string }).code;
  t.is(
    shape(() => addon.softmaxCrossEntropyForward(null, f(6), f(5), 2, 3)),
    "E_SHAPE",
  );
  t.is(
    shape(() => addon.softmaxCrossEntropyBackward(f(6), f(6), f(6), 2, 3, 1, f(1))),
    "E_SHAPE",
  );
  t.is(
    code(t, () => cudaLoss.softmaxCrossEntropyForward(null, f(1), f(1), 1, 1)),
    "E_BACKEND",
  );
});
