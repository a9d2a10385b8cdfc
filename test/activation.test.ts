// Kernel group "activation": native vs JS parity, float64 finite-difference gradients of every
// backward, vexp / vlog against Math.exp / Math.log over the whole float range, exact tiny
// cases, bad arguments, zero sizes, in-place calls and thread-count independence.
import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { nativeAddon } from "../lib/kernels/native.js";
import * as twin from "../lib/kernels/js/activation.js";
import { ACTIVATION_KINDS, type ActivationKind, cudaActivation } from "../lib/kernels/ops/activation.js";
import { dot, maxRelDiff, numericGradient, randomNormal, randomUniform, to64 } from "./helpers/numeric.js";

const js = getKernels("js");
const native = getKernels("native");
const SMOOTH: readonly ActivationKind[] = ["tanh", "sigmoid", "softplus"];
const SIZES = [1, 3, 7, 8, 17, 33, 1000, 40_003];

// ---- float32 ulp helpers -------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Position of a float32 on the number line (monotonic; -0 and +0 both 0). */
function ordinal(v: number): number {
  f32[0] = v;
  const b = u32[0]!;
  return b & 0x80000000 ? -(b & 0x7fffffff) : b;
}

/** Distance in float32 steps between two float32 values (0 when both NaN; Infinity on NaN mismatch). */
function ulpDistance(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b) ? 0 : Infinity;
  return Math.abs(ordinal(a) - ordinal(b));
}

function maxUlp(a: Float32Array, b: Float32Array): { ulp: number; at: number } {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = ulpDistance(a[i]!, b[i]!);
    if (d > worst) {
      worst = d;
      at = i;
    }
  }
  return { ulp: worst, at };
}

function fromBits(bits: Uint32Array): Float32Array {
  return new Float32Array(bits.buffer.slice(0));
}

/** Every `stride`-th float32 bit pattern: all exponents, both signs, denormals, inf, NaN. */
function bitSweep(stride: number): Float32Array {
  const bits = new Uint32Array(Math.floor(2 ** 32 / stride));
  for (let i = 0; i < bits.length; i++) bits[i] = i * stride;
  return fromBits(bits);
}

function linspace(lo: number, hi: number, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + ((hi - lo) * i) / (n - 1);
  return out;
}

const SPECIAL = Float32Array.from([
  0,
  -0,
  1,
  -1,
  Infinity,
  -Infinity,
  NaN,
  1e-45,
  -1e-45,
  1.1754943508222875e-38,
  5.877e-39,
  3.4028234663852886e38,
  -3.4028234663852886e38,
  88.72283,
  88.7228394,
  88.73,
  89,
  -87.33655,
  -87.34,
  -100,
  -103.97207,
  -103.9721,
  -104,
  -150,
  1000,
  -1000,
]);

// ---- vexp / vlog ---------------------------------------------------------------------------

function checkUnary(
  t: import("ava").ExecutionContext,
  name: "vexp" | "vlog",
  ref: (x: number) => number,
  x: Float32Array,
  maxAllowed: number,
) {
  const got = new Float32Array(x.length);
  native[name](x, got);
  const want = Float32Array.from(x, ref);
  const { ulp, at } = maxUlp(got, want);
  // Zeros, infinities and NaNs must match exactly (ulp distance 0 for them).
  let specialMismatch = 0;
  for (let i = 0; i < x.length; i++) {
    const w = want[i]!;
    if ((w === 0 || !Number.isFinite(w)) && ulpDistance(got[i]!, w) !== 0) specialMismatch++;
  }
  t.is(specialMismatch, 0, `${name}: special results differ`);
  t.true(ulp <= maxAllowed, `${name}: ${ulp} ulp at x = ${x[at]} (got ${got[at]}, want ${want[at]})`);
  return ulp;
}

