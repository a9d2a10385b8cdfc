import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import type { DeepgenError } from "../lib/core/errors.js";
import { Vae } from "../lib/models/vae.js";
import { maxRelDiff, randomUniform } from "./helpers/numeric.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-vae-cb-"));
const js = getKernels("js");
const native = getKernels("native");

/** Grayscale vectors in (0, 1): one of 3 smooth prototypes plus uniform noise of +-0.15. */
function grayData(n: number, d: number, seed: number): Float32Array {
  const u = randomUniform(n * (d + 1), seed, 0, 1);
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const proto = Math.floor(u[i * (d + 1)]! * 3);
    for (let j = 0; j < d; j++) {
      const base = 0.5 + 0.35 * Math.sin((j + 1) * (proto + 1) * 0.9);
      x[i * d + j] = Math.min(0.999, Math.max(0.001, base + 0.3 * (u[i * (d + 1) + 1 + j]! - 0.5)));
    }
  }
  return x;
}

function mean(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s / a.length;
}

/**
 * Exact log p(x) = log int N(z; 0, 1) prod_d CB(x_d | l_d(z)) dz of a model with a 1-D latent,
 * by the trapezoid rule on [-12, 12] (the integrand is smooth and negligible outside).
 */
function exactLogMarginal(model: Vae, x: Float32Array): number {
  const G = 6001;
  const z = new Float32Array(G);
  for (let i = 0; i < G; i++) z[i] = -12 + (24 * i) / (G - 1);
  const logits = model.decoder.forward(js, z, G).slice();
  const xt = new Float32Array(G * model.dim);
  for (let i = 0; i < G; i++) xt.set(x, i * model.dim);
  const nll = new Float32Array(G);
  js.continuousBernoulliNllForward(nll, logits, xt, G, model.dim);
  const terms = Array.from({ length: G }, (_, i) => -nll[i]! - 0.5 * z[i]! * z[i]! - 0.5 * Math.log(2 * Math.PI));
  const m = Math.max(...terms);
  let s = 0;
  for (let i = 0; i < G; i++) s += (i === 0 || i === G - 1 ? 0.5 : 1) * Math.exp(terms[i]! - m);
  return m + Math.log(s * (24 / (G - 1)));
}

