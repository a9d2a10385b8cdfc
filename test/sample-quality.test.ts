// Sample-quality metrics (lib/models/sample-quality.ts, sample-images.ts) with the shipped
// classifier: coverage on hand-made inputs, FID of real images, the floor, the adapter.
import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { binarize, subset } from "../lib/data/dataset.js";
import { canonicalSplit } from "../lib/data/mnist.js";
import type { SampleOptions, Samples } from "../lib/models/density.js";
import { loadSampler, shippedSamplerNames } from "../lib/models/registry.js";
import { sampleImages } from "../lib/models/sample-images.js";
import { classCoverage, coverageFromPredictions, features, qualityClassifier, sampleQuality } from "../lib/models/sample-quality.js";
import { randomUniform } from "./helpers/numeric.js";

const { test: testSet } = canonicalSplit();

test("coverage of hand-made predictions: uniform, one class, skewed; bad classes refused", (t) => {
  const uniform = coverageFromPredictions([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  t.deepEqual(uniform.counts, Array(10).fill(1));
  t.is(uniform.min, 0.1);
  t.is(uniform.max, 0.1);
  t.true(Math.abs(uniform.entropy - Math.log(10)) < 1e-12);
  t.true(Math.abs(uniform.klFromUniform) < 1e-12);
  t.true(uniform.within5to15);
  const one = coverageFromPredictions([3, 3, 3, 3]);
  t.deepEqual(one.fractions, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
  t.is(one.entropy, 0);
  t.true(Math.abs(one.klFromUniform - Math.log(10)) < 1e-12);
  t.false(one.within5to15);
  // 20 images: class 0 has 4 (20%), classes 1..8 two each, class 9 none.
  const skew = coverageFromPredictions([0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8]);
  t.is(skew.max, 0.2);
  t.is(skew.min, 0);
  t.false(skew.within5to15);
  const want = -(0.2 * Math.log(0.2) + 8 * 0.1 * Math.log(0.1));
  t.true(Math.abs(skew.entropy - want) < 1e-12);
  const e = t.throws(() => coverageFromPredictions([0, 10]));
  t.is((e as DeepgenError).code, "E_ARG");
  t.is((t.throws(() => coverageFromPredictions([])) as DeepgenError).code, "E_SHAPE");
});

test("the shipped classifier puts real test digits of one class in that class", async (t) => {
  for (const digit of [1, 7]) {
    const idx = [...testSet.labels!.keys()].filter((i) => testSet.labels![i] === digit).slice(0, 60);
    const c = await classCoverage(subset(testSet, idx).x);
    t.true(c.fractions[digit]! >= 0.95, `digit ${digit}: ${c.fractions[digit]}`);
  }
  const all = await classCoverage(testSet.x);
  t.true(all.within5to15, `test split coverage ${all.fractions.map((f) => f.toFixed(3)).join(" ")}`);
});

test("FID: the test images against themselves are 0; the floor is small and positive; noise is far", async (t) => {
  const self = await sampleQuality(testSet.x);
  t.true(self.fid < 1e-6, `self FID ${self.fid}`);
  t.is(self.n, testSet.n);
  t.deepEqual(self.reference, { split: "test", binarized: false, n: testSet.n });
  t.true(self.floorFid > 0 && self.floorFid < 5, `floor ${self.floorFid}`);
  t.regex(self.featureLayer, /penultimate/);
  // the real test images judged against themselves: their confident fraction is the reference's
  t.is(self.confident.threshold, 0.9);
  t.is(self.confident.fraction, self.confident.referenceFraction);
  t.true(self.confident.fraction > 0.9 && self.confident.fraction <= 1, `confident ${self.confident.fraction}`);
  // the floor is cached: the same number without recomputation
  const again = await sampleQuality(testSet.x.subarray(0, 200 * 784));
  t.is(again.floorFid, self.floorFid);
  t.true(again.fid > self.fid);
  const noise = await sampleQuality(randomUniform(300 * 784, 4, 0, 1));
  t.true(noise.fid > 20 * self.floorFid, `noise ${noise.fid} vs floor ${self.floorFid}`);
  // binarized references: binarized test images against them are 0, with their own floor
  const bin = await sampleQuality(binarize(testSet).x, { binarized: true });
  t.true(bin.fid < 1e-6);
  t.true(bin.floorFid > 0 && bin.floorFid !== self.floorFid);
  const f = await features(testSet.x.subarray(0, 3 * 784));
  const clf = await qualityClassifier(undefined);
  // the confident fraction of 200 images, from their softmax probabilities computed here
  const logits = clf.logits(testSet.x.subarray(0, 200 * 784));
  let confident = 0;
  for (let i = 0; i < 200; i++) {
    const row = [...logits.subarray(i * 10, i * 10 + 10)];
    const top = Math.max(...row);
    if (1 / row.reduce((s, l) => s + Math.exp(l - top), 0) >= 0.9) confident++;
  }
  t.is(again.confident.fraction, confident / 200);
  t.is(again.confident.referenceFraction, self.confident.referenceFraction);
  t.is(f.length, 3 * clf.featureDim);
  t.true(
    f.every((v) => v >= 0),
    "relu features",
  );
});

test("sample quality refuses images outside [0, 1], wrong sizes and a single image", async (t) => {
  const bad = testSet.x.slice(0, 2 * 784);
  bad[5] = -0.5;
  await t.throwsAsync(() => sampleQuality(bad), { instanceOf: DeepgenError, code: "E_ARG" } as never);
  await t.throwsAsync(() => sampleQuality(new Float32Array(100)), { instanceOf: DeepgenError, code: "E_SHAPE" } as never);
  await t.throwsAsync(() => sampleQuality(testSet.x.subarray(0, 784)), { instanceOf: DeepgenError, code: "E_SHAPE" } as never);
  await t.throwsAsync(() => sampleQuality(testSet.x, { reference: "valid" as never }), {
    instanceOf: DeepgenError,
    code: "E_ARG",
  } as never);
});

test("sampleImages maps each family's domain to [0, 1] and refuses unknown kinds", async (t) => {
  const fake = (kind: string, values: number[]) => ({
    kind,
    async sample(n: number, o: SampleOptions): Promise<Samples> {
      const x = Float32Array.from({ length: n * values.length }, (_, i) => values[i % values.length]!);
      return o.returnProbs ? { x, probs: x.map((v) => 0.5 * v + 0.25), n } : { x, n };
    },
  });
  const g = await sampleImages(fake("gan", [0, 0.5, 1, 1.00001]), 2, 0); // Gan.sample returns [0, 1] already
  t.deepEqual([...g.x], [0, 0.5, 1, 1, 0, 0.5, 1, 1]);
  t.is(g.domain, "unit");
  const r = await sampleImages(fake("rnade", [0.25, 1.2, -0.1]), 1, 0);
  t.deepEqual([...r.x], [0.25, 1, 0]);
  const b = await sampleImages(fake("vae", [0, 1]), 3, 0);
  t.is(b.domain, "binary");
  t.is(b.n, 3);
  // a continuous-Bernoulli VAE draws real values: judged as such, not as binary pixels
  const cb = await sampleImages({ ...fake("vae", [0.3, 0.7]), config: { decoder: "cbernoulli" } }, 1, 0);
  t.is(cb.domain, "unit");
  const m = await sampleImages(fake("aae", [0, 1]), 1, 0, { means: true });
  t.deepEqual([...m.x], [0.25, 0.75]);
  t.is(m.domain, "means");
  await t.throwsAsync(() => sampleImages(fake("gan", [0]), 1, 0, { means: true }), { instanceOf: DeepgenError, code: "E_ARG" } as never);
  await t.throwsAsync(() => sampleImages(fake("classifier", [0]), 1, 0), { instanceOf: DeepgenError, code: "E_ARG" } as never);
  await t.throwsAsync(() => sampleImages(fake("vae", [0]), 0, 0), { instanceOf: DeepgenError, code: "E_ARG" } as never);
});

test("every shipped sampler (the PixelRNNs included) has image samples sample quality can judge", async (t) => {
  for (const name of shippedSamplerNames()) {
    const model = await loadSampler(name);
    const s = await sampleImages(model as never, 2, 0);
    t.is(s.n, 2, name);
    t.true(
      s.x.every((v) => v >= 0 && v <= 1),
      name,
    );
  }
});
