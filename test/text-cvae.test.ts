import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { tokenizeAll, VOCABULARY } from "../lib/data/caption-tokens.js";
import { CANVAS_DIM, captionText } from "../lib/data/mnist-captions.js";
import { testCanvases } from "../lib/data/mnist-captions-split.js";
import { getKernels } from "../lib/kernels/backend.js";
import { loadModel } from "../lib/models/registry.js";
import { binarizedCanvases, CVAE_ELBO_STREAM, CVAE_IWAE_STREAM, CVAE_SAMPLE_Z_STREAM, TextCvae } from "../lib/models/text-cvae.js";
import { loadCaptionModel } from "../lib/models/text2image-loader.js";
import { TextToImage } from "../lib/models/text2image.js";
import { maxAbsDiff } from "./helpers/numeric.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-cvae-"));
const js = getKernels("js");
const CAPTION = "the digit 3 is at the top of the digit 5 .";
const OTHER = "the digit 1 is at the top left of the image .";
const FIT = { canvasesPerEpoch: 64, validationCanvases: 32, batchSize: 16, seed: 3 };

function tiny(seed = 1, activation: "relu" | "tanh" = "relu"): TextCvae {
  return TextCvae.create({ latent: 3, textDim: 4, hidden: [8], activation, initSeed: seed });
}

/** The first n fixed test canvases of seen captions, binarized, with their captions. */
function canvases(n: number): { x: Float32Array; captions: string[] } {
  const t = testCanvases("seen", n);
  return { x: binarizedCanvases(t.x), captions: t.records.map((r) => captionText(r.caption)) };
}

/** N(0, 1) draws [rows, cols] of the reparam kernel: z = eps where mu = 0 and logvar = 0. */
function reparamNoise(rows: number, cols: number, seed: number, stream: number): Float32Array {
  const z = new Float32Array(rows * cols);
  const eps = new Float32Array(rows * cols);
  js.reparamForward(z, eps, new Float32Array(rows * cols), new Float32Array(rows * cols), { rows, cols, seed, stream });
  return eps;
}

type Params64 = Record<string, Float64Array>;

function params64(model: TextCvae): Params64 {
  return Object.fromEntries(Object.entries(model.params()).map(([k, v]) => [k, Float64Array.from(v)]));
}

/** An MLP's forward in float64 from its parameters `${name}.${i}.w` [out, in] and `.b`. */
function mlp64(p: Params64, name: string, sizes: number[], act: (v: number) => number, input: number[]): number[] {
  let h = input;
  for (let l = 0; l + 1 < sizes.length; l++) {
    const w = p[`${name}.${l}.w`]!;
    const b = p[`${name}.${l}.b`]!;
    const [nIn, nOut] = [sizes[l]!, sizes[l + 1]!];
    const out: number[] = [];
    for (let o = 0; o < nOut; o++) {
      let s = b[o]!;
      for (let i = 0; i < nIn; i++) s += w[o * nIn + i]! * h[i]!;
      out.push(l + 2 === sizes.length ? s : act(s));
    }
    h = out;
  }
  return h;
}

/**
 * Per canvas, in float64 straight from the definitions: the reconstruction NLL (summed BCE of
 * the decoder's logits), the closed-form KL and the one-draw log importance weight
 * log p(x | z, t) + log N(z; 0, I) - log N(z; mu, exp(logvar)), for z = mu + exp(logvar / 2) eps.
 */
