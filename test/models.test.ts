import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { readSafetensors } from "../lib/io/safetensors.js";
import { IndependentBernoulli, MarkovChain, fullJointParamCount } from "../lib/models/baselines.js";
import { meanNll, Nade } from "../lib/models/nade.js";
import { loadModel } from "../lib/models/registry.js";
import { randomUniform } from "./helpers/numeric.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-models-"));

/** A toy binary dataset with structure: pixel j copies pixel j-1 with probability 0.9. */
function toyData(n: number, d: number, seed: number): Float32Array {
  const u = randomUniform(n * d, seed, 0, 1);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    x[i * d] = u[i * d]! < 0.5 ? 1 : 0;
    for (let j = 1; j < d; j++) x[i * d + j] = u[i * d + j]! < 0.9 ? x[i * d + j - 1]! : 1 - x[i * d + j - 1]!;
  }
  return x;
}

test("baselines: closed-form fits with Laplace smoothing, exact log-probabilities, parameter counts", (t) => {
  const x = Float32Array.from([1, 0, 1, 1, 0, 1]); // 3 vectors of D = 2
  const b = IndependentBernoulli.fit(x, 2);
  // pixel 0 is 1, 1, 0 and pixel 1 is 0, 1, 1: each (2 + 1) / (3 + 2)
  t.true(Math.abs(b.p[0]! - 0.6) < 1e-7 && Math.abs(b.p[1]! - 0.6) < 1e-7);
  const lp = b.logProbSync(Float32Array.from([1, 0]));
  t.true(Math.abs(lp[0]! - Math.log(0.6 * 0.4)) < 1e-6);
  const m = MarkovChain.fit(x, 2);
  // x0: 2 ones of 3 -> 0.6; x1 | x0 = 1: vectors (1,0), (1,1) -> (1 + 1) / (2 + 2) = 0.5; x1 | x0 = 0: (0,1) -> (1+1)/(1+2)
  t.true(Math.abs(m.p0[0]! - 0.6) < 1e-7);
  t.true(Math.abs(m.p1Given1[0]! - 0.5) < 1e-7);
  t.true(Math.abs(m.p1Given0[0]! - 2 / 3) < 1e-7);
  t.is(b.paramCount(), 2);
  t.is(m.paramCount(), 3);
  t.is(fullJointParamCount(784).toString().length, 237);
  t.is(fullJointParamCount(3), 7n);
});

test("the Markov chain beats independent pixels on correlated data; both sample reproducibly", (t) => {
  const x = toyData(400, 20, 1);
  const test2 = toyData(200, 20, 2);
  const b = IndependentBernoulli.fit(x, 20);
  const m = MarkovChain.fit(x, 20);
  t.true(meanNll(m.logProbSync(test2)) < meanNll(b.logProbSync(test2)) - 3);
  t.deepEqual(m.sampleSync(5, { seed: 4 }).x, m.sampleSync(5, { seed: 4 }).x);
  t.notDeepEqual(m.sampleSync(5, { seed: 4 }).x, m.sampleSync(5, { seed: 5 }).x);
});

test("NADE training lowers validation NLL and beats the independent baseline", async (t) => {
  const x = toyData(600, 16, 3);
  const heldOut = toyData(300, 16, 4);
  const model = Nade.create({ dim: 16, hidden: 16, initSeed: 1 });
  const before = meanNll(await model.logProb(heldOut));
  const r = await model.fit(x, { epochs: 15, batchSize: 50, lr: 0.01, patience: 100, seed: 2 });
  const after = meanNll(await model.logProb(heldOut));
  const validations = r.history.map((h) => h.validation!);
  t.true(validations.at(-1)! < validations[0]!, `validation ${validations[0]} -> ${validations.at(-1)}`);
  t.true(after < before, `${before} -> ${after}`);
  const baseline = meanNll(IndependentBernoulli.fit(x, 16).logProbSync(heldOut));
  t.true(after < baseline - 2, `nade ${after} vs independent ${baseline}`);
});

test("NADE save/load round trip keeps logProb, paper tensor names and the ordering", async (t) => {
  const model = Nade.create({ dim: 12, hidden: 5, ordering: "random", orderingSeed: 3, initSeed: 4 });
  const path = join(dir, "nade.safetensors");
  await model.save(path);
  const file = await readSafetensors(path);
  t.deepEqual(file.tensors.get("W")!.shape, [5, 12]);
  t.deepEqual(file.tensors.get("V")!.shape, [12, 5]);
  t.deepEqual(JSON.parse(file.metadata["nade.ordering"]!), Array.from(model.arrays.order));
  const back = (await loadModel(path)) as Nade;
  const x = toyData(10, 12, 5);
  t.deepEqual(back.logProbSync(x), model.logProbSync(x));
  // The file reproduces logProb with the paper's formula (what a Python user would write).
  const W = file.tensors.get("W")!.data as Float32Array;
  const V = file.tensors.get("V")!.data as Float32Array;
  const c = file.tensors.get("c")!.data as Float32Array;
  const bb = file.tensors.get("b")!.data as Float32Array;
  const order: number[] = JSON.parse(file.metadata["nade.ordering"]!);
  const sig = (z: number) => 1 / (1 + Math.exp(-z));
  let lp = 0;
  const a = Float64Array.from(c);
  for (const o of order) {
    let l = bb[o]!;
    for (let j = 0; j < 5; j++) l += V[o * 5 + j]! * sig(a[j]!);
    lp += x[o] ? Math.log(sig(l)) : Math.log(1 - sig(l));
    if (x[o]) for (let j = 0; j < 5; j++) a[j]! += W[j * 12 + o]!;
  }
  t.true(Math.abs(lp - model.logProbSync(x.subarray(0, 12))[0]!) < 1e-4);
});

