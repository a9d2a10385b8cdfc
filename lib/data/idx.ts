/**
 * MNIST-format IDX files (LeCun): big-endian magic 0x00000803 (uint8 images, dims n, rows,
 * cols) or 0x00000801 (uint8 labels, dim n), then the raw bytes. Lets users point any
 * command at their own data (`--idx-images`, `--idx-labels`). Gzipped files (.gz) are
 * inflated first, and the inflated size is capped before anything is allocated.
 */
import { readFileSync, statSync } from "node:fs";
import { gunzipSync } from "node:zlib";

import { DeepgenError } from "../core/errors.js";
import { type Dataset, makeDataset } from "./dataset.js";

const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;

/** Pixel bytes an IDX read may hold unless the caller or DEEPGEN_MAX_IDX_MB says otherwise. */
export const DEFAULT_MAX_IDX_BYTES = 256 * 1024 * 1024;

/** The cap on inflated pixel bytes: the option, else DEEPGEN_MAX_IDX_MB, else the default. */
function maxIdxBytes(option: number | undefined): number {
  if (option !== undefined) {
    if (!Number.isFinite(option) || option <= 0) throw new DeepgenError("E_ARG", `maxBytes must be a positive number, got ${option}`);
    return option;
  }
  const env = process.env["DEEPGEN_MAX_IDX_MB"];
  if (env === undefined || env === "") return DEFAULT_MAX_IDX_BYTES;
  const mb = Number(env);
  if (!Number.isFinite(mb) || mb <= 0) throw new DeepgenError("E_ARG", `DEEPGEN_MAX_IDX_MB must be a positive number, got '${env}'`);
  return mb * 1024 * 1024;
}

const megabytes = (n: number): string => (n < 1024 * 1024 ? `${n} bytes` : `${(n / (1024 * 1024)).toFixed(1)} MB`);

function tooLarge(path: string, what: string, cap: number): DeepgenError {
  return new DeepgenError(
    "E_ARG",
    `${path}: ${what}, over the cap of ${megabytes(cap)} (raise it with DEEPGEN_MAX_IDX_MB, or the maxBytes option)`,
  );
}

/** The file's bytes, inflated when gzipped; refuses anything past `cap` before allocating it. */
function readBytes(path: string, cap: number): Uint8Array {
  let bytes: Uint8Array;
  try {
    const size = statSync(path).size;
    // The header is at most 16 bytes; more than cap + 16 cannot be a file under the cap.
    if (size > cap + 16) throw tooLarge(path, `${megabytes(size)} on disk`, cap);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof DeepgenError) throw e;
    throw new DeepgenError("E_IO", `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return inflated(bytes, path, cap);
}

/** Gzipped bytes inflated (at most `cap` + header bytes), others as they are. */
function inflated(bytes: Uint8Array, source: string, cap: number): Uint8Array {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: cap + 16 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(source, "inflates past the cap", cap);
    throw new DeepgenError("E_FORMAT", `${source}: corrupt gzip data`, { cause: e });
  }
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
    throw new DeepgenError(
      "E_FORMAT",
      `${path}: header says ${out.join("x")} = ${count} bytes of data, the file has ${bytes.length - need}`,
    );
  }
  return out;
}

/** An IDX images file as its raw bytes (one uint8 per pixel, no float copy), with labels. */
export interface IdxImages {
  /** [n, rows * cols] pixel bytes 0..255. */
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array | undefined;
  readonly n: number;
  readonly rows: number;
  readonly cols: number;
}

export interface IdxReadOptions {
  /** Most inflated pixel bytes accepted (default: DEEPGEN_MAX_IDX_MB, else 256 MiB: 4x that as float32 images). */
  maxBytes?: number;
}

/**
 * Reads an images file (and a labels file) as bytes. Refuses a file without images (a model
 * scored on nothing would print a mean of zero) and one past the size cap, before allocating.
 */
export function readIdxBytes(imagesPath: string, labelsPath?: string, opts: IdxReadOptions = {}): IdxImages {
  const cap = maxIdxBytes(opts.maxBytes);
  const labels = labelsPath === undefined ? undefined : { bytes: readBytes(labelsPath, cap), source: labelsPath };
  return decodeIdx(readBytes(imagesPath, cap), imagesPath, { ...opts, labels });
}

/** decodeIdx's options: the size cap, and the bytes of a labels file. */
export interface IdxDecodeOptions extends IdxReadOptions {
  labels?: { bytes: Uint8Array; source: string };
}

/** The images (and labels) of IDX file contents, gzipped or not; `source` names them in errors. */
export function decodeIdx(images: Uint8Array, source: string, opts: IdxDecodeOptions = {}): IdxImages {
  const cap = maxIdxBytes(opts.maxBytes);
  const img = inflated(images, source, cap);
  const [n, rows, cols] = header(img, source, IMAGES_MAGIC, 3) as [number, number, number];
  if (rows === 0 || cols === 0) throw new DeepgenError("E_FORMAT", `${source}: empty image size ${rows}x${cols}`);
  if (n === 0) throw new DeepgenError("E_ARG", `${source}: the file holds no images (0 of ${rows}x${cols})`);
  if (n * rows * cols > cap) throw tooLarge(source, `${n} images of ${rows}x${cols} = ${megabytes(n * rows * cols)}`, cap);
  let labels: Uint8Array | undefined;
  if (opts.labels !== undefined) {
    const lab = inflated(opts.labels.bytes, opts.labels.source, cap);
    const [m] = header(lab, opts.labels.source, LABELS_MAGIC, 1) as [number];
    if (m !== n) throw new DeepgenError("E_FORMAT", `${opts.labels.source}: ${m} labels for ${n} images in ${source}`);
    labels = lab.subarray(8);
  }
  return { pixels: img.subarray(16), labels, n, rows, cols };
}

/** How pixel bytes become the floats a model reads. */
export type PixelConversion = "grayscale" | "binary";

/**
 * One float copy of the bytes: grayscale byte / 255, or binary (byte / 255 > 0.5, i.e.
 * byte >= 128, the canonical binarization) without a grayscale copy in between.
 */
export function idxDataset(idx: IdxImages, conversion: PixelConversion = "grayscale"): Dataset {
  const x = new Float32Array(idx.pixels.length);
  const p = idx.pixels;
  if (conversion === "binary") for (let i = 0; i < x.length; i++) x[i] = p[i]! >= 128 ? 1 : 0;
  else for (let i = 0; i < x.length; i++) x[i] = p[i]! / 255;
  return makeDataset(x, idx.labels, idx.rows, idx.cols);
}

/** Images scaled to [0, 1] (byte / 255), with labels when a labels file is given. */
export function readIdx(imagesPath: string, labelsPath?: string, opts: IdxReadOptions = {}): Dataset {
  return idxDataset(readIdxBytes(imagesPath, labelsPath, opts));
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
