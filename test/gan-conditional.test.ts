/**
 * Class-conditional GANs (Gan with `conditional`: the one-hot code is the data's label, D a
 * projection discriminator): the projection logit's exact value and gradient, training that
 * makes each label draw its own class, labels checked, resume and files.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { Gan } from "../lib/models/gan.js";
import { projectGrads, projectLogits } from "../lib/models/gan-heads.js";
import { loadSampler } from "../lib/models/registry.js";
import { classCoverage } from "../lib/models/sample-quality.js";
import { code } from "./helpers/errors.js";
import { sameGan, straightAndResumed } from "./helpers/gan.js";
import { randomNormal, randomUniform } from "./helpers/numeric.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-gan-conditional-"));
const native = getKernels("native");

const softplus = (v: number): number => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

test("projection logits: output 0 plus the label's output; the gradient lands in those two columns only", (t) => {
  const out = Float32Array.of(0.5, 1, 2, 3, -1, 10, 20, 30);
  const logits = new Float32Array(2);
  projectLogits(out, 2, 3, [2, 0], logits);
  t.deepEqual(Array.from(logits), [3.5, 9]);
  const d = new Float32Array(8).fill(7);
  projectGrads(d, 2, 3, [2, 0], Float32Array.of(0.25, -2));
  t.deepEqual(Array.from(d), [0.25, 0, 0, 0.25, -2, -2, 0, 0]);
});

test("conditional generator loss: exact value from D's outputs, and its gradient matches finite differences", (t) => {
  const K = 3;
  const gan = Gan.create({
    arch: "mlp",
    dim: 5,
    zdim: 2,
    output: "identity",
    hidden: [4],
    discHidden: [6],
    codes: K,
    conditional: true,
    initSeed: 4,
  });
  const m = 4;
  const x = randomNormal(m * 5, 8);
  const labels = Int32Array.of(1, 0, 2, 1);
  const info = { codes: labels, weight: 1 };
  gan.discriminator.setTraining?.(true);
  const out = gan.discriminator.forward(native, x, m).slice();
  let expected = 0;
  for (let i = 0; i < m; i++) expected += softplus(-(out[i * (1 + K)]! + out[i * (1 + K) + 1 + labels[i]!]!)) / m;
  const r = gan.generatorLossGradient(native, x, m, "nonsaturating", undefined, m, info);
  t.true(Math.abs(r.loss - expected) < 1e-5, `${r.loss} vs ${expected}`);
  t.is(r.codeLoss, undefined, "no code loss: the label is given, not inferred");
  const g = r.dfake.slice();
  let worst = 0;
  for (let i = 0; i < x.length; i++) {
    const old = x[i]!;
    x[i] = old + 1e-3;
    const up = gan.generatorLossGradient(native, x, m, "nonsaturating", undefined, m, info).loss;
    x[i] = old - 1e-3;
    const down = gan.generatorLossGradient(native, x, m, "nonsaturating", undefined, m, info).loss;
    x[i] = old;
    const fd = (up - down) / 2e-3;
    worst = Math.max(worst, Math.abs(fd - g[i]!) / (1e-3 + 1e-2 * Math.abs(fd)));
  }
  t.true(worst <= 1, `worst gradient error ${worst.toFixed(3)} of the tolerance`);
  // another label changes the loss: D reads the label
  const other = gan.generatorLossGradient(native, x, m, "nonsaturating", undefined, m, { codes: Int32Array.of(0, 2, 1, 0), weight: 1 });
  t.true(Math.abs(other.loss - r.loss) > 1e-4);
  t.is(
    code(t, () => gan.generatorLossGradient(native, x, m, "nonsaturating")),
    "E_ARG",
  );
  t.is(
    code(t, () => gan.generatorLossGradient(native, x, m, "nonsaturating", undefined, m, { codes: Int32Array.of(1, 0, 3, 1), weight: 1 })),
    "E_ARG",
  );
});

test("conditional training: each label draws its own class (two separated 1-D clusters)", async (t) => {
  const n = 2048;
  const labels = new Uint8Array(n);
  const noise = randomNormal(n, 6);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    x[i] = (labels[i] === 0 ? -2 : 2) + 0.3 * noise[i]!;
  }
  const gan = Gan.create({
    arch: "mlp",
    dim: 1,
    zdim: 2,
    output: "identity",
    hidden: [32],
    discHidden: [32],
    codes: 2,
    conditional: true,
    initSeed: 1,
  });
  const r = await gan.fit(x, { epochs: 15, batchSize: 64, lr: 2e-3, seed: 3, labels });
  t.true(r.history.every((h) => Number.isFinite(h.terms.discriminatorLoss) && h.terms.codeLoss === undefined));
  for (const [label, centre] of [
    [0, -2],
    [1, 2],
  ] as const) {
    const s = gan.generateSamples(500, { seed: 5, code: label });
    const near = s.filter((v) => Math.abs(v - centre) < 1).length / s.length;
    t.true(near > 0.9, `label ${label}: ${(100 * near).toFixed(1)}% of samples within 1 of ${centre}`);
  }
  // D judges an example by its label: a class-0 point labelled 1 looks fake
  const p = gan.discriminate(Float32Array.of(-2, -2), { labels: [0, 1] });
  t.true(p[0]! > p[1]!, `D(-2 | 0) ${p[0]} vs D(-2 | 1) ${p[1]}`);
});

test("conditional DCGAN: labels are checked, resume is exact, files keep the flag", async (t) => {
  const make = (): Gan =>
    Gan.create({
      arch: "dcgan",
      dim: 64,
      height: 8,
      width: 8,
      zdim: 3,
      channels: [4, 3],
      discChannels: [3, 4],
      discStddev: true,
      codes: 3,
      conditional: true,
      initSeed: 2,
    });
  const x = randomUniform(40 * 64, 12).map((v) => 2 * v - 1);
  const labels = Uint8Array.from({ length: 40 }, (_, i) => i % 3);
  const opts = { epochs: 2, batchSize: 8, seed: 7, lr: 1e-3, labels };
  const { straight, resumed } = await straightAndResumed(make, x, opts, join(dir, "cond.ckpt.safetensors"));
  sameGan(t, straight, resumed);
  const file = join(dir, "cond.safetensors");
  await straight.save(file);
  const loaded = (await loadSampler(file)) as Gan;
  t.true(loaded.conditional);
  t.deepEqual(loaded.generateSamples(4, { seed: 1, code: 2 }), straight.generateSamples(4, { seed: 1, code: 2 }));
  // bad labels and configurations
  await t.throwsAsync(() => make().fit(x, { ...opts, labels: undefined }), { message: /labels/ });
  await t.throwsAsync(() => make().fit(x, { ...opts, labels: labels.subarray(1) }), { message: /39 labels for 40/ });
  await t.throwsAsync(() => make().fit(x, { ...opts, labels: labels.map((v) => (v === 2 ? 3 : v)) }), { message: /label 3/ });
  t.is(
    code(t, () => straight.discriminate(x.subarray(0, 64))),
    "E_ARG",
  );
  t.is(
    code(t, () => Gan.create({ arch: "mlp", dim: 4, hidden: [3], discHidden: [3], conditional: true })),
    "E_ARG",
  );
});

test("the shipped conditional DCGAN draws the digit it is asked for (by the shipped classifier, 100 samples per label)", async (t) => {
  const gan = (await loadSampler("dcgan-conditional")) as Gan;
  t.true(gan.conditional);
  t.is(gan.codes, 10);
  for (let y = 0; y < 10; y++) {
    const share = (await classCoverage(gan.sampleSync(100, { seed: 1, code: y }).x)).fractions[y]!;
    t.true(share >= 0.9, `label ${y}: ${(100 * share).toFixed(0)}% classified as ${y}`);
  }
});
