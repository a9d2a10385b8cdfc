/**
 * Seeded shuffling and minibatches. The permutation of an epoch is a Fisher-Yates shuffle
 * driven by Philox(seed, stream = epoch), so a run is reproducible and resuming at epoch e
 * gives the same batches as an uninterrupted run.
 */
import { philox4x32, type Seed, seedToKey, uniformF64 } from "../core/philox.js";
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { type Dataset, subset } from "./dataset.js";

/** Stream tags keep independent uses of one seed apart. */
const SHUFFLE_STREAM = 0x5348; // "SH"
const VALIDATION_STREAM = 0x5641; // "VA"

export function permutation(n: number, seed: Seed, stream: number): Uint32Array {
  const { key0, key1 } = seedToKey(seed);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const block = new Uint32Array(4);
  for (let i = n - 1; i > 0; i--) {
    philox4x32(i, stream, SHUFFLE_STREAM, 0, key0, key1, block);
    const j = Math.floor(uniformF64(block[0]!) * (i + 1));
    const t = perm[i]!;
    perm[i] = perm[j]!;
    perm[j] = t;
  }
  return perm;
}

/** The index lists of the minibatches of one epoch (the last may be smaller). */
export function epochBatches(n: number, batchSize: number, seed: Seed, epoch: number): Uint32Array[] {
  checkInteger("batch size", batchSize, 1);
  const perm = permutation(n, seed, epoch);
  const out: Uint32Array[] = [];
  for (let b = 0; b < n; b += batchSize) out.push(perm.subarray(b, Math.min(n, b + batchSize)));
  return out;
}

/** Copies the rows of `d.x` listed in `indices` into `out` ([indices.length, dim]). */
export function gatherRows(d: Dataset, indices: ArrayLike<number>, out: Float32Array): Float32Array {
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i]!;
    out.set(d.x.subarray(src * d.dim, (src + 1) * d.dim), i * d.dim);
  }
  return out;
}

/**
 * Carves a validation set out of `train` (never out of test): a seeded random `fraction`
 * of the images. Returns the remaining training images and the validation images.
 */
export function splitValidation(train: Dataset, fraction: number, seed: Seed): { train: Dataset; validation: Dataset } {
  if (!(fraction > 0 && fraction < 1)) throw new DeepgenError("E_ARG", `validation fraction must be in (0, 1), got ${fraction}`);
  const perm = permutation(train.n, seed, VALIDATION_STREAM);
  const nVal = Math.max(1, Math.round(train.n * fraction));
  const val = Array.from(perm.subarray(0, nVal)).sort((a, b) => a - b);
  const rest = Array.from(perm.subarray(nVal)).sort((a, b) => a - b);
  return { train: subset(train, rest), validation: subset(train, val) };
}