test("vexp and vlog are within 2 ulp of Math.exp / Math.log (rounded to float32) over the whole range", (t) => {
  const sweep = bitSweep(1021); // ~4.2M patterns
  const expDense = linspace(-105, 90, 1_000_003);
  const logDense = linspace(0, 10, 1_000_003);
  const denormals = fromBits(Uint32Array.from({ length: 100_000 }, (_, i) => i * 83 + 1));
  let worstExp = 0;
  let worstLog = 0;
  for (const x of [sweep, expDense, denormals, SPECIAL]) worstExp = Math.max(worstExp, checkUnary(t, "vexp", Math.exp, x, 2));
  for (const x of [sweep, logDense, denormals, SPECIAL]) worstLog = Math.max(worstLog, checkUnary(t, "vlog", Math.log, x, 2));
  t.log(`measured max error: vexp ${worstExp} ulp, vlog ${worstLog} ulp (float32 steps from the rounded Math.* value)`);
});

test("vexp / vlog edge values: underflow, overflow, denormals, signed zeros, NaN", (t) => {
  const x = Float32Array.from([-104, -103.98, -100, 88.72, 88.73, 0, -0, NaN, Infinity, -Infinity]);
  const e = new Float32Array(x.length);
  native.vexp(x, e);
  t.is(e[0], 0);
  t.is(e[1], 0); // rounds below half the smallest denormal
  t.true(e[2]! > 0 && e[2]! < 1.1754943508222875e-38, "exp(-100) is a denormal");
  t.true(Number.isFinite(e[3]!));
  t.is(e[4], Infinity);
  t.is(e[5], 1);
  t.is(e[6], 1);
  t.true(Number.isNaN(e[7]!));
  t.is(e[8], Infinity);
  t.is(e[9], 0);
  const l = new Float32Array(6);
  native.vlog(Float32Array.from([0, -0, -1, Infinity, NaN, 1e-45]), l);
  t.deepEqual([...l.subarray(0, 4)].map(String), ["-Infinity", "-Infinity", "NaN", "Infinity"]);
  t.true(Number.isNaN(l[4]!));
  t.is(l[5], Math.fround(Math.log(1.401298464324817e-45)));
  // In place.
  const y = Float32Array.from([0, 1, 2]);
  native.vexp(y, y);
  t.deepEqual([...y], [1, Math.fround(Math.E), Math.fround(Math.exp(2))]);
});

// ---- parity --------------------------------------------------------------------------------

/** |a - b| <= ulps float32 steps (plus exact equality of non-finite values). */
function withinUlp(a: Float32Array, b: Float32Array, ulps: number): { ok: boolean; msg: string } {
  const { ulp, at } = maxUlp(a, b);
  return { ok: ulp <= ulps, msg: `${ulp} ulp at ${at}: ${a[at]} vs ${b[at]}` };
}

/** Relative to the scale of the upstream gradient (1 - y^2 etc. lose relative precision near |y| = 1). */
function gradClose(a: Float32Array, b: Float32Array, dy: Float32Array, tol: number): { ok: boolean; msg: string } {
  let worst = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!) / Math.max(Math.abs(dy[i]!), 1e-30);
    if (!(d <= worst)) {
      worst = d;
      at = i;
    }
  }
  return { ok: worst <= tol, msg: `${worst} at ${at}: ${a[at]} vs ${b[at]}` };
}

test("activationForward / activationBackward: native matches JS on odd sizes", (t) => {
  for (const kind of ACTIVATION_KINDS) {
    for (const n of SIZES) {
      const x = randomUniform(n, n + 11, -30, 30);
      const dy = randomNormal(n, n + 12);
      const yj = new Float32Array(n);
      const yn = new Float32Array(n);
      js.activationForward(kind, x, yj, 0.2);
      native.activationForward(kind, x, yn, 0.2);
      // Piecewise-linear kinds are exact; smooth ones within the vmath bound (< 2 ulp of the exact
      // value, so at most 2 float32 steps from the correctly rounded JS value).
      const fwd = withinUlp(yn, yj, SMOOTH.includes(kind) ? 2 : 0);
      t.true(fwd.ok, `${kind} forward n=${n}: ${fwd.msg}`);
      const dj = new Float32Array(n);
      const dn = new Float32Array(n);
      js.activationBackward(kind, yj, dy, dj, 0.2);
      native.activationBackward(kind, yj, dy, dn, 0.2);
      const bwd = gradClose(dn, dj, dy, SMOOTH.includes(kind) ? 4e-7 : 0);
      t.true(bwd.ok, `${kind} backward n=${n}: ${bwd.msg}`);
    }
  }
});

