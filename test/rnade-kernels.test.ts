import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { type RnadeArrays, rnadeBackward, rnadeLogProb } from "../lib/kernels/js/rnade.js";
import type { RnadeGradients, RnadeModelArrays } from "../lib/kernels/ops/rnade.js";
import { maxAbsDiff, maxRelDiff, numericGradient, randomNormal, randomUniform } from "./helpers/numeric.js";

const native = getKernels("native");
const js = getKernels("js");
const NAMES = ["wt", "c", "va", "vm", "vs", "ba", "bm", "bs"] as const;

function randomModel(d: number, h: number, k: number, seed: number, scale = 0.5): RnadeModelArrays {
  return {
    d,
    h,
    k,
    wt: randomNormal(d * h, seed, scale),
    c: randomNormal(h, seed + 1, scale),
    va: randomNormal(d * k * h, seed + 2, scale),
    vm: randomNormal(d * k * h, seed + 3, scale),
    vs: randomNormal(d * k * h, seed + 4, 0.2),
    ba: randomNormal(d * k, seed + 5, scale),
    bm: randomNormal(d * k, seed + 6, scale),
    bs: randomNormal(d * k, seed + 7, 0.2),
  };
}

function zeros(m: RnadeModelArrays): RnadeGradients {
  const g = {} as RnadeGradients;
  for (const n of NAMES) g[n] = new Float32Array(m[n].length);
  return g;
}

test("D = 1: the density is a Gaussian mixture that integrates to 1", (t) => {
  const m = randomModel(1, 3, 4, 1, 1);
  const n = 4001;
  const x = Float32Array.from({ length: n }, (_, i) => -10 + (20 * i) / (n - 1));
  for (const k of [native, js]) {
    const lp = new Float32Array(n);
    k.rnadeLogProb(m, x, n, lp);
    let integral = 0;
    for (let i = 0; i < n; i++) integral += Math.exp(lp[i]!) * (20 / (n - 1));
    t.true(Math.abs(integral - 1) < 1e-3, `integral ${integral}`);
  }
});

test("native log-density and gradients match the JS twin", (t) => {
  for (const [d, h, k, n] of [
    [1, 1, 1, 1],
    [7, 5, 3, 3],
    [33, 17, 5, 9],
  ] as const) {
    const m = randomModel(d, h, k, d * 10 + k);
    const x = randomUniform(n * d, 77, 0, 1);
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    native.rnadeLogProb(m, x, n, a);
    js.rnadeLogProb(m, x, n, b);
    t.true(maxRelDiff(a, b) < 1e-5, `logp D${d}: ${maxRelDiff(a, b)}`);
    const gn = zeros(m);
    const gj = zeros(m);
    native.rnadeBackward(m, x, n, 0.5, null, gn);
    js.rnadeBackward(m, x, n, 0.5, null, gj);
    for (const name of NAMES) t.true(maxRelDiff(gn[name], gj[name]) < 1e-4, `${name} D${d}: ${maxRelDiff(gn[name], gj[name])}`);
  }
});

test("JS gradients match float64 finite differences", (t) => {
  const m = randomModel(4, 3, 2, 5);
  const n = 2;
  const x = Float64Array.from(randomUniform(n * 4, 6, -1, 1));
  const m64 = Object.fromEntries(
    Object.entries(m).map(([k, v]) => [k, v instanceof Float32Array ? Float64Array.from(v) : v]),
  ) as unknown as RnadeArrays<Float64Array>;
  const loss = (): number => {
    const out = new Float64Array(n);
    rnadeLogProb(m64, x, n, out);
    return -0.5 * (out[0]! + out[1]!);
  };
  const g = Object.fromEntries(NAMES.map((k) => [k, new Float64Array(m64[k].length)])) as unknown as Record<
    (typeof NAMES)[number],
    Float64Array
  >;
  rnadeBackward(m64, x, n, 0.5, null, g);
  for (const name of NAMES) {
    const numeric = numericGradient(loss, m64[name]);
    t.true(maxAbsDiff(numeric, g[name]) < 1e-6, `${name}: ${maxAbsDiff(numeric, g[name])}`);
  }
});

test("sampling: same seed, same draws on JS and native; batch splits do not matter", (t) => {
  const m = randomModel(20, 8, 3, 9, 0.5);
  const n = 10;
  const a = new Float32Array(n * 20);
  const b = new Float32Array(n * 20);
  native.rnadeSample(m, { n, seed: 3 }, a);
  js.rnadeSample(m, { n, seed: 3 }, b);
  t.true(maxAbsDiff(a, b) < 1e-3, `${maxAbsDiff(a, b)}`);
  const parts = new Float32Array(n * 20);
  native.rnadeSample(m, { n: 4, seed: 3 }, parts.subarray(0, 80));
  native.rnadeSample(m, { n: 6, seed: 3, sampleOffset: 4 }, parts.subarray(80));
  t.deepEqual(parts, a);
  t.true(a.every(Number.isFinite));
});

test("RNADE kernels reject bad shapes", (t) => {
  const m = randomModel(3, 2, 2, 1);
  for (const k of [native, js]) {
    t.is(
      (t.throws(() => k.rnadeLogProb({ ...m, va: new Float32Array(2) }, new Float32Array(3), 1, new Float32Array(1))) as { code?: string })
        .code,
      "E_SHAPE",
    );
    t.is((t.throws(() => k.rnadeLogProb(m, new Float32Array(3), 2, new Float32Array(2))) as { code?: string }).code, "E_SHAPE");
    t.is((t.throws(() => k.rnadeBackward(m, new Float32Array(3), 1, NaN, null, zeros(m))) as { code?: string }).code, "E_ARG");
  }
});

test("RNADE results do not depend on the thread count", async (t) => {
  const { getThreads, setThreads } = await import("../lib/kernels/threads.js");
  const m = randomModel(12, 6, 3, 81);
  const n = 29;
  const x = randomUniform(n * 12, 82, 0, 1);
  const run = () => {
    const lp = new Float32Array(n);
    native.rnadeLogProb(m, x, n, lp);
    const g = zeros(m);
    native.rnadeBackward(m, x, n, 1, null, g);
    return { lp, g };
  };
  const before = getThreads();
  try {
    setThreads(1);
    const one = run();
    setThreads(3);
    t.deepEqual(run(), one);
  } finally {
    setThreads(before);
  }
});

test("RNADE outputs may not alias the model or the input", (t) => {
  const m = randomModel(3, 2, 2, 93);
  const x = randomUniform(3, 94, 0, 1);
  for (const k of [native, js]) {
    t.is((t.throws(() => k.rnadeLogProb(m, x, 1, m.c.subarray(0, 1))) as { code?: string }).code, "E_ARG");
    t.is((t.throws(() => k.rnadeSample(m, { n: 1, seed: 1 }, m.va.subarray(0, 3))) as { code?: string }).code, "E_ARG");
    const g = zeros(m);
    t.is((t.throws(() => k.rnadeBackward(m, x, 1, 1, null, { ...g, c: m.c })) as { code?: string }).code, "E_ARG");
  }
});