function reference(model: TextCvae, p: Params64, x: Float32Array, captions: string[], eps: Float32Array) {
  const { latent: L, textDim: E } = model;
  const V = VOCABULARY.length;
  const T = model.config.tokens;
  const H = model.config.hidden;
  const act = model.config.activation === "tanh" ? Math.tanh : (v: number) => Math.max(0, v);
  const ids = tokenizeAll(captions);
  const logN = (v: number, mu: number, lv: number) => -0.5 * (Math.log(2 * Math.PI) + lv + (v - mu) ** 2 * Math.exp(-lv));
  return captions.map((_, r) => {
    const e = Array.from(p["text.b"]!);
    for (let i = 0; i < T; i++) for (let c = 0; c < E; c++) e[c] = e[c]! + p["text.table"]![(i * V + ids[r * T + i]!) * E + c]!;
    const xr = Array.from(x.subarray(r * CANVAS_DIM, (r + 1) * CANVAS_DIM));
    const h = mlp64(p, "enc", [CANVAS_DIM + E, ...H, 2 * L], act, [...xr, ...e]);
    const mu = h.slice(0, L);
    const lv = h.slice(L);
    const z = mu.map((m, j) => m + Math.exp(lv[j]! / 2) * eps[r * L + j]!);
    const logits = mlp64(p, "dec", [L + E, ...[...H].reverse(), CANVAS_DIM], act, [...z, ...e]);
    let rec = 0;
    for (let d = 0; d < CANVAS_DIM; d++) rec += Math.max(logits[d]!, 0) - xr[d]! * logits[d]! + Math.log1p(Math.exp(-Math.abs(logits[d]!)));
    let kl = 0;
    let logw = -rec;
    for (let j = 0; j < L; j++) {
      kl += 0.5 * (mu[j]! ** 2 + Math.exp(lv[j]!) - 1 - lv[j]!);
      logw += logN(z[j]!, 0, 0) - logN(z[j]!, mu[j]!, lv[j]!);
    }
    return { rec, kl, logw };
  });
}

function sum(a: number[]): number {
  return a.reduce((s, v) => s + v, 0);
}

function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(1, Math.abs(b));
}

test("the ELBO terms equal a float64 computation from the definitions (closed-form KL, summed BCE) for the same eps", (t) => {
  for (const activation of ["relu", "tanh"] as const) {
    const model = tiny(4, activation);
    const { x, captions } = canvases(5);
    const got = model.elbo(x, captions, { seed: 9, backend: "js", batchSize: 2 });
    const ref = reference(model, params64(model), x, captions, reparamNoise(5, model.latent, 9, CVAE_ELBO_STREAM));
    const rec = sum(ref.map((r) => r.rec)) / 5;
    const kl = sum(ref.map((r) => r.kl)) / 5;
    t.true(relDiff(got.reconstruction, rec) < 1e-5, `${activation} reconstruction ${got.reconstruction} vs ${rec}`);
    t.true(relDiff(got.kl, kl) < 1e-5, `${activation} KL ${got.kl} vs ${kl}`);
    t.true(relDiff(got.negElbo, rec + kl) < 1e-5);
    // the noise of a canvas is its row's: the batch size changes nothing, and native agrees
    const whole = model.elbo(x, captions, { seed: 9, backend: "js" });
    t.true(relDiff(whole.negElbo, got.negElbo) < 1e-6);
    t.true(relDiff(model.elbo(x, captions, { seed: 9, backend: "native" }).negElbo, got.negElbo) < 1e-5);
  }
});

