import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import type { DeepgenError } from "../lib/core/errors.js";
import { scatterPlot, TAB10 } from "../lib/io/scatter.js";
import { Aae } from "../lib/models/aae.js";
import { gridCodes, interpolateCodes } from "../lib/models/latent.js";
import { MOG10_RADIUS, samplePrior } from "../lib/models/priors.js";
import { loadModel, loadSampler } from "../lib/models/registry.js";
import { code } from "./helpers/errors.js";
import { randomUniform } from "./helpers/numeric.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-aae-"));

function toyData(n: number, d: number, seed: number): Float32Array {
  const u = randomUniform(n * (d + 1), seed, 0, 1);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const proto = Math.floor(u[i * (d + 1)]! * 4);
    for (let j = 0; j < d; j++) {
      const bit = (j * 7 + proto * 3) % 4 < 2 !== (proto >= 2 && j < d / 2) ? 1 : 0;
      x[i * d + j] = u[i * (d + 1) + 1 + j]! < 0.1 ? 1 - bit : bit;
    }
  }
  return x;
}

test("priors: moments and supports of the four priors; reproducible; 2-D priors refuse other sizes", (t) => {
  const n = 20000;
  const g = samplePrior("gaussian", n, 3, 1, 0);
  let m = 0;
  let v = 0;
  for (const z of g) m += z;
  m /= g.length;
  for (const z of g) v += (z - m) ** 2;
  v /= g.length;
  t.true(Math.abs(m) < 0.02 && Math.abs(v - 1) < 0.03, `gaussian mean ${m} var ${v}`);
  const u = samplePrior("uniform", n, 4, 1, 0);
  t.true(u.every((z) => z >= -2 && z <= 2));
  t.true(Math.abs(u.reduce((a, b) => a + b * b, 0) / u.length - 4 / 3) < 0.03, "E z^2 = 4/3 on [-2, 2]");
  // mog10: every draw near one of the 10 centres on the circle; all 10 components used about equally
  const mog = samplePrior("mog10", n, 2, 1, 0);
  const counts = new Array<number>(10).fill(0);
  let r2 = 0;
  for (let i = 0; i < n; i++) {
    const [x, y] = [mog[2 * i]!, mog[2 * i + 1]!];
    const c = ((Math.round((Math.atan2(y, x) / (2 * Math.PI)) * 10) % 10) + 10) % 10;
    counts[c]!++;
    r2 += x * x + y * y;
  }
  t.true(
    counts.every((c) => Math.abs(c - n / 10) < 0.1 * (n / 10)),
    `component counts ${counts}`,
  );
  t.true(Math.abs(r2 / n - (MOG10_RADIUS ** 2 + 2 * 0.25)) < 0.3, `E |z|^2 ${r2 / n}`);
  const roll = samplePrior("swissroll", n, 2, 1, 0);
  let maxR = 0;
  for (let i = 0; i < n; i++) maxR = Math.max(maxR, Math.hypot(roll[2 * i]!, roll[2 * i + 1]!));
  t.true(maxR > 3.5 && maxR < 4.6, `swiss roll radius ${maxR}`);
  t.deepEqual(samplePrior("mog10", 10, 2, 7, 3), samplePrior("mog10", 10, 2, 7, 3));
  t.notDeepEqual(samplePrior("mog10", 10, 2, 7, 3), samplePrior("mog10", 10, 2, 7, 4));
  t.is(
    code(t, () => samplePrior("mog10", 4, 3, 0, 0)),
    "E_ARG",
  );
  t.is(
    code(t, () => samplePrior("swissroll", 4, 8, 0, 0)),
    "E_ARG",
  );
});

test("latent helpers: interpolation endpoints and the code grid", (t) => {
  const z = interpolateCodes(Float32Array.from([0, 1, 4, -1]), 2, 5);
  t.deepEqual(Array.from(z), [0, 1, 1, 0.5, 2, 0, 3, -0.5, 4, -1]);
  const grid = gridCodes(3, 2);
  t.deepEqual(Array.from(grid.subarray(0, 6)), [-2, 2, 0, 2, 2, 2]);
  t.deepEqual(Array.from(grid.subarray(12, 18)), [-2, -2, 0, -2, 2, -2]);
});

