import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { DeepgenError, type ErrorCode } from "../lib/core/errors.js";
import {
  type PixelRnnKindName,
  type PixelRnnSpec,
  pixelRnnBackward,
  pixelRnnLayout,
  pixelRnnLogits,
  pixelRnnLogProb,
} from "../lib/kernels/js/pixelrnn.js";
import type { PixelRnnModelArrays } from "../lib/kernels/ops/pixelrnn.js";
import { PixelRnn } from "../lib/models/pixelrnn.js";
import { loadModel } from "../lib/models/registry.js";
import { maxAbsDiff, maxRelDiff, numericGradient, randomNormal, randomUniform } from "./helpers/numeric.js";

const native = getKernels("native");
const js = getKernels("js");
const KINDS: PixelRnnKindName[] = ["rowlstm", "diagbilstm"];

function randomModel(spec: PixelRnnSpec, seed: number, scale = 0.6): PixelRnnModelArrays {
  return { spec, params: randomNormal(pixelRnnLayout(spec).total, seed, scale) };
}

function randomBinary(n: number, seed: number, pOne = 0.35): Float32Array {
  return randomUniform(n, seed, 0, 1).map((v) => (v < pOne ? 1 : 0));
}

for (const kind of KINDS) {
  test(`${kind}: native log-likelihood and gradients match the JS twin (odd sizes, 2 layers)`, (t) => {
    const spec: PixelRnnSpec = { kind, layers: 2, hidden: 3, rows: 5, cols: 7 };
    const m = randomModel(spec, 11);
    const n = 21; // more than one block of 16
    const d = spec.rows * spec.cols;
    const x = randomBinary(n * d, 12);
    const a = new Float32Array(n);
    const b = new Float32Array(n);
    js.pixelRnnLogProb(m, x, n, a);
    native.pixelRnnLogProb(m, x, n, b);
    t.true(maxAbsDiff(a, b) < 1e-3, `logp differs by ${maxAbsDiff(a, b)}`);
    const total = pixelRnnLayout(spec).total;
    const ga = new Float32Array(total);
    const gb = new Float32Array(total);
    const la = new Float32Array(n);
    const lb = new Float32Array(n);
    js.pixelRnnBackward(m, x, n, 0.25, la, ga);
    native.pixelRnnBackward(m, x, n, 0.25, lb, gb);
    t.true(maxAbsDiff(la, a) < 1e-4);
    t.true(maxAbsDiff(lb, b) < 1e-4);
    t.true(maxRelDiff(ga, gb) < 1e-3, `gradients differ: ${maxRelDiff(ga, gb)}`);
  });

  test(`${kind}: gradients match finite differences (float64, 5x5, H = 3, 2 layers)`, (t) => {
    const spec: PixelRnnSpec = { kind, layers: 2, hidden: 3, rows: 5, cols: 5 };
    const p = Float64Array.from(randomNormal(pixelRnnLayout(spec).total, 21, 0.6));
    const n = 2;
    const x = randomBinary(n * 25, 22);
    const g = new Float64Array(p.length);
    pixelRnnBackward(spec, p, x, n, 1, null, g);
    // A spread of coordinates covering every tensor (the layout is contiguous).
    const picks = Array.from({ length: 60 }, (_, i) => Math.floor((i * p.length) / 60) + (i % 3));
    const nll = (q: Float64Array): number => {
      const lp = new Float64Array(n);
      pixelRnnLogProb(spec, q, x, n, lp);
      return -lp.reduce((s, v) => s + v, 0);
    };
    let worst = 0;
    for (const i of picks) {
      const q = p.slice();
      const f = (v: Float64Array): number => {
        q[i] = v[0]!;
        return nll(q);
      };
      const num = numericGradient(f, Float64Array.of(p[i]!), 1e-6)[0]!;
      worst = Math.max(worst, Math.abs(num - g[i]!) / Math.max(1, Math.abs(num)));
    }
    t.true(worst < 1e-6, `worst relative error ${worst}`);
  });

  for (const layers of [1, 2, 3]) {
    test(`${kind} L=${layers}: exactly causal (perturbing pixel (r,c) changes no logit at or before it, and some after)`, (t) => {
      const spec: PixelRnnSpec = { kind, layers, hidden: 3, rows: 6, cols: 6 };
      const p = Float64Array.from(randomNormal(pixelRnnLayout(spec).total, 30 + layers, 0.8));
      const d = 36;
      const x = randomBinary(d, 40 + layers, 0.5);
      const base = new Float64Array(d);
      pixelRnnLogits(spec, p, x, 1, base);
      let influencedLater = 0;
      for (let q = 0; q < d; q++) {
        const y = x.slice();
        y[q] = 1 - y[q]!;
        const out = new Float64Array(d);
        pixelRnnLogits(spec, p, y, 1, out);
        for (let i = 0; i <= q; i++) if (out[i] !== base[i]) t.fail(`pixel ${q} changed the logit of pixel ${i}`);
        let later = false;
        for (let i = q + 1; i < d; i++) if (out[i] !== base[i]) later = true;
        if (later) influencedLater++;
      }
      // The test can fail the other way too: pixels do influence later ones (all but the last few,
      // whose few successors may sit on dead ReLUs).
      t.true(influencedLater >= d - 4, `only ${influencedLater} pixels influenced a later logit`);
    });
  }

  test(`${kind}: probabilities of all 2^D images sum to 1 (2x4 image)`, (t) => {
    const spec: PixelRnnSpec = { kind, layers: 2, hidden: 2, rows: 2, cols: 4 };
    const m = randomModel(spec, 50, 1.2);
    const n = 256;
    const x = new Float32Array(n * 8);
    for (let i = 0; i < n; i++) for (let j = 0; j < 8; j++) x[i * 8 + j] = (i >> j) & 1;
    for (const k of [native, js]) {
      const lp = new Float32Array(n);
      k.pixelRnnLogProb(m, x, n, lp);
      const total = lp.reduce((s, v) => s + Math.exp(v), 0);
      t.true(Math.abs(total - 1) < 1e-4, `${k.backend}: sum ${total}`);
    }
  });

  test(`${kind}: the cached sampler draws exactly the naive sampler's images, on JS and native, for any batch size`, (t) => {
    const spec: PixelRnnSpec = { kind, layers: 2, hidden: 4, rows: 6, cols: 5 };
    const m = randomModel(spec, 60, 0.8);
    const d = 30;
    const n = 5;
    const draws: Record<string, Float32Array> = {};
    const probs: Record<string, Float32Array> = {};
    for (const k of [native, js]) {
      for (const cached of [true, false]) {
        const x = new Float32Array(n * d);
        const pr = new Float32Array(n * d);
        k.pixelRnnSample(m, { n, seed: 1234, cached }, x, pr);
        draws[`${k.backend}-${cached}`] = x;
        probs[`${k.backend}-${cached}`] = pr;
      }
    }
    const ref = draws["native-true"]!;
    t.deepEqual(draws["native-false"], ref);
    t.deepEqual(draws["js-true"], ref);
    t.deepEqual(draws["js-false"], ref);
    t.deepEqual(probs["native-false"], probs["native-true"]); // bit-identical probabilities
    t.true(maxAbsDiff(probs["js-true"]!, probs["native-true"]!) < 1e-5);
    const ones = ref.reduce((s, v) => s + v, 0);
    t.true(ones > 0 && ones < n * d, "draws are not constant");
    // Sample 3 alone (sampleOffset 3) is the 4th image of the batch.
    const one = new Float32Array(d);
    native.pixelRnnSample(m, { n: 1, seed: 1234, sampleOffset: 3 }, one);
    t.deepEqual(one, ref.subarray(3 * d, 4 * d));
    // The probabilities the sampler reports are the model's conditionals: their log-likelihood matches logProb.
    const lp = new Float32Array(n);
    native.pixelRnnLogProb(m, ref, n, lp);
    const pr = probs["native-true"]!;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += Math.log(ref[i * d + j] ? pr[i * d + j]! : 1 - pr[i * d + j]!);
      t.true(Math.abs(s - lp[i]!) < 1e-3, `sample ${i}: ${s} vs ${lp[i]}`);
    }
  });

  test(`${kind}: training lowers the NLL; save/load round trip; fitted model samples`, async (t) => {
    // Tiny 6x6 "images": a vertical bar at a random column, so the pixels are strongly dependent.
    const n = 48;
    const x = new Float32Array(n * 36);
    const u = randomUniform(n, 70, 0, 6);
    for (let i = 0; i < n; i++) for (let r = 0; r < 6; r++) x[i * 36 + r * 6 + Math.floor(u[i]!)] = 1;
    const model = PixelRnn.create({ kind, layers: 1, hidden: 6, height: 6, width: 6, initSeed: 3 });
    const before = -(await model.logProb(x)).reduce((s, v) => s + v, 0) / n;
    const fit = await model.fit(x, { epochs: 15, batchSize: 16, lr: 0.01, validation: 0.25, patience: 100, seed: 1 });
    const after = -(await model.logProb(x)).reduce((s, v) => s + v, 0) / n;
    t.true(fit.history.length === 15);
    t.true(after < before - 3, `NLL ${before} -> ${after}`);
    const dir = mkdtempSync(join(tmpdir(), "prnn-"));
    const path = join(dir, "m.safetensors");
    await model.save(path);
    const back = await loadModel(path);
    t.is(back.kind, kind);
    t.deepEqual(back.logProbSync(x), model.logProbSync(x));
    const s = await back.sample(3, { seed: 5 });
    t.deepEqual(s.x, model.sampleSync(3, { seed: 5 }).x);
  });
}