test("activationForward: native matches JS over the whole float range (denormals, inf, NaN)", (t) => {
  const x = bitSweep(65_537);
  const xs = new Float32Array(x.length + SPECIAL.length);
  xs.set(x);
  xs.set(SPECIAL, x.length);
  for (const kind of ACTIVATION_KINDS) {
    const yj = new Float32Array(xs.length);
    const yn = new Float32Array(xs.length);
    js.activationForward(kind, xs, yj, 0.2);
    native.activationForward(kind, xs, yn, 0.2);
    const r = withinUlp(yn, yj, SMOOTH.includes(kind) ? 2 : 0);
    t.true(r.ok, `${kind}: ${r.msg} (x = ${xs[maxUlp(yn, yj).at]})`);
  }
});

test("biasActivation: native matches JS for dense and spatial layouts", (t) => {
  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [3, 17, 1],
    [64, 33, 1],
    [2, 3, 33],
    [4, 5, 17],
    [7, 3, 64],
    [2, 2, 20_001],
    [1000, 1, 1], // dense rows grouped into segments of 512, the last one short
    [700, 3, 1],
  ];
  for (const kind of ACTIVATION_KINDS) {
    for (const [n, c, s] of shapes) {
      const len = n * c * s;
      const x = randomUniform(len, len + 1, -8, 8);
      const bias = randomUniform(c, c + 2, -2, 2);
      const dy = randomNormal(len, len + 3);
      const yj = new Float32Array(len);
      const yn = new Float32Array(len);
      js.biasActivationForward(kind, x, bias, yj, n, c, s, 0.1);
      native.biasActivationForward(kind, x, bias, yn, n, c, s, 0.1);
      const fwd = withinUlp(yn, yj, SMOOTH.includes(kind) ? 2 : 0);
      t.true(fwd.ok, `${kind} [${n},${c},${s}] forward: ${fwd.msg}`);
      const dxj = new Float32Array(len);
      const dxn = new Float32Array(len);
      const dbj = new Float32Array(c);
      const dbn = new Float32Array(c);
      js.biasActivationBackward(kind, yj, dy, dxj, dbj, n, c, s, 0.1);
      native.biasActivationBackward(kind, yj, dy, dxn, dbn, n, c, s, 0.1);
      const bwd = gradClose(dxn, dxj, dy, SMOOTH.includes(kind) ? 4e-7 : 0);
      t.true(bwd.ok, `${kind} [${n},${c},${s}] dx: ${bwd.msg}`);
      // dbias: sums of n s values, each within 4e-7 |dy|; both sum in double.
      for (let ch = 0; ch < c; ch++) {
        let scale = 0;
        for (let i = 0; i < n; i++) for (let k = 0; k < s; k++) scale += Math.abs(dy[(i * c + ch) * s + k]!);
        const tol = (SMOOTH.includes(kind) ? 4e-7 : 0) * scale + 1e-7 * Math.max(1, Math.abs(dbj[ch]!));
        t.true(Math.abs(dbn[ch]! - dbj[ch]!) <= tol, `${kind} [${n},${c},${s}] dbias[${ch}] ${dbn[ch]} vs ${dbj[ch]}`);
      }
    }
  }
});

test("the fused bias forward equals adding the bias and then activating", (t) => {
  const [n, c, s] = [3, 5, 9];
  const len = n * c * s;
  const x = randomUniform(len, 5, -4, 4);
  const bias = randomUniform(c, 6, -1, 1);
  const pre = new Float32Array(len);
  for (let i = 0; i < len; i++) pre[i] = x[i]! + bias[Math.floor(i / s) % c]!;
  for (const kind of ACTIVATION_KINDS) {
    for (const k of [js, native]) {
      const a = new Float32Array(len);
      const b = new Float32Array(len);
      k.activationForward(kind, pre, a, 0.3);
      k.biasActivationForward(kind, x, bias, b, n, c, s, 0.3);
      t.deepEqual(b, a, `${k.backend} ${kind}`);
    }
  }
});

