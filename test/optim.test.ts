import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { nativeAddon } from "../lib/kernels/native.js";
import { cudaOptim } from "../lib/kernels/ops/optim.js";
import { code } from "./helpers/errors.js";
import { randomNormal } from "./helpers/numeric.js";

const native = getKernels("native");
const js = getKernels("js");
const SIZES = [1, 3, 7, 8, 9, 17, 33, 1000, 100_003];

test("one Adam step on tiny arrays equals the hand-computed values", (t) => {
  // t = 1 from zero moments: m = 0.1 g, v = 0.001 g^2, m-hat = g, v-hat = g^2, so
  // p -= lr g / (|g| + eps). With lr = 0.1, eps = 1e-8:
  for (const k of [native, js]) {
    const p = Float32Array.of(1, -2, 0.5, 3);
    const g = Float32Array.of(0.5, -4, 0, 2);
    const m = new Float32Array(4);
    const v = new Float32Array(4);
    k.adamStep(p, g, m, v, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 });
    const want = [1 - (0.1 * 0.5) / (0.5 + 1e-8), -2 + (0.1 * 4) / (4 + 1e-8), 0.5, 3 - (0.1 * 2) / (2 + 1e-8)];
    t.deepEqual([...p], want.map(Math.fround));
    t.deepEqual([...m], [0.05, -0.4, 0, 0.2].map(Math.fround));
    t.deepEqual([...v], [0.001 * 0.25, 0.001 * 16, 0, 0.001 * 4].map(Math.fround));
    // Step 2 with the same gradient: m = 0.19 g, v = 0.001999 g^2, bias corrections 0.19 and
    // 0.001999, so the update is again lr g / (|g| + eps).
    k.adamStep(p, g, m, v, { lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 2 });
    t.true(Math.abs(p[0]! - (1 - 0.2)) < 1e-6, `${p[0]}`);
    t.true(Math.abs(p[3]! - (3 - 0.2)) < 1e-6);
    // AdamW: with g = 0 only the decoupled decay acts: p *= 1 - lr wd.
    const q = Float32Array.of(2);
    k.adamStep(q, new Float32Array(1), new Float32Array(1), new Float32Array(1), {
      lr: 0.1,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      step: 1,
      weightDecay: 0.5,
    });
    t.is(q[0], Math.fround(2 * (1 - 0.05)));
  }
});

test("one SGD step with momentum / Nesterov / weight decay equals the hand-computed values", (t) => {
  for (const k of [native, js]) {
    const p = Float32Array.of(1);
    const v = Float32Array.of(0.5);
    k.sgdStep(p, Float32Array.of(2), v, { lr: 0.1, momentum: 0.9 });
    t.is(v[0], Math.fround(0.9 * 0.5 + 2));
    t.is(p[0], Math.fround(1 - 0.1 * 2.45));
    const pn = Float32Array.of(1);
    const vn = Float32Array.of(0.5);
    // g = 2 + 0.5 * 1 = 2.5; v = 0.45 + 2.5 = 2.95; p -= 0.1 (2.5 + 0.9 * 2.95)
    k.sgdStep(pn, Float32Array.of(2), vn, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.5 });
    t.is(vn[0], Math.fround(2.95));
    t.is(pn[0], Math.fround(1 - 0.1 * (2.5 + 0.9 * 2.95)));
    const pp = Float32Array.of(1, 2);
    k.sgdStep(pp, Float32Array.of(2, -4), null, { lr: 0.25 });
    t.deepEqual([...pp], [0.5, 3]);
  }
});

test("multi-step Adam and SGD: native and JS give the same bits", (t) => {
  let seed = 1;
  for (const n of SIZES) {
    const start = randomNormal(n, seed++);
    const state = () => ({ p: start.slice(), a: new Float32Array(n), b: new Float32Array(n) });
    for (const variant of ["adam", "adamw", "sgd", "nesterov", "plain-sgd"] as const) {
      const sn = state();
      const sj = state();
      for (let step = 1; step <= 6; step++) {
        const g = randomNormal(n, 1000 * step + n, 0.3);
        for (const [k, s] of [
          [native, sn],
          [js, sj],
        ] as const) {
          if (variant === "adam" || variant === "adamw") {
            k.adamStep(s.p, g, s.a, s.b, {
              lr: 1e-2,
              beta1: 0.9,
              beta2: 0.999,
              eps: 1e-8,
              step,
              weightDecay: variant === "adamw" ? 0.1 : 0,
            });
          } else if (variant === "plain-sgd") {
            k.sgdStep(s.p, g, null, { lr: 0.05, weightDecay: 1e-3 });
          } else {
            k.sgdStep(s.p, g, s.a, { lr: 0.05, momentum: 0.9, nesterov: variant === "nesterov", weightDecay: 1e-3 });
          }
        }
      }
      t.deepEqual(sn.p, sj.p, `${variant} n=${n}: params`);
      t.deepEqual(sn.a, sj.a, `${variant} n=${n}: state 1`);
      t.deepEqual(sn.b, sj.b, `${variant} n=${n}: state 2`);
      t.notDeepEqual(sn.p, start);
    }
  }
});

