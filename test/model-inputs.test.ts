/**
 * What every model call checks before it computes: the values of its images (a binary model
 * takes 0 and 1 only), its options object (a plain object with known keys), and the memory a
 * sample or log-probability request would need.
 */
import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { Aae } from "../lib/models/aae.js";
import { IndependentBernoulli, MarkovChain } from "../lib/models/baselines.js";
import { Classifier } from "../lib/models/classifier.js";
import { sizedRequest } from "../lib/models/common.js";
import { Gan } from "../lib/models/gan.js";
import { Nade } from "../lib/models/nade.js";
import { PixelRnn } from "../lib/models/pixelrnn.js";
import { Rnade } from "../lib/models/rnade.js";
import { Vae } from "../lib/models/vae.js";

/** The DeepgenError fn throws (sync or async), or a failure naming what it threw instead. */
async function thrown(t: { fail: (m: string) => void }, fn: () => unknown): Promise<DeepgenError | undefined> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof DeepgenError) return e;
    t.fail(`not a DeepgenError: ${String(e)}`);
    return undefined;
  }
  t.fail("did not throw");
  return undefined;
}

const binary = (n: number, d: number): Float32Array => Float32Array.from({ length: n * d }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0));

test("a binary model refuses values other than 0 and 1, naming the first bad index and value", async (t) => {
  const nade = Nade.create({ dim: 16, hidden: 4 });
  const twos = new Float32Array(3 * 16).fill(2);
  let e = await thrown(t, () => nade.logProb(twos));
  t.is(e?.code, "E_ARG");
  t.regex(e?.message ?? "", /x\[0\].* = 2 is not 0 or 1/);
  const nan = binary(2, 16);
  nan[21] = Number.NaN;
  e = await thrown(t, () => nade.logProbSync(nan));
  t.is(e?.code, "E_ARG");
  t.regex(e?.message ?? "", /x\[21\] \(row 1, value 5\) = NaN/);
  const half = binary(2, 16);
  half[3] = 0.5;
  e = await thrown(t, () => nade.complete(half, { seed: 1, known: 8 }));
  t.is(e?.code, "E_ARG");
  // a value past the known steps is drawn over, not read: no error
  const tail = binary(2, 16);
  tail[15] = 0.5;
  t.is((await nade.complete(tail, { seed: 1, known: 8 })).n, 2);
  e = await thrown(t, () => nade.fit(twos, { epochs: 1 }));
  t.is(e?.code, "E_ARG");

  const prnn = PixelRnn.create({ kind: "rowlstm", height: 4, width: 4, hidden: 4 });
  e = await thrown(t, () => prnn.logProb(half));
  t.is(e?.code, "E_ARG");
  t.regex(e?.message ?? "", /x\[3\].* = 0\.5/);
  for (const base of [IndependentBernoulli.fit(binary(4, 16), 16), MarkovChain.fit(binary(4, 16), 16)]) {
    e = await thrown(t, () => base.logProbSync(twos));
    t.is(e?.code, "E_ARG", base.kind);
  }
  e = await thrown(t, () => IndependentBernoulli.fit(twos, 16));
  t.is(e?.code, "E_ARG");

  const vae = Vae.create({ dim: 16, latent: 2, hidden: [8] });
  for (const [name, call] of [
    ["logProb", () => vae.logProb(twos)],
    ["logProbSync", () => vae.logProbSync(twos)],
    ["logLikelihood", () => vae.logLikelihood(twos, { k: 2 })],
    ["elbo", () => vae.elbo(twos)],
    ["encode", () => vae.encode(twos)],
    ["reconstruct", () => vae.reconstruct(twos)],
    ["interpolateImages", () => vae.interpolateImages(twos.subarray(0, 16), twos.subarray(16, 32), { steps: 3 })],
    ["fit", () => vae.fit(twos, { epochs: 1 })],
  ] as const) {
    e = await thrown(t, call);
    t.is(e?.code, "E_ARG", name);
    t.regex(e?.message ?? "", /= 2 is not 0 or 1/, name);
  }
  const aae = Aae.create({ dim: 16, latent: 2, hidden: [8], discHidden: [8] });
  for (const call of [
    () => aae.encode(twos),
    () => aae.reconstruct(twos),
    () => aae.reconstructionError(twos),
    () => aae.discriminatorAccuracy(twos),
  ]) {
    t.is((await thrown(t, call))?.code, "E_ARG");
  }
});