test("forward in place (y === x) and backward in place (dx === dy) give the out-of-place results", (t) => {
  const n = 1001;
  const x = randomUniform(n, 21, -5, 5);
  const dy = randomNormal(n, 22);
  for (const kind of ACTIVATION_KINDS) {
    for (const k of [js, native]) {
      const y = new Float32Array(n);
      k.activationForward(kind, x, y, 0.05);
      const inPlace = x.slice();
      k.activationForward(kind, inPlace, inPlace, 0.05);
      t.deepEqual(inPlace, y, `${k.backend} ${kind} forward`);
      const dx = new Float32Array(n);
      k.activationBackward(kind, y, dy, dx, 0.05);
      const g = dy.slice();
      k.activationBackward(kind, y, g, g, 0.05);
      t.deepEqual(g, dx, `${k.backend} ${kind} backward`);
    }
  }
});

test("native results do not depend on the thread count", (t) => {
  const addon = nativeAddon();
  const before = addon.threadLimit();
  const [n, c, s] = [16, 40, 300];
  const len = n * c * s;
  const x = randomUniform(len, 31, -3, 3);
  const bias = randomUniform(c, 32);
  const dy = randomNormal(len, 33);
  const run = (threads: number) => {
    addon.setThreadLimit(threads);
    const y = new Float32Array(len);
    const dx = new Float32Array(len);
    const db = new Float32Array(c);
    native.biasActivationForward("softplus", x, bias, y, n, c, s);
    native.biasActivationBackward("softplus", y, dy, dx, db, n, c, s);
    return { y, dx, db };
  };
  try {
    const one = run(1);
    const many = run(4);
    t.deepEqual(many.y, one.y);
    t.deepEqual(many.dx, one.dx);
    t.deepEqual(many.db, one.db);
  } finally {
    addon.setThreadLimit(before);
  }
});

// ---- finite-difference gradient checks (float64, JS twin) -----------------------------------

/** Inputs away from the relu kink at 0, so central differences see one linear piece. */
function awayFromZero(n: number, seed: number): Float64Array {
  const x = to64(randomUniform(n, seed, -3, 3));
  for (let i = 0; i < n; i++) if (Math.abs(x[i]!) < 0.05) x[i] = x[i]! < 0 ? -0.3 : 0.3;
  return x;
}

test("activationBackward matches finite differences (float64) for every kind", (t) => {
  const n = 37;
  for (const kind of ACTIVATION_KINDS) {
    const x = awayFromZero(n, 41);
    const g = to64(randomNormal(n, 42));
    const loss = (xv: Float64Array) => {
      const y = new Float64Array(n);
      twin.activationForward(kind, xv, y, 0.07);
      return dot(y, g);
    };
    const y = new Float64Array(n);
    twin.activationForward(kind, x, y, 0.07);
    const dx = new Float64Array(n);
    twin.activationBackward(kind, y, g, dx, 0.07);
    const num = numericGradient(loss, x);
    t.true(maxRelDiff(dx, num) < 1e-7, `${kind}: ${maxRelDiff(dx, num)}`);
  }
});

test("softplus backward from y stays accurate at large |x| (float64)", (t) => {
  const x = Float64Array.from([-40, -20, -5, 0, 5, 20, 40]);
  const y = new Float64Array(x.length);
  twin.activationForward("softplus", x, y, 0);
  const dx = new Float64Array(x.length);
  twin.activationBackward("softplus", y, new Float64Array(x.length).fill(1), dx, 0);
  for (let i = 0; i < x.length; i++) {
    const sig = 1 / (1 + Math.exp(-x[i]!));
    t.true(Math.abs(dx[i]! - sig) <= 1e-12 * sig + 1e-300, `x=${x[i]}: ${dx[i]} vs ${sig}`);
  }
});

