/**
 * ONNX export of the text-to-image generator: the caption encoder inside the graph (token ids
 * and z in), onnxruntime against TextToImage.generateSync to 1e-4 for the same captions and
 * seed, the caption metadata a caller tokenizes with, and the export and ONNX generation
 * through the CLI.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { TOKENIZATION_RULE, tokenizeAll, VOCABULARY } from "../lib/data/caption-tokens.js";
import { T2I_SAMPLE_Z_STREAM, TextToImage } from "../lib/models/text2image.js";
import { exportOnnx, exportableGraphs } from "../lib/onnx/export.js";
import { readDeepgenMetadata } from "../lib/onnx/metadata.js";
import { OnnxModel } from "../lib/onnx/model.js";
import { OnnxTextToImage } from "../lib/onnx/text2image.js";
import { maxAbsDiff, randomNormal, randomUniform } from "./helpers/numeric.js";

const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "deepgen-onnx-t2i-"));

function deepgen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const CAPTIONS = [
  "the digit 3 is at the top of the digit 5 .",
  "The digit seven is on the left of the image",
  "the digit 0 is at the bottom right of the image.",
  "the digit 9 is on the right of the digit 1",
];

/**
 * A tiny model whose batch-norm statistics, norm affine and caption bias are far from their
 * initial values (1, 0), so a graph that skipped or misplaced any of them would differ.
 */
function tinyModel(): TextToImage {
  const model = TextToImage.create({ zdim: 4, textDim: 8, channels: [8, 4], discChannels: [4, 8], initSeed: 1 });
  let seed = 10;
  for (const [name, b] of Object.entries(model.generator.buffers())) {
    b.data.set(name.endsWith("running_var") ? randomUniform(b.data.length, seed++, 0.3, 2) : randomNormal(b.data.length, seed++, 0.4));
  }
  const p = model.generator.params();
  for (const [name, a] of Object.entries(p)) {
    if (name.endsWith(".gamma")) a.set(randomUniform(a.length, seed++, 0.5, 1.5));
    if (name.endsWith(".beta")) a.set(randomNormal(a.length, seed++, 0.3));
  }
  model.genText.embedding.b.set(randomNormal(model.genText.embedding.b.length, seed++, 0.5));
  const out = model.genText.out.layers[0]!;
  out.b.set(randomNormal(out.b.length, seed++, 0.5));
  model.weightsChanged();
  return model;
}

test("text2image generator: onnxruntime = generateSync to 1e-4 for the same captions and seed; caption metadata", async (t) => {
  const model = tinyModel();
  t.deepEqual(exportableGraphs(model), ["generator"]);
  const bytes = exportOnnx(model);
  const m = await OnnxModel.load(bytes);
  try {
    t.deepEqual(m.inputs, [
      { name: "tokens", type: "int64", shape: ["N", 12] },
      { name: "z", type: "float32", shape: ["N", 4] },
    ]);
    t.deepEqual(m.outputs, [{ name: "images", type: "float32", shape: ["N", 1, 60, 60] }]);
    t.is(m.opset, 17);
    t.is(m.deepgen?.model, "text2image");
    t.deepEqual(m.deepgen?.latent, { draw: "flat", prior: "gaussian", stream: T2I_SAMPLE_Z_STREAM });
    t.deepEqual(m.deepgen?.image, { layout: "NCHW", range: "-1,1" });
    t.deepEqual(JSON.parse(m.metadataProps["deepgen.vocabulary"]!), [...VOCABULARY]);
    t.is(m.metadataProps["deepgen.caption_length"], "12");
    t.is(m.metadataProps["deepgen.tokenization"], TOKENIZATION_RULE);
    t.deepEqual(m.deepgen?.captions, { vocabulary: [...VOCABULARY], length: 12, tokenization: TOKENIZATION_RULE });

    // The raw graph on the model's own input rows: tanh output, mapped as TextToImage maps it.
    const n = CAPTIONS.length;
    const ids = tokenizeAll(CAPTIONS);
    const z = randomNormal(n * 4, 3);
    const e = model.encodeText(CAPTIONS);
    const r = await m.run({ tokens: { data: BigInt64Array.from(ids, (v) => BigInt(v)), dims: [n, 12] }, z: { data: z, dims: [n, 4] } });
    t.deepEqual(r.images!.dims, [n, 1, 60, 60]);
    const mapped = r.images!.data.map((v) => (v + 1) / 2);
    const d = maxAbsDiff(mapped, model.imagesSync(model.joinRows(z, e, n), n));
    t.true(d <= 1e-4, `raw graph: max abs ${d}`);
  } finally {
    await m.dispose();
  }

  const onnx = await OnnxTextToImage.load(bytes);
  try {
    t.is(onnx.zDim, 4);
    for (const seed of [0, 7]) {
      const a = await onnx.generate(CAPTIONS, { seed });
      const b = model.generateSync(CAPTIONS, { seed });
      t.deepEqual(a.captions, b.captions);
      t.is(a.x.length, b.x.length);
      const d = maxAbsDiff(a.x, b.x);
      t.true(d <= 1e-4, `seed ${seed}: max abs ${d}`);
      t.log(`seed ${seed}: ${a.n} captions, max abs diff ${d.toExponential(2)}`);
    }
    // One caption, n images: row i is noise row i, as the native model draws it.
    const one = await onnx.generate(CAPTIONS[1]!, { n: 3, seed: 5 });
    t.is(one.n, 3);
    t.true(maxAbsDiff(one.x, model.generateSync(CAPTIONS[1]!, { n: 3, seed: 5 }).x) <= 1e-4);

    for (const bad of ["the digit 3 is above the digit 5", "the digit 3 is at the top of the digit 5 of the image ."]) {
      const err = await t.throwsAsync(onnx.generate(bad, { seed: 1 }));
      t.true(err instanceof DeepgenError && err.code === "E_ARG", String(err));
    }
    const err = await t.throwsAsync(onnx.generate(CAPTIONS, { n: 2 }));
    t.true(err instanceof DeepgenError && err.code === "E_ARG", String(err));
  } finally {
    await onnx.dispose();
  }
});

