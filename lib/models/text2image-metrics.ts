/**
 * The metrics of text-to-image results on MNIST-Captions-60, all read by the caption judge
 * (lib/models/caption-judge.ts), each per caption set (seen, banned, unseen pair) on the
 * captions of that set's fixed test canvases (lib/data/mnist-captions-split.ts):
 *
 *   strict accuracy   the judge reads the caption's layout and every digit
 *   digit accuracy    digits the caption names that the judge reads in their slot
 *   R-precision@1     the caption scores higher (judge log-probability of its reading) than
 *                     each of 99 random captions that describe a different canvas ("the digit
 *                     1 is on the left of the digit 2" and "the digit 2 is on the right of the
 *                     digit 1" describe the same canvas, so neither is the other's distractor;
 *                     a tie counts as a miss)
 *   FID               judge features of the images against the real test canvases of the same
 *                     captions; its floor is real canvases of train digits against the same
 *                     real test canvases
 *   diversity         mean pairwise judge-feature distance of 64 images of one caption, as a
 *                     ratio to 64 real test canvases of that caption (1.0: as varied as the data)
 *
 * The ceiling of each is the judge on the real test canvases themselves.
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { philox4x32, type Seed, seedToKey, uniformF64 } from "../core/philox.js";
import {
  allCaptions,
  CANVAS_DIM,
  type Caption,
  type CaptionSet,
  captionTarget,
  isTwoDigit,
  recordsForCaptions,
  renderCanvases,
  sameTarget,
} from "../data/mnist-captions.js";
import { captionDigits, TEST_CANVASES, testCanvases } from "../data/mnist-captions-split.js";
import type { BackendName } from "../kernels/kernels.js";
import { type CaptionJudge, type JudgeReading, targetLogProb } from "./caption-judge.js";
import { fid } from "./fid.js";

/** Draws one image per caption ([captions.length, 3600] in [0, 1]); the same seed, the same images. */
export type CaptionedGenerator = (captions: readonly Caption[], options: { seed: Seed; signal?: AbortSignal }) => Promise<Float32Array>;

export interface ReadingScores {
  strict_accuracy: number;
  digit_accuracy: number;
  layout_accuracy: number;
  r_precision: number;
}

export interface CeilingReport extends ReadingScores {
  set: CaptionSet;
  canvases: number;
  /** FID of real train-digit canvases against the real test canvases of the same captions. */
  fid_floor: number;
}

export interface GeneratedReport extends ReadingScores {
  set: CaptionSet;
  canvases: number;
  fid: number;
  diversity: number;
  diversity_captions: number;
  /** The judge on the real test canvases of the same captions. */
  ceiling: CeilingReport;
}

export interface Text2ImageMetricOptions {
  /** Test canvases per set (default and most: 2,000). */
  n?: number;
  seed?: Seed;
  /** Captions whose within-caption diversity is measured (default 8), and images per caption (default 64). */
  diversityCaptions?: number;
  diversitySamples?: number;
  backend?: BackendName;
  signal?: AbortSignal;
}

const DISTRACTORS = 99;
const RANK_STREAM = 0x5250; // "RP"
const FLOOR_STREAM = 0x464c; // "FL"
const DIVERSITY_STREAM = 0x4456; // "DV"
const FIXED_SEED = 60;

/** How well the judge's reading of images matches their captions. */
export function readingScores(reading: JudgeReading, captions: readonly Caption[], seed: Seed = FIXED_SEED): ReadingScores {
  const n = captions.length;
  if (reading.readings.length !== n) throw new DeepgenError("E_SHAPE", `${reading.readings.length} images but ${n} captions`);
  if (n === 0) throw new DeepgenError("E_SHAPE", "no images to score");
  const pool = allCaptions().map(captionTarget);
  const { key0, key1 } = seedToKey(seed);
  const block = new Uint32Array(4);
  let strict = 0;
  let layout = 0;
  let digits = 0;
  let digitsRight = 0;
  let ranked = 0;
  for (let i = 0; i < n; i++) {
    const t = captionTarget(captions[i]!);
    const r = reading.readings[i]!;
    if (sameTarget(r, t)) strict++;
    if (r.layout === t.layout) layout++;
    digits++;
    if (r.slot1 === t.slot1) digitsRight++;
    if (isTwoDigit(captions[i]!.template)) {
      digits++;
      if (r.slot2 === t.slot2) digitsRight++;
    }
    const own = targetLogProb(reading.logProbs, i, t);
    let first = true;
    for (let d = 0, attempt = 0; d < DISTRACTORS && first; attempt++) {
      philox4x32(i, attempt, RANK_STREAM, 0, key0, key1, block);
      for (let w = 0; w < 4 && d < DISTRACTORS; w++) {
        const other = pool[Math.floor(uniformF64(block[w]!) * pool.length)]!;
        if (sameTarget(other, t)) continue;
        d++;
        if (targetLogProb(reading.logProbs, i, other) >= own) first = false;
      }
    }
    if (first) ranked++;
  }
  return { strict_accuracy: strict / n, digit_accuracy: digitsRight / digits, layout_accuracy: layout / n, r_precision: ranked / n };
}