test("NADE checkpoints resume exactly: 2 + 2 epochs equal 4 epochs", async (t) => {
  const x = toyData(200, 10, 6);
  const opts = { batchSize: 32, lr: 0.01, patience: 100, seed: 5 };
  const full = Nade.create({ dim: 10, hidden: 6, initSeed: 7 });
  await full.fit(x, { ...opts, epochs: 4 });
  const ckpt = join(dir, "resume.ckpt.safetensors");
  const first = Nade.create({ dim: 10, hidden: 6, initSeed: 7 });
  await first.fit(x, { ...opts, epochs: 2, checkpointPath: ckpt });
  // A different init: only the checkpoint can make it match, so an ignored resume fails.
  const resumed = Nade.create({ dim: 10, hidden: 6, initSeed: 99 });
  let epochsRun = 0;
  const r = await resumed.fit(x, { ...opts, epochs: 4, resumeFrom: ckpt, onEpoch: () => void epochsRun++ });
  t.is(epochsRun, 2, "only the two remaining epochs run");
  t.is(r.history.length, 4);
  t.deepEqual(resumed.arrays.wt, full.arrays.wt);
  t.deepEqual(resumed.arrays.b, full.arrays.b);
});

test("NADE fit is abortable and rejects bad input", async (t) => {
  const model = Nade.create({ dim: 8, hidden: 4 });
  const err = await t.throwsAsync(model.fit(toyData(100, 8, 1), { epochs: 5, signal: AbortSignal.abort() }));
  t.is((err as { code?: string }).code, "E_ABORTED");
  t.is(((await t.throwsAsync(model.logProb(new Float32Array(7)))) as { code?: string }).code, "E_SHAPE");
  t.is((t.throws(() => Nade.create({ dim: 0 })) as { code?: string }).code, "E_ARG");
  t.is((t.throws(() => Nade.create({ dim: 4, ordering: "spiral" as "natural" })) as { code?: string }).code, "E_ARG");
  const bad = join(dir, "bad.safetensors");
  const { writeSafetensors } = await import("../lib/io/safetensors.js");
  await writeSafetensors(
    bad,
    { W: { shape: [2, 2], data: new Float32Array(4) } },
    { "deepgen.model": "nade", "deepgen.config": '{"dim":2,"hidden":2}' },
  );
  t.is(((await t.throwsAsync(Nade.load(bad))) as { code?: string }).code, "E_FORMAT");
});

test("RNADE: training raises held-out log-density; save/load keeps it; samples are finite", async (t) => {
  const { Rnade } = await import("../lib/models/rnade.js");
  // Correlated real data: x_j = x_{j-1} + small noise, in [0, 1) as dequantized pixels are.
  const make = (n: number, seed: number): Float32Array => {
    const u = randomUniform(n * 6, seed, 0, 1);
    const x = new Float32Array(n * 6);
    for (let i = 0; i < n; i++) {
      x[i * 6] = u[i * 6]!;
      for (let j = 1; j < 6; j++) x[i * 6 + j] = Math.min(0.999, Math.max(0, x[i * 6 + j - 1]! + 0.05 * (u[i * 6 + j]! - 0.5)));
    }
    return x;
  };
  const train = make(400, 1);
  const held = make(200, 2);
  const model = Rnade.create({ dim: 6, hidden: 8, components: 3, initSeed: 1 });
  const before = -meanNll(await model.logProb(held));
  await model.fit(train, { epochs: 20, batchSize: 40, lr: 0.01, patience: 100, seed: 3 });
  const after = -meanNll(await model.logProb(held));
  t.true(after > before + 5, `log-density ${before} -> ${after}`);
  const path = join(dir, "rnade.safetensors");
  await model.save(path);
  const back = await loadModel(path);
  t.is(back.kind, "rnade");
  t.deepEqual(back.logProbSync(held), model.logProbSync(held));
  const s = model.sampleSync(5, { seed: 1 });
  t.is(s.x.length, 30);
  t.true(s.x.every(Number.isFinite));
});

test("sampling an impossible number of images is E_ARG, not a RangeError", async (t) => {
  const model = Nade.create({ dim: 784, hidden: 2 });
  t.is((t.throws(() => model.sampleSync(2 ** 31, { seed: 1 })) as { code?: string }).code, "E_ARG");
  t.is(((await t.throwsAsync(model.sample(-1, { seed: 1 }))) as { code?: string }).code, "E_ARG");
});
