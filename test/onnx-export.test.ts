/**
 * ONNX export parity: every exported graph, run under onnxruntime-node, against the native
 * model on the same inputs (max abs 1e-4; NADE log p(x) 1e-3 nats), dynamic batch sizes,
 * metadata round trip, and a graph of the DCGAN generator's exact shape from hand-made weights
 * against deepgen's own kernels (the building blocks the GAN exporters map onto).
 */
import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { exportOnnx, exportableGraphs } from "../lib/onnx/export.js";
import { GraphBuilder } from "../lib/onnx/graph-builder.js";
import { OnnxGenerator } from "../lib/onnx/generator.js";
import { OnnxModel, parseOnnx } from "../lib/onnx/model.js";
import { Aae } from "../lib/models/aae.js";
import { Nade } from "../lib/models/nade.js";
import { Vae, type VaeActivation } from "../lib/models/vae.js";
import type { Net } from "../lib/nn/conv-nets.js";
import { maxAbsDiff, randomNormal, randomUniform } from "./helpers/numeric.js";
import { code } from "./helpers/errors.js";

const native = getKernels("native");

/** Every parameter random (biases too: fresh models start with zero biases, which would hide a bias bug). */
function randomize(nets: Net[], seed: number, scale = 0.4): void {
  let s = seed;
  for (const net of nets) for (const p of Object.values(net.params())) p.set(randomNormal(p.length, s++, scale));
}

function binary(n: number, seed: number, p = 0.4): Float32Array {
  return randomUniform(n, seed, 0, 1).map((u) => (u < p ? 1 : 0));
}

for (const activation of ["relu", "tanh", "softplus", "leakyRelu"] as VaeActivation[]) {
  test(`VAE (MLP, ${activation}) decoder and encoder: onnxruntime = native to 1e-4, batches 1 and 5`, async (t) => {
    const vae = Vae.create({ dim: 20, height: 4, width: 5, latent: 3, hidden: [7, 6], activation, initSeed: 1 });
    randomize([vae.encoder, vae.decoder], 10);
    const dec = await OnnxModel.load(exportOnnx(vae));
    const enc = await OnnxModel.load(exportOnnx(vae, { graph: "encoder" }));
    t.deepEqual(dec.inputs, [{ name: "z", type: "float32", shape: ["N", 3] }]);
    t.deepEqual(dec.outputs, [{ name: "images", type: "float32", shape: ["N", 1, 4, 5] }]);
    t.deepEqual(
      enc.outputs.map((o) => o.name),
      ["mu", "logvar"],
    );
    for (const n of [1, 5]) {
      const z = randomNormal(n * 3, 20 + n, 1.5);
      const r = await dec.run({ z: { data: z, dims: [n, 3] } });
      t.deepEqual(r.images!.dims, [n, 1, 4, 5]);
      t.true(maxAbsDiff(r.images!.data, vae.decode(z)) <= 1e-4);
      const x = binary(n * 20, 30 + n);
      const e = await enc.run({ x: { data: x, dims: [n, 20] } });
      const ref = vae.encode(x);
      t.true(maxAbsDiff(e.mu!.data, ref.mu) <= 1e-4);
      t.true(maxAbsDiff(e.logvar!.data, ref.logvar) <= 1e-4);
    }
    await dec.dispose();
    await enc.dispose();
  });
}

test("VAE (conv) decoder and encoder: onnxruntime = native to 1e-4 (odd channel counts, non-square images)", async (t) => {
  const vae = Vae.create({
    dim: 96,
    height: 8,
    width: 12,
    arch: "conv",
    channels: [3, 5],
    latent: 4,
    activation: "leakyRelu",
    initSeed: 2,
  });
  randomize([vae.encoder, vae.decoder], 40, 0.3);
  const dec = await OnnxModel.load(exportOnnx(vae));
  const enc = await OnnxModel.load(exportOnnx(vae, { graph: "encoder" }));
  const n = 3;
  const z = randomNormal(n * 4, 41);
  const r = await dec.run({ z: { data: z, dims: [n, 4] } });
  t.deepEqual(r.images!.dims, [n, 1, 8, 12]);
  t.true(maxAbsDiff(r.images!.data, vae.decode(z)) <= 1e-4);
  const x = binary(n * 96, 42);
  const e = await enc.run({ x: { data: x, dims: [n, 96] } });
  const ref = vae.encode(x);
  t.true(maxAbsDiff(e.mu!.data, ref.mu) <= 1e-4);
  t.true(maxAbsDiff(e.logvar!.data, ref.logvar) <= 1e-4);
});