test("scatterPlot: draws each group's colour, refuses empty or odd input", (t) => {
  const r = scatterPlot(
    [
      { name: "a", points: [0, 0, 1, 1] },
      { name: "b", points: [0.5, 0.5] },
    ],
    { width: 200, height: 150 },
  );
  t.is(r.width, 200);
  t.is(r.height, 150);
  t.is(r.channels, 3);
  const has = (c: [number, number, number]): boolean => {
    for (let i = 0; i < r.data.length; i += 3) if (r.data[i] === c[0] && r.data[i + 1] === c[1] && r.data[i + 2] === c[2]) return true;
    return false;
  };
  t.true(has(TAB10[0]!) && has(TAB10[1]!));
  t.is(
    code(t, () => scatterPlot([{ name: "a", points: [NaN, 1] }])),
    "E_ARG",
  );
  t.is(
    code(t, () => scatterPlot([{ name: "a", points: [1, 2, 3] }])),
    "E_SHAPE",
  );
});

test("AAE: training lowers the reconstruction error; codes move toward the prior; save/load round trip", async (t) => {
  const x = toyData(400, 16, 1);
  const held = toyData(100, 16, 2);
  const model = Aae.create({ dim: 16, latent: 2, hidden: [24], discHidden: [16], prior: "mog10", initSeed: 3 });
  const recBefore = model.reconstructionError(held);
  const meanRadius = (): number => {
    const c = model.encode(held);
    let s = 0;
    for (let i = 0; i < 100; i++) s += Math.hypot(c[2 * i]!, c[2 * i + 1]!) / 100;
    return s;
  };
  const radiusBefore = meanRadius();
  const epochs: number[] = [];
  const r = await model.fit(x, { epochs: 20, batchSize: 40, seed: 1, onEpoch: (e) => void epochs.push(e.epoch) });
  t.is(epochs.length, 20);
  t.is(r.history.length, 20);
  const last = r.history[19]!;
  t.true(last.terms.discriminatorAccuracy >= 0 && last.terms.discriminatorAccuracy <= 1);
  t.true(last.terms.discriminatorLoss > 0 && last.terms.generatorLoss > 0);
  t.true(Math.abs(last.train - last.terms.reconstruction) < 1e-9);
  const recAfter = model.reconstructionError(held);
  t.true(recAfter < recBefore - 2, `reconstruction ${recBefore} -> ${recAfter}`);
  // the prior is a ring of radius 4: the adversarial phases pull the codes' mean radius near it
  const meanR = meanRadius();
  t.log(
    `reconstruction ${recBefore.toFixed(2)} -> ${recAfter.toFixed(2)}, mean code radius ${radiusBefore.toFixed(2)} -> ${meanR.toFixed(2)} (prior: about ${MOG10_RADIUS}), D accuracy ${model.discriminatorAccuracy(held).toFixed(3)}`,
  );
  t.true(Math.abs(meanR - MOG10_RADIUS) < Math.abs(radiusBefore - MOG10_RADIUS) - 0.5, `mean code radius ${radiusBefore} -> ${meanR}`);
  const acc = model.discriminatorAccuracy(held);
  t.true(acc >= 0 && acc <= 1);
  const path = join(dir, "aae.safetensors");
  await model.save(path);
  const loaded = await Aae.load(path);
  t.deepEqual(loaded.config, model.config);
  t.deepEqual(loaded.encode(held), model.encode(held));
  t.is(loaded.discriminatorAccuracy(held), acc);
  t.deepEqual(loaded.sampleSync(5, { seed: 2 }).x, model.sampleSync(5, { seed: 2 }).x);
  t.is((await loadSampler(path)).kind, "aae");
  const e = await t.throwsAsync(loadModel(path));
  t.is((e as DeepgenError).code, "E_ARG");
});