test("caption metadata is all three keys or none, and well formed (E_FORMAT otherwise)", (t) => {
  const base = { "deepgen.model": "text2image", "deepgen.graph": "generator", "deepgen.config": "{}" };
  const full = { ...base, "deepgen.vocabulary": '["<pad>","the"]', "deepgen.caption_length": "12", "deepgen.tokenization": "rule" };
  t.deepEqual(readDeepgenMetadata(full, "f")?.captions, { vocabulary: ["<pad>", "the"], length: 12, tokenization: "rule" });
  for (const bad of [
    { ...base, "deepgen.vocabulary": '["<pad>"]' },
    { ...full, "deepgen.vocabulary": '{"the": 1}' },
    { ...full, "deepgen.caption_length": "12.5" },
    { ...full, "deepgen.caption_length": "0" },
  ]) {
    const err = t.throws(() => readDeepgenMetadata(bad, "f"));
    t.true(err instanceof DeepgenError && err.code === "E_FORMAT", String(err));
  }
});

test("OnnxTextToImage refuses a graph without caption metadata (E_ARG)", async (t) => {
  const gan = readFileSync(fileURLToPath(new URL("../packages/models-mnist/models/dcgan-mnist.onnx", import.meta.url)));
  const err = await t.throwsAsync(OnnxTextToImage.load(gan));
  t.true(err instanceof DeepgenError && err.code === "E_ARG", String(err));
  t.regex(String(err), /not a text-to-image export/);
});

test("deepgen export writes the text2image graph; deepgen generate --model file.onnx draws from it; --interpolate refuses it", async (t) => {
  const model = tinyModel();
  const path = join(work, "t2i.safetensors");
  await model.save(path);
  const onnxPath = join(work, "t2i.onnx");
  const ex = deepgen("export", path, "--out", onnxPath, "--json");
  t.is(ex.status, 0, ex.stderr);
  const info = JSON.parse(ex.stdout) as { model: string; graph: string; available_graphs: string[] };
  t.like(info, { model: "text2image", graph: "generator", available_graphs: ["generator"] });

  const grid = join(work, "grid.png");
  const g = deepgen("generate", CAPTIONS[0]!, CAPTIONS[1]!, "-n", "2", "--seed", "4", "--model", onnxPath, "--out", grid, "--json");
  t.is(g.status, 0, g.stderr);
  t.deepEqual((JSON.parse(g.stdout) as { captions: string[] }).captions, [
    "the digit 3 is at the top of the digit 5 .",
    "the digit 7 is on the left of the image .",
  ]);
  t.is(readFileSync(grid).subarray(1, 4).toString("ascii"), "PNG");

  const inter = deepgen("generate", "--interpolate", CAPTIONS[0]!, CAPTIONS[1]!, "--model", onnxPath, "--out", grid, "--json");
  t.is(inter.status, 2);
  const error = (JSON.parse(inter.stdout) as { error: { code: string; message: string } }).error;
  t.is(error.code, "E_ARG");
  t.regex(error.message, /--interpolate needs the native model/);

  // A file of other words would be read with this version's ids: refused, not silently wrong.
  const bytes = readFileSync(onnxPath);
  const other = join(work, "other-words.onnx");
  const swapped = Buffer.from(bytes.toString("latin1").replaceAll('"digit","is"', '"digit","IS"'), "latin1");
  t.not(Buffer.compare(swapped, bytes), 0);
  writeFileSync(other, swapped);
  const err = await t.throwsAsync(OnnxTextToImage.load(other));
  t.true(err instanceof DeepgenError && err.code === "E_FORMAT", String(err));
});
