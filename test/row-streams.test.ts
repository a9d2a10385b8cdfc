import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { callNative } from "../lib/kernels/native.js";
import type { Kernels } from "../lib/kernels/kernels.js";
import { Nade } from "../lib/models/nade.js";
import { PixelRnn } from "../lib/models/pixelrnn.js";
import { Rnade } from "../lib/models/rnade.js";
import { code } from "./helpers/errors.js";
import { maxAbsDiff } from "./helpers/numeric.js";

const native = getKernels("native");
const js = getKernels("js");

/** Per-row streams with scattered keys and indices, high index words included. */
function scatteredStreams(n: number, salt: number): Uint32Array {
  const rows = new Uint32Array(4 * n);
  for (let r = 0; r < n; r++) {
    rows[4 * r] = (Math.imul(r + salt, 0x9e3779b1) >>> 0) ^ 0x5bd1e995;
    rows[4 * r + 1] = Math.imul(r * 7 + salt, 0x85ebca6b) >>> 0;
    rows[4 * r + 2] = Math.imul(r + 3, 0xc2b2ae35) >>> 0;
    rows[4 * r + 3] = (r * 977) % (1 << 20); // the index stays under 2^53: a lone call can name it
  }
  return rows;
}

/** The lone call that row r of `rows` stands for: its key as a seed, its index as the offset. */
function loneOf(rows: Uint32Array, r: number): { seed: bigint; sampleOffset: number } {
  return {
    seed: (BigInt(rows[4 * r + 1]!) << 32n) | BigInt(rows[4 * r]!),
    sampleOffset: rows[4 * r + 3]! * 2 ** 32 + rows[4 * r + 2]!,
  };
}

function nudge(arrays: Float32Array[]): void {
  let k = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) a[i] = a[i]! + 0.3 * Math.sin(++k * 0.7);
}

const nade = Nade.create({ dim: 18, hidden: 7, ordering: "random", orderingSeed: 5, initSeed: 2 });
nudge([nade.arrays.b, nade.arrays.c]);
const rnade = Rnade.create({ dim: 5, hidden: 4, components: 3, initSeed: 3 });
nudge([rnade.arrays.bm, rnade.arrays.ba]);
const pixelModel = PixelRnn.create({ kind: "diagbilstm", height: 3, width: 4, hidden: 3, initSeed: 4 });
const pixel = { dim: pixelModel.dim, arrays: { spec: pixelModel.spec, params: pixelModel.params } };

interface Case {
  name: string;
  dim: number;
  binary: boolean;
  /** Draws n rows (with rowStreams, or seed / offset) into x. */
  draw(k: Kernels, o: { n: number; seed: bigint | number; sampleOffset?: number; rowStreams?: Uint32Array }, x: Float32Array): void;
  drawAsync(k: Kernels, o: { n: number; seed: number; rowStreams?: Uint32Array }, x: Float32Array): Promise<void>;
}

// NADE completion: the first `known` steps come from x (here a fixed pattern), the rest is drawn.
const KNOWN = 5;
function prefilled(n: number, d: number): Float32Array {
  return Float32Array.from({ length: n * d }, (_, i) => (i % 3 === 0 ? 1 : 0));
}

const cases: Case[] = [
  {
    name: "nade",
    dim: nade.dim,
    binary: true,
    draw: (k, o, x) => k.nadeSample(nade.arrays, o, x),
    drawAsync: (k, o, x) => k.nadeSampleAsync(nade.arrays, o, x),
  },
  {
    name: "nade completion",
    dim: nade.dim,
    binary: true,
    draw: (k, o, x) => {
      x.set(prefilled(o.n, nade.dim));
      k.nadeSample(nade.arrays, { ...o, known: KNOWN }, x);
    },
    drawAsync: async (k, o, x) => {
      x.set(prefilled(o.n, nade.dim));
      await k.nadeSampleAsync(nade.arrays, { ...o, known: KNOWN }, x);
    },
  },
  {
    name: "rnade",
    dim: rnade.dim,
    binary: false,
    draw: (k, o, x) => k.rnadeSample(rnade.arrays, o, x),
    drawAsync: (k, o, x) => k.rnadeSampleAsync(rnade.arrays, o, x),
  },
  {
    name: "pixelrnn cached",
    dim: pixel.dim,
    binary: true,
    draw: (k, o, x) => k.pixelRnnSample(pixel.arrays, o, x),
    drawAsync: (k, o, x) => k.pixelRnnSampleAsync(pixel.arrays, o, x),
  },
  {
    name: "pixelrnn naive",
    dim: pixel.dim,
    binary: true,
    draw: (k, o, x) => k.pixelRnnSample(pixel.arrays, { ...o, cached: false }, x),
    drawAsync: (k, o, x) => k.pixelRnnSampleAsync(pixel.arrays, { ...o, cached: false }, x),
  },
];

