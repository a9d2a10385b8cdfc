/**
 * ONNX export of the GAN generators: onnxruntime against the native generator (evaluation
 * mode, batch norm from the running statistics) to 1e-4, and the same images for the same
 * seed through OnnxGenerator as through Gan.sample.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { exportOnnx, exportableGraphs } from "../lib/onnx/export.js";
import { readDeepgenMetadata } from "../lib/onnx/metadata.js";
import { OnnxGenerator } from "../lib/onnx/generator.js";
import { OnnxModel } from "../lib/onnx/model.js";
import { Gan } from "../lib/models/gan.js";
import { maxAbsDiff, randomNormal, randomUniform } from "./helpers/numeric.js";

/** A small DCGAN after a few training steps, so weights and running statistics are not at their initial values. */
async function trainedDcgan(): Promise<Gan> {
  const gan = Gan.create({
    arch: "dcgan",
    dim: 16 * 12,
    height: 16,
    width: 12,
    zdim: 5,
    channels: [6, 4],
    discChannels: [3, 4],
    initSeed: 3,
  });
  await gan.fit(randomUniform(24 * 192, 1), { epochs: 2, batchSize: 8, lr: 5e-3, seed: 2 });
  return gan;
}

test("DCGAN generator: onnxruntime = native to 1e-4 (batches 1 and 7); OnnxGenerator draws Gan.sample's z", async (t) => {
  const gan = await trainedDcgan();
  t.true(
    gan.generator.buffers!()["gen.1.running_var"]!.data.some((v) => v !== 1),
    "running statistics moved",
  );
  t.deepEqual(exportableGraphs(gan), ["generator"]);
  const bytes = exportOnnx(gan);
  const m = await OnnxModel.load(bytes);
  t.deepEqual(m.inputs, [{ name: "z", type: "float32", shape: ["N", 5] }]);
  t.deepEqual(m.outputs, [{ name: "images", type: "float32", shape: ["N", 1, 16, 12] }]);
  for (const n of [1, 7]) {
    const z = randomNormal(n * 5, 10 + n);
    const r = await m.run({ z: { data: z, dims: [n, 5] } });
    const d = maxAbsDiff(r.images!.data, gan.generate(z));
    t.true(d <= 1e-4, `batch ${n}: max abs ${d}`);
  }
  const gen = await OnnxGenerator.load(bytes);
  const s = await gen.sample(6, { seed: 9 });
  const d = maxAbsDiff(s.images, gan.sampleSync(6, { seed: 9 }).x);
  t.true(d <= 1e-4, `OnnxGenerator vs Gan.sample: ${d}`);
});

test("MLP GAN generators: images (tanh) and toy-data vectors (identity) export", async (t) => {
  const img = Gan.create({ arch: "mlp", dim: 20, height: 4, width: 5, zdim: 3, hidden: [7], discHidden: [5], initSeed: 1 });
  for (const p of Object.values(img.generator.params())) p.set(randomNormal(p.length, p.length, 0.5));
  const m = await OnnxModel.load(exportOnnx(img));
  const z = randomNormal(4 * 3, 5);
  const r = await m.run({ z: { data: z, dims: [4, 3] } });
  t.deepEqual(r.images!.dims, [4, 1, 4, 5]);
  t.true(maxAbsDiff(r.images!.data, img.generate(z)) <= 1e-4);
  const toy = Gan.create({ arch: "mlp", dim: 2, zdim: 3, output: "identity", hidden: [6], discHidden: [6] });
  const tm = await OnnxModel.load(exportOnnx(toy));
  t.deepEqual(
    tm.outputs.map((o) => o.name),
    ["x"],
  );
  const tr = await tm.run({ z: { data: z, dims: [4, 3] } });
  t.true(maxAbsDiff(tr.x!.data, toy.generate(z)) <= 1e-4);
});

test("deepgen metadata with a wrong latent or image spec is E_FORMAT, not a silent transpose or other z", (t) => {
  const base = { "deepgen.model": "gan", "deepgen.graph": "generator", "deepgen.config": "{}" };
  const ok = readDeepgenMetadata(
    {
      ...base,
      "deepgen.latent": JSON.stringify({ draw: "flat", prior: "gaussian", stream: 90 }),
      "deepgen.image": JSON.stringify({ layout: "NCHW", range: "-1,1" }),
    },
    "f",
  );
  t.deepEqual(ok?.image, { layout: "NCHW", range: "-1,1" });
  const bads: Record<string, string>[] = [
    { "deepgen.image": JSON.stringify({ layout: "nchw", range: "0,1" }) },
    { "deepgen.image": JSON.stringify({ layout: "NCHW", range: "0..1" }) },
    { "deepgen.latent": JSON.stringify({ draw: "flat", prior: "gaussian", stream: 1.5 }) },
    { "deepgen.latent": JSON.stringify({ draw: "sphere", prior: "gaussian", stream: 1 }) },
    { "deepgen.latent": JSON.stringify({ draw: "prior", prior: "laplace", stream: 1 }) },
  ];
  for (const bad of bads) {
    t.throws(() => readDeepgenMetadata({ ...base, ...bad }, "f"), { instanceOf: DeepgenError, code: "E_FORMAT" }, JSON.stringify(bad));
  }
});

test("the shipped dcgan-mnist.onnx is the export of dcgan-mnist.safetensors: sample(seed 3) = Gan.sample to 1e-4; the card's numbers ride along", async (t) => {
  const root = new URL("../packages/models-mnist/models/", import.meta.url);
  const gan = await Gan.load(fileURLToPath(new URL("dcgan-mnist.safetensors", root)));
  const gen = await OnnxGenerator.load(fileURLToPath(new URL("dcgan-mnist.onnx", root)));
  const s = await gen.sample(16, { seed: 3 });
  t.true(maxAbsDiff(s.images, gan.sampleSync(16, { seed: 3 }).x) <= 1e-4);
  t.is(gen.model.deepgen?.model, "gan");
  t.is(gen.model.deepgen?.metrics?.epochs_run, JSON.parse(readFileSync(new URL("dcgan-mnist.card.json", root), "utf8")).epochs_run);
});