test("the training gradient matches float64 central differences of the loss with the noise held fixed, caption embedding included", (t) => {
  const model = tiny(5, "tanh");
  const m = 3;
  const { x, captions } = canvases(m);
  const ids = tokenizeAll(captions);
  const seed = 11;
  const stream = 7;
  model.lossAndGradients(js, x, ids, m, { seed, stream });
  const grads = Object.fromEntries(Object.entries(model.grads()).map(([k, v]) => [k, v.slice()]));
  const eps = reparamNoise(m, model.latent, seed, stream);
  const p = params64(model);
  const loss = () => {
    const ref = reference(model, p, x, captions, eps);
    return (sum(ref.map((r) => r.rec)) + sum(ref.map((r) => r.kl))) / m;
  };
  // entries of the caption table the batch uses: caption 0's first digit, and its last position (a word or padding)
  const V = VOCABULARY.length;
  const E = model.textDim;
  const tableEntries = [2, 11].map((pos) => (pos * V + ids[pos]!) * E + 1);
  const picks: [string, number][] = [
    ["text.table", tableEntries[0]!],
    ["text.table", tableEntries[1]!],
    ["text.b", 2],
    ["enc.0.w", 5 * (CANVAS_DIM + E) + CANVAS_DIM + 1], // a weight on e(t) in the encoder
    ["enc.0.b", 3],
    ["enc.1.w", 7],
    ["enc.1.b", 4], // a log-variance output
    ["dec.0.w", 2 * (model.latent + E) + model.latent + 2], // a weight on e(t) in the decoder
    ["dec.0.w", 1],
    ["dec.1.b", 1830],
  ];
  const h = 1e-6;
  let worst = 0;
  for (const [name, i] of picks) {
    const keep = p[name]![i]!;
    p[name]![i] = keep + h;
    const fp = loss();
    p[name]![i] = keep - h;
    const fm = loss();
    p[name]![i] = keep;
    const num = (fp - fm) / (2 * h);
    const got = grads[name]![i]!;
    t.true(Math.abs(num) > 1e-4, `${name}[${i}] has a gradient to check (${num})`);
    t.true(Math.abs(got - num) <= 1e-3 * Math.abs(num) + 1e-4, `${name}[${i}]: analytic ${got} vs numeric ${num}`);
    worst = Math.max(worst, Math.abs(got - num) / Math.abs(num));
  }
  t.log(`worst relative error ${worst.toExponential(2)} over ${picks.length} parameters`);
  // native computes the same gradient
  model.lossAndGradients(getKernels("native"), x, ids, m, { seed, stream });
  for (const [name, g] of Object.entries(model.grads()))
    t.true(maxAbsDiff(g, grads[name]!) <= 1e-3 * Math.max(1, ...grads[name]!.map(Math.abs)), name);
});

test("IWAE with k = 1 is the one-draw bound of the same noise, and more draws tighten it below the -ELBO", async (t) => {
  const model = tiny(6);
  await model.fit({ ...FIT, epochs: 2 });
  const { x, captions } = canvases(24);
  const one = model.iwaeSync(x, captions, { k: 1, seed: 2, backend: "js" });
  const ref = reference(model, params64(model), x, captions, reparamNoise(24, model.latent, 2, CVAE_IWAE_STREAM));
  const bound = -sum(ref.map((r) => r.logw)) / 24;
  t.true(relDiff(one, bound) < 1e-5, `${one} vs ${bound}`);
  const negElbo = model.elbo(x, captions, { seed: 2 }).negElbo;
  const k64 = model.iwaeSync(x, captions, { k: 64, seed: 2 });
  const k256 = await model.iwae(x, captions, { k: 256, seed: 2, chunk: 100 });
  t.log(`-ELBO ${negElbo.toFixed(2)}, IWAE k=1 ${one.toFixed(2)}, k=64 ${k64.toFixed(2)}, k=256 ${k256.toFixed(2)}`);
  t.true(k64 < negElbo && k256 <= k64 + 0.05, `${negElbo} ${k64} ${k256}`);
  // the chunking and the sync or async form change nothing
  t.true(relDiff(model.iwaeSync(x, captions, { k: 256, seed: 2, chunk: 100 }), k256) < 1e-6);
  t.true(relDiff(await model.iwae(x, captions, { k: 64, seed: 2, chunk: 7 }), k64) < 1e-6);
  const controller = new AbortController();
  controller.abort();
  await t.throwsAsync(model.iwae(x, captions, { k: 8, signal: controller.signal }), { instanceOf: DeepgenError, message: /abort/ });
});