/** The judge on the real test canvases of a set: the ceiling of every score, and the FID floor. */
export function judgeCeiling(judge: CaptionJudge, set: CaptionSet, options: Text2ImageMetricOptions = {}): CeilingReport {
  const n = checkInteger("n", options.n ?? TEST_CANVASES, 1, TEST_CANVASES);
  const test = testCanvases(set, n);
  const captions = test.records.map((r) => r.caption);
  const real = judge.read(test.x, { backend: options.backend, checkInput: false });
  const train = captionDigits().train;
  const trainCanvases = renderCanvases(train, recordsForCaptions(train, captions, FIXED_SEED, FLOOR_STREAM));
  const trainFeatures = judge.read(trainCanvases.x, { backend: options.backend, checkInput: false }).features;
  return {
    set,
    canvases: n,
    ...readingScores(real, captions),
    fid_floor: fid(trainFeatures, real.features, { dim: judge.featureDim }),
  };
}

/** Scores a generator on one caption set, beside the judge's ceiling on real canvases. */
export async function scoreGenerator(
  judge: CaptionJudge,
  generate: CaptionedGenerator,
  set: CaptionSet,
  options: Text2ImageMetricOptions = {},
): Promise<GeneratedReport> {
  const n = checkInteger("n", options.n ?? TEST_CANVASES, 1, TEST_CANVASES);
  const seed = options.seed ?? 0;
  const read = (x: Float32Array) => judge.read(x, { backend: options.backend });
  const test = testCanvases(set, n);
  const captions = test.records.map((r) => r.caption);
  const images = await generate(captions, { seed, signal: options.signal });
  if (images.length !== n * CANVAS_DIM) throw new DeepgenError("E_SHAPE", `the generator drew ${images.length} values for ${n} canvases`);
  const reading = read(images);
  const realFeatures = read(test.x).features;
  const diversity = await diversityRatio(judge, generate, captions, seed, options);
  return {
    set,
    canvases: n,
    ...readingScores(reading, captions),
    fid: fid(reading.features, realFeatures, { dim: judge.featureDim }),
    diversity: diversity.ratio,
    diversity_captions: diversity.captions,
    ceiling: judgeCeiling(judge, set, options),
  };
}

async function diversityRatio(
  judge: CaptionJudge,
  generate: CaptionedGenerator,
  captions: readonly Caption[],
  seed: Seed,
  options: Text2ImageMetricOptions,
): Promise<{ ratio: number; captions: number }> {
  const k = checkInteger("diversityCaptions", options.diversityCaptions ?? 8, 1);
  const m = checkInteger("diversitySamples", options.diversitySamples ?? 64, 2);
  const distinct = new Map<string, Caption>();
  for (const c of captions) if (distinct.size < k) distinct.set(`${c.template}/${c.a}/${c.b}`, c);
  const testDigits = captionDigits().test;
  let generated = 0;
  let real = 0;
  for (const [j, caption] of [...distinct.values()].entries()) {
    const same = Array.from({ length: m }, () => caption);
    const images = await generate(same, { seed, signal: options.signal });
    generated += meanPairwiseDistance(judge.read(images, { backend: options.backend }).features, m, judge.featureDim);
    const realCanvases = renderCanvases(testDigits, recordsForCaptions(testDigits, same, FIXED_SEED, DIVERSITY_STREAM, j * m));
    real += meanPairwiseDistance(judge.read(realCanvases.x, { backend: options.backend }).features, m, judge.featureDim);
  }
  return { ratio: generated / real, captions: distinct.size };
}

/** Mean Euclidean distance over the pairs of n feature rows. */
export function meanPairwiseDistance(features: Float32Array, n: number, dim: number): number {
  let sum = 0;
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      let d2 = 0;
      for (let c = 0; c < dim; c++) {
        const d = features[a * dim + c]! - features[b * dim + c]!;
        d2 += d * d;
      }
      sum += Math.sqrt(d2);
    }
  }
  return sum / ((n * (n - 1)) / 2);
}
