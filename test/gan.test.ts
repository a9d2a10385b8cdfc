import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { DeepgenError } from "../lib/core/errors.js";
import type { Kernels } from "../lib/kernels/kernels.js";
import { readSafetensors } from "../lib/io/safetensors.js";
import { Gan, topKKeep } from "../lib/models/gan.js";
import { loadSampler } from "../lib/models/registry.js";
import type { Net } from "../lib/nn/conv-nets.js";
import { DcganDiscriminator, DcganGenerator, type DcganSpec } from "../lib/nn/dcgan-nets.js";
import { MinibatchStddev } from "../lib/nn/minibatch-stddev.js";
import { WeightAverage } from "../lib/nn/weight-average.js";
import { code } from "./helpers/errors.js";
import { randomNormal, randomUniform } from "./helpers/numeric.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-gan-"));
const js = getKernels("js");
const native = getKernels("native");
const SPEC: DcganSpec = { height: 8, width: 8, zdim: 3, channels: [4, 3], discChannels: [3, 4], discNorm: true };

/** <net(x), r> in float64, the scalar whose gradients are checked. */
function objective(k: Kernels, net: Net, x: Float32Array, n: number, r: Float32Array): number {
  const y = net.forward(k, x, n);
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]! * r[i]!;
  return s;
}

/**
 * Every parameter gradient of a training-mode forward / backward against central differences
 * (float32 nets, so the tolerance is loose; a kink of ReLU crossed by the step would show as
 * an outlier, hence the small step).
 */
function checkGradients(t: { true: (v: boolean, m?: string) => void }, net: Net, x: Float32Array, n: number, seed: number): void {
  net.setTraining?.(true);
  const r = randomUniform(n * net.outDim, seed + 1);
  objective(js, net, x, n, r);
  net.backward(js, r, n, false);
  const grads = Object.fromEntries(Object.entries(net.grads()).map(([k, g]) => [k, g.slice()]));
  const eps = 5e-4;
  let checked = 0;
  let worst = 0;
  for (const [name, p] of Object.entries(net.params())) {
    const g = grads[name]!;
    const pick = randomUniform(3, seed + name.length, 0, 1);
    for (const u of pick) {
      const i = Math.floor(u * p.length);
      const old = p[i]!;
      p[i] = old + eps;
      const up = objective(js, net, x, n, r);
      p[i] = old - eps;
      const down = objective(js, net, x, n, r);
      p[i] = old;
      const fd = (up - down) / (2 * eps);
      const err = Math.abs(fd - g[i]!) / (2e-3 + 2e-2 * Math.max(Math.abs(fd), Math.abs(g[i]!)));
      worst = Math.max(worst, err);
      checked++;
    }
  }
  t.true(worst <= 1, `worst gradient error ${worst.toFixed(3)} of the tolerance over ${checked} parameters`);
}

test("dcgan nets: parameter gradients of the generator and the discriminator match finite differences (batch norm in training mode)", (t) => {
  const n = 3;
  const gen = new DcganGenerator("gen", SPEC, { seed: 1, stream: 10 });
  checkGradients(t, gen, randomNormal(n * SPEC.zdim, 2), n, 3);
  const disc = new DcganDiscriminator("disc", SPEC, { seed: 1, stream: 20 });
  checkGradients(t, disc, randomUniform(n * 64, 4), n, 5);
  const withStddev = new DcganDiscriminator("disc", { ...SPEC, discStddev: true }, { seed: 1, stream: 20 });
  checkGradients(t, withStddev, randomUniform(n * 64, 4), n, 5);
});

for (const discStddev of [false, true])
  test(`dcgan nets: the input gradient of the discriminator matches finite differences${discStddev ? " (with minibatch stddev)" : ""}`, (t) => {
    const n = 2;
    const disc = new DcganDiscriminator("disc", { ...SPEC, discStddev }, { seed: 3, stream: 20 });
    disc.setTraining(true);
    const x = randomUniform(n * 64, 6);
    const r = randomUniform(n, 7);
    objective(js, disc, x, n, r);
    const dx = disc.backward(js, r, n, true)!.slice();
    let worst = 0;
    for (const i of [0, 9, 27, 63, 64, 100, 127]) {
      const old = x[i]!;
      x[i] = old + 5e-4;
      const up = objective(js, disc, x, n, r);
      x[i] = old - 5e-4;
      const down = objective(js, disc, x, n, r);
      x[i] = old;
      const fd = (up - down) / 1e-3;
      worst = Math.max(worst, Math.abs(fd - dx[i]!) / (2e-3 + 2e-2 * Math.abs(fd)));
    }
    t.true(worst <= 1, `worst dx error ${worst.toFixed(3)} of the tolerance`);
  });

