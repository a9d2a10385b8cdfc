/**
 * Image grids with a line or more of text under each image (e.g. a caption): the images
 * upscaled, the text word-wrapped to the image's width in the plot font, black on white.
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { drawText, GLYPH_HEIGHT, GLYPH_WIDTH } from "./font.js";
import type { Raster } from "./png.js";

export interface LabelledGridOptions {
  /** Images per row (default: ceil(sqrt(n))). */
  cols?: number;
  /** Integer upscaling of every image pixel (default 3). */
  scale?: number;
  /** White pixels around and between cells (default 8). */
  pad?: number;
}

const LINE_HEIGHT = GLYPH_HEIGHT + 3;
const TEXT_GAP = 4;

/** Greedy word wrap to lines of at most `width` characters; a longer word is cut. */
export function wrapText(text: string, width: number): string[] {
  checkInteger("wrap width", width, 1);
  const lines: string[] = [];
  let line = "";
  for (let word of text.split(/\s+/).filter((w) => w.length > 0)) {
    while (word.length > width) {
      if (line) lines.push(line);
      lines.push(word.slice(0, width));
      word = word.slice(width);
      line = "";
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * n grayscale images of height x width (values in [0, 1], clamped) on a white grid, each with
 * labels[k] wrapped under it. Every cell gets room for the longest label, so rows line up.
 */
export function labelledGrid(
  images: Float32Array,
  n: number,
  height: number,
  width: number,
  labels: readonly string[],
  opts: LabelledGridOptions = {},
): Raster {
  checkInteger("n", n, 1);
  checkInteger("height", height, 1);
  checkInteger("width", width, 1);
  if (images.length < n * height * width) {
    throw new DeepgenError("E_SHAPE", `labelledGrid: ${images.length} values for ${n} images of ${height}x${width}`);
  }
  if (labels.length !== n) throw new DeepgenError("E_SHAPE", `labelledGrid: ${labels.length} labels for ${n} images`);
  const cols = checkInteger("cols", opts.cols ?? Math.ceil(Math.sqrt(n)), 1);
  const scale = checkInteger("scale", opts.scale ?? 3, 1, 64);
  const pad = checkInteger("pad", opts.pad ?? 8, 0);
  const rows = Math.ceil(n / cols);
  const imageW = width * scale;
  const imageH = height * scale;
  // At least one character per line, so a very narrow image still shows its label.
  const wrapped = labels.map((s) => wrapText(s, Math.max(1, Math.floor((imageW + 1) / GLYPH_WIDTH))));
  const textH = TEXT_GAP + Math.max(1, ...wrapped.map((l) => l.length)) * LINE_HEIGHT;
  const cellW = Math.max(imageW, ...wrapped.flat().map((l) => l.length * GLYPH_WIDTH - 1));
  const cellH = imageH + textH;
  const W = cols * cellW + (cols + 1) * pad;
  const H = rows * cellH + (rows + 1) * pad;
  const data = new Uint8Array(W * H).fill(255);
  for (let k = 0; k < n; k++) {
    const x0 = pad + (k % cols) * (cellW + pad);
    const y0 = pad + Math.floor(k / cols) * (cellH + pad);
    for (let y = 0; y < imageH; y++) {
      for (let x = 0; x < imageW; x++) {
        const v = images[k * height * width + Math.floor(y / scale) * width + Math.floor(x / scale)]!;
        data[(y0 + y) * W + x0 + x] = Math.round(255 * Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)));
      }
    }
    for (const [i, line] of wrapped[k]!.entries()) {
      drawText(line, x0, y0 + imageH + TEXT_GAP + i * LINE_HEIGHT, (x, y) => {
        data[y * W + x] = 0;
      });
    }
  }
  return { width: W, height: H, channels: 1, data };
}