test("AAE: native and JS training steps agree", async (t) => {
  const x = toyData(60, 12, 4);
  const run = async (backend: "native" | "js"): Promise<number[]> => {
    const m = Aae.create({ dim: 12, latent: 2, hidden: [9], discHidden: [7], prior: "swissroll", initSeed: 1, backend });
    const r = await m.fit(x, { epochs: 2, batchSize: 20, seed: 3, validation: 0.2 });
    return r.history.flatMap((h) => [h.terms.reconstruction, h.terms.discriminatorLoss, h.terms.generatorLoss]);
  };
  const a = await run("native");
  const b = await run("js");
  for (let i = 0; i < a.length; i++) t.true(Math.abs(a[i]! - b[i]!) < 1e-3 * Math.max(1, Math.abs(b[i]!)), `${i}: ${a[i]} vs ${b[i]}`);
});

test("AAE: a run checkpointed after 2 epochs and resumed equals the uninterrupted run", async (t) => {
  const x = toyData(120, 12, 9);
  const make = (seed: number): Aae => Aae.create({ dim: 12, latent: 2, hidden: [8], discHidden: [6], prior: "mog10", initSeed: seed });
  const opts = { epochs: 4, batchSize: 30, seed: 2 };
  const straight = make(1);
  const r1 = await straight.fit(x, opts);
  const ckpt = join(dir, "aae.ckpt.safetensors");
  await make(1).fit(x, { ...opts, epochs: 2, checkpointPath: ckpt });
  const resumed = make(77);
  const r2 = await resumed.fit(x, { ...opts, resumeFrom: ckpt });
  t.deepEqual(resumed.encode(x), straight.encode(x));
  t.deepEqual(resumed.discriminator.params(), straight.discriminator.params());
  t.deepEqual(
    r2.history.map((h) => h.terms),
    r1.history.map((h) => h.terms),
  );
  const e = await t.throwsAsync(
    Aae.create({ dim: 12, latent: 2, hidden: [8], discHidden: [6], prior: "uniform" }).fit(x, { ...opts, resumeFrom: ckpt }),
  );
  t.is((e as DeepgenError).code, "E_FORMAT");
});

test("AAE: bad inputs and abort", async (t) => {
  t.is(
    code(t, () => Aae.create({ dim: 16, latent: 3, prior: "mog10" })),
    "E_ARG",
  );
  t.is(
    code(t, () => Aae.create({ dim: 16, prior: "ring" as never })),
    "E_ARG",
  );
  const m = Aae.create({ dim: 16, latent: 3, hidden: [8], discHidden: [8] });
  t.is(
    code(t, () => m.encode(new Float32Array(15))),
    "E_SHAPE",
  );
  t.is(
    code(t, () => m.latentMap(4)),
    "E_ARG",
  );
  t.is(
    code(t, () => m.discriminatorAccuracy(new Float32Array(0))),
    "E_SHAPE",
  );
  const e1 = await t.throwsAsync(m.fit(toyData(50, 16, 1), { epochs: 1, adversarialLr: 0 }));
  t.is((e1 as DeepgenError).code, "E_ARG");
  const ac = new AbortController();
  const e2 = await t.throwsAsync(
    m.fit(toyData(100, 16, 1), { epochs: 3, batchSize: 10, signal: ac.signal, onBatch: (p) => (p.batch === 2 ? ac.abort() : undefined) }),
  );
  t.is((e2 as DeepgenError).code, "E_ABORTED");
});

