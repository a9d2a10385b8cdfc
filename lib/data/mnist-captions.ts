/**
 * MNIST-Captions-60 (after Mansimov et al. 2016): 60x60 grayscale canvases of one or two
 * MNIST digits, each described by a 12-token caption ("the digit 3 is at the top of the
 * digit 5 ."), built deterministically from the canonical split (lib/data/mnist.ts).
 *
 * A digit is its full 28x28 image pasted by pixelwise max at a random integer offset of its
 * box's top-left corner [row, col]:
 *   side by side  both rows r in [16, 18]; left col in [0, 4], right col in [28, 32]
 *   stacked       both cols c in [16, 18]; top row in [0, 2], bottom row in [30, 32]
 *   one corner    rows [0, 2] (top) or [30, 32] (bottom); cols [0, 4] (left) or [28, 32] (right)
 *
 * Captions fall in three sets. "banned" and "unseen" captions are never drawn for training or
 * model selection; they measure whether a model composes words it has only seen elsewhere.
 * A caption that is both (e.g. template 0 with A = 3, B = 5) counts as unseen.
 *
 * Sampling draws a template uniformly, then its digits uniformly, and redraws until the
 * caption is in the wanted set; every row has its own Philox counters (row, attempt), so a
 * set's first k canvases do not depend on how many are drawn.
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { philox4x32, type Seed, seedToKey, uniformF64 } from "../core/philox.js";
import type { Dataset } from "./dataset.js";
import { MNIST_SIDE } from "./mnist.js";

export const CANVAS_SIDE = 60;
export const CANVAS_DIM = CANVAS_SIDE * CANVAS_SIDE;

/** Where the digits sit: side by side, stacked, or one digit in a corner. */
export const LAYOUTS = ["LR", "TB", "TL", "TR", "BL", "BR"] as const;
export type Layout = (typeof LAYOUTS)[number];
/** The second slot's class when a canvas has one digit. */
export const NO_DIGIT = 10;

export const CAPTION_TEMPLATES = [
  "the digit A is on the left of the digit B .",
  "the digit A is on the right of the digit B .",
  "the digit A is at the top of the digit B .",
  "the digit A is at the bottom of the digit B .",
  "the digit A is at the top left of the image .",
  "the digit A is at the bottom right of the image .",
  "the digit A is at the top right of the image .",
  "the digit A is at the bottom left of the image .",
] as const;
export const CAPTION_TOKENS = 12;
const TEMPLATE_LAYOUT: readonly Layout[] = ["LR", "LR", "TB", "TB", "TL", "BR", "TR", "BL"];

export const CAPTION_SETS = ["seen", "banned", "unseen"] as const;
export type CaptionSet = (typeof CAPTION_SETS)[number];

/** A caption: its template and digits (b = -1 for the one-digit corner templates). */
export interface Caption {
  template: number;
  a: number;
  b: number;
}

/** What a canvas shows, as the judge reads it: layout index and the digit in each slot. */
export interface CanvasTarget {
  layout: number;
  /** Left or top digit (the only digit of a corner canvas). */
  slot1: number;
  /** Right or bottom digit, or NO_DIGIT. */
  slot2: number;
}

export function isTwoDigit(template: number): boolean {
  return template < 4;
}

function checkCaption(c: Caption): void {
  checkInteger("caption template", c.template, 0, CAPTION_TEMPLATES.length - 1);
  checkInteger("caption digit A", c.a, 0, 9);
  if (isTwoDigit(c.template)) checkInteger("caption digit B", c.b, 0, 9);
  else if (c.b !== -1) throw new DeepgenError("E_ARG", `caption template ${c.template} names one digit, so B must be -1, got ${c.b}`);
}

/** Banned digits of each template: [A values, B values]. */
const BANNED: readonly [readonly number[], readonly number[]][] = [
  [[3], [8]],
  [[1], [6]],
  [[7], [2]],
  [[0], [5]],
  [[9], []],
  [[4], []],
  [[2], []],
  [[6], []],
];

export function captionSet(c: Caption): CaptionSet {
  checkCaption(c);
  if (isTwoDigit(c.template) && ((c.a === 3 && c.b === 5) || (c.a === 5 && c.b === 3))) return "unseen";
  const [bannedA, bannedB] = BANNED[c.template]!;
  return bannedA.includes(c.a) || bannedB.includes(c.b) ? "banned" : "seen";
}

export function captionText(c: Caption): string {
  checkCaption(c);
  return CAPTION_TEMPLATES[c.template]!.replace("A", String(c.a)).replace("B", String(c.b));
}