test("cbernoulli VAE: training raises the ELBO; native matches JS; decode gives means in (0, 1); save/load keeps it", async (t) => {
  const x = grayData(600, 12, 1);
  const held = grayData(80, 12, 2);
  const model = Vae.create({ dim: 12, latent: 2, hidden: [16], decoder: "cbernoulli", initSeed: 3 });
  const before = model.elbo(held);
  const r = await model.fit(x, { epochs: 20, batchSize: 50, lr: 0.01, patience: 100, seed: 1 });
  const after = model.elbo(held);
  t.log(
    `held-out ELBO ${before.elbo.toFixed(3)} -> ${after.elbo.toFixed(3)} (rec ${after.reconstruction.toFixed(3)}, KL ${after.kl.toFixed(3)})`,
  );
  t.true(r.history[r.history.length - 1]!.train < r.history[0]!.train - 0.5);
  t.true(after.elbo > before.elbo + 1, `held-out ELBO ${before.elbo} -> ${after.elbo}`);
  // a normalized density on [0, 1]^12 of data this concentrated has positive log-density
  t.true(after.elbo > 0, `ELBO ${after.elbo}`);
  // native and JS: same loss and gradients
  const o = { seed: 4, stream: 9, beta: 1 };
  const batch = held.subarray(0, 13 * 12);
  const rn = model.lossAndGradients(native, batch, 13, o);
  const gn = Object.fromEntries(Object.entries(model.grads()).map(([k, v]) => [k, v.slice()]));
  const rj = model.lossAndGradients(js, batch, 13, o);
  t.true(Math.abs(rn.loss - rj.loss) < 1e-5 * Math.max(1, Math.abs(rj.loss)), `${rn.loss} vs ${rj.loss}`);
  for (const [name, g] of Object.entries(model.grads())) t.true(maxRelDiff(gn[name]!, g) < 1e-4, name);
  // the decoder bias gradient (where the nll gradient enters) against central differences
  const b = model.decoder.params()["dec.1.b"]!;
  const gb = model.grads()["dec.1.b"]!.slice();
  for (let i = 0; i < b.length; i += 3) {
    const keep = b[i]!;
    b[i] = keep + 1e-2;
    const fp = model.lossAndGradients(js, batch, 13, o).loss;
    b[i] = keep - 1e-2;
    const fm = model.lossAndGradients(js, batch, 13, o).loss;
    b[i] = keep;
    const num = (fp - fm) / 2e-2;
    t.true(Math.abs(num - gb[i]!) < 1e-3 + 1e-2 * Math.abs(num), `dec.1.b[${i}]: ${gb[i]} vs ${num}`);
  }
  const means = model.reconstruct(held.subarray(0, 5 * 12));
  t.true(means.every((v) => v > 0 && v < 1));
  // reconstructions are closer to the inputs than the data mean is
  let errRec = 0;
  let errMean = 0;
  const mu = mean(x);
  for (let i = 0; i < 5 * 12; i++) {
    errRec += (means[i]! - held[i]!) ** 2;
    errMean += (mu - held[i]!) ** 2;
  }
  t.true(errRec < 0.5 * errMean, `reconstruction error ${errRec} vs ${errMean}`);
  const s = model.sampleSync(50, { seed: 2, returnProbs: true });
  t.true(s.x.every((v) => v >= 0 && v <= 1));
  t.false(
    s.x.every((v) => v === 0 || v === 1),
    "continuous samples, not binary",
  );
  const path = join(dir, "vae-cb.safetensors");
  await model.save(path);
  const loaded = await Vae.load(path);
  t.is(loaded.config.decoder, "cbernoulli");
  t.deepEqual(loaded.logLikelihoodSync(held, { k: 5 }), model.logLikelihoodSync(held, { k: 5 }));
  const err = t.throws(() => Vae.create({ dim: 4, decoder: "gauss" as never }));
  t.is((err as DeepgenError).code, "E_ARG");
});

test("cbernoulli VAE: with a 1-D latent, ELBO <= IWAE_2 <= IWAE_200 and IWAE(k = 5000) reaches the exact marginal", async (t) => {
  const x = grayData(500, 6, 5);
  const model = Vae.create({ dim: 6, latent: 1, hidden: [12], decoder: "cbernoulli", activation: "tanh", initSeed: 2 });
  await model.fit(x, { epochs: 15, batchSize: 50, lr: 0.01, patience: 100, seed: 3 });
  const held = grayData(6, 6, 9);
  const elbo = model.elbo(held).elbo;
  const l2 = mean(model.logLikelihoodSync(held, { k: 2 }));
  const l200 = mean(model.logLikelihoodSync(held, { k: 200 }));
  const l5000 = model.logLikelihoodSync(held, { k: 5000, chunk: 700 });
  let exact = 0;
  for (let r = 0; r < 6; r++) {
    const e = exactLogMarginal(model, held.subarray(r * 6, (r + 1) * 6));
    exact += e;
    t.true(Math.abs(l5000[r]! - e) < 0.05, `image ${r}: IWAE_5000 ${l5000[r]} vs exact ${e}`);
  }
  exact /= 6;
  t.log(
    `ELBO ${elbo.toFixed(4)}, IWAE k=2 ${l2.toFixed(4)}, k=200 ${l200.toFixed(4)}, k=5000 ${mean(l5000).toFixed(4)}, exact ${exact.toFixed(4)}`,
  );
  t.true(elbo < l2 && l2 < l200, "ELBO < L_2 < L_200");
  t.true(l200 <= exact + 0.02, "L_200 below the marginal (up to noise)");
  t.true(exact - mean(l5000) < exact - elbo, "L_5000 closer to the marginal than the ELBO");
});