test("conv AAE: training lowers the reconstruction error and pulls codes to the prior; native matches JS; save/load keeps it", async (t) => {
  const x = toyData(300, 64, 11);
  const held = toyData(60, 64, 12);
  const make = (backend?: "native" | "js"): Aae =>
    Aae.create({
      dim: 64,
      latent: 2,
      arch: "conv",
      channels: [3, 4],
      height: 8,
      width: 8,
      discHidden: [16],
      prior: "mog10",
      initSeed: 5,
      backend,
    });
  const model = make();
  t.is(model.config.arch, "conv");
  t.deepEqual(model.config.channels, [3, 4]);
  const recBefore = model.reconstructionError(held);
  const radius = (): number => {
    const c = model.encode(held);
    let s = 0;
    for (let i = 0; i < 60; i++) s += Math.hypot(c[2 * i]!, c[2 * i + 1]!) / 60;
    return s;
  };
  const rBefore = radius();
  await model.fit(x, { epochs: 12, batchSize: 30, seed: 2, lr: 3e-3 });
  const recAfter = model.reconstructionError(held);
  const rAfter = radius();
  t.log(
    `conv AAE: reconstruction ${recBefore.toFixed(2)} -> ${recAfter.toFixed(2)}, mean code radius ${rBefore.toFixed(2)} -> ${rAfter.toFixed(2)}`,
  );
  t.true(recAfter < recBefore - 2, `reconstruction ${recBefore} -> ${recAfter}`);
  t.true(Math.abs(rAfter - MOG10_RADIUS) < Math.abs(rBefore - MOG10_RADIUS) - 0.5, `radius ${rBefore} -> ${rAfter}`);
  // one epoch on each backend: the same terms up to float rounding
  const terms = async (backend: "native" | "js"): Promise<number[]> =>
    (await make(backend).fit(x.subarray(0, 60 * 64), { epochs: 1, batchSize: 20, seed: 3, validation: 0.2 })).history.flatMap((h) => [
      h.terms.reconstruction,
      h.terms.discriminatorLoss,
      h.terms.generatorLoss,
    ]);
  const a = await terms("native");
  const b = await terms("js");
  for (let i = 0; i < a.length; i++) t.true(Math.abs(a[i]! - b[i]!) < 1e-3 * Math.max(1, Math.abs(b[i]!)), `${i}: ${a[i]} vs ${b[i]}`);
  const path = join(dir, "conv-aae.safetensors");
  await model.save(path);
  const loaded = await Aae.load(path);
  t.deepEqual(loaded.config, model.config);
  t.deepEqual(loaded.encode(held), model.encode(held));
  t.deepEqual(loaded.reconstruct(held.subarray(0, 64)), model.reconstruct(held.subarray(0, 64)));
  t.is(
    code(t, () => Aae.create({ dim: 64, arch: "conv" })),
    "E_ARG",
  );
  t.is(
    code(t, () => Aae.create({ dim: 36, arch: "conv", height: 6, width: 6 })),
    "E_ARG",
  );
});