test("MinibatchStddev: exact values on a 2 x 2 batch; the feature is what D's logit sees", (t) => {
  const layer = new MinibatchStddev(2);
  // columns (0, 2) and (2, 6): means 1 and 4, standard deviations 1 and 2, s = 1.5
  const y = layer.forward(Float32Array.from([0, 2, 2, 6]), 2);
  t.deepEqual(Array.from(y), [0, 2, 1.5, 2, 6, 1.5]);
  // d/dx of s: (x - mean) / (n F std): (-1 / 4, -2 / 8; 1 / 4, 2 / 8) for ds = 1 + 1
  const dx = layer.backward(Float32Array.from([0, 2, 2, 6]), Float32Array.from([0, 0, 1, 0, 0, 1]), 2);
  t.deepEqual(
    Array.from(dx).map((v) => Math.round(v * 1e6) / 1e6),
    [-0.5, -0.5, 0.5, 0.5],
  );
  t.throws(() => layer.forward(new Float32Array(3), 2), { instanceOf: DeepgenError, code: "E_SHAPE" });
  const disc = new DcganDiscriminator("disc", { ...SPEC, discStddev: true }, { seed: 1, stream: 20 });
  t.deepEqual(disc.shapes()["disc.3.w"], [1, 4 * 2 * 2 + 1], "the logit's weights cover the stddev feature");
});

test("dcgan nets: native and JS forward / backward agree (training and evaluation mode)", (t) => {
  const n = 5;
  for (const training of [true, false]) {
    const a = new DcganGenerator("gen", SPEC, { seed: 4, stream: 10 });
    const b = new DcganGenerator("gen", SPEC, { seed: 4, stream: 10 });
    a.setTraining(training);
    b.setTraining(training);
    const z = randomNormal(n * SPEC.zdim, 8);
    const ya = a.forward(js, z, n).slice();
    const yb = b.forward(native, z, n).slice();
    let d = 0;
    for (let i = 0; i < ya.length; i++) d = Math.max(d, Math.abs(ya[i]! - yb[i]!));
    t.true(d < 1e-5, `generator forward (training ${training}) differs by ${d}`);
    if (!training) continue;
    const r = randomUniform(ya.length, 9);
    a.backward(js, r, n, false);
    b.backward(native, r, n, false);
    const ga = a.grads();
    const gb = b.grads();
    for (const name of Object.keys(ga)) {
      let e = 0;
      let m = 0;
      for (let i = 0; i < ga[name]!.length; i++) {
        e = Math.max(e, Math.abs(ga[name]![i]! - gb[name]![i]!));
        m = Math.max(m, Math.abs(ga[name]![i]!));
      }
      t.true(e <= 1e-4 * Math.max(1, m), `${name}: native vs JS gradient differs by ${e} (max ${m})`);
    }
  }
});

test("gan: an MLP GAN learns a 1-D Gaussian (mean and spread of its samples move to the data's)", async (t) => {
  const n = 2048;
  const x = randomNormal(n, 11, 0.5).map((v) => v + 1.5);
  const gan = Gan.create({ arch: "mlp", dim: 1, zdim: 2, output: "identity", hidden: [32], discHidden: [32], initSeed: 1 });
  const stats = (s: Float32Array): { mean: number; std: number } => {
    const mean = s.reduce((a, b) => a + b, 0) / s.length;
    return { mean, std: Math.sqrt(s.reduce((a, b) => a + (b - mean) ** 2, 0) / s.length) };
  };
  const before = stats(gan.generateSamples(4000, { seed: 2 }));
  const r = await gan.fit(x, { epochs: 30, batchSize: 64, lr: 1e-3, seed: 3 });
  const after = stats(gan.generateSamples(4000, { seed: 2 }));
  t.is(r.history.length, 30);
  t.true(Math.abs(before.mean - 1.5) > 0.8, `untrained mean ${before.mean}`);
  t.true(Math.abs(after.mean - 1.5) < 0.25, `trained mean ${after.mean} (data 1.5)`);
  t.true(after.std > 0.2 && after.std < 0.9, `trained std ${after.std} (data 0.5)`);
  t.true(r.history.every((h) => Number.isFinite(h.terms.discriminatorLoss) && h.terms.dReal > 0 && h.terms.dReal < 1));
});

