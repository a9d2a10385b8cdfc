import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { normalPair, philox4x32 } from "../lib/core/philox.js";
import * as twin from "../lib/kernels/js/reparam.js";
import { cudaReparam } from "../lib/kernels/ops/reparam.js";
import { code } from "./helpers/errors.js";
import { dot, maxAbsDiff, maxRelDiff, numericGradient, randomNormal, to64 } from "./helpers/numeric.js";

const native = getKernels("native");
const js = getKernels("js");
const SIZES = [
  [1, 1, 1],
  [3, 17, 1],
  [5, 33, 2],
  [17, 3, 7],
  [2, 9, 1000],
  [64, 32, 1], // several parallel rows
] as const;

test("reparamForward: native matches the JS twin (eps within 1 ulp of libm, z within 2e-6 rel)", (t) => {
  let seed = 11;
  for (const [R, D, K] of SIZES) {
    const mu = randomNormal(R * D, seed++);
    const lv = randomNormal(R * D, seed++, 2);
    const out = () => ({ z: new Float32Array(R * K * D), eps: new Float32Array(R * K * D) });
    const a = out();
    const b = out();
    const spec = { rows: R, cols: D, k: K, seed: 1234, stream: 7, firstSample: 5 };
    native.reparamForward(a.z, a.eps, mu, lv, spec);
    js.reparamForward(b.z, b.eps, mu, lv, spec);
    t.true(maxRelDiff(a.eps, b.eps) <= 1e-6, `eps ${R}x${D}x${K}`);
    t.true(maxRelDiff(a.z, b.z) <= 2e-6, `z ${R}x${D}x${K}: ${maxRelDiff(a.z, b.z)}`);
  }
});

test("reparamForward: exact values from the documented counters (hand computed)", (t) => {
  const mu = Float32Array.from([0.5, -1, 2, 0, 3]);
  const lv = Float32Array.from([0, Math.log(4), -2, 1, 0]);
  const z = new Float32Array(10);
  const eps = new Float32Array(10);
  js.reparamForward(z, eps, mu, lv, { rows: 1, cols: 5, k: 2, seed: 42, stream: 3, firstSample: 100 });
  const block = new Uint32Array(4);
  for (let i = 0; i < 2; i++) {
    for (let j = 0; j < 5; j++) {
      philox4x32(j >> 2, 100 + i, 3, 0x52455041, 42, 0, block);
      const w = j & 3;
      const e = normalPair(block[w & 2]!, block[(w & 2) + 1]!, (w & 1) === 1);
      t.is(eps[i * 5 + j], e);
      t.is(z[i * 5 + j], Math.fround(mu[j]! + Math.exp(lv[j]! / 2) * e));
    }
  }
  // logvar = log 4 gives sigma = 2 exactly: z = -1 + 2 eps
  t.is(z[1], Math.fround(-1 + 2 * eps[1]!));
});

test("reparamForward: eps of an example does not depend on the batch it is in", (t) => {
  const D = 13;
  const all = { z: new Float32Array(10 * D), eps: new Float32Array(10 * D) };
  const mu = new Float32Array(10 * D);
  const lv = new Float32Array(10 * D);
  for (const k of [native, js]) {
    k.reparamForward(all.z, all.eps, mu, lv, { rows: 10, cols: D, seed: 9, stream: 1 });
    // rows 6..8 alone, as sample indices 6..8
    const part = { z: new Float32Array(3 * D), eps: new Float32Array(3 * D) };
    k.reparamForward(part.z, part.eps, mu.subarray(0, 3 * D), lv.subarray(0, 3 * D), {
      rows: 3,
      cols: D,
      seed: 9,
      stream: 1,
      firstSample: 6,
    });
    t.deepEqual(part.eps, all.eps.slice(6 * D, 9 * D));
    // k draws of one row are the rows r*k+i of a k = 1 call with the same sample indices
    const kk = { z: new Float32Array(2 * 5 * D), eps: new Float32Array(2 * 5 * D) };
    k.reparamForward(kk.z, kk.eps, mu.subarray(0, 2 * D), lv.subarray(0, 2 * D), { rows: 2, cols: D, k: 5, seed: 9, stream: 1 });
    t.deepEqual(kk.eps, all.eps);
  }
  // a different stream gives different noise
  const other = { z: new Float32Array(10 * D), eps: new Float32Array(10 * D) };
  js.reparamForward(other.z, other.eps, mu, lv, { rows: 10, cols: D, seed: 9, stream: 2 });
  t.true(maxAbsDiff(other.eps, all.eps) > 0.1);
});

test("reparamForward: draws are standard normal (moments over 100k draws)", (t) => {
  const n = 100_000;
  const z = new Float32Array(n);
  const eps = new Float32Array(n);
  native.reparamForward(z, eps, new Float32Array(n), new Float32Array(n), { rows: n / 10, cols: 10, seed: 5 });
  let m = 0;
  let v = 0;
  for (const e of eps) m += e;
  m /= n;
  for (const e of eps) v += (e - m) ** 2;
  v /= n;
  t.true(Math.abs(m) < 0.015, `mean ${m}`);
  t.true(Math.abs(v - 1) < 0.02, `var ${v}`);
});