test("biasActivationBackward matches finite differences (float64) for x and bias", (t) => {
  const [n, c, s] = [3, 4, 5];
  const len = n * c * s;
  for (const kind of ACTIVATION_KINDS) {
    const x = awayFromZero(len, 51);
    const bias = Float64Array.from([0.01, -0.02, 0.015, -0.005]); // keeps x + bias off the kink
    const g = to64(randomNormal(len, 52));
    const forward = (xv: Float64Array, bv: Float64Array) => {
      const y = new Float64Array(len);
      twin.biasActivationForward(kind, xv, bv, y, n, c, s, 0.11);
      return y;
    };
    const y = forward(x, bias);
    const dx = new Float64Array(len);
    const db = new Float64Array(c);
    twin.biasActivationBackward(kind, y, g, dx, db, n, c, s, 0.11);
    const numX = numericGradient((xv) => dot(forward(xv, bias), g), x);
    const numB = numericGradient((bv) => dot(forward(x, bv), g), bias);
    t.true(maxRelDiff(dx, numX) < 1e-7, `${kind} dx: ${maxRelDiff(dx, numX)}`);
    t.true(maxRelDiff(db, numB) < 1e-7, `${kind} dbias: ${maxRelDiff(db, numB)}`);
  }
});

// ---- exact tiny cases ----------------------------------------------------------------------

test("tiny hand-computed cases on both backends", (t) => {
  const x = Float32Array.from([-2, -0.5, 0, 1.5, 100, -100]);
  for (const k of [js, native]) {
    const y = new Float32Array(6);
    k.activationForward("relu", x, y);
    t.deepEqual([...y], [0, 0, 0, 1.5, 100, 0]);
    k.activationForward("leakyRelu", x, y, 0.25);
    t.deepEqual([...y], [-0.5, -0.125, 0, 1.5, 100, -25]);
    k.activationForward("leakyRelu", x, y); // default slope 0.01
    t.is(y[0], Math.fround(Math.fround(0.01) * -2));
    k.activationForward("identity", x, y);
    t.deepEqual(y, x);
    k.activationForward("sigmoid", Float32Array.from([0, 100, -100, -200]), y.subarray(0, 4));
    t.deepEqual([...y.subarray(0, 3)], [0.5, 1, Math.fround(Math.exp(-100))]);
    t.is(y[3], 0);
    k.activationForward("tanh", Float32Array.from([0, 20, -20]), y.subarray(0, 3));
    t.deepEqual([...y.subarray(0, 3)], [0, 1, -1]);
    k.activationForward("softplus", Float32Array.from([0, 100, -100, 1e4]), y.subarray(0, 4));
    t.deepEqual([...y.subarray(0, 4)], [Math.fround(Math.LN2), 100, Math.fround(Math.exp(-100)), 1e4]);
    // Backward from y: relu 0 at x = 0, leaky slope at x = 0.
    const yr = Float32Array.from([0, 0, 2]);
    const ones = Float32Array.from([1, 1, 1]);
    const dx = new Float32Array(3);
    k.activationBackward("relu", yr, ones, dx);
    t.deepEqual([...dx], [0, 0, 1]);
    k.activationBackward("leakyRelu", yr, ones, dx, 0.5);
    t.deepEqual([...dx], [0.5, 0.5, 1]);
    k.activationBackward("sigmoid", Float32Array.from([0.5, 0.5, 0.5]), ones, dx);
    t.deepEqual([...dx], [0.25, 0.25, 0.25]);
    k.activationBackward("tanh", Float32Array.from([0, 0.5, 1]), ones, dx);
    t.deepEqual([...dx], [1, 0.75, 0]);
    // dense bias: y = relu([[1, -1], [2, 3]] + [0.5, 2])
    const yb = new Float32Array(4);
    k.biasActivationForward("relu", Float32Array.from([1, -1, 2, -3]), Float32Array.from([0.5, 2]), yb, 2, 2, 1);
    t.deepEqual([...yb], [1.5, 1, 2.5, 0]);
    const db = new Float32Array(2);
    const dxb = new Float32Array(4);
    k.biasActivationBackward("relu", yb, Float32Array.from([1, 2, 3, 4]), dxb, db, 2, 2, 1);
    t.deepEqual([...dxb], [1, 2, 3, 0]);
    t.deepEqual([...db], [4, 2]);
  }
});

