// Prepared networks (lib/kernels/ops/prepared-net.ts): the packed generators and decoders agree
// with the layers they were built from and with their JS twin, give every row the same bits
// at any batch size and thread count, and make the GAN / VAE / AAE samplers exact under
// batching (sampleBatch equals lone samples bit for bit).
import test from "ava";

import { getThreads, setThreads } from "../lib/kernels/threads.js";
import { getKernels } from "../lib/kernels/backend.js";
import { type PreparedLayer, prepareNet } from "../lib/kernels/ops/prepared-net.js";
import { Aae } from "../lib/models/aae.js";
import { Gan } from "../lib/models/gan.js";
import { Vae } from "../lib/models/vae.js";
import type { Net } from "../lib/nn/conv-nets.js";
import { code } from "./helpers/errors.js";
import { maxAbsDiff, randomNormal, randomUniform } from "./helpers/numeric.js";

/** A DCGAN whose batch norms hold statistics other than the identity (so folding them matters). */
function dcgan(extra: { codes?: number; conditional?: boolean } = {}): Gan {
  const gan = Gan.create({
    arch: "dcgan",
    dim: 64,
    height: 8,
    width: 8,
    zdim: 5,
    channels: [6, 4],
    discChannels: [3, 4],
    initSeed: 2,
    ...extra,
  });
  gan.recalibrateBatchNorm({ seed: 4, batches: 3, batchSize: 8 });
  return gan;
}

const NETS: Array<[string, () => Net]> = [
  ["dcgan generator", () => dcgan().generator],
  ["mlp generator", () => Gan.create({ arch: "mlp", dim: 20, zdim: 3, hidden: [7, 9], initSeed: 1 }).generator],
  ["mlp decoder (softplus)", () => Vae.create({ dim: 20, latent: 3, hidden: [11], activation: "softplus", initSeed: 3 }).decoder],
  ["conv decoder", () => Vae.create({ dim: 64, arch: "conv", height: 8, width: 8, channels: [3, 5], latent: 4, initSeed: 5 }).decoder],
];

for (const [name, make] of NETS) {
  test(`prepared ${name}: native and JS agree with the layers they fold`, (t) => {
    const net = make();
    const layers = net.inferenceLayers?.();
    if (layers === undefined) return t.fail("no inference layers");
    const n = 9;
    const x = randomNormal(n * net.inDim, 11);
    net.setTraining?.(false);
    const reference = net.forward(getKernels("js"), x, n).slice();
    const native = prepareNet("native", layers).forwardSync(x, n);
    const js = prepareNet("js", layers).forwardSync(x, n);
    t.true(maxAbsDiff(native, reference) < 1e-5, `native vs layers ${maxAbsDiff(native, reference)}`);
    t.true(maxAbsDiff(js, reference) < 1e-5, `js vs layers ${maxAbsDiff(js, reference)}`);
  });

  test(`prepared ${name}: a row has the same bits alone, in any batch and on any thread count`, (t) => {
    const net = make();
    const prepared = prepareNet("native", net.inferenceLayers!()!);
    const n = 70; // more than one chunk of rows and several image groups
    const x = randomNormal(n * net.inDim, 12);
    const threads = getThreads();
    try {
      setThreads(1);
      const one = prepared.forwardSync(x, n);
      setThreads(2);
      const two = prepared.forwardSync(x, n);
      t.deepEqual(two, one, "1 vs 2 threads");
      for (const row of [0, 5, 64, 69]) {
        const alone = prepared.forwardSync(x.slice(row * net.inDim, (row + 1) * net.inDim), 1);
        t.deepEqual(alone, one.slice(row * net.outDim, (row + 1) * net.outDim), `row ${row}`);
      }
    } finally {
      setThreads(threads);
    }
  });
}

test("prepared net: async forward equals the sync one and honours an aborted signal", async (t) => {
  const net = dcgan().generator;
  const prepared = prepareNet("native", net.inferenceLayers!()!);
  const x = randomNormal(33 * net.inDim, 13);
  const fractions: number[] = [];
  t.deepEqual(await prepared.forward(x, 33, { onProgress: (f) => fractions.push(f) }), prepared.forwardSync(x, 33));
  t.is(fractions.at(-1), 1);
  const stop = new AbortController();
  stop.abort();
  const err = await t.throwsAsync(prepared.forward(x, 33, { signal: stop.signal }));
  t.is((err as { code?: string }).code, "E_ABORTED");
  const js = prepareNet("js", net.inferenceLayers!()!);
  t.true(maxAbsDiff(await js.forward(x, 33), prepared.forwardSync(x, 33)) < 1e-5);
});

test("prepared net: bad layers and inputs are errors with codes", (t) => {
  const w = new Float32Array(6);
  const dense: PreparedLayer = {
    kind: "dense",
    inChannels: 3,
    height: 1,
    width: 1,
    outChannels: 2,
    kernel: 1,
    stride: 1,
    pad: 0,
    activation: "relu",
    slope: 0.01,
    weight: w,
    bias: null,
  };
  t.is(
    code(t, () => prepareNet("native", [])),
    "E_ARG",
  );
  t.is(
    code(t, () => prepareNet("native", [{ ...dense, weight: new Float32Array(5) }])),
    "E_SHAPE",
  );
  t.is(
    code(t, () => prepareNet("native", [dense, dense])),
    "E_SHAPE",
  );
  t.is(
    code(t, () => prepareNet("js", [{ ...dense, activation: "gelu" as "relu" }])),
    "E_ARG",
  );
  t.is(
    code(t, () => prepareNet("native", [{ ...dense, kind: "convT", height: 2, kernel: 2, pad: 2 }])),
    "E_ARG",
  );
  const prepared = prepareNet("native", [dense]);
  t.is(
    code(t, () => prepared.forwardSync(new Float32Array(4), 1)),
    "E_SHAPE",
  );
  t.is(
    code(t, () => prepared.forwardSync(new Float32Array(3), -1)),
    "E_ARG",
  );
});