test("gan: samples do not depend on the batch they are drawn in (up to float rounding); seeds differ", (t) => {
  const gan = Gan.create({ arch: "dcgan", dim: 64, height: 8, width: 8, zdim: 3, channels: [4, 3], discChannels: [3, 4] });
  const a = gan.sampleSync(3, { seed: 5 }).x;
  t.deepEqual(Array.from(a), Array.from(gan.sampleSync(3, { seed: 5 }).x), "same seed and n: bit for bit");
  const b = gan.sampleSync(7, { seed: 5 }).x;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  t.true(d <= 1e-6, `the first 3 of 7 samples differ from 3 samples by ${d}`);
  const c = gan.sampleSync(3, { seed: 6 }).x;
  t.notDeepEqual(Array.from(a), Array.from(c));
  t.true(
    a.every((v) => v >= 0 && v <= 1),
    "images in [0, 1]",
  );
});

test("gan: save / load keeps parameters and batch-norm statistics; resume continues exactly", async (t) => {
  const x = randomUniform(40 * 64, 12);
  const opts = { epochs: 2, batchSize: 8, seed: 7, lr: 1e-3 };
  const mk = (): Gan =>
    Gan.create({
      arch: "dcgan",
      dim: 64,
      height: 8,
      width: 8,
      zdim: 3,
      channels: [4, 3],
      discChannels: [3, 4],
      discNorm: true,
      initSeed: 2,
    });
  const straight = mk();
  await straight.fit(x, opts);
  const ckpt = join(dir, "gan.ckpt.safetensors");
  const first = mk();
  await first.fit(x, { ...opts, epochs: 1, checkpointPath: ckpt });
  const resumed = mk();
  const r = await resumed.fit(x, { ...opts, resumeFrom: ckpt });
  t.is(r.history.length, 2);
  const pa = straight.generator.params();
  const pb = resumed.generator.params();
  for (const name of Object.keys(pa)) t.deepEqual(Array.from(pb[name]!), Array.from(pa[name]!), name);
  t.deepEqual(resumed.generateSamples(4, { seed: 1 }), straight.generateSamples(4, { seed: 1 }));

  const file = join(dir, "gan.safetensors");
  await straight.save(file);
  const loaded = await loadSampler(file);
  t.true(loaded instanceof Gan);
  t.deepEqual((loaded as Gan).generateSamples(4, { seed: 1 }), straight.generateSamples(4, { seed: 1 }));
  const rm = straight.generator.buffers!()["gen.1.running_mean"]!.data;
  t.true(
    rm.some((v) => v !== 0),
    "running statistics were updated by training",
  );
  t.deepEqual(Array.from((loaded as Gan).generator.buffers!()["gen.1.running_mean"]!.data), Array.from(rm));
});

test("gan with discNorm: the discriminator normalizes the real batch by its own statistics, not a mixed real + generated batch", async (t) => {
  // one step (8 images, batch 8): the reported mean D(x) is taken before any update, so it must
  // equal D(x) of the initial discriminator run on the real batch alone in training mode
  const x = randomUniform(8 * 64, 21).map((v) => 2 * v - 1);
  const mk = (): Gan =>
    Gan.create({
      arch: "dcgan",
      dim: 64,
      height: 8,
      width: 8,
      zdim: 3,
      channels: [4, 3],
      discChannels: [3, 4],
      discNorm: true,
      initSeed: 5,
    });
  const reference = mk();
  reference.discriminator.setTraining!(true);
  const logits = reference.discriminator.forward(native, x, 8);
  let expected = 0;
  for (const l of logits) expected += 1 / (1 + Math.exp(-l)) / 8;
  const r = await mk().fit(x, { epochs: 1, batchSize: 8, seed: 3 });
  t.true(Math.abs(r.history[0]!.terms.dReal - expected) < 1e-5, `${r.history[0]!.terms.dReal} vs ${expected}`);
});