// ---- errors and zero sizes -----------------------------------------------------------------

test("bad arguments throw DeepgenError with the right code on every backend", (t) => {
  const a = new Float32Array(6);
  const b = new Float32Array(6);
  const c = new Float32Array(6);
  for (const k of [js, native]) {
    const code = (fn: () => void) => (t.throws(fn) as { code?: string } | undefined)?.code;
    t.is(
      code(() => k.activationForward("gelu" as ActivationKind, a, b)),
      "E_ARG",
    );
    t.is(
      code(() => k.activationForward("relu", new Float64Array(6) as unknown as Float32Array, b)),
      "E_ARG",
    );
    t.is(
      code(() => k.activationForward("relu", a, new Float32Array(5))),
      "E_SHAPE",
    );
    t.is(
      code(() => k.activationForward("leakyRelu", a, b, -0.1)),
      "E_ARG",
    );
    t.is(
      code(() => k.activationForward("leakyRelu", a, b, NaN)),
      "E_ARG",
    );
    t.is(
      code(() => k.activationForward("relu", a, new Float32Array(0))),
      "E_SHAPE",
    );
    t.is(
      code(() => k.activationBackward("tanh", a, b, new Float32Array(7))),
      "E_SHAPE",
    );
    // Partial overlap is refused; the very same array is fine.
    const buf = new Float32Array(12);
    t.is(
      code(() => k.activationForward("relu", buf.subarray(0, 6), buf.subarray(3, 9))),
      "E_ARG",
    );
    t.is(
      code(() => k.activationBackward("relu", buf.subarray(0, 6), b, buf.subarray(1, 7))),
      "E_ARG",
    );
    t.is(
      code(() => k.biasActivationForward("relu", a, new Float32Array(3), b, 1, 2, 3)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.biasActivationForward("relu", a, new Float32Array(2), b, 1, 2, 4)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.biasActivationForward("relu", a, new Float32Array(2), b, 1.5, 2, 2)),
      "E_ARG",
    );
    t.is(
      code(() => k.biasActivationForward("relu", a, new Float32Array(2), b, -1, 2, 3)),
      "E_ARG",
    );
    t.is(
      code(() => k.biasActivationBackward("relu", a, b, c, new Float32Array(3), 1, 2, 3)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.biasActivationBackward("relu", a, b, c, c.subarray(0, 2), 1, 2, 3)),
      "E_ARG",
    );
    t.is(
      code(() => k.vexp(a, new Float32Array(2))),
      "E_SHAPE",
    );
    t.is(
      code(() => k.vlog([1, 2] as unknown as Float32Array, b)),
      "E_ARG",
    );
  }
  t.is((t.throws(() => cudaActivation.vexp(a, b)) as { code?: string }).code, "E_BACKEND");
});

test("zero sizes are valid and do nothing (an empty batch has dbias = 0)", (t) => {
  const empty = new Float32Array(0);
  for (const k of [js, native]) {
    k.activationForward("tanh", empty, empty);
    k.activationBackward("softplus", empty, empty, empty);
    k.vexp(empty, empty);
    k.vlog(empty, new Float32Array(0));
    k.biasActivationForward("relu", empty, new Float32Array(3), empty, 0, 3, 5);
    const db = Float32Array.from([7, 7, 7]);
    k.biasActivationBackward("sigmoid", empty, empty, empty, db, 0, 3, 5);
    t.deepEqual([...db], [0, 0, 0]);
    k.biasActivationBackward("relu", empty, empty, empty, empty, 4, 0, 5);
    t.pass();
  }
});