test("AAE regularizers: input dropout, weight decay, LR decay and extra discriminator steps train, change the run, resume exactly, refuse bad values", async (t) => {
  const x = toyData(160, 12, 21);
  const make = (): Aae => Aae.create({ dim: 12, latent: 2, hidden: [10], discHidden: [6], prior: "mog10", initSeed: 4 });
  const reg = {
    epochs: 6,
    batchSize: 20,
    seed: 2,
    lr: 0.01,
    inputDropout: 0.2,
    weightDecay: 1e-3,
    lrDecay: 0.1,
    discSteps: 2,
    select: "validation" as const,
  };
  const plain = make();
  await plain.fit(x, { ...reg, inputDropout: 0, weightDecay: 0, lrDecay: 1, discSteps: 1, select: "last" });
  const straight = make();
  const before = straight.reconstructionError(x);
  const r1 = await straight.fit(x, reg);
  const after = straight.reconstructionError(x);
  t.true(after < before - 1, `reconstruction ${before} -> ${after}`);
  t.notDeepEqual(straight.encode(x), plain.encode(x));
  const ckpt = join(dir, "aae-reg.ckpt.safetensors");
  // interrupted after epoch 2 of the same 6-epoch plan (the LR schedule depends on the plan)
  const ac = new AbortController();
  await t.throwsAsync(
    make().fit(x, { ...reg, checkpointPath: ckpt, signal: ac.signal, onEpoch: (e) => (e.epoch === 2 ? ac.abort() : undefined) }),
  );
  const resumed = make();
  const r2 = await resumed.fit(x, { ...reg, resumeFrom: ckpt });
  t.deepEqual(resumed.encode(x), straight.encode(x));
  t.deepEqual(
    r2.history.map((h) => h.terms),
    r1.history.map((h) => h.terms),
  );
  t.is(r2.selectedEpoch, r1.selectedEpoch);
  const e = await t.throwsAsync(make().fit(x, { ...reg, select: "last", resumeFrom: ckpt }));
  t.is((e as DeepgenError).code, "E_FORMAT", "a checkpoint of the other select option");
  for (const bad of [
    { inputDropout: 1 },
    { inputDropout: -0.1 },
    { weightDecay: -1 },
    { lrDecay: 0 },
    { lrDecay: 1.5 },
    { discSteps: 0 },
    { select: "best" as never },
  ]) {
    const e = await t.throwsAsync(make().fit(x, { epochs: 1, ...bad }));
    t.is((e as DeepgenError).code, "E_ARG", JSON.stringify(bad));
  }
});

test("AAE refit discriminator: tells codes far from the prior apart, less so after training; seeded; refuses empty sets", async (t) => {
  const x = toyData(400, 16, 31);
  const held = toyData(100, 16, 32);
  const model = Aae.create({ dim: 16, latent: 2, hidden: [24], discHidden: [16], prior: "mog10", initSeed: 3 });
  // untrained: codes near the origin, the prior a ring of radius 4
  const before = model.refitDiscriminatorAccuracy(x, held, { steps: 300 });
  t.true(before > 0.9, `untrained: ${before}`);
  t.is(model.refitDiscriminatorAccuracy(x, held, { steps: 300 }), before, "same seed, same result");
  await model.fit(x, { epochs: 30, batchSize: 40, seed: 1 });
  const after = model.refitDiscriminatorAccuracy(x, held, { steps: 300 });
  t.log(
    `refit discriminator accuracy ${before.toFixed(3)} -> ${after.toFixed(3)} (training discriminator ${model.discriminatorAccuracy(held).toFixed(3)})`,
  );
  t.true(after < before - 0.1, `${before} -> ${after}`);
  t.is(
    code(t, () => model.refitDiscriminatorAccuracy(new Float32Array(0), held)),
    "E_SHAPE",
  );
  t.is(
    code(t, () => model.refitDiscriminatorAccuracy(x, held, { steps: 0 })),
    "E_ARG",
  );
});

test("AAE select validation: keeps the in-band epoch with the lowest validation reconstruction (else the last)", async (t) => {
  const x = toyData(300, 16, 41);
  const model = Aae.create({ dim: 16, latent: 2, hidden: [20], discHidden: [12], prior: "mog10", initSeed: 6 });
  const snapshots: Float32Array[] = [];
  const r = await model.fit(x, {
    epochs: 12,
    batchSize: 30,
    seed: 3,
    lr: 0.005,
    select: "validation",
    onEpoch: () => void snapshots.push(model.encode(x)),
  });
  let expected = r.history.length;
  let bestRec = Infinity;
  for (const h of r.history) {
    const v = h.validationTerms!;
    if (Math.abs(v.discriminatorAccuracy - 0.5) <= 0.05 && v.reconstruction < bestRec) {
      bestRec = v.reconstruction;
      expected = h.epoch;
    }
  }
  t.log(
    `selected epoch ${r.selectedEpoch} of ${r.history.length}; validation D accuracies ${r.history.map((h) => h.validationTerms!.discriminatorAccuracy.toFixed(2)).join(" ")}`,
  );
  t.is(r.selectedEpoch, expected);
  t.deepEqual(model.encode(x), snapshots[expected - 1]);
});