test("clipGradNorm scales every array by maxNorm / norm and returns the norm before", (t) => {
  for (const k of [native, js]) {
    const a = Float32Array.of(3, 0);
    const b = Float32Array.of(4);
    t.is(k.clipGradNorm([a, b], 10), 5); // under the limit: untouched
    t.deepEqual([...a, ...b], [3, 0, 4]);
    t.is(k.clipGradNorm([a, b], 1), 5);
    t.deepEqual([...a, ...b], [Math.fround(0.6), 0, Math.fround(0.8)]);
    t.true(Math.abs(k.clipGradNorm([a, b], Infinity) - 1) < 1e-7); // Infinity only measures
    t.is(k.clipGradNorm([], 1), 0);
    t.is(k.clipGradNorm([new Float32Array(0)], 1), 0);
    // Non-finite norms are reported and nothing is scaled.
    const bad = Float32Array.of(Infinity, 1);
    t.is(k.clipGradNorm([bad, b], 1), Infinity);
    t.is(bad[1], 1);
    const nan = Float32Array.of(NaN, 2);
    t.true(Number.isNaN(k.clipGradNorm([nan], 1)));
    t.is(nan[1], 2);
  }
});

test("clipGradNorm: native and JS agree to the bit on large odd-sized lists, for any thread count", (t) => {
  const addon = nativeAddon();
  const saved = addon.threadLimit();
  try {
    const sizes = [1, 17, 4097, 100_003, 33, 250_000];
    const make = () => sizes.map((n, i) => randomNormal(n, 77 + i, 0.01));
    const lj = make();
    const normJ = js.clipGradNorm(lj, 0.5);
    for (const threads of [1, 3]) {
      addon.setThreadLimit(threads);
      const ln = make();
      t.is(native.clipGradNorm(ln, 0.5), normJ);
      for (let i = 0; i < sizes.length; i++) t.deepEqual(ln[i], lj[i]);
    }
    t.true(normJ > 0.5);
    t.true(Math.abs(js.clipGradNorm(lj, Infinity) - 0.5) < 1e-6);
  } finally {
    addon.setThreadLimit(saved);
  }
});

test("optimizers refuse bad arguments on every backend", (t) => {
  const f = (n: number): Float32Array => new Float32Array(n);
  const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 };
  for (const k of [native, js]) {
    t.is(
      code(t, () => k.adamStep(f(4), f(3), f(4), f(4), adam)),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.adamStep(f(4), f(4), f(4), f(5), adam)),
      "E_SHAPE",
    );
    for (const bad of [
      { beta1: 1 },
      { beta2: -0.1 },
      { eps: 0 },
      { lr: -1 },
      { lr: NaN },
      { step: 0 },
      { step: 1.5 },
      { weightDecay: -1 },
    ]) {
      t.is(
        code(t, () => k.adamStep(f(4), f(4), f(4), f(4), { ...adam, ...bad })),
        "E_ARG",
        JSON.stringify(bad),
      );
    }
    const shared = f(4);
    t.is(
      code(t, () => k.adamStep(shared, f(4), shared, f(4), adam)),
      "E_ARG",
    ); // m aliases params
    const buf = f(8);
    t.is(
      code(t, () => k.adamStep(buf.subarray(0, 4), f(4), buf.subarray(3, 7), f(4), adam)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.adamStep(f(4), f(4), f(4), f(4), null as never)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.sgdStep(f(4), f(4), null, { lr: 0.1, momentum: 0.9 })),
      "E_ARG",
    );
    t.is(
      code(t, () => k.sgdStep(f(4), f(4), f(4), { lr: 0.1, nesterov: true })),
      "E_ARG",
    );
    t.is(
      code(t, () => k.sgdStep(f(4), f(4), f(4), { lr: 0.1, momentum: 1.5 })),
      "E_ARG",
    );
    t.is(
      code(t, () => k.sgdStep(f(4), f(4), f(3), { lr: 0.1, momentum: 0.5 })),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.clipGradNorm([f(2)], 0)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.clipGradNorm([f(2)], NaN)),
      "E_ARG",
    );
    t.is(
      code(t, () => k.clipGradNorm([f(2), [1, 2] as never], 1)),
      "E_ARG",
    );
    const g = f(3);
    t.is(
      code(t, () => k.clipGradNorm([g, g], 1)),
      "E_ARG",
    ); // would be scaled twice
    t.is(
      code(t, () => k.clipGradNorm(f(2) as never, 1)),
      "E_ARG",
    );
  }
  // The addon re-checks lengths against params before touching memory.
  const addon = nativeAddon();
  const err = t.throws(() => addon.adamStep(f(4), f(3), f(4), f(4), 1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.001));
  t.is((err as { code?: string }).code, "E_SHAPE");
  const err2 = t.throws(() => addon.sgdStep(f(4), f(4), f(2), 0.1, 0.9, false, 0));
  t.is((err2 as { code?: string }).code, "E_SHAPE");
});

test("optimizer steps on empty arrays do nothing", (t) => {
  const e = (): Float32Array => new Float32Array(0);
  for (const k of [native, js]) {
    t.notThrows(() => k.adamStep(e(), e(), e(), e(), { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 }));
    t.notThrows(() => k.sgdStep(e(), e(), e(), { lr: 0.1, momentum: 0.9 }));
  }
});

test("the cuda backend has no SGD kernel yet and says so", (t) => {
  const a = new Float32Array(2);
  t.is(
    code(t, () => cudaOptim.sgdStep(a, a.slice(), a.slice(), { lr: 0.1, momentum: 0.9 })),
    "E_BACKEND",
  );
});
