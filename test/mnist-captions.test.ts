import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

import test from "ava";

import { DeepgenError } from "../lib/core/errors.js";
import { closestWord, detokenize, normalizeCaption, tokenize, tokenizeAll, VOCABULARY } from "../lib/data/caption-tokens.js";
import {
  allCaptions,
  CANVAS_DIM,
  type CanvasRecord,
  captionSet,
  captionTarget,
  captionText,
  drawCanvas,
  LAYOUTS,
  NO_DIGIT,
  sampleCanvasRecords,
} from "../lib/data/mnist-captions.js";
import { captionDigits, testCanvases, trainingCanvases, validationCanvases } from "../lib/data/mnist-captions-split.js";

const FIXTURES = new URL("fixtures/mnist-captions/", import.meta.url);

interface FixtureRecord {
  caption: string;
  template: number;
  A: number;
  B: number;
  category: string;
  layout: string;
  slot1: number;
  slot2: number;
  test_index_a: number;
  offset_a: [number, number];
  test_index_b: number;
  offset_b: [number, number] | null;
}

function readNpyF32(bytes: Buffer): Float32Array {
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString("latin1");
  if (!header.includes("'<f4'")) throw new Error(`unexpected npy header ${header}`);
  const data = bytes.subarray(10 + headerLength);
  return new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

test("the reference canvases are rebuilt pixel for pixel from the canonical test digits", (t) => {
  const { records } = JSON.parse(readFileSync(new URL("canvas_fixtures.json", FIXTURES), "utf8")) as { records: FixtureRecord[] };
  const expected = readNpyF32(gunzipSync(readFileSync(new URL("canvas_fixtures.npy.gz", FIXTURES))));
  t.is(expected.length, records.length * CANVAS_DIM);
  const digits = captionDigits().test;
  const canvas = new Float32Array(CANVAS_DIM);
  for (const [i, r] of records.entries()) {
    const caption = { template: r.template, a: r.A, b: r.B };
    t.is(captionText(caption), r.caption);
    t.is(captionSet(caption) as string, r.category);
    const target = captionTarget(caption);
    t.deepEqual([LAYOUTS[target.layout], target.slot1, target.slot2], [r.layout, r.slot1, r.slot2]);
    const rec: CanvasRecord = {
      caption,
      indexA: r.test_index_a,
      offsetA: r.offset_a,
      indexB: r.test_index_b,
      offsetB: r.offset_b ?? undefined,
    };
    drawCanvas(digits, rec, canvas);
    const want = expected.subarray(i * CANVAS_DIM, (i + 1) * CANVAS_DIM);
    t.true(
      canvas.every((v, k) => v === want[k]),
      `canvas ${i} (${r.caption}) differs`,
    );
  }
});

test("the 440 captions split into 354 seen, 78 banned and 8 unseen-pair captions", (t) => {
  const all = allCaptions();
  t.is(all.length, 440);
  const count = (set: string) => all.filter((c) => captionSet(c) === set).length;
  t.deepEqual([count("seen"), count("banned"), count("unseen")], [354, 78, 8]);
  for (const c of all.filter((c) => captionSet(c) === "unseen")) t.true((c.a === 3 && c.b === 5) || (c.a === 5 && c.b === 3));
  t.is(captionSet({ template: 4, a: 9, b: -1 }), "banned");
  t.is(captionSet({ template: 4, a: 8, b: -1 }), "seen");
  t.is(captionSet({ template: 3, a: 1, b: 5 }), "banned");
  t.throws(() => captionText({ template: 8, a: 1, b: 2 }), { instanceOf: DeepgenError, message: /template/ });
  t.throws(() => captionText({ template: 5, a: 1, b: 2 }), { instanceOf: DeepgenError, message: /B must be -1/ });
  // Every caption is 12 tokens with the final ".".
  for (const c of all) t.is(captionText(c).split(" ").length, 12);
});

function checkOffsets(t: import("ava").ExecutionContext, rec: CanvasRecord): void {
  const { layout, slot1 } = captionTarget(rec.caption);
  const within = (v: number, lo: number, hi: number) => v >= lo && v <= hi;
  const [a, b] = [rec.offsetA, rec.offsetB];
  switch (LAYOUTS[layout]) {
    case "LR": {
      const [left, right] = rec.caption.template === 0 ? [a, b!] : [b!, a];
      t.true(left[0] === right[0] && within(left[0], 16, 18) && within(left[1], 0, 4) && within(right[1], 28, 32));
      break;
    }
    case "TB": {
      const [top, bottom] = rec.caption.template === 2 ? [a, b!] : [b!, a];
      t.true(top[1] === bottom[1] && within(top[1], 16, 18) && within(top[0], 0, 2) && within(bottom[0], 30, 32));
      break;
    }
    default: {
      const corner = LAYOUTS[layout]!;
      t.true(within(a[0], corner[0] === "T" ? 0 : 30, corner[0] === "T" ? 2 : 32));
      t.true(within(a[1], corner[1] === "L" ? 0 : 28, corner[1] === "L" ? 4 : 32));
      t.is(b, undefined);
      t.is(rec.indexB, -1);
    }
  }
  t.true(slot1 >= 0 && slot1 < NO_DIGIT);
}

test("sampled canvases keep their offsets, digits and caption set, and are deterministic", (t) => {
  const digits = captionDigits().test;
  for (const set of ["seen", "banned", "unseen"] as const) {
    const recs = sampleCanvasRecords(digits, set, 300, 7, 1);
    for (const rec of recs) {
      t.is(captionSet(rec.caption), set);
      checkOffsets(t, rec);
      t.is(digits.labels![rec.indexA], rec.caption.a);
      if (rec.indexB >= 0) t.is(digits.labels![rec.indexB], rec.caption.b);
    }
    // A prefix does not depend on how many are drawn, and the same seed gives the same records.
    t.deepEqual(sampleCanvasRecords(digits, set, 50, 7, 1), recs.slice(0, 50));
    t.notDeepEqual(sampleCanvasRecords(digits, set, 50, 8, 1), recs.slice(0, 50));
  }
  const templates = new Set(sampleCanvasRecords(digits, "seen", 300, 7, 1).map((r) => r.caption.template));
  t.is(templates.size, 8);
});

test("training canvases never carry a banned or unseen-pair caption, and use only training digits", (t) => {
  const { train, validation, test: testDigits } = captionDigits();
  t.is(train.n + validation.n, 8004);
  t.is(testDigits.n, 1996);
  const epoch = trainingCanvases(3, 4000, 11);
  t.is(epoch.x.length, 4000 * CANVAS_DIM);
  t.true(epoch.records.every((r) => captionSet(r.caption) === "seen"));
  t.deepEqual(trainingCanvases(3, 10, 11).x, epoch.x.subarray(0, 10 * CANVAS_DIM));
  t.notDeepEqual(trainingCanvases(4, 10, 11).x, epoch.x.subarray(0, 10 * CANVAS_DIM));
  // Pixels come from the training digits: every canvas equals its records drawn from them.
  const canvas = new Float32Array(CANVAS_DIM);
  for (let i = 0; i < 20; i++) {
    drawCanvas(train, epoch.records[i]!, canvas);
    t.deepEqual(canvas, epoch.x.subarray(i * CANVAS_DIM, (i + 1) * CANVAS_DIM));
  }
  t.true(validationCanvases(200).records.every((r) => captionSet(r.caption) === "seen"));
  const banned = testCanvases("banned", 200);
  t.true(banned.records.every((r) => captionSet(r.caption) === "banned"));
  t.deepEqual(testCanvases("banned", 50).x, banned.x.subarray(0, 50 * CANVAS_DIM));
});

test("captions tokenize after normalization, and bad words are clear errors", (t) => {
  const ids = tokenize("the digit 3 is at the top of the digit 5 .");
  t.is(ids.length, 12);
  t.is(detokenize(ids), "the digit 3 is at the top of the digit 5 .");
  t.deepEqual(tokenize("  The Digit THREE is at the top of the digit five"), ids);
  t.deepEqual(tokenize("the digit 3 is at the top of the digit 5."), ids);
  t.is(normalizeCaption("The digit one is at the top left of the image"), "the digit 1 is at the top left of the image .");
  const short = tokenize("the digit 3");
  t.deepEqual(Array.from(short.subarray(4)), [0, 0, 0, 0, 0, 0, 0, 0]);
  t.is(tokenizeAll(["the digit 1 .", "the digit 2 ."]).length, 24);
  const unknown = t.throws(() => tokenize("the digit 3 is above the digit 5 ."), { instanceOf: DeepgenError });
  t.is(unknown.code, "E_ARG");
  t.regex(unknown.message, /unknown word "above"/);
  t.regex(unknown.message, /known words: the digit is on at left right top bottom of image \. 0 1/);
  t.throws(() => tokenize("the digitt 3 ."), { message: /did you mean "digit"/ });
  const long = t.throws(() => tokenize("the digit 3 is at the top of the digit 5 and more ."), { instanceOf: DeepgenError });
  t.regex(long.message, /has 14 words; this model reads at most 12/);
  t.throws(() => tokenize("   "), { message: /empty/ });
  t.throws(() => tokenize("<pad> digit ."), { message: /unknown word "<pad>"/ });
  t.throws(() => detokenize([99]), { message: /outside the vocabulary/ });
  t.is(closestWord("lefft", VOCABULARY), "left");
});