test("VAE: OnnxGenerator.sample draws the same z as Vae.sample and gives its --probs images (seed 3)", async (t) => {
  const vae = Vae.create({ dim: 20, height: 4, width: 5, latent: 3, hidden: [6], initSeed: 3 });
  randomize([vae.decoder], 50);
  const gen = await OnnxGenerator.load(exportOnnx(vae));
  const s = await gen.sample(7, { seed: 3 });
  const ref = vae.sampleSync(7, { seed: 3, returnProbs: true });
  t.true(maxAbsDiff(s.images, ref.probs!) <= 1e-4);
  const z = new Float32Array(7 * 3);
  native.philoxFill(z, 3, 0x5a, "normal");
  t.deepEqual(s.z, z);
  t.is(s.rangeSource, "metadata");
});

test("AAE (mixture prior) decoder: same z as Aae.sample (prior draws), images = its probabilities", async (t) => {
  const aae = Aae.create({ dim: 16, latent: 2, hidden: [5], discHidden: [3], prior: "mog10", initSeed: 4 });
  randomize([aae.decoder], 60);
  t.deepEqual(exportableGraphs(aae), ["generator"]);
  const gen = await OnnxGenerator.load(exportOnnx(aae));
  t.deepEqual(gen.latent, { draw: "prior", prior: "mog10", stream: 0x5a });
  const s = await gen.sample(6, { seed: 9 });
  t.deepEqual(s.z, aae.samplePrior(6, { seed: 9, stream: 0x5a }));
  t.true(maxAbsDiff(s.images, aae.sampleSync(6, { seed: 9, returnProbs: true }).probs!) <= 1e-4);
  t.deepEqual([s.channels, s.height, s.width], [1, 4, 4]);
});

test("AAE with the conv decoder: onnxruntime = its probabilities to 1e-4", async (t) => {
  const aae = Aae.create({
    dim: 96,
    height: 8,
    width: 12,
    latent: 2,
    arch: "conv",
    channels: [3, 5],
    discHidden: [3],
    prior: "gaussian",
    initSeed: 5,
  });
  randomize([aae.decoder], 61);
  const gen = await OnnxGenerator.load(exportOnnx(aae));
  const s = await gen.sample(4, { seed: 2 });
  t.true(maxAbsDiff(s.images, aae.sampleSync(4, { seed: 2, returnProbs: true }).probs!) <= 1e-4);
  t.deepEqual([s.channels, s.height, s.width], [1, 8, 12]);
});

test("NADE log p(x) as one CumSum graph = the native kernel to 1e-3 nats (random order, grayscale inputs binarized at 0.5)", async (t) => {
  const nade = Nade.create({ dim: 37, hidden: 11, ordering: "random", orderingSeed: 5, initSeed: 6 });
  nade.arrays.b.set(randomNormal(37, 70, 1));
  nade.arrays.c.set(randomNormal(11, 71, 1));
  nade.arrays.wt.set(randomNormal(37 * 11, 72, 1));
  nade.arrays.v.set(randomNormal(37 * 11, 73, 1));
  const m = await OnnxModel.load(exportOnnx(nade));
  t.deepEqual(m.inputs, [{ name: "x", type: "float32", shape: ["N", 37] }]);
  t.deepEqual(m.outputs, [{ name: "logp", type: "float32", shape: ["N"] }]);
  t.is(m.finalOps.logp, "Neg");
  for (const n of [1, 9]) {
    const x = randomUniform(n * 37, 80 + n, 0, 1); // grayscale: the graph reads x > 0.5 as 1
    const r = await m.run({ x: { data: x, dims: [n, 37] } });
    const ref = nade.logProbSync(x.map((v) => (v > 0.5 ? 1 : 0))); // the model takes 0 and 1 only
    t.deepEqual(r.logp!.dims, [n]);
    t.true(maxAbsDiff(r.logp!.data, ref) <= 1e-3, `max diff ${maxAbsDiff(r.logp!.data, ref)}`);
  }
  // Extreme logits: the softplus form stays finite where log(sigmoid) would underflow.
  nade.arrays.b.fill(40);
  const extreme = await OnnxModel.load(exportOnnx(nade));
  const x0 = new Float32Array(37);
  const r0 = await extreme.run({ x: { data: x0, dims: [1, 37] } });
  t.true(Number.isFinite(r0.logp!.data[0]!));
  t.true(maxAbsDiff(r0.logp!.data, nade.logProbSync(x0)) <= 1e-3);
});

