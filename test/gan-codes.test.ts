/**
 * InfoGAN categorical codes (lib/models/gan-codes.ts, Gan with `codes`): the latent rows, the
 * code loss's exact value and gradient, training that makes the code readable, files, ONNX.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { exportOnnx } from "../lib/onnx/export.js";
import { OnnxGenerator } from "../lib/onnx/generator.js";
import { OnnxModel } from "../lib/onnx/model.js";
import { Gan } from "../lib/models/gan.js";
import { drawCodes, fillLatent } from "../lib/models/gan-codes.js";
import { loadSampler } from "../lib/models/registry.js";
import { code } from "./helpers/errors.js";
import { sameGan, straightAndResumed } from "./helpers/gan.js";
import { maxAbsDiff, randomNormal, randomUniform } from "./helpers/numeric.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-gan-codes-"));
const js = getKernels("js");
const native = getKernels("native");

const tinyDcgan = (codes: number, initSeed = 2): Gan =>
  Gan.create({
    arch: "dcgan",
    dim: 64,
    height: 8,
    width: 8,
    zdim: 3,
    channels: [4, 3],
    discChannels: [3, 4],
    discStddev: true,
    codes,
    initSeed,
  });

test("code latents: the noise is the uncoded model's draw, then a one-hot code; row i does not depend on n", (t) => {
  const coded = tinyDcgan(4);
  const plain = tinyDcgan(0);
  t.is(coded.latentDim, 7);
  const z = coded.sampleLatent(50, { seed: 3 });
  const noise = plain.sampleLatent(50, { seed: 3 });
  const seen = new Set<number>();
  for (let i = 0; i < 50; i++) {
    const row = z.subarray(i * 7, (i + 1) * 7);
    t.deepEqual(Array.from(row.subarray(0, 3)), Array.from(noise.subarray(i * 3, (i + 1) * 3)), `row ${i} noise`);
    const hot = Array.from(row.subarray(3));
    t.is(hot.filter((v) => v === 1).length, 1, `row ${i} one-hot`);
    t.is(hot.filter((v) => v === 0).length, 3);
    seen.add(hot.indexOf(1));
  }
  t.is(seen.size, 4, "50 draws hit all 4 codes");
  t.deepEqual(Array.from(coded.sampleLatent(5, { seed: 3 })), Array.from(z.subarray(0, 35)), "the first rows of a longer draw");
  // the codes are floor(K u) of the uniform Philox fill
  const u = new Float32Array(6);
  js.philoxFill(u, 8, 77, "uniform");
  t.deepEqual(
    Array.from(drawCodes(js, 6, 3, 8, 77)),
    Array.from(u, (v) => Math.floor(3 * v)),
  );
  // a fixed code: every row has it, the noise stays the seed's
  const fixed = coded.sampleLatent(6, { seed: 3, code: 2 });
  for (let i = 0; i < 6; i++) t.deepEqual(Array.from(fixed.subarray(i * 7 + 3, (i + 1) * 7)), [0, 0, 1, 0]);
  t.deepEqual(Array.from(fixed.subarray(0, 3)), Array.from(noise.subarray(0, 3)));
  t.is(
    code(t, () => coded.sampleLatent(2, { seed: 3, code: 4 })),
    "E_ARG",
  );
  t.is(
    code(t, () => plain.sampleLatent(2, { seed: 3, code: 0 })),
    "E_ARG",
  );
  t.is(
    code(t, () => fillLatent(js, new Float32Array(14), 2, 3, 4, 0, { noise: 1, code: 2 }, Int32Array.of(0, 5))),
    "E_ARG",
  );
});

test("code loss in the generator's objective: exact value, and the gradient of loss + w codeLoss matches finite differences", (t) => {
  const K = 3;
  const gan = Gan.create({ arch: "mlp", dim: 6, zdim: 2, output: "identity", hidden: [5], discHidden: [7], codes: K, initSeed: 9 });
  const m = 4;
  const w = 0.7;
  const x = randomNormal(m * 6, 21);
  const codes = Int32Array.of(0, 2, 1, 2);
  const info = { codes, weight: w };
  // expected values straight from the discriminator's outputs [m, 1 + K]
  gan.discriminator.setTraining?.(true);
  const out = gan.discriminator.forward(native, x, m).slice();
  let bce = 0;
  let ce = 0;
  for (let i = 0; i < m; i++) {
    const row = Array.from(out.subarray(i * (1 + K), (i + 1) * (1 + K)));
    bce += Math.log1p(Math.exp(-row[0]!)) / m;
    const q = row.slice(1);
    const mx = Math.max(...q);
    const lse = mx + Math.log(q.reduce((s, v) => s + Math.exp(v - mx), 0));
    ce += (lse - q[codes[i]!]!) / m;
  }
  const r = gan.generatorLossGradient(native, x, m, "nonsaturating", undefined, m, info);
  t.true(Math.abs(r.loss - bce) < 1e-5, `${r.loss} vs ${bce}`);
  t.true(Math.abs(r.codeLoss! - ce) < 1e-5, `${r.codeLoss} vs ${ce}`);
  const g = r.dfake.slice();
  const total = (): number => {
    const s = gan.generatorLossGradient(native, x, m, "nonsaturating", undefined, m, info);
    return s.loss + w * s.codeLoss!;
  };
  let worst = 0;
  for (let i = 0; i < x.length; i += 2) {
    const old = x[i]!;
    x[i] = old + 1e-3;
    const up = total();
    x[i] = old - 1e-3;
    const down = total();
    x[i] = old;
    const fd = (up - down) / 2e-3;
    worst = Math.max(worst, Math.abs(fd - g[i]!) / (1e-3 + 1e-2 * Math.abs(fd)));
  }
  t.true(worst <= 1, `worst gradient error ${worst.toFixed(3)} of the tolerance`);
  // the code part alone: weight 0 leaves the plain generator gradient of the real/fake column
  const plain = gan.generatorLossGradient(native, x, m, "nonsaturating", undefined, m, { codes, weight: 0 }).dfake;
  t.true(maxAbsDiff(plain, g) > 1e-4, "the code term changes the gradient");
  t.is(
    code(t, () => gan.generatorLossGradient(native, x, m, "nonsaturating")),
    "E_ARG",
  );
});

test("code training: the discriminator learns to read the code back (its cross-entropy falls well below log K) and the generator draws codes apart", async (t) => {
  const K = 4;
  const gan = Gan.create({ arch: "mlp", dim: 2, zdim: 2, output: "identity", hidden: [32], discHidden: [32], codes: K, initSeed: 1 });
  const x = randomNormal(2048 * 2, 4);
  const r = await gan.fit(x, { epochs: 12, batchSize: 64, lr: 2e-3, seed: 3 });
  const first = r.history[0]!.terms.codeLoss!;
  const last = r.history[r.history.length - 1]!.terms.codeLoss!;
  t.true(first > 0.5 * Math.log(K), `epoch 1 code CE ${first}`);
  t.true(last < 0.25 * Math.log(K), `code CE ${first} -> ${last} (log K = ${Math.log(K).toFixed(3)})`);
  // different codes with the same noise give different outputs
  const a = gan.generateSamples(200, { seed: 5, code: 0 });
  const b = gan.generateSamples(200, { seed: 5, code: 1 });
  t.true(maxAbsDiff(a, b) > 0.1);
  t.true(r.history.every((h) => Number.isFinite(h.terms.codeLoss!)));
});

test("coded DCGAN: resume is exact, files keep the code, D(x) is one probability per image", async (t) => {
  const x = randomUniform(40 * 64, 12).map((v) => 2 * v - 1);
  const opts = { epochs: 2, batchSize: 8, seed: 7, lr: 1e-3, codeWeight: 0.5 };
  const { straight, resumed, result } = await straightAndResumed(() => tinyDcgan(3), x, opts, join(dir, "coded.ckpt.safetensors"));
  t.true(result.history.every((h) => h.terms.codeLoss !== undefined));
  sameGan(t, straight, resumed);
  const file = join(dir, "coded.safetensors");
  await straight.save(file);
  const loaded = (await loadSampler(file)) as Gan;
  t.is(loaded.codes, 3);
  t.deepEqual(loaded.generateSamples(4, { seed: 1, code: 2 }), straight.generateSamples(4, { seed: 1, code: 2 }));
  const p = loaded.discriminate(x.subarray(0, 5 * 64));
  t.is(p.length, 5);
  t.true(p.every((v) => v > 0 && v < 1));
  t.is(
    code(t, () => Gan.create({ arch: "mlp", dim: 4, hidden: [3], discHidden: [3], codes: 1 })),
    "E_ARG",
  );
  t.is(
    code(t, () => Gan.create({ arch: "mlp", dim: 4, hidden: [3], discHidden: [3], codes: 2.5 })),
    "E_ARG",
  );
  await t.throwsAsync(() => straight.fit(x, { ...opts, codeWeight: -1 }), { message: /codeWeight/ });
});

test("coded DCGAN ONNX: z is [N, zdim + K]; onnxruntime = native; OnnxGenerator draws Gan.sample's codes", async (t) => {
  const gan = tinyDcgan(3, 4);
  await gan.fit(
    randomUniform(24 * 64, 1).map((v) => 2 * v - 1),
    { epochs: 1, batchSize: 8, lr: 5e-3, seed: 2 },
  );
  const bytes = exportOnnx(gan);
  const m = await OnnxModel.load(bytes);
  t.deepEqual(m.inputs, [{ name: "z", type: "float32", shape: ["N", 6] }]);
  const z = gan.sampleLatent(5, { seed: 8 });
  const r = await m.run({ z: { data: z, dims: [5, 6] } });
  t.true(maxAbsDiff(r.images!.data, gan.generate(z)) <= 1e-4);
  const gen = await OnnxGenerator.load(bytes);
  t.deepEqual(Array.from(gen.drawZ(5, 8)), Array.from(z));
  const s = await gen.sample(6, { seed: 9 });
  t.true(maxAbsDiff(s.images, gan.sampleSync(6, { seed: 9 }).x) <= 1e-4);
});
