import test from "ava";

import type { Seed } from "../lib/core/philox.js";
import type { BackendName } from "../lib/kernels/kernels.js";
import type { SampleRequest } from "../lib/models/batch.js";
import type { Samples } from "../lib/models/density.js";
import { Nade } from "../lib/models/nade.js";
import { PixelRnn } from "../lib/models/pixelrnn.js";
import { Rnade } from "../lib/models/rnade.js";
import { maxAbsDiff } from "./helpers/numeric.js";

interface Sampler {
  sample(n: number, opts: { seed: Seed; backend?: BackendName; returnProbs?: boolean }): Promise<Samples>;
  sampleBatch(requests: readonly SampleRequest[], opts?: { backend?: BackendName; returnProbs?: boolean }): Promise<Samples[]>;
}

/** Non-trivial weights (create() leaves biases at zero): every parameter nudged by a fixed pattern. */
function nudge(arrays: Float32Array[]): void {
  let k = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) a[i] = a[i]! + 0.3 * Math.sin(++k * 0.7);
}

const models: Array<[string, () => Sampler]> = [
  [
    "NADE",
    () => {
      const m = Nade.create({ dim: 20, hidden: 9, ordering: "random", orderingSeed: 3, initSeed: 1 });
      nudge([m.arrays.b, m.arrays.c]);
      return m;
    },
  ],
  [
    "RNADE",
    () => {
      const m = Rnade.create({ dim: 6, hidden: 5, components: 3, initSeed: 2 });
      nudge([m.arrays.bm, m.arrays.ba, m.arrays.c]);
      return m;
    },
  ],
  ["PixelRNN Row LSTM", () => PixelRnn.create({ kind: "rowlstm", height: 4, width: 5, hidden: 4, initSeed: 3 })],
  ["PixelRNN Diagonal BiLSTM", () => PixelRnn.create({ kind: "diagbilstm", height: 3, width: 4, hidden: 3, layers: 2, initSeed: 4 })],
];

// Several sizes (one over NADE's block of 8, so rows of one request span blocks at other
// alignments than alone), equal seeds in two requests, number and bigint seeds, a 64-bit one.
const requests: SampleRequest[] = [
  { n: 3, seed: 5 },
  { n: 1, seed: (1n << 40n) + 7n },
  { n: 11, seed: 123456789012 },
  { n: 2, seed: 5 },
  { n: 4, seed: 0xfedcba9876543210n },
];

function bits(a: Float32Array | undefined): Buffer | undefined {
  return a === undefined ? undefined : Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

for (const [name, make] of models) {
  for (const backend of ["native", "js"] as const) {
    test(`${name} (${backend}): sampleBatch gives each request bit for bit its lone sample`, async (t) => {
      const model = make();
      const batch = await model.sampleBatch(requests, { backend, returnProbs: true });
      t.is(batch.length, requests.length);
      for (const [i, r] of requests.entries()) {
        const lone = await model.sample(r.n, { seed: r.seed, backend, returnProbs: true });
        t.is(batch[i]!.n, r.n);
        t.deepEqual(bits(batch[i]!.x), bits(lone.x), `request ${i}`);
        t.deepEqual(bits(batch[i]!.probs), bits(lone.probs), `request ${i} probs`);
      }
      // requests 0 and 3 share a seed: the shorter one is the first rows of the longer one
      t.deepEqual(bits(batch[3]!.x), bits(batch[0]!.x.subarray(0, batch[3]!.x.length)));
    });
  }

  // Binary samples agree bit for bit; RNADE's real values agree to float rounding (the twins
  // round the mixture arithmetic differently; test/rnade-kernels.test.ts).
  test(`${name}: sampleBatch on native and js draw the same samples`, async (t) => {
    const model = make();
    const a = await model.sampleBatch(requests, { backend: "native" });
    const b = await model.sampleBatch(requests, { backend: "js" });
    for (let i = 0; i < requests.length; i++) {
      if (name === "RNADE") t.true(maxAbsDiff(a[i]!.x, b[i]!.x) < 1e-3, `request ${i}`);
      else t.deepEqual(bits(a[i]!.x), bits(b[i]!.x), `request ${i}`);
    }
  });
}

test("sampleBatch: progress ends at 1, an aborted signal is E_ABORTED, bad requests are E_ARG", async (t) => {
  const model = Nade.create({ dim: 12, hidden: 4 });
  for (const backend of ["native", "js"] as const) {
    const seen: number[] = [];
    await model.sampleBatch(requests, { backend, onProgress: (f) => seen.push(f) });
    t.is(seen.at(-1), 1, backend);
    const ac = new AbortController();
    ac.abort();
    const aborted = await t.throwsAsync(model.sampleBatch(requests, { backend, signal: ac.signal }));
    t.is((aborted as { code?: string }).code, "E_ABORTED");
  }
  for (const bad of [[], [{ n: 0, seed: 1 }], [{ n: 2, seed: -1 }], [{ n: 2, seed: 1n << 64n }], [{ n: 1, seed: 1, code: 2 }]]) {
    const err = await t.throwsAsync(Promise.resolve().then(() => model.sampleBatch(bad as SampleRequest[])));
    t.is(
      (err as { code?: string }).code,
      "E_ARG",
      JSON.stringify(bad, (_k, v) => (typeof v === "bigint" ? `${v}n` : v)),
    );
  }
});