test("metadata round trip: version, family, graph, config, data, metrics; IR 8, opset 17", async (t) => {
  const vae = Vae.create({ dim: 16, latent: 2, hidden: [4], initSeed: 7 });
  const bytes = exportOnnx(vae, { data: "canonical split", metrics: { iwae_nll_nats: 84.45, k: 5000 } });
  const proto = parseOnnx(bytes, "test");
  t.is(Number(proto.irVersion), 8);
  t.is(Number(proto.opsetImport[0]!.version), 17);
  const m = await OnnxModel.load(bytes);
  t.is(m.opset, 17);
  t.regex(m.producer, /^deepgen \d+\.\d+\.\d+/);
  t.deepEqual(m.deepgen, {
    version: m.deepgen!.version,
    model: "vae",
    graph: "generator",
    config: JSON.parse(JSON.stringify(vae.config)),
    data: "canonical split",
    metrics: { iwae_nll_nats: 84.45, k: 5000 },
    latent: { draw: "flat", prior: "gaussian", stream: 0x5a },
    image: { layout: "NCHW", range: "0,1" },
  });
  t.regex(m.deepgen!.version, /^\d+\.\d+\.\d+/);
  // The weights are copies: training on after the export does not change the file's bytes.
  const before = Buffer.from(bytes);
  for (const p of Object.values(vae.decoder.params())) p.fill(1);
  t.true(before.equals(Buffer.from(bytes)));
});

test("export of an unsupported graph or model is E_ARG", (t) => {
  const vae = Vae.create({ dim: 16, latent: 2, hidden: [4] });
  t.is(
    code(t, () => exportOnnx(vae, { graph: "density" })),
    "E_ARG",
  );
  t.is(
    code(t, () => exportOnnx({ kind: "pixelrnn" })),
    "E_ARG",
  );
  t.is(
    code(t, () => exportOnnx(Nade.create({ dim: 4, hidden: 2 }), { graph: "generator" })),
    "E_ARG",
  );
});

/**
 * The DCGAN generator's exact shape (Radford et al.; the lead's exporter maps onto these
 * helpers): z [N, zdim] -> dense -> reshape [128, 7, 7] -> BatchNorm -> ReLU -> ConvT 4x4 s2 p1
 * (64) -> BatchNorm -> ReLU -> ConvT 4x4 s2 p1 (1) -> tanh, from random weights and running
 * statistics, against deepgen's kernels (gemm, batchNormForwardEval, activations, convTranspose2d).
 */
