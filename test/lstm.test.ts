import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { DeepgenError } from "../lib/core/errors.js";
import { lstmGatesBackward, lstmGatesForward } from "../lib/kernels/js/lstm-gates.js";
import { nativeAddon } from "../lib/kernels/native.js";
import { cudaLstm } from "../lib/kernels/ops/lstm.js";
import { dot, maxRelDiff, numericGradient, randomNormal, to64 } from "./helpers/numeric.js";

const native = getKernels("native");
const js = getKernels("js");

// (batch, hidden): odd sizes, row tails of every length for the 8-lane native loop.
const SIZES = [
  [1, 1],
  [3, 3],
  [5, 17],
  [7, 33],
  [2, 64],
  [4, 9],
  [300, 37], // several parallel chunks
] as const;

interface Step {
  h: Float32Array;
  c: Float32Array;
  gates: Float32Array;
  dpre: Float32Array;
  dcPrev: Float32Array;
}

function runStep(
  k: typeof js,
  pre: Float32Array,
  cPrev: Float32Array,
  dh: Float32Array,
  dc: Float32Array | null,
  B: number,
  H: number,
): Step {
  const s: Step = {
    h: new Float32Array(B * H),
    c: new Float32Array(B * H),
    gates: new Float32Array(4 * B * H),
    dpre: new Float32Array(4 * B * H),
    dcPrev: new Float32Array(B * H),
  };
  k.lstmGatesForward(s.h, s.c, s.gates, pre, cPrev, B, H);
  k.lstmGatesBackward(s.dpre, s.dcPrev, dh, dc, s.gates, cPrev, s.c, B, H);
  return s;
}

test("native LSTM gates match the JS twin on random inputs and odd sizes", (t) => {
  let seed = 1;
  for (const [B, H] of SIZES) {
    for (const scale of [0.5, 3, 20]) {
      const pre = randomNormal(4 * B * H, seed++, scale);
      const cPrev = randomNormal(B * H, seed++, 1.5);
      const dh = randomNormal(B * H, seed++);
      const dc = randomNormal(B * H, seed++);
      for (const dcIn of [dc, null]) {
        const a = runStep(native, pre, cPrev, dh, dcIn, B, H);
        const b = runStep(js, pre, cPrev, dh, dcIn, B, H);
        const where = `B${B} H${H} scale ${scale} dc ${dcIn ? "given" : "null"}`;
        // Native: float arithmetic, vector exp/tanh within ~3 ulp; JS: float64, rounded once.
        t.true(maxRelDiff(a.h, b.h) < 2e-6, `h ${where}: ${maxRelDiff(a.h, b.h)}`);
        t.true(maxRelDiff(a.c, b.c) < 2e-6, `c ${where}`);
        t.true(maxRelDiff(a.gates, b.gates) < 2e-6, `gates ${where}`);
        t.true(maxRelDiff(a.dpre, b.dpre) < 5e-6, `dpre ${where}: ${maxRelDiff(a.dpre, b.dpre)}`);
        t.true(maxRelDiff(a.dcPrev, b.dcPrev) < 5e-6, `dcPrev ${where}`);
      }
    }
  }
});