test("gan: bad configurations and inputs are DeepgenErrors", async (t) => {
  t.is(
    code(t, () => Gan.create({ arch: "conv" as never, dim: 4 })),
    "E_ARG",
  );
  t.is(
    code(t, () => Gan.create({ arch: "dcgan", dim: 64 })),
    "E_ARG",
  ); // no height / width
  t.is(
    code(t, () => Gan.create({ arch: "dcgan", dim: 36, height: 6, width: 6 })),
    "E_ARG",
  ); // not multiples of 4
  t.is(
    code(t, () => Gan.create({ arch: "mlp", dim: 4, hidden: [] })),
    "E_ARG",
  );
  const gan = Gan.create({ arch: "mlp", dim: 4, hidden: [8], discHidden: [8] });
  t.is(
    code(t, () => gan.generate(new Float32Array(5))),
    "E_SHAPE",
  );
  await t.throwsAsync(gan.fit(new Float32Array(40), { batchSize: 1 }), { instanceOf: DeepgenError, code: "E_ARG" });
  await t.throwsAsync(gan.fit(new Float32Array(40), { loss: "wasserstein" as never }), { instanceOf: DeepgenError, code: "E_ARG" });
  await t.throwsAsync(gan.fit(new Float32Array(40), { lrDecay: 0 }), { instanceOf: DeepgenError, code: "E_ARG" });
  for (const topK of [0, 1.5, Number.NaN])
    await t.throwsAsync(gan.fit(new Float32Array(40), { topK }), { instanceOf: DeepgenError, code: "E_ARG" });
});

test("gan: a decaying learning rate is a function of the step: a run stopped after epoch 1 and resumed ends as the straight run", async (t) => {
  const x = randomUniform(32 * 64, 17);
  const mk = (): Gan =>
    Gan.create({ arch: "dcgan", dim: 64, height: 8, width: 8, zdim: 3, channels: [4, 3], discChannels: [3, 4], initSeed: 6 });
  const opts = { epochs: 2, batchSize: 8, seed: 5, lr: 2e-3, lrDecay: 0.1 };
  const straight = mk();
  await straight.fit(x, opts);
  const constant = mk();
  await constant.fit(x, { ...opts, lrDecay: 1 });
  t.notDeepEqual(straight.generateSamples(2, { seed: 1 }), constant.generateSamples(2, { seed: 1 }), "the decay changes training");
  const ckpt = join(dir, "decay.ckpt.safetensors");
  const stop = new AbortController();
  await mk()
    .fit(x, { ...opts, checkpointPath: ckpt, signal: stop.signal, onEpoch: () => stop.abort() })
    .catch(() => undefined);
  t.is(JSON.parse((await readSafetensors(ckpt)).metadata["deepgen.checkpoint"]!).state.epoch, 1, "stopped after epoch 1");
  const resumed = mk();
  await resumed.fit(x, { ...opts, resumeFrom: ckpt });
  t.deepEqual(resumed.generateSamples(2, { seed: 1 }), straight.generateSamples(2, { seed: 1 }));
});

test("gan: the generator's moving average (ema) is what fit leaves and the epoch hooks see; resume with it is exact", async (t) => {
  const x = randomUniform(32 * 64, 13);
  const mk = (): Gan =>
    Gan.create({ arch: "dcgan", dim: 64, height: 8, width: 8, zdim: 3, channels: [4, 3], discChannels: [3, 4], initSeed: 4 });
  const opts = { epochs: 2, batchSize: 8, seed: 3, lr: 2e-3 };
  const plain = mk();
  await plain.fit(x, opts);
  const seen: Float32Array[] = [];
  const averaged = mk();
  await averaged.fit(x, { ...opts, ema: 0.5, onEpoch: () => void seen.push(averaged.generateSamples(2, { seed: 1 })) });
  const last = averaged.generateSamples(2, { seed: 1 });
  t.notDeepEqual(last, plain.generateSamples(2, { seed: 1 }), "the averaged generator differs from the last iterate");
  t.deepEqual(seen[1], last, "the hook of the last epoch saw the generator that fit leaves");
  const ckpt = join(dir, "ema.ckpt.safetensors");
  const first = mk();
  await first.fit(x, { ...opts, ema: 0.5, epochs: 1, checkpointPath: ckpt });
  const resumed = mk();
  await resumed.fit(x, { ...opts, ema: 0.5, resumeFrom: ckpt });
  t.deepEqual(resumed.generateSamples(2, { seed: 1 }), last);
  await t.throwsAsync(mk().fit(x, { ...opts, ema: 1 }), { instanceOf: DeepgenError, code: "E_ARG" });
});

