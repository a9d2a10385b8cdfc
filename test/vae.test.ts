import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { DeepgenError } from "../lib/core/errors.js";
import { Nade } from "../lib/models/nade.js";
import { loadModel } from "../lib/models/registry.js";
import { Vae } from "../lib/models/vae.js";
import { Dense, Mlp } from "../lib/nn/dense.js";
import { maxRelDiff, randomNormal, randomUniform } from "./helpers/numeric.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-vae-"));
const js = getKernels("js");
const native = getKernels("native");

/** Binary vectors from 4 prototypes with 10% of the pixels flipped: a latent structure a VAE can find. */
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

function code(t: { throws: (fn: () => unknown) => unknown }, fn: () => unknown): string | undefined {
  const err = t.throws(fn);
  return err instanceof DeepgenError ? err.code : `not a DeepgenError: ${String(err)}`;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

test("Dense: forward and backward match finite differences (JS, float32 central differences)", (t) => {
  const layer = new Dense(5, 3, "tanh", { seed: 3, stream: 1 });
  const x = randomNormal(2 * 5, 4);
  const up = randomNormal(2 * 3, 5);
  const f = (): number => {
    const y = layer.forward(js, x, 2);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i]! * up[i]!;
    return s;
  };
  const y = layer.forward(js, x, 2);
  const dx = layer.backward(js, x, y, up, 2)!.slice();
  const h = 1e-2;
  for (const [arr, grad] of [
    [layer.w, layer.dw.slice()],
    [layer.b, layer.db.slice()],
    [x, dx],
  ] as const) {
    for (let i = 0; i < arr.length; i++) {
      const keep = arr[i]!;
      arr[i] = keep + h;
      const fp = f();
      arr[i] = keep - h;
      const fm = f();
      arr[i] = keep;
      const num = (fp - fm) / (2 * h);
      t.true(Math.abs(num - grad[i]!) < 2e-3 + 1e-2 * Math.abs(num), `${i}: ${grad[i]} vs ${num}`);
    }
  }
  t.is(
    code(t, () => layer.forward(js, new Float32Array(7), 2)),
    "E_SHAPE",
  );
  t.is(
    code(t, () => new Mlp("m", { sizes: [3], hidden: "relu", output: "identity" }, { seed: 0, stream: 0 })),
    "E_ARG",
  );
});

/** Batch-mean KL of each latent dimension. */
function klPerDim(model: Vae, x: Float32Array): number[] {
  const { mu, logvar, n } = model.encode(x);
  const L = model.latent;
  return Array.from({ length: L }, (_, j) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += 0.5 * (mu[i * L + j]! ** 2 + Math.exp(logvar[i * L + j]!) - 1 - logvar[i * L + j]!);
    return s / n;
  });
}

for (const opts of [
  { beta: 1, freeBits: false },
  { beta: 0.3, freeBits: false },
  { beta: 1, freeBits: true },
]) {
  test(`VAE: the full gradient matches finite differences of the objective with fixed eps (beta ${opts.beta}, free bits ${opts.freeBits})`, (t) => {
    const model = Vae.create({ dim: 6, latent: 2, hidden: [5], activation: "tanh", initSeed: 7 });
    const x = toyData(4, 6, 1);
    // free bits: a floor between the two dimensions' KLs, so one is floored and one is not
    const kls = klPerDim(model, x);
    const floor = opts.freeBits ? (kls[0]! + kls[1]!) / 2 : 0;
    if (opts.freeBits) t.true(Math.abs(kls[0]! - kls[1]!) > 0.1 * floor, `KLs ${kls}`);
    const o = { seed: 11, stream: 3, beta: opts.beta, freeBits: floor };
    model.lossAndGradients(js, x, 4, o);
    const grads = Object.fromEntries(Object.entries(model.grads()).map(([k, v]) => [k, v.slice()]));
    const params = model.params();
    const h = 1e-2;
    let checked = 0;
    let worst = 0;
    for (const [name, p] of Object.entries(params)) {
      for (let i = 0; i < p.length; i++) {
        const keep = p[i]!;
        p[i] = keep + h;
        const fp = model.lossAndGradients(js, x, 4, o).loss;
        p[i] = keep - h;
        const fm = model.lossAndGradients(js, x, 4, o).loss;
        p[i] = keep;
        const num = (fp - fm) / (2 * h);
        const err = Math.abs(num - grads[name]![i]!) / (2e-3 + Math.abs(num));
        worst = Math.max(worst, err);
        t.true(
          Math.abs(num - grads[name]![i]!) < 2e-3 + 2e-2 * Math.abs(num),
          `${name}[${i}]: analytic ${grads[name]![i]} vs numeric ${num}`,
        );
        checked++;
      }
    }
    t.is(checked, model.paramCount());
    t.log(`worst relative error ${worst.toExponential(2)} over ${checked} parameters`);
  });
}