test("LSTM backward matches finite differences of the forward (float64 JS twin)", (t) => {
  let seed = 100;
  for (const [B, H] of [
    [1, 1],
    [2, 3],
    [3, 5],
  ] as const) {
    for (const withDc of [true, false]) {
      const pre = to64(randomNormal(4 * B * H, seed++, 1.5));
      const cPrev = to64(randomNormal(B * H, seed++));
      const uh = to64(randomNormal(B * H, seed++));
      const uc = withDc ? to64(randomNormal(B * H, seed++)) : null;
      // loss = <h, uh> + <c, uc>
      const loss = (p: Float64Array, cp: Float64Array): number => {
        const h = new Float64Array(B * H);
        const c = new Float64Array(B * H);
        lstmGatesForward(h, c, new Float64Array(4 * B * H), p, cp, B, H);
        return dot(h, uh) + (uc ? dot(c, uc) : 0);
      };
      const h = new Float64Array(B * H);
      const c = new Float64Array(B * H);
      const gates = new Float64Array(4 * B * H);
      lstmGatesForward(h, c, gates, pre, cPrev, B, H);
      const dpre = new Float64Array(4 * B * H);
      const dcPrev = new Float64Array(B * H);
      lstmGatesBackward(dpre, dcPrev, uh, uc, gates, cPrev, c, B, H);
      const numPre = numericGradient((p) => loss(p, cPrev), pre);
      const numCPrev = numericGradient((cp) => loss(pre, cp), cPrev);
      t.true(maxRelDiff(dpre, numPre) < 1e-7, `dpre B${B} H${H}: ${maxRelDiff(dpre, numPre)}`);
      t.true(maxRelDiff(dcPrev, numCPrev) < 1e-7, `dcPrev B${B} H${H}: ${maxRelDiff(dcPrev, numCPrev)}`);
    }
  }
});

test("LSTM gates: exact tiny case and the o, f, i, g block order", (t) => {
  for (const k of [native, js]) {
    // pre = 0: every sigmoid gate is 1/2 and g = 0, so c = cPrev / 2, h = tanh(c) / 2.
    const h = new Float32Array(1);
    const c = new Float32Array(1);
    const gates = new Float32Array(4);
    k.lstmGatesForward(h, c, gates, new Float32Array(4), Float32Array.of(0.8), 1, 1);
    t.deepEqual([...gates], [0.5, 0.5, 0.5, 0]);
    t.is(c[0], Math.fround(0.4));
    t.true(Math.abs(h[0]! - 0.5 * Math.tanh(0.4)) < 1e-7);
    // Only the forget block open: c = cPrev, and h ~ 0 with the output gate shut.
    const pre = Float32Array.of(-50, 50, -50, 0); // o = 0, f = 1, i = 0, g = 0
    k.lstmGatesForward(h, c, gates, pre, Float32Array.of(0.8), 1, 1);
    t.is(c[0], Math.fround(0.8));
    t.true(Math.abs(h[0]!) < 1e-20); // o = sigmoid(-50) ~ 2e-22
    // Backward at that point: dh = 1, dc = 0.25. dct = 0.25 (o = 0 blocks dh from c),
    // dc_prev = dct f = 0.25, dpre_g = dct i (1 - g^2) ~ 0.
    const dpre = new Float32Array(4);
    const dcPrev = new Float32Array(1);
    k.lstmGatesBackward(dpre, dcPrev, Float32Array.of(1), Float32Array.of(0.25), gates, Float32Array.of(0.8), c, 1, 1);
    t.is(dcPrev[0], 0.25);
    t.true(Math.abs(dpre[3]!) < 1e-21);
  }
});

test("LSTM gates stay finite and saturate for extreme pre-activations", (t) => {
  const vals = [30, -30, 100, -100, 1e4, -1e4, 0, 1e-8];
  const H = vals.length;
  const pre = new Float32Array(4 * H);
  for (let blk = 0; blk < 4; blk++) pre.set(vals, blk * H);
  const cPrev = new Float32Array(H).fill(2);
  const dh = new Float32Array(H).fill(1);
  const a = runStep(native, pre, cPrev, dh, dh, 1, H);
  const b = runStep(js, pre, cPrev, dh, dh, 1, H);
  for (const arr of [a.h, a.c, a.gates, a.dpre, a.dcPrev]) t.true(arr.every(Number.isFinite));
  t.true(maxRelDiff(a.h, b.h) < 2e-6 && maxRelDiff(a.dpre, b.dpre) < 5e-6 && maxRelDiff(a.dcPrev, b.dcPrev) < 5e-6);
  // g = tanh saturates to exactly +-1 for |pre| >= 30, the sigmoid gates to exactly 1 above.
  t.is(a.gates[3 * H + 4], 1);
  t.is(a.gates[3 * H + 5], -1);
  t.is(a.gates[4], 1);
  t.true(a.gates[5]! < 1e-37);
  // tanh keeps its relative accuracy near 0 (g = 1e-8 -> 1e-8).
  t.true(Math.abs(a.gates[3 * H + 7]! - 1e-8) < 1e-14);
});

