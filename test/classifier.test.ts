// The sample-quality classifier (lib/models/classifier.ts): training on a tiny subset, file
// round trip, resume, backend parity, shifts and bad input.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { makeDataset, subset } from "../lib/data/dataset.js";
import { canonicalSplit } from "../lib/data/mnist.js";
import { Classifier, gatherShifted } from "../lib/models/classifier.js";
import { Vae } from "../lib/models/vae.js";
import { code } from "./helpers/errors.js";
import { maxRelDiff } from "./helpers/numeric.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-classifier-"));
const { train, test: testSet } = canonicalSplit();
// Every 16th training image (500, all digits) and every 4th test image (499).
const small = subset(
  train,
  Array.from({ length: 500 }, (_, i) => i * 16),
);
const smallTest = subset(
  testSet,
  Array.from({ length: 499 }, (_, i) => i * 4),
);
const tiny = { channels: [4, 8] as [number, number], features: 16, initSeed: 3 };

test("training on 500 images lowers the cross-entropy and reaches far-above-chance test accuracy", async (t) => {
  const m = Classifier.create(tiny);
  const before = m.evaluate(smallTest.x, smallTest.labels!);
  const r = await m.fit(small, { epochs: 4, batchSize: 25, lr: 3e-3, validation: 0.1, seed: 1 });
  const losses = r.history.map((h) => h.train);
  t.true(losses[losses.length - 1]! < 0.6 * losses[0]!, `train loss ${losses.join(", ")}`);
  t.is(r.trainSize, 450);
  t.is(r.validationSize, 50);
  t.true(r.history.every((h) => h.validationAccuracy !== undefined));
  const after = m.evaluate(smallTest.x, smallTest.labels!);
  t.true(after.loss < before.loss, `${before.loss} -> ${after.loss}`);
  t.true(after.accuracy > 0.6, `test accuracy ${after.accuracy} (chance 0.1)`);
});

test("save / load round trip gives identical features, logits and predictions; resume continues exactly", async (t) => {
  const a = Classifier.create(tiny);
  const ckpt = join(dir, "a.ckpt.safetensors");
  await a.fit(small, { epochs: 2, batchSize: 50, shift: 1, seed: 2, checkpointPath: ckpt });
  const path = join(dir, "a.safetensors");
  await a.save(path);
  const b = await Classifier.load(path);
  t.deepEqual(b.config, a.config);
  const x = smallTest.x.subarray(0, 37 * 784);
  t.deepEqual(b.features(x), a.features(x));
  t.deepEqual(b.logits(x), a.logits(x));
  t.deepEqual(b.predict(x), a.predict(x));
  t.is(b.features(x).length, 37 * 16);
  // Two epochs straight vs one, then a resume for the second.
  const straight = Classifier.create(tiny);
  await straight.fit(small, { epochs: 2, batchSize: 50, shift: 1, seed: 5 });
  const first = Classifier.create(tiny);
  const ck2 = join(dir, "b.ckpt.safetensors");
  await first.fit(small, { epochs: 1, batchSize: 50, shift: 1, seed: 5, checkpointPath: ck2 });
  const resumed = Classifier.create(tiny);
  const r = await resumed.fit(small, { epochs: 2, batchSize: 50, shift: 1, seed: 5, resumeFrom: ck2 });
  t.is(r.history.length, 2);
  t.deepEqual(resumed.logits(x), straight.logits(x));
});

test("native and JS backends give the same features and logits", (t) => {
  const m = Classifier.create({ ...tiny, channels: [3, 5], features: 7 });
  const x = smallTest.x.subarray(0, 9 * 784);
  t.true(maxRelDiff(m.features(x, { backend: "native" }), m.features(x, { backend: "js" })) < 1e-5);
  t.true(maxRelDiff(m.logits(x, { backend: "native" }), m.logits(x, { backend: "js" })) < 1e-5);
});

test("shifts move each image by at most `shift` pixels, seeded; shift 0 copies", (t) => {
  const x = new Float32Array(3 * 784);
  for (let i = 0; i < 3; i++) x[i * 784 + 14 * 28 + 14] = 1; // one pixel at the centre
  const d = makeDataset(x, Uint8Array.of(0, 1, 2), 28, 28);
  const out = new Float32Array(3 * 784);
  gatherShifted(d, [0, 1, 2], out, 0, 1, 0);
  t.deepEqual(out, x);
  const moved = new Set<string>();
  for (let step = 0; step < 20; step++) {
    gatherShifted(d, [0, 1, 2], out, 2, 1, step);
    for (let i = 0; i < 3; i++) {
      const img = out.subarray(i * 784, (i + 1) * 784);
      const on = [...img.keys()].filter((k) => img[k] === 1);
      t.is(on.length, 1);
      const [y, xx] = [Math.floor(on[0]! / 28), on[0]! % 28];
      t.true(Math.abs(y - 14) <= 2 && Math.abs(xx - 14) <= 2);
      moved.add(`${y},${xx}`);
    }
  }
  t.true(moved.size > 5, "the shifts vary");
  const again = new Float32Array(3 * 784);
  gatherShifted(d, [0, 1, 2], again, 2, 1, 19);
  t.deepEqual(again, out);
});

test("classifier bad input: shapes, labels, files", async (t) => {
  const m = Classifier.create(tiny);
  t.is(
    code(t, () => m.features(new Float32Array(100))),
    "E_SHAPE",
  );
  t.is(
    code(t, () => m.evaluate(smallTest.x.subarray(0, 784), [1, 2])),
    "E_SHAPE",
  );
  t.is(
    code(t, () => m.evaluate(smallTest.x.subarray(0, 784), [10])),
    "E_ARG",
  );
  t.is(
    code(t, () => Classifier.create({ channels: [0, 3] })),
    "E_ARG",
  );
  await t.throwsAsync(() => m.fit(makeDataset(small.x, undefined, 28, 28)), { instanceOf: DeepgenError, code: "E_ARG" } as never);
  await t.throwsAsync(() => m.fit(small, { shift: 28 }), { instanceOf: DeepgenError, code: "E_ARG" } as never);
  const vaePath = join(dir, "vae.safetensors");
  await Vae.create({ dim: 784, latent: 2, hidden: [4] }).save(vaePath);
  await t.throwsAsync(() => Classifier.load(vaePath), { instanceOf: DeepgenError, code: "E_FORMAT" } as never);
});
