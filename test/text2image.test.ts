import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { CANVAS_DIM, captionSet, captionTarget, sameTarget } from "../lib/data/mnist-captions.js";
import { TextToImage } from "../lib/models/text2image.js";
import { mismatchedCaptions } from "../lib/models/text2image-trainer.js";
import { maxAbsDiff } from "./helpers/numeric.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-t2i-"));
const CAPTION = "the digit 3 is at the top of the digit 5 .";

function tiny(seed = 1): TextToImage {
  return TextToImage.create({ zdim: 4, textDim: 8, channels: [8, 4], discChannels: [4, 8], initSeed: seed });
}

const FIT = { canvasesPerEpoch: 64, batchSize: 32, seed: 3 };

test("a tiny model trains, and generates the same images sync, async, on JS and after a file round trip", async (t) => {
  const model = tiny();
  const r = await model.fit({ ...FIT, epochs: 1 });
  const terms = r.history[0]!.terms;
  t.true([terms.discriminatorLoss, terms.generatorLoss, terms.dReal, terms.dMismatched, terms.dFake].every(Number.isFinite));
  const sync = model.generateSync(CAPTION, { n: 3, seed: 7 });
  t.is(sync.x.length, 3 * CANVAS_DIM);
  t.deepEqual(sync.captions, [CAPTION, CAPTION, CAPTION]);
  t.true(sync.x.every((v) => v >= 0 && v <= 1));
  const async = await model.generate(CAPTION, { n: 3, seed: 7 });
  t.deepEqual(async.x, sync.x);
  t.true(maxAbsDiff(model.generateSync(CAPTION, { n: 3, seed: 7, backend: "js" }).x, sync.x) <= 1e-5);
  // Image i depends only on its caption and noise row i: a list gives each caption its row.
  const list = model.generateSync([CAPTION, "the digit 1 is at the top left of the image ."], { seed: 7 });
  t.deepEqual(list.x.subarray(0, CANVAS_DIM), sync.x.subarray(0, CANVAS_DIM));
  t.notDeepEqual(list.x.subarray(CANVAS_DIM), sync.x.subarray(CANVAS_DIM, 2 * CANVAS_DIM));
  // Normalized captions give the same images.
  t.deepEqual(model.generateSync("The digit three is at the top of the digit five", { n: 3, seed: 7 }).x, sync.x);
  const path = join(dir, "t2i.safetensors");
  await model.save(path);
  const again = await TextToImage.load(path);
  t.deepEqual(again.generateSync(CAPTION, { n: 3, seed: 7 }).x, sync.x);
  t.deepEqual(again.encodeText(CAPTION), model.encodeText(CAPTION));
  const rows = model.interpolateCaptions(CAPTION, "the digit 1 is at the top left of the image .", { steps: 4, rows: 2, seed: 7 });
  t.is(rows.length, 8 * CANVAS_DIM);
  // The first step of each row is the first caption at that row's noise.
  t.true(maxAbsDiff(rows.subarray(0, CANVAS_DIM), sync.x.subarray(0, CANVAS_DIM)) <= 1e-6);
});

test("generation is asynchronous, honours its signal, and rejects bad captions and counts", async (t) => {
  const model = tiny();
  const controller = new AbortController();
  controller.abort();
  await t.throwsAsync(model.generate(CAPTION, { n: 2, signal: controller.signal }), { instanceOf: DeepgenError, message: /abort/ });
  t.throws(() => model.generateSync("the digit 3 is above the digit 5 ."), { instanceOf: DeepgenError, message: /unknown word "above"/ });
  t.throws(() => model.generateSync([CAPTION, CAPTION], { n: 3 }), { message: /must match the 2 captions/ });
  t.throws(() => model.generateSync([]), { message: /non-empty list/ });
  t.throws(() => model.generateSync(CAPTION, { n: 0 }), { instanceOf: DeepgenError });
  // The event loop turns while a large batch is drawn natively.
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  await model.generate(CAPTION, { n: 2000, seed: 1 });
  clearInterval(timer);
  t.true(ticks > 0);
});

test("a resumed fit continues exactly, and the ablation trains without the mismatched term", async (t) => {
  const path = join(dir, "t2i.ckpt.safetensors");
  const whole = tiny(2);
  await whole.fit({ ...FIT, epochs: 2 });
  const first = tiny(2);
  await first.fit({ ...FIT, epochs: 1, checkpointPath: path });
  const resumed = tiny(2);
  const r = await resumed.fit({ ...FIT, epochs: 2, resumeFrom: path });
  t.is(r.history.length, 2);
  t.deepEqual(resumed.generator.params(), whole.generator.params());
  t.deepEqual(resumed.genText.params(), whole.genText.params());
  const ablation = tiny(2);
  const a = await ablation.fit({ ...FIT, epochs: 1, matchingAware: false, interpolation: false });
  t.true(Number.isNaN(a.history[0]!.terms.dMismatched));
  t.true(Number.isFinite(a.history[0]!.terms.discriminatorLoss));
});

test("mismatched captions are seen captions that describe another canvas", (t) => {
  const captions = [
    { template: 0, a: 1, b: 2 },
    { template: 4, a: 7, b: -1 },
    { template: 3, a: 9, b: 9 },
  ];
  for (let step = 1; step < 50; step++) {
    const mis = mismatchedCaptions(captions, 5, step);
    mis.forEach((m, i) => {
      t.is(captionSet(m), "seen");
      t.false(sameTarget(captionTarget(m), captionTarget(captions[i]!)));
    });
  }
  t.deepEqual(mismatchedCaptions(captions, 5, 3), mismatchedCaptions(captions, 5, 3));
  // About half are near misses of the same template (a digit changed or the digits swapped).
  let sameTemplate = 0;
  for (let step = 1; step <= 200; step++)
    sameTemplate += mismatchedCaptions(captions, 5, step).filter((m, i) => m.template === captions[i]!.template).length;
  t.true(sameTemplate > 240 && sameTemplate < 400, `${sameTemplate} of 600 share the template`);
});