test("bad arguments throw DeepgenError with stable codes", async (t) => {
  const spec: PixelRnnSpec = { kind: "rowlstm", layers: 1, hidden: 2, rows: 3, cols: 3 };
  const m = randomModel(spec, 1);
  const err = (f: () => unknown, code: ErrorCode): void => {
    const e = t.throws(f);
    t.true(e instanceof DeepgenError, String(e));
    t.is((e as DeepgenError).code, code);
  };
  for (const k of [native, js]) {
    err(() => k.pixelRnnLogProb({ spec, params: new Float32Array(3) }, new Float32Array(9), 1, new Float32Array(1)), "E_SHAPE");
    err(
      () =>
        k.pixelRnnLogProb(
          { spec: { ...spec, kind: "cnn" as PixelRnnKindName }, params: m.params },
          new Float32Array(9),
          1,
          new Float32Array(1),
        ),
      "E_ARG",
    );
    err(() => k.pixelRnnLogProb(m, new Float32Array(8), 1, new Float32Array(1)), "E_SHAPE");
    err(() => k.pixelRnnBackward(m, new Float32Array(9), 1, NaN, null, new Float32Array(m.params.length)), "E_ARG");
    err(() => k.pixelRnnBackward(m, new Float32Array(9), 1, 1, null, m.params), "E_ARG"); // grads alias params
    err(() => k.pixelRnnSample(m, { n: 2, seed: 1 }, new Float32Array(9)), "E_SHAPE");
  }
  t.throws(() => PixelRnn.create({ kind: "rowlstm", height: 0, width: 3 }), { instanceOf: DeepgenError });
  const dir = mkdtempSync(join(tmpdir(), "prnn-bad-"));
  const model = PixelRnn.create({ kind: "diagbilstm", height: 3, width: 3, hidden: 2 });
  const path = join(dir, "m.safetensors");
  await model.save(path);
  const bytes = new Uint8Array(await import("node:fs/promises").then((f) => f.readFile(path)));
  // Same header, truncated data: a strict reader refuses it, loadModel reports E_FORMAT.
  writeFileSync(join(dir, "cut.safetensors"), bytes.subarray(0, bytes.length - 8));
  const e = await t.throwsAsync(loadModel(join(dir, "cut.safetensors")));
  t.true(e instanceof DeepgenError && e.code === "E_FORMAT", String(e));
});

// The shipped PixelRNNs by short name: the 1-layer defaults and the 7-layer models.
const SHIPPED: [string, PixelRnnKindName][] = [
  ["rowlstm", "rowlstm"],
  ["diagbilstm", "diagbilstm"],
  ["rowlstm-l7", "rowlstm"],
  ["diagbilstm-l7", "diagbilstm"],
];

for (const [name, kind] of SHIPPED) {
  test(`shipped ${name}: loads by short name, and its test NLL is the one its card reports`, async (t) => {
    const { readFileSync } = await import("node:fs");
    const { canonicalSplit } = await import("../lib/data/mnist.js");
    const card = JSON.parse(readFileSync(new URL(`../packages/models-mnist/models/${name}-mnist.card.json`, import.meta.url), "utf8"));
    const model = await loadModel(name);
    t.is(model.kind, kind);
    t.is(model.paramCount(), card.param_count);
    const { test: testSet } = canonicalSplit({ binarized: true });
    const logp = await model.logProb(testSet.x);
    const nll = -logp.reduce((s, v) => s + v, 0) / testSet.n;
    t.true(Math.abs(nll - card.test_nll_nats) < 1e-3, `${nll} vs card ${card.test_nll_nats}`);
    t.true(nll < 72);
  });
}