const SAMPLERS: Array<[string, () => Gan | Vae | Aae]> = [
  ["dcgan", () => dcgan()],
  ["mlp gan", () => Gan.create({ arch: "mlp", dim: 20, zdim: 3, hidden: [7], initSeed: 1 })],
  ["vae", () => Vae.create({ dim: 20, latent: 3, hidden: [11], initSeed: 3 })],
  [
    "vae cbernoulli conv",
    () => Vae.create({ dim: 64, arch: "conv", height: 8, width: 8, channels: [3, 5], decoder: "cbernoulli", initSeed: 5 }),
  ],
  ["aae", () => Aae.create({ dim: 20, latent: 2, hidden: [9], initSeed: 6 })],
];

for (const [name, make] of SAMPLERS) {
  for (const backend of ["native", "js"] as const) {
    test(`${name} (${backend}): sampleBatch gives each request its lone sample, bit for bit; sample equals sampleSync`, async (t) => {
      const model = make();
      const requests = [
        { n: 3, seed: 1 },
        { n: 1, seed: 2n ** 40n + 3n },
        { n: 5, seed: 1 },
      ];
      const parts = await model.sampleBatch(requests, { backend, returnProbs: true });
      for (const [i, r] of requests.entries()) {
        const lone = await model.sample(r.n, { seed: r.seed, backend, returnProbs: true });
        t.deepEqual(parts[i], lone, `request ${i}`);
        t.deepEqual(model.sampleSync(r.n, { seed: r.seed, backend, returnProbs: true }), lone, `sync ${i}`);
      }
    });
  }
}

test("conditional dcgan: sampleBatch keeps each request's class", async (t) => {
  const gan = dcgan({ codes: 3, conditional: true });
  const requests = [
    { n: 2, seed: 7, code: 2 },
    { n: 2, seed: 7, code: 0 },
    { n: 1, seed: 8 },
  ];
  const parts = await gan.sampleBatch(requests);
  for (const [i, r] of requests.entries()) t.deepEqual(parts[i], await gan.sample(r.n, { seed: r.seed, code: r.code }), `request ${i}`);
  t.notDeepEqual(parts[0]!.x, parts[1]!.x, "the class changes the images");
  const err = await t.throwsAsync(Vae.create({ dim: 4, latent: 2, hidden: [3] }).sampleBatch([{ n: 1, seed: 1, code: 1 }]));
  t.is((err as { code?: string }).code, "E_ARG", "a code for a model that has none");
});

test("a sampler re-packs its generator after fit, and after weightsChanged", async (t) => {
  const gan = Gan.create({ arch: "mlp", dim: 8, zdim: 2, hidden: [5], initSeed: 1 });
  const before = gan.sampleSync(4, { seed: 3 }).x;
  await gan.fit(randomUniform(64 * 8, 2), { epochs: 1, batchSize: 16, seed: 1 });
  const after = gan.sampleSync(4, { seed: 3 }).x;
  t.notDeepEqual(after, before, "fit moved the samples");
  gan.generator.setTraining?.(false);
  const layers = gan.generator.forward(getKernels("native"), gan.sampleLatent(4, { seed: 3 }), 4).map((v) => (v + 1) / 2);
  t.true(maxAbsDiff(after, layers) < 1e-5, "the samples are those of the trained weights");
  const w = gan.generator.params()["gen.0.w"]!;
  w.fill(0);
  t.deepEqual(gan.sampleSync(4, { seed: 3 }).x, after, "an in-place change is not seen until weightsChanged");
  gan.weightsChanged();
  t.notDeepEqual(gan.sampleSync(4, { seed: 3 }).x, after);
});

test("prepared net: the output map applies the activation, then (y + shift) * scale, on both backends", async (t) => {
  const net = Vae.create({ dim: 20, latent: 3, hidden: [11], initSeed: 3 }).decoder;
  const layers = net.inferenceLayers!()!;
  const x = randomNormal(6 * 3, 21);
  for (const backend of ["native", "js"] as const) {
    const prepared = prepareNet(backend, layers);
    const raw = prepared.forwardSync(x, 6);
    const probs = prepared.forwardSync(x, 6, { activation: "sigmoid" });
    const expected = raw.map((v) => 1 / (1 + Math.exp(-v)));
    t.true(maxAbsDiff(probs, expected) < 1e-6, `${backend} sigmoid`);
    const affine = prepared.forwardSync(x, 6, { shift: 1, scale: 0.5 });
    t.deepEqual(
      affine,
      raw.map((v) => Math.fround(v + 1) * 0.5),
      `${backend} affine`,
    );
    t.deepEqual(await prepared.forward(x, 6, { map: { activation: "sigmoid" } }), probs, `${backend} async`);
    t.is(
      code(t, () => prepared.forwardSync(x, 6, { shift: Number.NaN })),
      "E_ARG",
    );
  }
});