test("conv VAE: the full gradient matches finite differences; native matches JS; save/load keeps it", async (t) => {
  const model = Vae.create({ dim: 64, latent: 2, arch: "conv", channels: [2, 3], activation: "tanh", height: 8, width: 8, initSeed: 4 });
  t.deepEqual(model.config.hidden, []);
  const x = toyData(3, 64, 6);
  const o = { seed: 2, stream: 1, beta: 0.8 };
  model.lossAndGradients(js, x, 3, o);
  const grads = Object.fromEntries(Object.entries(model.grads()).map(([k, v]) => [k, v.slice()]));
  const params = model.params();
  const h = 1e-2;
  let checked = 0;
  for (const [name, p] of Object.entries(params)) {
    // every bias and up to 12 weights per tensor, spread over it
    const idx = p.length <= 12 ? Array.from(p.keys()) : Array.from({ length: 12 }, (_, i) => Math.floor((i * p.length) / 12));
    for (const i of idx) {
      const keep = p[i]!;
      p[i] = keep + h;
      const fp = model.lossAndGradients(js, x, 3, o).loss;
      p[i] = keep - h;
      const fm = model.lossAndGradients(js, x, 3, o).loss;
      p[i] = keep;
      const num = (fp - fm) / (2 * h);
      t.true(
        Math.abs(num - grads[name]![i]!) < 2e-3 + 2e-2 * Math.abs(num),
        `${name}[${i}]: analytic ${grads[name]![i]} vs numeric ${num}`,
      );
      checked++;
    }
  }
  t.true(checked > 60);
  const rn = model.lossAndGradients(native, x, 3, o);
  const gn = Object.fromEntries(Object.entries(model.grads()).map(([k, v]) => [k, v.slice()]));
  const rj = model.lossAndGradients(js, x, 3, o);
  t.true(Math.abs(rn.loss - rj.loss) / Math.abs(rj.loss) < 1e-5);
  for (const [name, g] of Object.entries(model.grads())) t.true(maxRelDiff(gn[name]!, g) < 1e-4, name);
  const r = await model.fit(toyData(200, 64, 8), { epochs: 6, batchSize: 20, lr: 0.01, patience: 100, seed: 1 });
  t.true(r.history[5]!.train < r.history[0]!.train - 1, `${r.history[0]!.train} -> ${r.history[5]!.train}`);
  const path = join(dir, "conv-vae.safetensors");
  await model.save(path);
  const loaded = await Vae.load(path);
  t.deepEqual(loaded.config, model.config);
  t.deepEqual(loaded.logLikelihoodSync(x, { k: 4 }), model.logLikelihoodSync(x, { k: 4 }));
  t.is(
    code(t, () => Vae.create({ dim: 36, arch: "conv", height: 6, width: 6 })),
    "E_ARG",
  );
  t.is(
    code(t, () => Vae.create({ dim: 64, arch: "conv" })),
    "E_ARG",
  );
});

test("VAE: native and JS give the same loss and gradients on a small batch", (t) => {
  const a = Vae.create({ dim: 37, latent: 3, hidden: [17, 9], initSeed: 2 });
  const x = toyData(13, 37, 5);
  const o = { seed: 4, stream: 9, beta: 0.7 };
  const rn = a.lossAndGradients(native, x, 13, o);
  const gn = Object.fromEntries(Object.entries(a.grads()).map(([k, v]) => [k, v.slice()]));
  const rj = a.lossAndGradients(js, x, 13, o);
  t.true(Math.abs(rn.loss - rj.loss) / Math.abs(rj.loss) < 1e-5, `${rn.loss} vs ${rj.loss}`);
  t.true(Math.abs(rn.rec - rj.rec) / Math.abs(rj.rec) < 1e-5);
  t.true(Math.abs(rn.kl - rj.kl) / Math.max(1, Math.abs(rj.kl)) < 1e-5);
  for (const [name, g] of Object.entries(a.grads())) t.true(maxRelDiff(gn[name]!, g) < 1e-4, name);
  const en = a.elbo(x, { backend: "native" });
  const ej = a.elbo(x, { backend: "js" });
  t.true(Math.abs(en.elbo - ej.elbo) < 1e-4 * Math.abs(ej.elbo));
  const ln = a.logLikelihoodSync(x, { k: 20, backend: "native" });
  const lj = a.logLikelihoodSync(x, { k: 20, backend: "js" });
  t.true(maxRelDiff(ln, lj) < 1e-4);
});

