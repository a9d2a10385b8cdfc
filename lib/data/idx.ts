/**
 * MNIST-format IDX files (LeCun): big-endian magic 0x00000803 (uint8 images, dims n, rows,
 * cols) or 0x00000801 (uint8 labels, dim n), then the raw bytes. Lets users point any
 * command at their own data (`--idx-images`, `--idx-labels`). Gzipped files (.gz) are
 * inflated first.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";

import { DeepgenError } from "../core/errors.js";
import { type Dataset, makeDataset } from "./dataset.js";

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;

function readBytes(path: string): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DeepgenError("E_IO", `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DeepgenError("E_FORMAT", `${path}: corrupt gzip data`, { cause: e });
    }
  }
  return bytes;
}

function header(bytes: Uint8Array, path: string, magic: number, dims: number): number[] {
  const need = 4 + 4 * dims;
  if (bytes.length < 4) throw new DeepgenError("E_FORMAT", `${path}: ${bytes.length} bytes, too short for an IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const got = view.getUint32(0, false);
  if (got !== magic) {
    const kind = magic === IMAGES_MAGIC ? "images" : "labels";
    throw new DeepgenError(
      "E_FORMAT",
      `${path}: magic number 0x${got.toString(16).padStart(8, "0")}, expected 0x${magic.toString(16).padStart(8, "0")} (uint8 ${kind} IDX)`,
    );
  }
  if (bytes.length < need) throw new DeepgenError("E_FORMAT", `${path}: ${bytes.length} bytes, too short for an IDX header`);
  const out: number[] = [];
  for (let i = 0; i < dims; i++) out.push(view.getUint32(4 + 4 * i, false));
  const count = out.reduce((a, b) => a * b, 1);
  if (bytes.length !== need + count) {
    throw new DeepgenError("E_FORMAT", `${path}: header says ${out.join("x")} = ${count} bytes of data, the file has ${bytes.length - need}`);
  }
  return out;
}

/** Images scaled to [0, 1] (byte / 255), with labels when a labels file is given. */
export function readIdx(imagesPath: string, labelsPath?: string): Dataset {
  const img = readBytes(imagesPath);
  const [n, rows, cols] = header(img, imagesPath, IMAGES_MAGIC, 3) as [number, number, number];
  if (rows === 0 || cols === 0) throw new DeepgenError("E_FORMAT", `${imagesPath}: empty image size ${rows}x${cols}`);
  const x = new Float32Array(n * rows * cols);
  const data = img.subarray(16);
  for (let i = 0; i < x.length; i++) x[i] = data[i]! / 255;
  let labels: Uint8Array | undefined;
  if (labelsPath !== undefined) {
    const lab = readBytes(labelsPath);
    const [m] = header(lab, labelsPath, LABELS_MAGIC, 1) as [number];
    if (m !== n) throw new DeepgenError("E_FORMAT", `${labelsPath}: ${m} labels for ${n} images in ${imagesPath}`);
    labels = lab.slice(8);
  }
  return makeDataset(x, labels, rows, cols);
}

/** Encodes images (values in [0, 1], rounded to bytes) as an IDX images file; for tests and export. */
export function encodeIdxImages(d: Dataset): Uint8Array {
  const out = new Uint8Array(16 + d.x.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, IMAGES_MAGIC, false);
  view.setUint32(4, d.n, false);
  view.setUint32(8, d.height, false);
  view.setUint32(12, d.width, false);
  for (let i = 0; i < d.x.length; i++) out[16 + i] = Math.round(Math.min(1, Math.max(0, d.x[i]!)) * 255);
  return out;
}

export function encodeIdxLabels(labels: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + labels.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, LABELS_MAGIC, false);
  view.setUint32(4, labels.length, false);
  out.set(labels, 8);
  return out;
}
