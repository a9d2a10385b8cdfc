import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { gemm as gemmTwin } from "../lib/kernels/js/gemm.js";
import { checkGemm } from "../lib/kernels/ops/gemm.js";
import { maxAbsDiff, randomNormal } from "./helpers/numeric.js";
import { code } from "./helpers/errors.js";

const native = getKernels("native");
const js = getKernels("js");

test("native gemm matches the JS twin on odd shapes, all transposes, alpha/beta, padding", (t) => {
  const shapes = [
    [1, 1, 1],
    [3, 17, 33],
    [17, 3, 1],
    [33, 65, 129],
    [100, 37, 300],
    [6, 16, 256],
  ] as const;
  let seed = 1;
  for (const [m, n, k] of shapes) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const lda = (transA ? m : k) + 2;
        const ldb = (transB ? k : n) + 1;
        const ldc = n + 3;
        const a = randomNormal((transA ? k : m) * lda, seed++);
        const b = randomNormal((transB ? n : k) * ldb, seed++);
        const c0 = randomNormal(m * ldc, seed++);
        const cNative = c0.slice();
        const cJs = c0.slice();
        const p = { m, n, k, transA, transB, lda, ldb, ldc, alpha: 0.75, beta: -0.5 };
        native.gemm({ ...p, a, b, c: cNative });
        js.gemm({ ...p, a, b, c: cJs });
        const tol = 3e-6 * Math.sqrt(k) * 4;
        t.true(maxAbsDiff(cNative, cJs) < tol, `m${m} n${n} k${k} tA${transA} tB${transB}: ${maxAbsDiff(cNative, cJs)}`);
        // padding columns of C are untouched
        for (let i = 0; i < m; i++) for (let j = n; j < ldc; j++) t.is(cNative[i * ldc + j], c0[i * ldc + j]);
      }
    }
  }
});

test("a few rows times a transposed, unpadded B (the native row-dot path, e.g. a dense layer at batch 1) match the JS twin", (t) => {
  let seed = 500;
  // n = 1100: more than one 512-column task; m * n * k crosses the two-thread threshold at m = 4.
  for (const m of [1, 2, 3, 4, 5]) {
    const n = 1100;
    const k = m === 4 ? 500 : 100;
    const a = randomNormal(m * (k + 2), seed++);
    const b = randomNormal(n * k, seed++);
    for (const beta of [0, -0.5]) {
      const c0 = randomNormal(m * (n + 3), seed++);
      if (beta === 0) c0.fill(NaN); // beta 0: C is not read
      const cNative = c0.slice();
      const cJs = c0.slice();
      const p = { m, n, k, transB: true, lda: k + 2, ldb: k, ldc: n + 3, alpha: 0.75, beta };
      native.gemm({ ...p, a, b, c: cNative });
      js.gemm({ ...p, a, b, c: cJs });
      for (let i = 0; i < m; i++) {
        const row = (c: Float32Array) => c.subarray(i * (n + 3), i * (n + 3) + n);
        t.true(maxAbsDiff(row(cNative), row(cJs)) < 3e-6 * Math.sqrt(k) * 4, `m${m} beta${beta} row ${i}`);
        for (let j = n; j < n + 3; j++) t.is(cNative[i * (n + 3) + j], c0[i * (n + 3) + j]);
      }
    }
  }
});

test("exact 2x2 case, beta = 0 ignores NaN in C, k = 0 scales C by beta", (t) => {
  const a = Float32Array.from([1, 2, 3, 4]);
  const b = Float32Array.from([5, 6, 7, 8]);
  for (const k of [native, js]) {
    const c = new Float32Array(4).fill(NaN);
    k.gemm({ a, b, c, m: 2, n: 2, k: 2 });
    t.deepEqual([...c], [19, 22, 43, 50]);
    k.gemm({ a, b, c, m: 2, n: 2, k: 2, transA: true, beta: 1 });
    t.deepEqual([...c], [19 + 26, 22 + 30, 43 + 38, 50 + 44]);
    const c2 = Float32Array.from([1, 2, 3, 4]);
    k.gemm({ a, b, c: c2, m: 2, n: 2, k: 0, beta: 2 });
    t.deepEqual([...c2], [2, 4, 6, 8]);
  }
});

test("batched gemm with a shared B matrix (stride 0)", (t) => {
  const batch = 5;
  const [m, n, k] = [4, 7, 9];
  const a = randomNormal(batch * m * k, 11);
  const b = randomNormal(k * n, 12);
  const c = new Float32Array(batch * m * n);
  native.gemm({ a, b, c, m, n, k, batch, strideB: 0 });
  for (let i = 0; i < batch; i++) {
    const ci = new Float32Array(m * n);
    js.gemm({ a: a.subarray(i * m * k), b, c: ci, m, n, k });
    t.true(maxAbsDiff(c.subarray(i * m * n, (i + 1) * m * n), ci) < 1e-5);
  }
});

test("the float64 twin agrees with float32 native to rounding (a double-precision reference)", (t) => {
  const [m, n, k] = [20, 30, 500];
  const a = randomNormal(m * k, 21);
  const b = randomNormal(k * n, 22);
  const c = new Float32Array(m * n);
  native.gemm({ a, b, c, m, n, k });
  const c64 = new Float64Array(m * n);
  gemmTwin(checkGemm({ a, b, c, m, n, k }), Float64Array.from(a), Float64Array.from(b), c64);
  t.true(maxAbsDiff(c, c64) < 1e-4, `${maxAbsDiff(c, c64)}`);
});

test("gemm rejects bad parameters and arrays too short for the shapes", (t) => {
  const f = new Float32Array(4);
  for (const k of [native, js]) {
    t.is(
      code(t, () => k.gemm({ a: f, b: f, c: f, m: 3, n: 2, k: 2 })),
      "E_SHAPE",
    );
    t.is(
      code(t, () => k.gemm({ a: f, b: f, c: f, m: 2, n: 2, k: 2, lda: 1 })),
      "E_ARG",
    );
    t.is(
      code(t, () => k.gemm({ a: f, b: f, c: f, m: -1, n: 2, k: 2 })),
      "E_ARG",
    );
    t.is(
      code(t, () => k.gemm({ a: [1, 2] as unknown as Float32Array, b: f, c: f, m: 1, n: 1, k: 1 })),
      "E_ARG",
    );
    t.is(
      code(t, () => k.gemm({ a: f, b: f, c: f, m: 2, n: 2, k: 2, alpha: Infinity })),
      "E_ARG",
    );
  }
  t.is(
    code(t, () => getKernels("cuda")),
    "E_BACKEND",
  );
});

test("zero-size gemm is a no-op", (t) => {
  const c = Float32Array.from([7]);
  native.gemm({ a: new Float32Array(0), b: new Float32Array(3), c, m: 0, n: 1, k: 3 });
  native.gemm({ a: new Float32Array(0), b: new Float32Array(0), c, m: 1, n: 1, k: 0, beta: 1 });
  t.deepEqual([...c], [7]);
});
