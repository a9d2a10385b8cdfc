/** An in-memory image dataset: n images of height x width, row-major, values in [0, 1]. */
import { DeepgenError } from "../core/errors.js";

export interface Dataset {
  /** [n, dim] row-major, dim = height * width. */
  readonly x: Float32Array;
  /** [n] digit labels (0..9), or undefined when the source has none. */
  readonly labels: Uint8Array | undefined;
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly dim: number;
}

export function makeDataset(x: Float32Array, labels: Uint8Array | undefined, height: number, width: number): Dataset {
  const dim = height * width;
  if (dim <= 0 || x.length % dim !== 0) {
    throw new DeepgenError("E_SHAPE", `dataset of ${x.length} values is not a whole number of ${height}x${width} images`);
  }
  const n = x.length / dim;
  if (labels !== undefined && labels.length !== n) {
    throw new DeepgenError("E_SHAPE", `dataset has ${n} images but ${labels.length} labels`);
  }
  return { x, labels, n, height, width, dim };
}

/** The images whose indices are listed, copied, in that order. */
export function subset(d: Dataset, indices: ArrayLike<number>): Dataset {
  const x = new Float32Array(indices.length * d.dim);
  const labels = d.labels ? new Uint8Array(indices.length) : undefined;
  for (let i = 0; i < indices.length; i++) {
    const src = indices[i]!;
    if (!Number.isInteger(src) || src < 0 || src >= d.n) throw new DeepgenError("E_ARG", `index ${src} outside the dataset of ${d.n}`);
    x.set(d.x.subarray(src * d.dim, (src + 1) * d.dim), i * d.dim);
    if (labels) labels[i] = d.labels![src]!;
  }
  return makeDataset(x, labels, d.height, d.width);
}

/** Thresholded copy: pixel > threshold -> 1, else 0 (the canonical binarization uses 0.5). */
export function binarize(d: Dataset, threshold = 0.5): Dataset {
  const x = new Float32Array(d.x.length);
  for (let i = 0; i < x.length; i++) x[i] = d.x[i]! > threshold ? 1 : 0;
  return makeDataset(x, d.labels, d.height, d.width);
}