test("VAE: training lowers -ELBO; IWAE >= ELBO and grows with k; chunking does not change it; save/load round trip", async (t) => {
  const x = toyData(600, 16, 3);
  const held = toyData(60, 16, 4);
  const model = Vae.create({ dim: 16, latent: 2, hidden: [24], initSeed: 1 });
  const before = model.elbo(held);
  const epochs: number[] = [];
  const r = await model.fit(x, { epochs: 25, batchSize: 50, lr: 0.01, patience: 100, seed: 2, onEpoch: (e) => void epochs.push(e.epoch) });
  t.deepEqual(
    epochs,
    Array.from({ length: 25 }, (_, i) => i + 1),
  );
  const first = r.history[0]!;
  const last = r.history[r.history.length - 1]!;
  t.true(last.train < first.train - 0.5, `train -ELBO ${first.train} -> ${last.train}`);
  t.true(Math.abs(last.train - -last.terms.elbo) < 1e-9 && Math.abs(last.terms.elbo - (last.terms.reconstruction - last.terms.kl)) < 1e-9);
  t.true(last.terms.kl > 0 && last.validationTerms !== undefined);
  const after = model.elbo(held);
  t.true(after.elbo > before.elbo + 1, `held-out ELBO ${before.elbo} -> ${after.elbo}`);
  // IWAE bound: L_1 (the ELBO) <= L_10 <= L_200 on average
  const l1 = mean(await model.logLikelihood(held, { k: 1 }));
  const l10 = mean(await model.logLikelihood(held, { k: 10 }));
  const l200 = mean(await model.logLikelihood(held, { k: 200, chunk: 64 }));
  t.log(
    `held-out ELBO ${after.elbo.toFixed(3)} (rec ${after.reconstruction.toFixed(3)}, KL ${after.kl.toFixed(3)}); IWAE k=1 ${l1.toFixed(3)}, k=10 ${l10.toFixed(3)}, k=200 ${l200.toFixed(3)}`,
  );
  t.true(Math.abs(l1 - after.elbo) < 0.3, "k = 1 is a one-draw ELBO");
  t.true(l10 > after.elbo && l10 > l1, "L_10 > ELBO");
  t.true(l200 > l10, "L_200 > L_10");
  t.true(l200 < 0);
  // draws are indexed by (image, draw), not by chunk
  const a = model.logLikelihoodSync(held.subarray(0, 5 * 16), { k: 50, chunk: 7, backend: "js" });
  const b = model.logLikelihoodSync(held.subarray(0, 5 * 16), { k: 50, chunk: 50, backend: "js" });
  t.true(maxRelDiff(a, b) < 1e-6);
  // save / load
  const path = join(dir, "vae.safetensors");
  await model.save(path);
  const loaded = await Vae.load(path);
  t.deepEqual(loaded.config, model.config);
  t.deepEqual(loaded.logLikelihoodSync(held, { k: 5 }), model.logLikelihoodSync(held, { k: 5 }));
  t.deepEqual(loaded.sampleSync(4, { seed: 3 }).x, model.sampleSync(4, { seed: 3 }).x);
  const viaRegistry = await loadModel(path);
  t.is(viaRegistry.kind, "vae");
});

test("VAE: a run checkpointed after 2 epochs and resumed equals the uninterrupted run", async (t) => {
  const x = toyData(300, 16, 7);
  const opts = { epochs: 4, batchSize: 40, lr: 0.01, patience: 100, seed: 5, warmupEpochs: 3 };
  const straight = Vae.create({ dim: 16, latent: 2, hidden: [12], initSeed: 2 });
  const r1 = await straight.fit(x, opts);
  const ckpt = join(dir, "vae.ckpt.safetensors");
  const first = Vae.create({ dim: 16, latent: 2, hidden: [12], initSeed: 2 });
  await first.fit(x, { ...opts, epochs: 2, checkpointPath: ckpt });
  const resumed = Vae.create({ dim: 16, latent: 2, hidden: [12], initSeed: 99 }); // weights come from the checkpoint
  const r2 = await resumed.fit(x, { ...opts, resumeFrom: ckpt, checkpointPath: ckpt });
  for (const [name, p] of Object.entries(straight.params())) t.deepEqual(resumed.params()[name], p, name);
  t.is(r2.history.length, 4);
  t.deepEqual(
    r2.history.map((h) => h.terms),
    r1.history.map((h) => h.terms),
  );
  const other = Vae.create({ dim: 16, latent: 3, hidden: [12] });
  const e = await t.throwsAsync(other.fit(x, { ...opts, resumeFrom: ckpt }));
  t.is((e as DeepgenError).code, "E_FORMAT");
});