test("reparamBackward: native matches the JS twin, overwrite and accumulate", (t) => {
  let seed = 100;
  for (const [R, D, K] of SIZES) {
    const dz = randomNormal(R * K * D, seed++);
    const eps = randomNormal(R * K * D, seed++);
    const lv = randomNormal(R * D, seed++);
    const start = randomNormal(R * D, seed++);
    for (const accumulate of [false, true]) {
      const run = (k: typeof js) => {
        const dmu = start.slice();
        const dlv = start.slice();
        k.reparamBackward(dmu, dlv, dz, eps, lv, R, D, K, accumulate);
        return { dmu, dlv };
      };
      const a = run(native);
      const b = run(js);
      t.true(maxRelDiff(a.dmu, b.dmu) <= 1e-6, `dmu ${R}x${D}x${K}`);
      t.true(maxRelDiff(a.dlv, b.dlv) <= 2e-6, `dlogvar ${R}x${D}x${K}`);
    }
  }
});

test("reparamBackward matches finite differences of z (float64, fixed eps)", (t) => {
  for (const [R, D, K] of [
    [1, 1, 1],
    [3, 5, 1],
    [2, 7, 3],
  ] as const) {
    const mu = to64(randomNormal(R * D, R + 1));
    const lv = to64(randomNormal(R * D, R + 2));
    const eps = to64(randomNormal(R * K * D, R + 3));
    const up = to64(randomNormal(R * K * D, R + 4));
    // z as a function of (mu, logvar) with eps held fixed: the twin's formula
    const zOf = (m: Float64Array, l: Float64Array): Float64Array => {
      const z = new Float64Array(R * K * D);
      for (let r = 0; r < R; r++)
        for (let i = 0; i < K; i++)
          for (let j = 0; j < D; j++) z[(r * K + i) * D + j] = m[r * D + j]! + Math.exp(0.5 * l[r * D + j]!) * eps[(r * K + i) * D + j]!;
      return z;
    };
    const dmu = new Float64Array(R * D);
    const dlv = new Float64Array(R * D);
    twin.reparamBackward(dmu, dlv, up, eps, lv, R, D, K, false);
    const nmu = numericGradient((m) => dot(zOf(m, lv), up), mu.slice());
    const nlv = numericGradient((l) => dot(zOf(mu, l), up), lv.slice());
    t.true(maxRelDiff(dmu, nmu) < 1e-6, `dmu ${R}x${D}x${K}`);
    t.true(maxRelDiff(dlv, nlv) < 1e-6, `dlogvar ${R}x${D}x${K}`);
  }
});

test("reparam: zero sizes do nothing; bad arguments throw E_ARG / E_SHAPE", (t) => {
  for (const k of [native, js]) {
    const e = new Float32Array(0);
    t.notThrows(() => k.reparamForward(e, e.slice(), e.slice(), e.slice(), { rows: 0, cols: 4, seed: 1 }));
    t.notThrows(() => k.reparamBackward(e, e.slice(), e.slice(), e.slice(), e.slice(), 3, 0));
    const f = () => new Float32Array(4);
    t.is(
      code(t, () => k.reparamForward(f(), f(), f(), f(), { rows: 2, cols: 2, k: 0, seed: 1 })),
      "E_ARG",
    );
    t.is(
      code(t, () => k.reparamForward(f(), f(), f(), f(), { rows: 2, cols: 2, k: 2, seed: 1 })),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.reparamForward(f(), f(), f(), f(), { rows: 2, cols: 2, seed: -1 })),
      "E_ARG",
    );
    t.is(
      code(t, () => k.reparamForward(f(), f(), f(), f(), { rows: 2, cols: 2, seed: 1, stream: 2 ** 32 })),
      "E_ARG",
    );
    t.is(
      code(t, () => k.reparamForward(f(), f(), f(), f(), { rows: 2, cols: 2, seed: 1, firstSample: 2 ** 32 - 1 })),
      "E_ARG",
    );
    const shared = f();
    t.is(
      code(t, () => k.reparamForward(shared, f(), shared, f(), { rows: 2, cols: 2, seed: 1 })),
      "E_ARG",
    );
    t.is(
      code(t, () => k.reparamForward(f(), new Float64Array(4) as unknown as Float32Array, f(), f(), { rows: 2, cols: 2, seed: 1 })),
      "E_ARG",
    );
    t.is(
      code(t, () => k.reparamBackward(f(), f(), f(), f(), new Float32Array(3), 2, 2)),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.reparamBackward(f(), f(), f(), f(), f(), 2, 2, 1, 1 as unknown as boolean)),
      "E_ARG",
    );
  }
  t.is(
    code(t, () =>
      cudaReparam.reparamForward(new Float32Array(1), new Float32Array(1), new Float32Array(1), new Float32Array(1), {
        rows: 1,
        cols: 1,
        seed: 0,
      }),
    ),
    "E_BACKEND",
  );
});