test("WeightAverage: avg = d avg + (1 - d) p, and swap exchanges in place", (t) => {
  const p = { a: Float32Array.from([1, 2]) };
  const avg = new WeightAverage(p, 0.75);
  p.a.set([5, 6]);
  avg.update();
  t.deepEqual(Array.from(avg.averages.a!), [2, 3]);
  avg.swap();
  t.deepEqual(Array.from(p.a), [2, 3]);
  t.deepEqual(Array.from(avg.averages.a!), [5, 6]);
  t.throws(() => new WeightAverage(p, 1), { instanceOf: DeepgenError, code: "E_ARG" });
});

test("WeightAverage with warm-up: update t uses min(d, (1 + t) / (10 + t))", (t) => {
  const p = { a: Float32Array.from([0]) };
  const avg = new WeightAverage(p, 0.5, { warmup: true });
  p.a[0] = 10;
  avg.update(); // t = 0: decay 0.1
  t.true(Math.abs(avg.averages.a![0]! - 9) < 1e-6);
  const expected = [2 / 11, 3 / 12, 4 / 13, 5 / 14, 6 / 15, 7 / 16, 8 / 17, 0.5, 0.5];
  for (const d of expected) {
    t.true(Math.abs(avg.currentDecay() - d) < 1e-12, `${avg.updates}: ${avg.currentDecay()} vs ${d}`);
    avg.update();
  }
  t.is(avg.updates, 10);
});

test("gan: the generator's loss gradient (nonsaturating and minimax) matches finite differences, and one step on it raises D(G(z))", (t) => {
  for (const loss of ["nonsaturating", "minimax"] as const) {
    const gan = Gan.create({ arch: "mlp", dim: 6, zdim: 2, output: "identity", hidden: [5], discHidden: [7], initSeed: 9 });
    const m = 4;
    const x = randomNormal(m * 6, 21);
    const { loss: l0, dfake } = gan.generatorLossGradient(native, x, m, loss);
    const g = dfake.slice();
    let worst = 0;
    for (let i = 0; i < x.length; i += 3) {
      const old = x[i]!;
      x[i] = old + 1e-3;
      const up = gan.generatorLossGradient(native, x, m, loss).loss;
      x[i] = old - 1e-3;
      const down = gan.generatorLossGradient(native, x, m, loss).loss;
      x[i] = old;
      const fd = (up - down) / 2e-3;
      worst = Math.max(worst, Math.abs(fd - g[i]!) / (1e-3 + 1e-2 * Math.abs(fd)));
    }
    t.true(worst <= 1, `${loss}: worst gradient error ${worst.toFixed(3)} of the tolerance`);
    // a small step against the gradient lowers the loss, i.e. makes D rate the samples more real
    const dMean = (y: Float32Array): number => gan.discriminate(y).reduce((a, b) => a + b, 0) / m;
    const before = dMean(x);
    const stepped = x.map((v, i) => v - 0.05 * g[i]!);
    t.true(gan.generatorLossGradient(native, stepped, m, loss).loss < l0, `${loss}: the loss falls`);
    t.true(dMean(stepped) > before, `${loss}: mean D(G(z)) rises from ${before}`);
  }
});

test("gan: the top-k schedule keeps the whole batch, then 1% fewer per epoch, down to the fraction", (t) => {
  t.is(topKKeep(64, 0.5, 0), 64);
  t.is(topKKeep(64, 0.5, 1), 64); // ceil(63.36)
  t.is(topKKeep(64, 0.5, 2), 63); // ceil(62.73)
  t.is(topKKeep(64, 0.5, 30), 48); // ceil(64 * 0.7397)
  t.is(topKKeep(64, 0.5, 69), 32); // 0.99^69 = 0.4998: the floor
  t.is(topKKeep(64, 0.5, 500), 32);
  t.is(topKKeep(64, 1, 500), 64); // topK 1: off
  t.is(topKKeep(7, 0.5, 500), 4); // ceil(3.5)
});