test("VAE: encode / decode / reconstruct / interpolate / sample shapes and reproducibility", (t) => {
  const model = Vae.create({ dim: 16, latent: 2, hidden: [8], initSeed: 5, height: 4, width: 4 });
  const x = toyData(3, 16, 9);
  const { mu, logvar, n } = model.encode(x);
  t.is(n, 3);
  t.is(mu.length, 6);
  t.is(logvar.length, 6);
  const rec = model.reconstruct(x);
  t.deepEqual(rec, model.decode(mu));
  t.true(rec.every((p) => p > 0 && p < 1));
  const path = model.interpolateImages(x.subarray(0, 16), x.subarray(16, 32), { steps: 5 });
  t.is(path.length, 5 * 16);
  t.deepEqual(path.subarray(0, 16), rec.subarray(0, 16));
  t.true(maxRelDiff(path.subarray(64, 80), rec.subarray(16, 32)) < 1e-6);
  t.is(model.latentMap(3).length, 9 * 16);
  const s1 = model.sampleSync(6, { seed: 8, returnProbs: true });
  t.deepEqual(s1.x, model.sampleSync(6, { seed: 8 }).x);
  t.notDeepEqual(s1.x, model.sampleSync(6, { seed: 9 }).x);
  t.true(s1.x.every((v) => v === 0 || v === 1));
  t.is(s1.probs!.length, 6 * 16);
  t.deepEqual(model.sampleSync(6, { seed: 8, backend: "js" }).x, s1.x);
});

test("VAE: bad inputs throw DeepgenError with stable codes", async (t) => {
  t.is(
    code(t, () => Vae.create({ dim: 0 })),
    "E_ARG",
  );
  t.is(
    code(t, () => Vae.create({ dim: 4, latent: 0 })),
    "E_ARG",
  );
  t.is(
    code(t, () => Vae.create({ dim: 4, activation: "cosine" as never })),
    "E_ARG",
  );
  const model = Vae.create({ dim: 4, latent: 3, hidden: [4] });
  t.is(
    code(t, () => model.encode(new Float32Array(5))),
    "E_SHAPE",
  );
  t.is(
    code(t, () => model.decode(new Float32Array(4))),
    "E_SHAPE",
  );
  t.is(
    code(t, () => model.logLikelihoodSync(new Float32Array(4), { k: 0 })),
    "E_ARG",
  );
  t.is(
    code(t, () => model.interpolateImages(new Float32Array(4), new Float32Array(3), { steps: 4 })),
    "E_SHAPE",
  );
  t.is(
    code(t, () => model.latentMap(5)),
    "E_ARG",
  );
  const err = await t.throwsAsync(model.fit(new Float32Array(40), { freeBits: -1, epochs: 1 }));
  t.is((err as DeepgenError).code, "E_ARG");
  const nadePath = join(dir, "nade.safetensors");
  await Nade.create({ dim: 4, hidden: 2 }).save(nadePath);
  const e2 = await t.throwsAsync(Vae.load(nadePath));
  t.is((e2 as DeepgenError).code, "E_FORMAT");
});

test("VAE: fit and logLikelihood are abortable", async (t) => {
  const model = Vae.create({ dim: 16, latent: 2, hidden: [8] });
  const ac = new AbortController();
  const err = await t.throwsAsync(
    model.fit(toyData(200, 16, 1), {
      epochs: 5,
      batchSize: 10,
      signal: ac.signal,
      onBatch: (p) => (p.batch === 3 ? ac.abort() : undefined),
    }),
  );
  t.is((err as DeepgenError).code, "E_ABORTED");
  const ac2 = new AbortController();
  const progress: number[] = [];
  const e2 = await t.throwsAsync(
    model.logLikelihood(toyData(4, 16, 2), {
      k: 100,
      chunk: 10,
      signal: ac2.signal,
      onProgress: (f) => {
        progress.push(f);
        if (progress.length === 2) ac2.abort();
      },
    }),
  );
  t.is((e2 as DeepgenError).code, "E_ABORTED");
  t.true(progress.length === 2 && progress[1]! > progress[0]!);
});