test("generation: the same seed gives the same images, sync equals async, JS within 1e-5 of native, row i from caption i only", async (t) => {
  const model = tiny(7);
  await model.fit({ ...FIT, epochs: 1 });
  const sync = model.generateSync(CAPTION, { n: 3, seed: 7 });
  t.is(sync.x.length, 3 * CANVAS_DIM);
  t.deepEqual(sync.captions, [CAPTION, CAPTION, CAPTION]);
  t.true(sync.x.every((v) => v >= 0 && v <= 1));
  t.deepEqual(model.generateSync(CAPTION, { n: 3, seed: 7 }).x, sync.x);
  t.notDeepEqual(model.generateSync(CAPTION, { n: 3, seed: 8 }).x, sync.x);
  t.deepEqual((await model.generate(CAPTION, { n: 3, seed: 7 })).x, sync.x);
  t.true(maxAbsDiff(model.generateSync(CAPTION, { n: 3, seed: 7, backend: "js" }).x, sync.x) <= 1e-5);
  t.true(maxAbsDiff((await model.generate(CAPTION, { n: 3, seed: 7, backend: "js" })).x, sync.x) <= 1e-5);
  const list = model.generateSync([CAPTION, OTHER], { seed: 7 });
  t.deepEqual(list.x.subarray(0, CANVAS_DIM), sync.x.subarray(0, CANVAS_DIM));
  t.notDeepEqual(list.x.subarray(CANVAS_DIM), sync.x.subarray(CANVAS_DIM, 2 * CANVAS_DIM));
  t.deepEqual(model.generateSync("The digit three is at the top of the digit five", { n: 3, seed: 7 }).x, sync.x);
  const records = testCanvases("banned", 4).records.map((r) => r.caption);
  t.deepEqual(await model.generateCaptions(records, { seed: 5 }), model.generateSync(records.map(captionText), { seed: 5 }).x);
  const rows = model.interpolateCaptions(CAPTION, OTHER, { steps: 4, rows: 2, seed: 7 });
  t.is(rows.length, 8 * CANVAS_DIM);
  t.true(maxAbsDiff(rows.subarray(0, CANVAS_DIM), sync.x.subarray(0, CANVAS_DIM)) <= 1e-6);
  t.true(maxAbsDiff(rows.subarray(3 * CANVAS_DIM, 4 * CANVAS_DIM), list.x.subarray(CANVAS_DIM)) > 0);
  // the event loop turns while a large batch is drawn natively
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  await model.generate(CAPTION, { n: 3000, seed: 1 });
  clearInterval(timer);
  t.true(ticks > 0);
});

test("generation decodes row i as [z_i, e(caption i)], z_i row i of the seed's normal fill on CVAE_SAMPLE_Z_STREAM", (t) => {
  const model = tiny(4);
  const { latent: L, textDim: E } = model;
  const z = new Float32Array(2 * L);
  js.philoxFill(z, 9, CVAE_SAMPLE_Z_STREAM, "normal");
  const e = model.encodeText([CAPTION, OTHER]);
  const rows = model.latentRows([CAPTION, OTHER], 9);
  for (let i = 0; i < 2; i++) {
    t.deepEqual(rows.subarray(i * (L + E), i * (L + E) + L), z.subarray(i * L, (i + 1) * L));
    t.deepEqual(rows.subarray(i * (L + E) + L, (i + 1) * (L + E)), e.subarray(i * E, (i + 1) * E));
  }
});