test("LSTM gates refuse bad arguments on every backend", (t) => {
  const B = 2;
  const H = 3;
  const f = (n: number): Float32Array => new Float32Array(n);
  for (const k of [native, js]) {
    const code = (fn: () => void): string | undefined => {
      const err = t.throws(fn);
      t.true(err instanceof DeepgenError, String(err));
      return (err as DeepgenError).code;
    };
    t.is(
      code(() => k.lstmGatesForward(f(6), f(6), f(24), f(23), f(6), B, H)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.lstmGatesForward(f(6), f(6), f(24), f(24), f(7), B, H)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.lstmGatesForward(f(6), f(6), f(24), f(24), f(6), -1, H)),
      "E_ARG",
    );
    t.is(
      code(() => k.lstmGatesForward(f(6), f(6), f(24), f(24), f(6), B, 1.5)),
      "E_ARG",
    );
    t.is(
      code(() => k.lstmGatesForward(f(6), f(6), f(24), new Float64Array(24) as never, f(6), B, H)),
      "E_ARG",
    );
    const shared = f(6);
    t.is(
      code(() => k.lstmGatesForward(shared, f(6), f(24), f(24), shared, B, H)),
      "E_ARG",
    ); // h overlaps cPrev
    const buf = f(30);
    t.is(
      code(() => k.lstmGatesForward(buf.subarray(0, 6), f(6), buf.subarray(5, 29), f(24), f(6), B, H)),
      "E_ARG",
    );
    t.is(
      code(() => k.lstmGatesBackward(f(24), f(6), f(6), f(5), f(24), f(6), f(6), B, H)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.lstmGatesBackward(f(24), f(6), f(6), [1, 2] as never, f(24), f(6), f(6), B, H)),
      "E_ARG",
    );
  }
  // The addon re-checks lengths itself (longer arrays are fine there, shorter never).
  const addon = nativeAddon();
  const err = t.throws(() => addon.lstmGatesForward(f(6), f(6), f(24), f(20), f(6), B, H));
  t.is((err as { code?: string }).code, "E_SHAPE");
  const err2 = t.throws(() => addon.lstmGatesBackward(f(24), f(6), f(6), f(5), f(24), f(6), f(6), B, H));
  t.is((err2 as { code?: string }).code, "E_SHAPE");
  t.notThrows(() => addon.lstmGatesForward(f(7), f(7), f(25), f(25), f(7), B, H));
});

test("LSTM gates with zero batch or hidden size do nothing", (t) => {
  for (const k of [native, js]) {
    const e = new Float32Array(0);
    t.notThrows(() => k.lstmGatesForward(e, e.slice(), e.slice(), e.slice(), e.slice(), 0, 8));
    t.notThrows(() => k.lstmGatesForward(e, e.slice(), e.slice(), e.slice(), e.slice(), 4, 0));
    t.notThrows(() => k.lstmGatesBackward(e, e.slice(), e.slice(), null, e.slice(), e.slice(), e.slice(), 0, 3));
  }
});

test("the cuda backend has no LSTM kernel yet and says so", (t) => {
  const err = t.throws(() =>
    cudaLstm.lstmGatesForward(
      new Float32Array(4),
      new Float32Array(1),
      new Float32Array(4),
      new Float32Array(4),
      new Float32Array(1),
      1,
      1,
    ),
  );
  t.is((err as DeepgenError).code, "E_BACKEND");
});
