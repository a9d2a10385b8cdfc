import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { philox4x32, seedToKey, uniformF32 } from "../lib/core/philox.js";
import type { DeepgenError } from "../lib/core/errors.js";
import { cudaStatus } from "../lib/kernels/cuda.js";
import { code } from "./helpers/errors.js";

// Known-answer vectors of Philox4x32-10 published with Random123 (kat_vectors).
const KATS: Array<{ ctr: number[]; key: number[]; out: number[] }> = [
  { ctr: [0, 0, 0, 0], key: [0, 0], out: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  {
    ctr: [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff],
    key: [0xffffffff, 0xffffffff],
    out: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd],
  },
  {
    ctr: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344],
    key: [0xa4093822, 0x299f31d0],
    out: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  },
];

test("TS Philox4x32-10 matches the published known-answer vectors", (t) => {
  for (const k of KATS) {
    const got = philox4x32(k.ctr[0]!, k.ctr[1]!, k.ctr[2]!, k.ctr[3]!, k.key[0]!, k.key[1]!);
    t.deepEqual([...got], k.out);
  }
});

test("seeds map to a 64-bit key; bad seeds are rejected", (t) => {
  t.deepEqual(seedToKey(0), { key0: 0, key1: 0 });
  t.deepEqual(seedToKey(2 ** 32 + 5), { key0: 5, key1: 1 });
  t.deepEqual(seedToKey((1n << 64n) - 1n), { key0: 0xffffffff, key1: 0xffffffff });
  for (const bad of [-1, 1.5, NaN, 2 ** 53, -1n, 1n << 64n]) {
    t.is(
      code(t, () => seedToKey(bad as number)),
      "E_ARG",
    );
  }
});

test("native fill is bit-identical to the JS twin for uniforms, and to the block definition", (t) => {
  const n = 100_003; // odd: a partial last block
  const js = new Float32Array(n);
  const native = new Float32Array(n);
  getKernels("js").philoxFill(js, 123456789012, 7, "uniform");
  getKernels("native").philoxFill(native, 123456789012, 7, "uniform");
  t.deepEqual(native, js);
  const key = seedToKey(123456789012);
  const i = 77_777;
  const block = philox4x32(Math.floor(i / 4), 0, 7, 0, key.key0, key.key1);
  t.is(js[i], uniformF32(block[i % 4]!));
});

test("native normal fill matches the JS twin within float rounding of libm", (t) => {
  const n = 200_000;
  const js = new Float32Array(n);
  const native = new Float32Array(n);
  getKernels("js").philoxFill(js, 99, 1, "normal");
  getKernels("native").philoxFill(native, 99, 1, "normal");
  let differing = 0;
  let worst = 0;
  for (let i = 0; i < n; i++) {
    if (js[i] !== native[i]) differing++;
    worst = Math.max(worst, Math.abs(js[i]! - native[i]!) / Math.max(1, Math.abs(js[i]!)));
  }
  t.true(worst <= 2.4e-7, `worst relative difference ${worst}`);
  t.true(differing / n < 1e-3, `${differing} of ${n} differ in the last bit`);
  let mean = 0;
  for (const v of js) mean += v;
  t.true(Math.abs(mean / n) < 5 / Math.sqrt(n));
});

test("fill results do not depend on the slice size of the async JS twin or on threads", async (t) => {
  const n = 70_001;
  const sync = new Float32Array(n);
  const asyncOut = new Float32Array(n);
  const nativeAsync = new Float32Array(n);
  getKernels("js").philoxFill(sync, 5, 3, "normal");
  await getKernels("js").philoxFillAsync(asyncOut, 5, 3, "normal");
  await getKernels("native").philoxFillAsync(nativeAsync, 5, 3, "uniform");
  t.deepEqual(asyncOut, sync);
  const jsUniform = new Float32Array(n);
  getKernels("js").philoxFill(jsUniform, 5, 3, "uniform");
  t.deepEqual(nativeAsync, jsUniform);
});

test("the cuda backend is either usable or refuses with E_BACKEND and a reason", (t) => {
  const status = cudaStatus();
  if (status.available) {
    const a = new Float32Array(1001);
    const b = new Float32Array(1001);
    getKernels("cuda").philoxFill(a, 1, 2, "uniform");
    getKernels("native").philoxFill(b, 1, 2, "uniform");
    t.deepEqual(a, b);
  } else {
    const err = t.throws<DeepgenError>(() => getKernels("cuda"));
    t.is(err?.code, "E_BACKEND");
    t.regex(err!.message, /cuda backend is not available: .+/);
  }
});

test("philoxFill rejects bad arguments on every backend", (t) => {
  for (const backend of ["js", "native"] as const) {
    const k = getKernels(backend);
    t.is(
      code(t, () => k.philoxFill(new Float64Array(4) as unknown as Float32Array, 1, 0, "uniform")),
      "E_ARG",
    );
    t.is(
      code(t, () => k.philoxFill(new Float32Array(4), 1, -1, "uniform")),
      "E_ARG",
    );
    t.is(
      code(t, () => k.philoxFill(new Float32Array(4), 1, 0, "gamma" as "uniform")),
      "E_ARG",
    );
    t.is(
      code(t, () => k.philoxFill(new Float32Array(4), -3, 0, "uniform")),
      "E_ARG",
    );
  }
});
