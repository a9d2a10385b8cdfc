import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { type NadeArrays, nadeBackward, nadeLogProb } from "../lib/kernels/js/nade.js";
import type { NadeModelArrays } from "../lib/kernels/ops/nade.js";
import { dot, maxAbsDiff, maxRelDiff, numericGradient, randomNormal, randomUniform } from "./helpers/numeric.js";
import { code } from "./helpers/errors.js";

const native = getKernels("native");
const js = getKernels("js");

function randomModel(d: number, h: number, seed: number, scale = 0.5): NadeModelArrays {
  const order = new Int32Array(d);
  for (let i = 0; i < d; i++) order[i] = i;
  // A fixed non-trivial ordering: reversed odd positions.
  order.reverse();
  return {
    d,
    h,
    wt: randomNormal(d * h, seed, scale),
    c: randomNormal(h, seed + 1, scale),
    v: randomNormal(d * h, seed + 2, scale),
    b: randomNormal(d, seed + 3, scale),
    order,
  };
}

function randomBinary(n: number, seed: number, pOne = 0.3): Float32Array {
  const u = randomUniform(n, seed, 0, 1);
  return u.map((v) => (v < pOne ? 1 : 0));
}

function to64(m: NadeModelArrays): NadeArrays<Float64Array> {
  return {
    d: m.d,
    h: m.h,
    wt: Float64Array.from(m.wt),
    c: Float64Array.from(m.c),
    v: Float64Array.from(m.v),
    b: Float64Array.from(m.b),
    order: m.order,
  };
}

test("tiny exact case: D = 1 is a single Bernoulli with logit b + V . sigmoid(c)", (t) => {
  const m: NadeModelArrays = {
    d: 1,
    h: 2,
    wt: Float32Array.from([0.3, -0.2]),
    c: Float32Array.from([0.5, -1]),
    v: Float32Array.from([2, 1]),
    b: Float32Array.from([-0.25]),
    order: Int32Array.from([0]),
  };
  const s = (z: number) => 1 / (1 + Math.exp(-z));
  const l = -0.25 + 2 * s(0.5) + 1 * s(-1);
  for (const k of [native, js]) {
    const logp = new Float32Array(2);
    k.nadeLogProb(m, Float32Array.from([1, 0]), 2, logp);
    t.true(Math.abs(logp[0]! - Math.log(s(l))) < 1e-6);
    t.true(Math.abs(logp[1]! - Math.log(1 - s(l))) < 1e-6);
  }
});

test("probabilities of all 2^D vectors sum to 1 (D = 6)", (t) => {
  const m = randomModel(6, 5, 3, 1.5);
  const n = 64;
  const x = new Float32Array(n * 6);
  for (let i = 0; i < n; i++) for (let j = 0; j < 6; j++) x[i * 6 + j] = (i >> j) & 1;
  for (const k of [native, js]) {
    const logp = new Float32Array(n);
    k.nadeLogProb(m, x, n, logp);
    const total = logp.reduce((a, l) => a + Math.exp(l), 0);
    t.true(Math.abs(total - 1) < 1e-5, `sum = ${total}`);
  }
});

test("native logProb matches the JS twin (odd sizes, several batch sizes)", (t) => {
  for (const [d, h, n] of [
    [1, 1, 1],
    [17, 3, 5],
    [33, 17, 9],
    [100, 33, 17],
    [784, 50, 3],
  ] as const) {
    const m = randomModel(d, h, d + h);
    const x = randomBinary(n * d, d * 7 + n);
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    native.nadeLogProb(m, x, n, a);
    js.nadeLogProb(m, x, n, b);
    t.true(maxRelDiff(a, b) < 2e-5, `D${d} H${h} n${n}: ${maxRelDiff(a, b)}`);
  }
});