test("checkInput: false skips the value check (for data the caller checked)", async (t) => {
  const nade = Nade.create({ dim: 16, hidden: 4 });
  const lp = await nade.logProb(binary(2, 16), { checkInput: false });
  t.is(lp.length, 2);
  t.is(nade.logProbSync(new Float32Array(16).fill(2), { checkInput: false }).length, 1);
});

test("the continuous models check their own ranges: RNADE [0, 1), the continuous-Bernoulli VAE [0, 1], a GAN finite values", async (t) => {
  const rnade = Rnade.create({ dim: 4, hidden: 4, components: 2 });
  t.is((await rnade.logProb(Float32Array.of(0, 0.25, 0.5, 0.999))).length, 1);
  let e = await thrown(t, () => rnade.logProb(Float32Array.of(0, 0.25, 1, 0.5)));
  t.is(e?.code, "E_ARG");
  t.regex(e?.message ?? "", /x\[2\].* = 1 is not in \[0, 1\)/);
  t.is((await thrown(t, () => rnade.logProbSync(Float32Array.of(0, Number.POSITIVE_INFINITY, 0, 0))))?.code, "E_ARG");

  const cb = Vae.create({ dim: 4, latent: 2, hidden: [4], decoder: "cbernoulli" });
  t.is(cb.elbo(Float32Array.of(0, 0.3, 1, 0.7)).elbo < 1e9, true);
  e = await thrown(t, () => cb.logProbSync(Float32Array.of(0, 1.5, 0, 0)));
  t.regex(e?.message ?? "", /x\[1\].* = 1\.5 is not in \[0, 1\]/);

  const gan = Gan.create({ arch: "mlp", dim: 4, zdim: 2, hidden: [4], discHidden: [4] });
  t.is(gan.discriminate(Float32Array.of(-1, 0, 0.5, 3)).length, 1);
  t.is((await thrown(t, () => gan.discriminate(Float32Array.of(-1, 0, Number.NaN, 1))))?.code, "E_ARG");
  const clf = Classifier.create({ height: 4, width: 4, channels: [2, 2], features: 4 });
  t.is((await thrown(t, () => clf.predict(new Float32Array(16).fill(-3))))?.code, "E_ARG");
});