for (const c of cases) {
  test(`${c.name}: each row of a per-row call is the lone call of its key and index, on native and js`, async (t) => {
    const n = 13;
    const rows = scatteredStreams(n, c.dim);
    const byKernel = new Map<string, Float32Array>();
    for (const [kname, k] of [
      ["native", native],
      ["js", js],
    ] as const) {
      const x = new Float32Array(n * c.dim);
      c.draw(k, { n, seed: 0, rowStreams: rows }, x);
      const xa = new Float32Array(n * c.dim);
      await c.drawAsync(k, { n, seed: 0, rowStreams: rows }, xa);
      t.deepEqual(xa, x, `${kname}: async = sync`);
      for (let r = 0; r < n; r++) {
        const one = new Float32Array(c.dim);
        c.draw(k, { n: 1, ...loneOf(rows, r) }, one);
        t.deepEqual(x.subarray(r * c.dim, (r + 1) * c.dim), one, `${kname} row ${r}`);
      }
      byKernel.set(kname, x);
    }
    const a = byKernel.get("native")!;
    const b = byKernel.get("js")!;
    if (c.binary) {
      t.deepEqual(a, b);
      t.true(a.some((v) => v === 1) && a.some((v) => v === 0), "draws are not degenerate");
    } else {
      t.true(maxAbsDiff(a, b) < 1e-3, `${maxAbsDiff(a, b)}`);
    }
  });

  test(`${c.name}: rowStreams of another type or length are refused on both backends`, async (t) => {
    const n = 3;
    const x = new Float32Array(n * c.dim);
    for (const k of [native, js]) {
      const short = new Uint32Array(4 * n - 1);
      const wrong = new Int32Array(4 * n) as unknown as Uint32Array;
      t.is(
        code(t, () => c.draw(k, { n, seed: 0, rowStreams: short }, x)),
        "E_SHAPE",
      );
      t.is(
        code(t, () => c.draw(k, { n, seed: 0, rowStreams: wrong }, x)),
        "E_ARG",
      );
      const err = await t.throwsAsync(Promise.resolve().then(() => c.drawAsync(k, { n, seed: 0, rowStreams: short }, x)));
      t.is((err as { code?: string }).code, "E_SHAPE");
    }
  });
}

test("the addon itself refuses short or mistyped rowStreams (E_SHAPE / E_ARG), sync and async", async (t) => {
  const m = nade.arrays;
  const n = 3;
  const x = new Float32Array(n * m.d);
  const call = (rows: unknown) => () =>
    callNative((a) => a.nadeSample(m.d, m.h, m.wt, m.c, m.v, m.b, m.order, n, 0, 0, 1, 2, 0, 0, x, null, rows as Uint32Array));
  t.is(code(t, call(new Uint32Array(4 * n - 1))), "E_SHAPE");
  t.is(code(t, call(new Float32Array(4 * n))), "E_ARG");
  t.is(code(t, call("rows")), "E_ARG");
  t.notThrows(call(null));
  const r = rnade.arrays;
  const rx = new Float32Array(n * r.d);
  t.is(
    code(t, () =>
      callNative((a) =>
        a.rnadeSample(r.d, r.h, r.k, r.wt, r.c, r.va, r.vm, r.vs, r.ba, r.bm, r.bs, n, 0, 0, 1, 2, 0, rx, new Uint32Array(4)),
      ),
    ),
    "E_SHAPE",
  );
  const p = pixel.arrays;
  const px = new Float32Array(n * pixel.dim);
  const s = p.spec;
  t.is(
    code(t, () =>
      callNative((a) =>
        a.pixelRnnSample(
          s.kind === "rowlstm" ? 0 : 1,
          s.layers,
          s.hidden,
          s.rows,
          s.cols,
          p.params,
          n,
          0,
          0,
          1,
          2,
          0,
          true,
          px,
          null,
          new Uint8Array(12) as unknown as Uint32Array,
          0,
        ),
      ),
    ),
    "E_ARG",
  );
  // parsed before the job starts: the async call throws at once
  const err = await t.throwsAsync(async () =>
    callNative((a) =>
      a.nadeSampleAsync(
        m.d,
        m.h,
        m.wt,
        m.c,
        m.v,
        m.b,
        m.order,
        n,
        0,
        0,
        1,
        2,
        0,
        0,
        x,
        null,
        new Uint32Array(1),
        new Int32Array(1),
        undefined,
      ),
    ),
  );
  t.is((err as { code?: string }).code, "E_SHAPE");
});
