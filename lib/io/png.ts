/** PNG output: image grids of samples (grayscale) and RGB canvases (plots), saved atomically. */
import { PNG } from "pngjs";

import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { atomicWriteFile } from "./atomic-write.js";

/** An 8-bit image, 1 (gray) or 3 (RGB) channels, row-major. */
export interface Raster {
  width: number;
  height: number;
  channels: 1 | 3;
  data: Uint8Array;
}

export interface GridOptions {
  /** Height of each image in pixels. */
  height: number;
  /** Width of each image in pixels. */
  width: number;
  /** How many images to lay out (default: all, images.length / (height * width)). */
  n?: number;
  /** Images per row (default: ceil(sqrt(n))). */
  cols?: number;
  /** Pixels between images (default 2). */
  pad?: number;
  /** Gray level of the padding in [0, 1] (default 0.5). */
  background?: number;
  /** Integer upscaling of every pixel (default 1). */
  scale?: number;
}

/** Lays out images [n, height * width] (values in [0, 1], clamped) on a grid. */
export function imageGrid(images: Float32Array, opts: GridOptions): Raster {
  const height = checkInteger("height", opts?.height, 1);
  const width = checkInteger("width", opts.width, 1);
  if (opts.n === undefined && images.length % (height * width) !== 0)
    throw new DeepgenError("E_SHAPE", `imageGrid: ${images.length} values are not whole images of ${height}x${width}`);
  const n = checkInteger("n", opts.n ?? images.length / (height * width), 1);
  if (images.length < n * height * width) {
    throw new DeepgenError("E_SHAPE", `imageGrid: ${images.length} values for ${n} images of ${height}x${width}`);
  }
  const cols = checkInteger("cols", opts.cols ?? Math.ceil(Math.sqrt(n)), 1);
  const rows = Math.ceil(n / cols);
  const pad = checkInteger("pad", opts.pad ?? 2, 0);
  const scale = checkInteger("scale", opts.scale ?? 1, 1, 64);
  const bg = Math.round(255 * Math.min(1, Math.max(0, opts.background ?? 0.5)));
  const cellW = width * scale;
  const cellH = height * scale;
  const W = cols * cellW + (cols + 1) * pad;
  const H = rows * cellH + (rows + 1) * pad;
  const data = new Uint8Array(W * H).fill(bg);
  for (let k = 0; k < n; k++) {
    const x0 = pad + (k % cols) * (cellW + pad);
    const y0 = pad + Math.floor(k / cols) * (cellH + pad);
    for (let y = 0; y < cellH; y++) {
      for (let x = 0; x < cellW; x++) {
        const v = images[k * height * width + Math.floor(y / scale) * width + Math.floor(x / scale)]!;
        data[(y0 + y) * W + x0 + x] = Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)));
      }
    }
  }
  return { width: W, height: H, channels: 1, data };
}

export function encodePng(r: Raster): Uint8Array {
  const png = new PNG({ width: r.width, height: r.height, colorType: 6, inputColorType: 6, inputHasAlpha: true });
  for (let i = 0; i < r.width * r.height; i++) {
    const o = i * 4;
    if (r.channels === 1) {
      png.data[o] = png.data[o + 1] = png.data[o + 2] = r.data[i]!;
    } else {
      png.data[o] = r.data[3 * i]!;
      png.data[o + 1] = r.data[3 * i + 1]!;
      png.data[o + 2] = r.data[3 * i + 2]!;
    }
    png.data[o + 3] = 255;
  }
  return PNG.sync.write(png);
}

export async function writePng(path: string, r: Raster): Promise<void> {
  await atomicWriteFile(path, [encodePng(r)]);
}

/** Writes images [n, height * width] (values in [0, 1]) as one PNG grid, atomically. */
export async function writeImageGrid(path: string, images: Float32Array, opts: GridOptions): Promise<void> {
  await writePng(path, imageGrid(images, opts));
}
