// Every native entry point, called with bad arguments, must throw a JS error with a stable
// code, never crash the process. The TS layer validates first; these calls go straight to
// the addon to prove the native layer re-checks what it relies on.
import test from "ava";

import type { NativeAddon } from "../lib/kernels/addon-types.js";
import { nativeAddon } from "../lib/kernels/native.js";

const addon = nativeAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;
const f32 = new Float32Array(4);
const cancel = new Int32Array(1);

// For each entry point: argument lists that must be refused.
const BAD_CALLS: Record<Exclude<keyof NativeAddon, "abiVersion">, unknown[][]> = {
  info: [],
  threadLimit: [],
  setThreadLimit: [[], [0], [-1], [1.5], ["2"], [NaN], [Infinity], [5000]],
  philoxFill: [
    [],
    [f32, 0, 0, 0],
    [new Float64Array(4), 0, 0, 0, 0],
    [[1, 2], 0, 0, 0, 0],
    [f32, -1, 0, 0, 0],
    [f32, 2 ** 32, 0, 0, 0],
    [f32, 0, 0.5, 0, 0],
    [f32, 0, 0, "0", 0],
    [f32, 0, 0, 0, 2],
    [f32, 0, 0, 0, NaN],
  ],
  philoxFillAsync: [
    [f32, 0, 0, 0, 0],
    [f32, 0, 0, 0, 0, new Int32Array(0)],
    [f32, 0, 0, 0, 0, new Uint32Array(1)],
    [f32, 0, 0, 0, 0, cancel, "not a function"],
    [null, 0, 0, 0, 0, cancel, undefined],
  ],
  fmaProbe: [[], [10, 1], [-1, 1, 0], [10, 0, 0], [10, 5000, 0], [10, 1, -1], [1e300, 1, 0], [10, 1, 2000]],
  fmaProbeAsync: [[10, 1, 0], [10, 1, 0, null], [10, 1, 0, cancel, 42], [-5, 1, 0, cancel, undefined]],
  cudaPhiloxFill: [[], [f32, 0, 0, 0, 3], [f32, -1, 0, 0, 0]],
  // gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, batch, sA, sB, sC)
  gemm: [
    [],
    [false, false, 2, 2, 2, 1, f32, 2, f32, 2, 0, f32, 2, 1, 4, 4],
    [0, false, 2, 2, 2, 1, f32, 2, f32, 2, 0, f32, 2, 1, 4, 4, 4],
    [false, false, -1, 2, 2, 1, f32, 2, f32, 2, 0, f32, 2, 1, 4, 4, 4],
    [false, false, 2, 2, 2, NaN, f32, 2, f32, 2, 0, f32, 2, 1, 4, 4, 4],
    [false, false, 2, 2, 2, 1, f32, 1, f32, 2, 0, f32, 2, 1, 4, 4, 4],
    [false, false, 2, 2, 2, 1, new Float64Array(4), 2, f32, 2, 0, f32, 2, 1, 4, 4, 4],
    [false, false, 2, 2, 2, 1, f32, 2, f32, 2, 0, f32, 2, 1, 4, 4, -4],
  ],
};

// Arguments of the right types whose sizes exceed the arrays: must be E_SHAPE, never a read
// out of bounds.
const OUT_OF_BOUNDS: Partial<Record<keyof typeof BAD_CALLS, unknown[][]>> = {
  gemm: [
    [false, false, 3, 2, 2, 1, f32, 2, f32, 2, 0, f32, 2, 1, 4, 4, 4],
    [false, false, 2, 2, 2, 1, f32, 2, f32, 2, 0, f32, 2, 2, 4, 4, 4],
    [true, true, 2, 2, 2, 1, f32, 2, f32, 9, 0, f32, 2, 1, 4, 4, 4],
  ],
};

for (const [name, calls] of Object.entries(OUT_OF_BOUNDS)) {
  test(`native ${name} refuses sizes past the end of its arrays with E_SHAPE`, (t) => {
    for (const args of calls) {
      const err = t.throws(() => addon[name]!(...args));
      t.is((err as { code?: string }).code, "E_SHAPE", `${name}(${args.map(String).join(", ")}): ${err?.message}`);
    }
  });
}

for (const [name, calls] of Object.entries(BAD_CALLS)) {
  if (calls.length === 0) continue;
  test(`native ${name} refuses bad arguments with E_ARG`, (t) => {
    t.is(typeof addon[name], "function");
    for (const args of calls) {
      const err = t.throws(() => addon[name]!(...args), undefined, `${name}(${args.map(String).join(", ")})`);
      t.is((err as { code?: string }).code, "E_ARG", `${name}(${args.map(String).join(", ")}): ${err?.message}`);
    }
  });
}

test("every native export is covered by this test", (t) => {
  const exported = Object.keys(addon).filter((k) => k !== "abiVersion").sort();
  t.deepEqual(exported, Object.keys(BAD_CALLS).sort());
});

test("native calls without device or build fail cleanly, never crash", (t) => {
  const info = nativeAddon().info();
  if (info.cuda.devices === 0) {
    const err = t.throws(() => addon["cudaPhiloxFill"]!(new Float32Array(8), 1, 2, 3, 0));
    t.is((err as { code?: string }).code, "E_BACKEND");
  } else {
    t.notThrows(() => addon["cudaPhiloxFill"]!(new Float32Array(8), 1, 2, 3, 0));
  }
});