test("sampling: same seed gives the same samples on JS and native, for any batch split", (t) => {
  const m = randomModel(200, 40, 11, 1);
  const n = 40;
  const xn = new Float32Array(n * m.d);
  const xj = new Float32Array(n * m.d);
  const pn = new Float32Array(n * m.d);
  native.nadeSample(m, { n, seed: 1234 }, xn, pn);
  js.nadeSample(m, { n, seed: 1234 }, xj);
  let identical = 0;
  for (let i = 0; i < n; i++) {
    if (maxAbsDiff(xn.subarray(i * m.d, (i + 1) * m.d), xj.subarray(i * m.d, (i + 1) * m.d)) === 0) identical++;
  }
  t.true(identical >= 0.99 * n, `${identical}/${n} identical`);
  // Split the same draw into batches with sample offsets: bit-identical on native.
  const parts = new Float32Array(n * m.d);
  native.nadeSample(m, { n: 13, seed: 1234 }, parts.subarray(0, 13 * m.d));
  native.nadeSample(m, { n: n - 13, seed: 1234, sampleOffset: 13 }, parts.subarray(13 * m.d));
  t.deepEqual(parts, xn);
  // probs are the conditionals the draws used: their log-likelihood matches logProb.
  const logp = new Float32Array(n);
  native.nadeLogProb(m, xn, n, logp);
  for (let i = 0; i < n; i++) {
    let lp = 0;
    for (let j = 0; j < m.d; j++) {
      const p = pn[i * m.d + j]!;
      lp += Math.log(xn[i * m.d + j] ? p : 1 - p);
    }
    t.true(Math.abs(lp - logp[i]!) < 1e-3 * Math.max(1, Math.abs(lp)));
  }
  // Different seeds differ.
  const other = new Float32Array(n * m.d);
  native.nadeSample(m, { n, seed: 1235 }, other);
  t.not(maxAbsDiff(other, xn), 0);
});

test("completion keeps the known prefix of the ordering and draws the rest", (t) => {
  const m = randomModel(50, 20, 21, 1);
  m.order = Int32Array.from({ length: 50 }, (_, i) => i); // natural order
  const n = 4;
  const x = randomBinary(n * 50, 5, 0.5);
  const given = x.slice();
  native.nadeSample(m, { n, seed: 9, known: 20 }, x);
  for (let i = 0; i < n; i++) {
    t.deepEqual([...x.subarray(i * 50, i * 50 + 20)], [...given.subarray(i * 50, i * 50 + 20)]);
  }
  const xj = given.slice();
  js.nadeSample(m, { n, seed: 9, known: 20 }, xj);
  t.deepEqual(xj, x);
});

test("native backward matches the JS twin; JS gradients match float64 finite differences", (t) => {
  const m = randomModel(9, 4, 31, 0.8);
  const n = 3;
  const x = randomBinary(n * m.d, 32, 0.5);
  const alloc = () => ({
    dwt: new Float32Array(m.d * m.h),
    dc: new Float32Array(m.h),
    dv: new Float32Array(m.d * m.h),
    db: new Float32Array(m.d),
  });
  const gn = alloc();
  const gj = alloc();
  const lpn = new Float32Array(n);
  native.nadeBackward(m, x, n, 0.5, lpn, gn);
  js.nadeBackward(m, x, n, 0.5, null, gj);
  for (const k of ["dwt", "dc", "dv", "db"] as const) t.true(maxAbsDiff(gn[k], gj[k]) < 1e-5, k);
  const lp = new Float32Array(n);
  native.nadeLogProb(m, x, n, lp);
  t.true(maxAbsDiff(lp, lpn) < 1e-5);

  // Float64 finite differences of L = 0.5 * sum -log p through the JS twin.
  const m64 = to64(m);
  const x64 = Float64Array.from(x);
  const loss = (): number => {
    const out = new Float64Array(n);
    nadeLogProb(m64, x64, n, out);
    return -0.5 * out.reduce((a, b) => a + b, 0);
  };
  const g64 = { dwt: new Float64Array(m.d * m.h), dc: new Float64Array(m.h), dv: new Float64Array(m.d * m.h), db: new Float64Array(m.d) };
  nadeBackward(m64, x64, n, 0.5, null, g64);
  for (const [name, param] of [
    ["dwt", m64.wt],
    ["dc", m64.c],
    ["dv", m64.v],
    ["db", m64.b],
  ] as const) {
    const numeric = numericGradient(() => loss(), param);
    t.true(maxAbsDiff(numeric, g64[name]) < 1e-7, `${name}: ${maxAbsDiff(numeric, g64[name])}`);
  }
  t.true(dot(g64.db, g64.db) > 0, "gradients are not trivially zero");
});

