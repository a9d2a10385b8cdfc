/**
 * The canonical sets of MNIST-Captions-60 (lib/data/mnist-captions.ts): which digit images
 * each set is built from, and the fixed, seeded canvases every text-to-image result is
 * measured on.
 *   test        canvases of test digits only, one fixed set per caption set (seen, banned,
 *               unseen pair), TEST_CANVASES each
 *   validation  seen captions on canvases of a fixed 10% slice of the train digits, for
 *               model selection
 *   training    fresh canvases every epoch from the remaining train digits, seen captions only
 */
import type { Seed } from "../core/philox.js";
import { splitValidation } from "./batching.js";
import type { Dataset } from "./dataset.js";
import { type CaptionedCanvases, type CaptionSet, renderCanvases, sampleCanvasRecords } from "./mnist-captions.js";
import { canonicalSplit } from "./mnist.js";

export const TEST_CANVASES = 2000;
export const VALIDATION_CANVASES = 1000;
/** Canvases per training epoch unless a trainer is told otherwise. */
export const EPOCH_CANVASES = 10_000;

/** The seed of the fixed sets, and the stream of each. */
const FIXED_SEED = 60;
const TEST_STREAM: Record<CaptionSet, number> = { seen: 1, banned: 2, unseen: 3 };
const VALIDATION_STREAM = 4;
const VALIDATION_FRACTION = 0.1;

export interface CaptionDigits {
  /** Train digits minus the validation slice: the only digits training canvases use. */
  train: Dataset;
  validation: Dataset;
  test: Dataset;
}

let digitsCache: CaptionDigits | undefined;

export function captionDigits(): CaptionDigits {
  if (digitsCache) return digitsCache;
  const split = canonicalSplit();
  const { train, validation } = splitValidation(split.train, VALIDATION_FRACTION, FIXED_SEED);
  digitsCache = { train, validation, test: split.test };
  return digitsCache;
}

/** The fixed test canvases of one caption set (the first `n` of them). */
export function testCanvases(set: CaptionSet, n = TEST_CANVASES): CaptionedCanvases {
  const digits = captionDigits().test;
  return renderCanvases(digits, sampleCanvasRecords(digits, set, n, FIXED_SEED, TEST_STREAM[set]));
}

/**
 * The fixed validation canvases of the validation digits: seen captions for model selection,
 * or all captions for the judge (lib/models/caption-judge.ts), which must read every caption.
 */
export function validationCanvases(n = VALIDATION_CANVASES, set: "seen" | "all" = "seen"): CaptionedCanvases {
  const digits = captionDigits().validation;
  return renderCanvases(digits, sampleCanvasRecords(digits, set, n, FIXED_SEED, VALIDATION_STREAM));
}

/** One training epoch's fresh canvases: seen captions on the training digits. */
export function trainingCanvases(epoch: number, n: number, seed: Seed): CaptionedCanvases {
  const digits = captionDigits().train;
  return renderCanvases(digits, sampleCanvasRecords(digits, "seen", n, seed, epoch));
}