export function captionTarget(c: Caption): CanvasTarget {
  checkCaption(c);
  const layout = LAYOUTS.indexOf(TEMPLATE_LAYOUT[c.template]!);
  if (!isTwoDigit(c.template)) return { layout, slot1: c.a, slot2: NO_DIGIT };
  // "A is on the right of B" and "A is at the bottom of B" put A in the second slot.
  const swapped = c.template === 1 || c.template === 3;
  return swapped ? { layout, slot1: c.b, slot2: c.a } : { layout, slot1: c.a, slot2: c.b };
}

export function sameTarget(a: CanvasTarget, b: CanvasTarget): boolean {
  return a.layout === b.layout && a.slot1 === b.slot1 && a.slot2 === b.slot2;
}

/** All 440 captions: templates in order, A then B ascending. */
export function allCaptions(): Caption[] {
  const out: Caption[] = [];
  for (let template = 0; template < CAPTION_TEMPLATES.length; template++) {
    for (let a = 0; a < 10; a++) {
      if (!isTwoDigit(template)) out.push({ template, a, b: -1 });
      else for (let b = 0; b < 10; b++) out.push({ template, a, b });
    }
  }
  return out;
}

/** One canvas: its caption and the digit images (indices into a digit dataset) with their offsets. */
export interface CanvasRecord {
  caption: Caption;
  indexA: number;
  offsetA: [number, number];
  /** -1 and undefined for one-digit captions. */
  indexB: number;
  offsetB: [number, number] | undefined;
}

/** Pastes one record's digits into `out` at `at` (CANVAS_DIM floats, zeroed first). */
export function drawCanvas(digits: Dataset, rec: CanvasRecord, out: Float32Array, at = 0): void {
  drawCanvasFrom(digitImage(digits, rec.indexA), rec.offsetB === undefined ? undefined : digitImage(digits, rec.indexB), rec, out, at);
}

/** The 28x28 image `index` of a digit dataset (a view). */
export function digitImage(digits: Dataset, index: number): Float32Array {
  if (digits.height !== MNIST_SIDE || digits.width !== MNIST_SIDE) {
    throw new DeepgenError("E_SHAPE", `canvas digits must be ${MNIST_SIDE}x${MNIST_SIDE}, got ${digits.height}x${digits.width}`);
  }
  checkInteger("digit index", index, 0, digits.n - 1);
  return digits.x.subarray(index * digits.dim, (index + 1) * digits.dim);
}

/** Pastes the given 28x28 images at a record's offsets (the second only for two-digit records). */
export function drawCanvasFrom(imageA: Float32Array, imageB: Float32Array | undefined, rec: CanvasRecord, out: Float32Array, at = 0): void {
  out.fill(0, at, at + CANVAS_DIM);
  paste(imageA, rec.offsetA, out, at);
  if (rec.offsetB !== undefined) {
    if (imageB === undefined) throw new DeepgenError("E_ARG", "a two-digit canvas needs its second digit's image");
    paste(imageB, rec.offsetB, out, at);
  }
}

function paste(image: Float32Array, [row, col]: [number, number], out: Float32Array, at: number): void {
  checkInteger("digit row offset", row, 0, CANVAS_SIDE - MNIST_SIDE);
  checkInteger("digit column offset", col, 0, CANVAS_SIDE - MNIST_SIDE);
  for (let r = 0; r < MNIST_SIDE; r++) {
    const o = at + (row + r) * CANVAS_SIDE + col;
    const s = r * MNIST_SIDE;
    for (let c = 0; c < MNIST_SIDE; c++) {
      const v = image[s + c]!;
      if (v > out[o + c]!) out[o + c] = v;
    }
  }
}

/** A batch of captioned canvases. */
export interface CaptionedCanvases {
  readonly n: number;
  /** [n, 3600] grayscale in [0, 1]. */
  readonly x: Float32Array;
  readonly records: CanvasRecord[];
}

const CANVAS_STREAM = 0x4341_4e56; // "CANV"
const CAPTION_CANVAS_STREAM = 0x4341_5054; // "CAPT"
const MAX_ATTEMPTS = 1 << 16;

/**
 * Draws `n` canvases whose captions are in `set` ("all": any of the 440 captions), from the
 * digit images of `digits` (which must carry labels), with Philox(seed) on counters
 * (first + row, stream, attempt).
 */