test("DCGAN-shaped graph (dense, BatchNorm inference, ConvTranspose [Cin, Cout, 4, 4], tanh) = deepgen's kernels to 1e-4", async (t) => {
  const zdim = 10;
  const [c0, c1] = [128, 64];
  const eps = 1e-5;
  let seed = 100;
  const r = (n: number, scale: number): Float32Array => randomNormal(n, seed++, scale);
  const pos = (n: number): Float32Array => randomUniform(n, seed++, 0.5, 2);
  const w0 = r(c0 * 49 * zdim, 0.3);
  const b0 = r(c0 * 49, 0.1);
  const bn0 = { gamma: pos(c0), beta: r(c0, 0.2), mean: r(c0, 0.3), var: pos(c0) };
  const w1 = r(c0 * c1 * 16, 0.05);
  const b1 = r(c1, 0.1);
  const bn1 = { gamma: pos(c1), beta: r(c1, 0.2), mean: r(c1, 0.3), var: pos(c1) };
  const w2 = r(c1 * 16, 0.1);
  const b2 = r(1, 0.1);

  const g = new GraphBuilder("dcgan-generator");
  const up = { kernel: [4, 4] as [number, number], stride: [2, 2] as [number, number], pad: [1, 1] as [number, number] };
  let h = g.dense(g.input("z", ["N", zdim]), w0, b0, c0 * 49, zdim, "fc");
  h = g.reshape(h, [-1, c0, 7, 7]);
  h = g.relu(g.batchNormalization(h, bn0.gamma, bn0.beta, bn0.mean, bn0.var, eps, "bn0"));
  h = g.convTranspose(h, w1, b1, c0, c1, up, "up0");
  h = g.relu(g.batchNormalization(h, bn1.gamma, bn1.beta, bn1.mean, bn1.var, eps, "bn1"));
  h = g.tanh(g.convTranspose(h, w2, b2, c1, 1, up, "up1"), "images");
  g.output(h, ["N", 1, 28, 28]);
  const gen = await OnnxGenerator.load(g.toBytes());
  t.is(gen.layout, "NCHW");

  const n = 3;
  const z = randomNormal(n * zdim, 200);
  // deepgen kernels
  const k = native;
  const a0 = new Float32Array(n * c0 * 49);
  k.gemm({ a: z, b: w0, c: a0, m: n, n: c0 * 49, k: zdim, transB: true });
  k.biasActivationForward("identity", a0, b0, a0, n, c0 * 49, 1);
  const n0 = new Float32Array(a0.length);
  k.batchNormForwardEval(a0, bn0.gamma, bn0.beta, bn0.mean, bn0.var, n0, n, c0, 49, eps);
  k.activationForward("relu", n0, n0);
  const shape1 = {
    batch: n,
    inChannels: c0,
    height: 7,
    width: 7,
    outChannels: c1,
    kernelH: 4,
    kernelW: 4,
    strideH: 2,
    strideW: 2,
    padH: 1,
    padW: 1,
  };
  const a1 = new Float32Array(n * c1 * 196);
  k.convTranspose2dForward(shape1, n0, w1, b1, a1);
  const n1 = new Float32Array(a1.length);
  k.batchNormForwardEval(a1, bn1.gamma, bn1.beta, bn1.mean, bn1.var, n1, n, c1, 196, eps);
  k.activationForward("relu", n1, n1);
  const a2 = new Float32Array(n * 784);
  k.convTranspose2dForward({ ...shape1, inChannels: c1, height: 14, width: 14, outChannels: 1 }, n1, w2, b2, a2);
  k.activationForward("tanh", a2, a2);

  const raw = await gen.model.run({ z: { data: z, dims: [n, zdim] } });
  t.true(maxAbsDiff(raw.images!.data, a2) <= 1e-4, `max diff ${maxAbsDiff(raw.images!.data, a2)}`);
  // As a generator: range [-1, 1] read from the graph's Tanh, mapped to [0, 1].
  const out = await gen.generate(z, n);
  t.is(out.range, "-1,1");
  t.is(out.rangeSource, "graph");
  t.true(
    maxAbsDiff(
      out.images,
      a2.map((v) => (v + 1) / 2),
    ) <= 1e-4,
  );
});

test("NADE export of the shipped model on real test digits: log p(x) = the native kernel to 1e-3 nats", async (t) => {
  const { canonicalSplit } = await import("../lib/data/mnist.js");
  const { loadModel } = await import("../lib/models/registry.js");
  const nade = (await loadModel("nade")) as Nade;
  const x = canonicalSplit({ binarized: true }).test.x.subarray(0, 16 * 784);
  const m = await OnnxModel.load(exportOnnx(nade));
  const r = await m.run({ x: { data: x, dims: [16, 784] } });
  const ref = nade.logProbSync(x);
  t.true(maxAbsDiff(r.logp!.data, ref) <= 1e-3, `max diff ${maxAbsDiff(r.logp!.data, ref)}`);
  t.true(ref.every((v) => v < -20 && v > -300)); // real digits, not degenerate values
  await m.dispose();
});
