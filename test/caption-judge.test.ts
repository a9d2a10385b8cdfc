import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { CANVAS_DIM, captionTarget, type Caption } from "../lib/data/mnist-captions.js";
import { testCanvases } from "../lib/data/mnist-captions-split.js";
import { CaptionJudge, JUDGE_HEADS, type JudgeReading } from "../lib/models/caption-judge.js";
import { meanPairwiseDistance, readingScores } from "../lib/models/text2image-metrics.js";

const dir = mkdtempSync(join(tmpdir(), "deepgen-judge-"));

function tinyJudge(): CaptionJudge {
  return CaptionJudge.create({ channels: [4, 8], features: 16, initSeed: 3 });
}

test("a tiny judge trains, reads canvases as three distributions, and round-trips through its file", async (t) => {
  const judge = tinyJudge();
  const r = await judge.fit({ epochs: 2, canvasesPerEpoch: 64, validationCanvases: 32, batchSize: 32, seed: 1 });
  t.is(r.history.length, 2);
  t.true(r.history.every((h) => Number.isFinite(h.train) && h.validationAccuracy !== undefined));
  const canvases = testCanvases("seen", 10);
  const reading = judge.read(canvases.x);
  t.is(reading.features.length, 10 * 16);
  t.is(reading.readings.length, 10);
  for (let i = 0; i < 10; i++) {
    let at = 0;
    for (const classes of JUDGE_HEADS) {
      const sum = reading.logProbs.subarray(i * 27 + at, i * 27 + at + classes).reduce((s, l) => s + Math.exp(l), 0);
      t.true(Math.abs(sum - 1) < 1e-5);
      at += classes;
    }
  }
  const path = join(dir, "judge.safetensors");
  await judge.save(path);
  const again = await CaptionJudge.load(path);
  t.deepEqual(again.read(canvases.x).logProbs, reading.logProbs);
  t.deepEqual(judge.read(canvases.x, { backend: "js" }).readings, reading.readings);
  t.throws(() => judge.read(new Float32Array(CANVAS_DIM + 1)), { instanceOf: DeepgenError, message: /3600/ });
  t.throws(() => judge.read(new Float32Array(CANVAS_DIM).fill(2)), { instanceOf: DeepgenError });
  t.throws(() => CaptionJudge.create({ channels: [1, 2, 3, 4, 5, 6, 7] }), { message: /1 to 6 integers/ });
});

test("a resumed judge fit continues exactly", async (t) => {
  const path = join(dir, "judge.ckpt.safetensors");
  const opts = { canvasesPerEpoch: 64, validationCanvases: 16, batchSize: 32, seed: 2 };
  const whole = tinyJudge();
  await whole.fit({ ...opts, epochs: 2 });
  const first = tinyJudge();
  await first.fit({ ...opts, epochs: 1, checkpointPath: path });
  const resumed = tinyJudge();
  await resumed.fit({ ...opts, epochs: 2, resumeFrom: path });
  t.deepEqual(resumed.encoder.params(), whole.encoder.params());
});

/** A reading that puts probability p on `target` in every head (the rest spread evenly). */
function readingOf(targets: { layout: number; slot1: number; slot2: number }[], p = 0.9): JudgeReading {
  const n = targets.length;
  const logProbs = new Float32Array(n * 27);
  targets.forEach((t, i) => {
    let at = 0;
    [t.layout, t.slot1, t.slot2].forEach((want, h) => {
      const C = JUDGE_HEADS[h]!;
      for (let c = 0; c < C; c++) logProbs[i * 27 + at + c] = Math.log(c === want ? p : (1 - p) / (C - 1));
      at += C;
    });
  });
  return { features: new Float32Array(n), logProbs, readings: targets };
}

test("reading scores are exact on readings of known captions", (t) => {
  const captions: Caption[] = [
    { template: 0, a: 3, b: 5 },
    { template: 1, a: 3, b: 5 },
    { template: 4, a: 7, b: -1 },
    { template: 2, a: 1, b: 2 },
  ];
  const right = captions.map(captionTarget);
  const perfect = readingScores(readingOf(right), captions);
  t.deepEqual(perfect, { strict_accuracy: 1, digit_accuracy: 1, layout_accuracy: 1, r_precision: 1 });
  // Wrong second digit on caption 0, wrong layout on caption 3: 7 digits named, 6 read right.
  const wrong = right.map((x) => ({ ...x }));
  wrong[0]!.slot2 = 4;
  wrong[3]!.layout = 0;
  const s = readingScores(readingOf(wrong), captions);
  t.is(s.strict_accuracy, 0.5);
  t.is(s.layout_accuracy, 0.75);
  t.is(s.digit_accuracy, 6 / 7);
  // Captions 1 and 2 are read right, so every distractor (another reading) scores lower; caption 0
  // ties with the 16 captions read "3 left of x" (x other than 4 and 5), of which 99 draws miss
  // all with probability 2.5%: a tie is a miss.
  const first3 = readingScores(readingOf(wrong.slice(0, 3)), captions.slice(0, 3));
  t.is(first3.r_precision, 2 / 3);
  t.throws(() => readingScores(readingOf(right), captions.slice(1)), { message: /4 images but 3 captions/ });
});

test("mean pairwise distance is exact on a small case", (t) => {
  // three points on a line at 0, 3 and 4: distances 3, 4, 1
  t.is(meanPairwiseDistance(Float32Array.of(0, 0, 3, 0, 4, 0), 3, 2), 8 / 3);
});

test("the shipped judge reads real test canvases near its ceiling", async (t) => {
  const judge = await CaptionJudge.load("packages/models-mnist/models/mnist-captions-judge.safetensors").catch(() => undefined);
  if (judge === undefined) return t.pass("no shipped judge in this checkout");
  for (const set of ["seen", "banned", "unseen"] as const) {
    const canvases = testCanvases(set, 400);
    const { accuracy } = judge.evaluate(canvases.x, canvases.records);
    t.true(accuracy >= 0.95, `${set}: strict accuracy ${accuracy}`);
  }
});