export function sampleCanvasRecords(
  digits: Dataset,
  set: CaptionSet | "all",
  n: number,
  seed: Seed,
  stream: number,
  first = 0,
): CanvasRecord[] {
  checkInteger("canvas count", n, 0);
  if (set !== "all" && !CAPTION_SETS.includes(set))
    throw new DeepgenError("E_ARG", `caption set must be one of ${CAPTION_SETS.join(", ")}, got ${String(set)}`);
  const byLabel = indicesByLabel(digits);
  const { key0, key1 } = seedToKey(seed);
  const block = new Uint32Array(4);
  const offsets = new Uint32Array(4);
  const out: CanvasRecord[] = [];
  for (let i = 0; i < n; i++) {
    let rec: CanvasRecord | undefined;
    for (let attempt = 0; rec === undefined; attempt++) {
      if (attempt === MAX_ATTEMPTS) throw new DeepgenError("E_ARG", `no ${set} caption drawn in ${MAX_ATTEMPTS} attempts`);
      philox4x32(first + i, stream, CANVAS_STREAM, attempt * 3, key0, key1, block);
      const template = pick(block[0]!, CAPTION_TEMPLATES.length);
      const caption: Caption = { template, a: pick(block[1]!, 10), b: isTwoDigit(template) ? pick(block[2]!, 10) : -1 };
      if (set !== "all" && captionSet(caption) !== set) continue;
      philox4x32(first + i, stream, CANVAS_STREAM, attempt * 3 + 1, key0, key1, block);
      philox4x32(first + i, stream, CANVAS_STREAM, attempt * 3 + 2, key0, key1, offsets);
      rec = placeDigits(caption, byLabel, block, offsets);
    }
    out.push(rec);
  }
  return out;
}

/**
 * Canvases of given captions (row i shows captions[i]), digit images and offsets drawn from
 * Philox(seed) on counters (first + row, stream): real canvases to compare generated ones with.
 */
export function recordsForCaptions(digits: Dataset, captions: readonly Caption[], seed: Seed, stream: number, first = 0): CanvasRecord[] {
  const byLabel = indicesByLabel(digits);
  const { key0, key1 } = seedToKey(seed);
  const images = new Uint32Array(4);
  const offsets = new Uint32Array(4);
  return captions.map((caption, i) => {
    checkCaption(caption);
    philox4x32(first + i, stream, CAPTION_CANVAS_STREAM, 0, key0, key1, images);
    philox4x32(first + i, stream, CAPTION_CANVAS_STREAM, 1, key0, key1, offsets);
    return placeDigits(caption, byLabel, images, offsets);
  });
}

/** Renders records into one [n, 3600] array. */
export function renderCanvases(digits: Dataset, records: CanvasRecord[]): CaptionedCanvases {
  const x = new Float32Array(records.length * CANVAS_DIM);
  for (const [i, rec] of records.entries()) drawCanvas(digits, rec, x, i * CANVAS_DIM);
  return { n: records.length, x, records };
}

function pick(word: number, k: number): number {
  return Math.min(k - 1, Math.floor(uniformF64(word) * k));
}

function indicesByLabel(digits: Dataset): number[][] {
  if (digits.labels === undefined) throw new DeepgenError("E_ARG", "captioned canvases need digit labels");
  const out: number[][] = Array.from({ length: 10 }, () => []);
  for (let i = 0; i < digits.n; i++) out[digits.labels[i]!]?.push(i);
  for (let d = 0; d < 10; d++) {
    if (out[d]!.length === 0) throw new DeepgenError("E_ARG", `captioned canvases need images of every digit; ${d} has none`);
  }
  return out;
}

/** Digit images (words 0, 1 of `images`) and offsets (words 0..2 of `offsets`) for a caption. */
function placeDigits(caption: Caption, byLabel: number[][], images: Uint32Array, offsets: Uint32Array): CanvasRecord {
  const imageOf = (digit: number, word: number) => byLabel[digit]![pick(word, byLabel[digit]!.length)]!;
  const jitter = (word: number, lo: number, hi: number) => lo + pick(word, hi - lo + 1);
  const word = (k: number) => offsets[k]!;
  const { template, a, b } = caption;
  const indexA = imageOf(a, images[0]!);
  switch (TEMPLATE_LAYOUT[template]) {
    case "LR": {
      const row = jitter(word(0), 16, 18);
      const left: [number, number] = [row, jitter(word(1), 0, 4)];
      const right: [number, number] = [row, jitter(word(2), 28, 32)];
      const aLeft = template === 0;
      return { caption, indexA, offsetA: aLeft ? left : right, indexB: imageOf(b, images[1]!), offsetB: aLeft ? right : left };
    }
    case "TB": {
      const col = jitter(word(0), 16, 18);
      const top: [number, number] = [jitter(word(1), 0, 2), col];
      const bottom: [number, number] = [jitter(word(2), 30, 32), col];
      const aTop = template === 2;
      return { caption, indexA, offsetA: aTop ? top : bottom, indexB: imageOf(b, images[1]!), offsetB: aTop ? bottom : top };
    }
    default: {
      const corner = TEMPLATE_LAYOUT[template]!;
      const row = corner[0] === "T" ? jitter(word(0), 0, 2) : jitter(word(0), 30, 32);
      const col = corner[1] === "L" ? jitter(word(1), 0, 4) : jitter(word(1), 28, 32);
      return { caption, indexA, offsetA: [row, col], indexB: -1, offsetB: undefined };
    }
  }
}