test("a file round trip keeps the model, and the loaders tell it from the GAN", async (t) => {
  const model = tiny(8);
  await model.fit({ ...FIT, epochs: 1 });
  const path = join(dir, "cvae.safetensors");
  await model.save(path);
  const again = await TextCvae.load(path);
  t.deepEqual(again.config, model.config);
  t.deepEqual(again.generateSync(CAPTION, { n: 2, seed: 3 }).x, model.generateSync(CAPTION, { n: 2, seed: 3 }).x);
  t.deepEqual(again.encodeText(CAPTION), model.encodeText(CAPTION));
  const { x, captions } = canvases(4);
  t.deepEqual(again.elbo(x, captions), model.elbo(x, captions));
  t.true((await loadCaptionModel(path)) instanceof TextCvae);
  const gan = TextToImage.create({ zdim: 4, textDim: 8, channels: [8, 4], discChannels: [4, 8] });
  const ganPath = join(dir, "gan.safetensors");
  await gan.save(ganPath);
  t.true((await loadCaptionModel(ganPath)) instanceof TextToImage);
  await t.throwsAsync(TextCvae.load(ganPath), { instanceOf: DeepgenError, message: /expected 'text-cvae'/ });
  const err = await t.throwsAsync(loadModel(path));
  t.is((err as DeepgenError).code, "E_ARG");
});

test("a resumed fit continues exactly, and early stopping keeps the best validation epoch", async (t) => {
  const path = join(dir, "cvae.ckpt.safetensors");
  const whole = tiny(2);
  const full = await whole.fit({ ...FIT, epochs: 3 });
  const first = tiny(2);
  await first.fit({ ...FIT, epochs: 1, checkpointPath: path });
  const resumed = tiny(2);
  const r = await resumed.fit({ ...FIT, epochs: 3, resumeFrom: path });
  t.is(r.history.length, 3);
  t.deepEqual(resumed.params(), whole.params());
  t.deepEqual(
    r.history.map((h) => [h.train, h.validation, h.terms, h.validationTerms]),
    full.history.map((h) => [h.train, h.validation, h.terms, h.validationTerms]),
  );
  for (const h of full.history) t.true(Math.abs(h.validation! - h.validationTerms!.negElbo) < 1e-9);
  t.is(full.bestValidation, Math.min(...full.history.map((h) => h.validation!)));
  await t.throwsAsync(tiny(2, "tanh").fit({ ...FIT, epochs: 2, resumeFrom: path }), { instanceOf: DeepgenError, message: /configuration/ });
});

test("bad captions, canvases and options are E_ARG or E_SHAPE", (t) => {
  const model = tiny();
  const code = (fn: () => unknown) => {
    const e = t.throws(fn);
    return e instanceof DeepgenError ? e.code : String(e);
  };
  t.is(
    code(() => model.generateSync("the digit 3 is above the digit 5 .")),
    "E_ARG",
  );
  t.is(
    code(() => model.encodeText("")),
    "E_ARG",
  );
  t.is(
    code(() => model.generateSync([CAPTION, CAPTION], { n: 3 })),
    "E_ARG",
  );
  t.is(
    code(() => model.generateSync([])),
    "E_ARG",
  );
  t.is(
    code(() => model.generateSync([CAPTION, 5 as unknown as string])),
    "E_ARG",
  );
  t.is(
    code(() => model.generateSync(CAPTION, { n: 0 })),
    "E_ARG",
  );
  t.is(
    code(() => model.generateSync(CAPTION, { steps: 2 } as never)),
    "E_ARG",
  );
  const { x, captions } = canvases(2);
  t.is(
    code(() => model.elbo(x, ["the digit 3 is at the top of the digit 55 ."])),
    "E_ARG",
  );
  t.is(
    code(() => model.elbo(x, captions.slice(0, 1))),
    "E_SHAPE",
  );
  t.is(
    code(() => model.elbo(x, "the digit 3" as never)),
    "E_ARG",
  );
  t.is(
    code(() => model.elbo(testCanvases("seen", 2).x, captions)),
    "E_ARG",
  );
  t.is(
    code(() => model.iwaeSync(x, captions, { k: 0 })),
    "E_ARG",
  );
  t.is(
    code(() => TextCvae.create({ latent: 0 })),
    "E_ARG",
  );
  t.is(
    code(() => TextCvae.create({ hidden: "500" as never })),
    "E_ARG",
  );
  t.is(
    code(() => TextCvae.create({ activation: "gelu" as never })),
    "E_ARG",
  );
});