test("gan: top-k generator loss keeps the k examples D rates most real: their mean loss, zero gradient elsewhere", (t) => {
  const gan = Gan.create({ arch: "mlp", dim: 6, zdim: 2, output: "identity", hidden: [5], discHidden: [7], initSeed: 9 });
  const m = 6;
  const keep = 3;
  const x = randomNormal(m * 6, 23);
  const logits = gan.discriminate(x).map((p) => Math.log(p / (1 - p)));
  const kept = [...logits.keys()].sort((a, b) => logits[b]! - logits[a]!).slice(0, keep);
  for (const loss of ["nonsaturating", "minimax"] as const) {
    const { loss: l, dfake } = gan.generatorLossGradient(native, x, m, loss, undefined, keep);
    // nonsaturating: mean softplus(-logit) over the kept; minimax: -mean softplus(logit)
    const expected =
      kept.reduce((s, i) => s + (loss === "nonsaturating" ? Math.log1p(Math.exp(-logits[i]!)) : -Math.log1p(Math.exp(logits[i]!))), 0) /
      keep;
    t.true(Math.abs(l - expected) < 1e-5, `${loss}: ${l} vs ${expected}`);
    const g = dfake.slice();
    for (let i = 0; i < m; i++) {
      const row = g.subarray(i * 6, (i + 1) * 6);
      if (kept.includes(i))
        t.true(
          row.some((v) => v !== 0),
          `${loss}: kept row ${i} has a gradient`,
        );
      else t.deepEqual([...row], [0, 0, 0, 0, 0, 0], `${loss}: row ${i} is not kept`);
    }
    // the kept rows' gradient is the finite difference of the top-k loss
    const i = kept[0]! * 6 + 1;
    const old = x[i]!;
    x[i] = old + 1e-3;
    const up = gan.generatorLossGradient(native, x, m, loss, undefined, keep).loss;
    x[i] = old - 1e-3;
    const down = gan.generatorLossGradient(native, x, m, loss, undefined, keep).loss;
    x[i] = old;
    t.true(Math.abs((up - down) / 2e-3 - g[i]!) < 1e-3 + 1e-2 * Math.abs(g[i]!), `${loss}: finite difference`);
  }
  t.is(
    code(t, () => gan.generatorLossGradient(native, x, m, "nonsaturating", undefined, 0)),
    "E_ARG",
  );
  t.is(
    code(t, () => gan.generatorLossGradient(native, x, m, "nonsaturating", undefined, m + 1)),
    "E_ARG",
  );
});

test("gan: corrupt checkpoints and out-of-range interpolation ends are DeepgenErrors", async (t) => {
  const gan = Gan.create({ arch: "mlp", dim: 4, hidden: [3], discHidden: [3] });
  t.is(
    code(t, () => gan.interpolateLatent({ seed: 0, from: -1, to: 2, steps: 3 })),
    "E_ARG",
  );
  t.is(
    code(t, () => gan.interpolateLatent({ seed: 0, from: 0, to: 1.5, steps: 3 })),
    "E_ARG",
  );
  const file = join(dir, "corrupt.ckpt.safetensors");
  await gan.save(file, { "deepgen.checkpoint": JSON.stringify({ state: { epoch: 1 }, step: 3, adamSteps: {} }) });
  await t.throwsAsync(gan.fit(new Float32Array(16), { resumeFrom: file, batchSize: 2 }), { instanceOf: DeepgenError, code: "E_FORMAT" });
  await gan.save(file, { "deepgen.checkpoint": "{not json" });
  await t.throwsAsync(gan.fit(new Float32Array(16), { resumeFrom: file, batchSize: 2 }), { instanceOf: DeepgenError, code: "E_FORMAT" });
  await t.throwsAsync(gan.fit(new Float32Array(16), { ema: Number.NaN }), { instanceOf: DeepgenError, code: "E_ARG" });
});