test("backward is independent of batch split: sum of halves equals the whole", (t) => {
  const m = randomModel(60, 16, 41);
  const n = 20;
  const x = randomBinary(n * m.d, 42);
  const alloc = () => ({
    dwt: new Float32Array(m.d * m.h),
    dc: new Float32Array(m.h),
    dv: new Float32Array(m.d * m.h),
    db: new Float32Array(m.d),
  });
  const whole = alloc();
  const a = alloc();
  const b = alloc();
  native.nadeBackward(m, x, n, 1, null, whole);
  native.nadeBackward(m, x.subarray(0, 8 * m.d), 8, 1, null, a);
  native.nadeBackward(m, x.subarray(8 * m.d), 12, 1, null, b);
  for (const k of ["dwt", "dc", "dv", "db"] as const) {
    const sum = a[k].map((v, i) => v + b[k][i]!);
    t.true(maxAbsDiff(sum, whole[k]) < 1e-4, k);
  }
});

test("async native and JS forms give the sync results", async (t) => {
  const m = randomModel(100, 20, 51);
  const n = 20;
  const x = randomBinary(n * m.d, 52);
  for (const k of [native, js]) {
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    k.nadeLogProb(m, x, n, a);
    await k.nadeLogProbAsync(m, x, n, b);
    t.deepEqual(a, b);
    const s1 = new Float32Array(n * m.d);
    const s2 = new Float32Array(n * m.d);
    k.nadeSample(m, { n, seed: 3 }, s1);
    await k.nadeSampleAsync(m, { n, seed: 3 }, s2);
    t.deepEqual(s1, s2);
  }
});

test("NADE kernels reject bad models and buffers", (t) => {
  const m = randomModel(5, 3, 61);
  const x = new Float32Array(10);
  for (const k of [native, js]) {
    t.is(
      code(t, () => k.nadeLogProb({ ...m, order: Int32Array.from([0, 1, 2, 3, 3]) }, x, 2, new Float32Array(2))),
      "E_ARG",
    );
    t.is(
      code(t, () => k.nadeLogProb(m, x, 3, new Float32Array(3))),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.nadeLogProb({ ...m, wt: new Float32Array(3) }, x, 2, new Float32Array(2))),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.nadeSample(m, { n: 2, seed: -1 }, x)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.nadeSample(m, { n: 2, seed: 1, known: 6 }, x)),
      "E_ARG",
    );
  }
});

test("NADE results do not depend on the thread count", async (t) => {
  const { getThreads, setThreads } = await import("../lib/kernels/threads.js");
  const m = randomModel(120, 24, 71);
  const n = 37;
  const x = randomBinary(n * m.d, 72);
  const run = () => {
    const lp = new Float32Array(n);
    native.nadeLogProb(m, x, n, lp);
    const g = { dwt: new Float32Array(m.d * m.h), dc: new Float32Array(m.h), dv: new Float32Array(m.d * m.h), db: new Float32Array(m.d) };
    native.nadeBackward(m, x, n, 1, null, g);
    const s = new Float32Array(n * m.d);
    native.nadeSample(m, { n, seed: 5 }, s);
    return { lp, g, s };
  };
  const before = getThreads();
  try {
    setThreads(1);
    const one = run();
    setThreads(3);
    const three = run();
    t.deepEqual(three.lp, one.lp);
    t.deepEqual(three.g, one.g);
    t.deepEqual(three.s, one.s);
  } finally {
    setThreads(before);
  }
});

test("NADE outputs may not alias the model or the input", (t) => {
  const m = randomModel(6, 3, 91);
  const x = randomBinary(2 * 6, 92);
  for (const k of [native, js]) {
    t.is((t.throws(() => k.nadeLogProb(m, x, 2, m.b.subarray(0, 2))) as { code?: string }).code, "E_ARG");
    t.is((t.throws(() => k.nadeSample(m, { n: 1, seed: 1 }, m.v.subarray(0, 6))) as { code?: string }).code, "E_ARG");
    const g = { dwt: new Float32Array(18), dc: new Float32Array(3), dv: new Float32Array(18), db: new Float32Array(6) };
    t.is((t.throws(() => k.nadeBackward(m, x, 2, 1, null, { ...g, db: g.dv.subarray(0, 6) })) as { code?: string }).code, "E_ARG");
    t.notThrows(() => k.nadeBackward(m, x, 2, 1, null, g));
  }
});