test("options: missing or null where required, not a plain object, or an unknown key is E_ARG naming it", async (t) => {
  const nade = Nade.create({ dim: 16, hidden: 4 });
  const vae = Vae.create({ dim: 16, latent: 2, hidden: [8] });
  const aae = Aae.create({ dim: 16, latent: 2, hidden: [8], discHidden: [8] });
  const gan = Gan.create({ arch: "mlp", dim: 16, zdim: 2, hidden: [4], discHidden: [4] });
  const prnn = PixelRnn.create({ kind: "rowlstm", height: 4, width: 4, hidden: 4 });
  const base = IndependentBernoulli.fit(binary(4, 16), 16);
  const samplers = { nade, vae, aae, gan, prnn, base } as const;
  for (const [name, m] of Object.entries(samplers)) {
    const sample = m.sample.bind(m) as (n: number, o?: unknown) => Promise<unknown>;
    const sampleSync = m.sampleSync.bind(m) as (n: number, o?: unknown) => unknown;
    let e = await thrown(t, () => sample(4));
    t.is(e?.code, "E_ARG", `${name}.sample(4)`);
    t.regex(e?.message ?? "", /options must be a plain object with seed, got nothing/, name);
    e = await thrown(t, () => sample(4, null));
    t.regex(e?.message ?? "", /got null/, name);
    e = await thrown(t, () => sampleSync(4, [1]));
    t.regex(e?.message ?? "", /got an array/, name);
    e = await thrown(t, () => sample(4, { seed: 1, retrunProbs: true }));
    t.regex(e?.message ?? "", /unknown option 'retrunProbs' \(accepted: .*returnProbs/, name);
    e = await thrown(t, () => sampleSync(4, { returnProbs: true }));
    t.regex(e?.message ?? "", /option 'seed' is required/, name);
  }
  let e = await thrown(t, () => Nade.create({ dim: 4, seed: 3 } as never));
  t.is(e?.code, "E_ARG");
  t.regex(e?.message ?? "", /Nade\.create: unknown option 'seed' \(accepted: .*initSeed/);
  for (const create of [
    () => Vae.create({ dim: 4, seed: 1 } as never),
    () => Rnade.create({ dim: 4, seed: 1 } as never),
    () => Gan.create({ dim: 4, seed: 1 } as never),
    () => Classifier.create({ seed: 1 } as never),
  ]) {
    t.regex((await thrown(t, create))?.message ?? "", /unknown option 'seed'/);
  }
  e = await thrown(t, () => nade.logProb(binary(1, 16), { bakend: "js" } as never));
  t.regex(e?.message ?? "", /Nade\.logProb: unknown option 'bakend'/);
  e = await thrown(t, () => nade.fit(binary(20, 16), { epoch: 1 } as never));
  t.regex(e?.message ?? "", /Nade\.fit: unknown option 'epoch'/);
  e = await thrown(t, () => vae.fit(binary(20, 16), { epochs: 1, warmup: 2 } as never));
  t.regex(e?.message ?? "", /Vae\.fit: unknown option 'warmup' \(accepted: .*warmupEpochs/);
  e = await thrown(t, () => vae.logLikelihood(binary(1, 16), { K: 5 } as never));
  t.regex(e?.message ?? "", /unknown option 'K'/);
  e = await thrown(t, () => Nade.load("x.safetensors", null as never));
  t.regex(e?.message ?? "", /Nade\.load: options must be a plain object/);
  // optional options may be left out, and undefined values of known keys are fine
  t.is(nade.logProbSync(binary(1, 16)).length, 1);
  t.is((await nade.logProb(binary(1, 16), { backend: undefined })).length, 1);
});

test("a request over the memory limit is refused up front with the estimate and the limit", async (t) => {
  const nade = Nade.create({ dim: 784, hidden: 4 });
  const before = process.env.DEEPGEN_MAX_REQUEST_MB;
  process.env.DEEPGEN_MAX_REQUEST_MB = "1";
  try {
    // 1000 x 784 floats: 3 MiB of samples
    let e = await thrown(t, () => nade.sample(1000, { seed: 0 }));
    t.is(e?.code, "E_ARG");
    t.regex(
      e?.message ?? "",
      /Nade\.sample of 1000 rows needs about 2\.99 MiB \(3136 bytes per row\), over the limit of 1\.00 MiB \(DEEPGEN_MAX_REQUEST_MB\)/,
    );
    e = await thrown(t, () => Vae.create({ dim: 784, latent: 2, hidden: [8] }).sampleSync(1000, { seed: 0 }));
    t.is(e?.code, "E_ARG");
    t.is((await nade.sample(100, { seed: 0 })).n, 100);
    process.env.DEEPGEN_MAX_REQUEST_MB = "lots";
    e = await thrown(t, () => nade.sample(1, { seed: 0 }));
    t.regex(e?.message ?? "", /DEEPGEN_MAX_REQUEST_MB must be a positive number/);
  } finally {
    if (before === undefined) delete process.env.DEEPGEN_MAX_REQUEST_MB;
    else process.env.DEEPGEN_MAX_REQUEST_MB = before;
  }
});

test("an allocation that fails anyway is E_BACKEND 'out of memory', not a bare RangeError", async (t) => {
  const fail = (): never => {
    throw new RangeError("Array buffer allocation failed");
  };
  let e = await thrown(t, () => sizedRequest("Nade.sample", 10, 4, fail));
  t.is(e?.code, "E_BACKEND");
  t.regex(e?.message ?? "", /out of memory in Nade\.sample/);
  e = await thrown(t, () => sizedRequest("Nade.logProb", 10, 4, async () => fail()));
  t.is(e?.code, "E_BACKEND");
  // other errors pass unchanged
  await t.throwsAsync(() => sizedRequest("x", 1, 4, async () => Promise.reject(new TypeError("boom"))), { instanceOf: TypeError });
});
