/**
 * Heatmaps as PNG: a field of values on a regular 2-D grid (e.g. a discriminator's D(x) over
 * the plane), a diverging blue-white-red colour scale with a colour bar, axes with ticks, and
 * optional cross markers (e.g. the data's mode centres). Beside plot.ts and scatter.ts.
 */
import { DeepgenError } from "../core/errors.js";
import { rgbCanvas, type Rgb } from "./canvas.js";
import { drawText, GLYPH_WIDTH } from "./font.js";
import type { Raster } from "./png.js";

export interface HeatmapOptions {
  /** Data coordinates of the field's box: x in xRange, y in yRange. */
  xRange: [number, number];
  yRange: [number, number];
  /** Colour scale limits (default 0 and 1: probabilities). */
  vmin?: number;
  vmax?: number;
  /** Plot area side in pixels (default 300; the whole image adds margins). */
  size?: number;
  title?: string;
  /** Interleaved (x, y) pairs drawn as black crosses. */
  markers?: ArrayLike<number>;
}

/** Blue (0) - white (0.5) - red (1). */
export function divergingColor(t: number): Rgb {
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0.5));
  const lo: Rgb = [49, 54, 149];
  const hi: Rgb = [165, 0, 38];
  const [a, s] = u < 0.5 ? [lo, 1 - 2 * u] : [hi, 2 * u - 1];
  return [Math.round(255 + (a[0] - 255) * s), Math.round(255 + (a[1] - 255) * s), Math.round(255 + (a[2] - 255) * s)];
}

function niceStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const r = raw / mag;
  return (r >= 5 ? 10 : r >= 2 ? 5 : r >= 1 ? 2 : 1) * mag;
}

/**
 * values [ny, nx], row 0 at the bottom (y = yRange[0]); node (ix, iy) is the centre of cell
 * ix, iy of the box. NaN cells are drawn light grey.
 */
export function heatmap(values: ArrayLike<number>, nx: number, ny: number, opts: HeatmapOptions): Raster {
  if (!Number.isInteger(nx) || !Number.isInteger(ny) || nx < 1 || ny < 1 || values.length !== nx * ny) {
    throw new DeepgenError("E_SHAPE", `heatmap: ${values.length} values for a ${nx} x ${ny} grid`);
  }
  const [x0, x1] = opts.xRange;
  const [y0, y1] = opts.yRange;
  if (!(x1 > x0) || !(y1 > y0)) throw new DeepgenError("E_ARG", "heatmap: ranges must be increasing");
  const vmin = opts.vmin ?? 0;
  const vmax = opts.vmax ?? 1;
  if (!(vmax > vmin)) throw new DeepgenError("E_ARG", "heatmap: vmax must exceed vmin");
  const size = opts.size ?? 300;
  const left = 50;
  const top = 26;
  const barW = 12;
  const width = left + size + 20 + barW + 40;
  const height = top + size + 30;
  const canvas = rgbCanvas(width, height);
  const set = canvas.set;
  const black: Rgb = [0, 0, 0];
  for (let py = 0; py < size; py++) {
    const iy = Math.min(ny - 1, Math.floor(((size - 1 - py + 0.5) / size) * ny));
    for (let px = 0; px < size; px++) {
      const ix = Math.min(nx - 1, Math.floor(((px + 0.5) / size) * nx));
      const v = values[iy * nx + ix]!;
      set(left + px, top + py, Number.isNaN(v) ? [225, 225, 225] : divergingColor((v - vmin) / (vmax - vmin)));
    }
  }
  const toPx = (x: number): number => left + ((x - x0) / (x1 - x0)) * size;
  const toPy = (y: number): number => top + size - ((y - y0) / (y1 - y0)) * size;
  for (let i = -1; i <= size; i++) {
    set(left + i, top - 1, black);
    set(left + i, top + size, black);
    set(left - 1, top + i, black);
    set(left + size, top + i, black);
  }
  const xs = niceStep(x1 - x0, 5);
  for (let x = Math.ceil(x0 / xs) * xs; x <= x1 + 1e-9; x += xs) {
    for (let d = 0; d < 4; d++) set(toPx(x), top + size + d, black);
    const label = x.toFixed(Math.max(0, -Math.floor(Math.log10(xs))));
    drawText(label, toPx(x) - (label.length * GLYPH_WIDTH) / 2, top + size + 8, (a, b) => set(a, b, black));
  }
  const ys = niceStep(y1 - y0, 5);
  for (let y = Math.ceil(y0 / ys) * ys; y <= y1 + 1e-9; y += ys) {
    for (let d = 0; d < 4; d++) set(left - 1 - d, toPy(y), black);
    const label = y.toFixed(Math.max(0, -Math.floor(Math.log10(ys))));
    drawText(label, left - 8 - label.length * GLYPH_WIDTH, toPy(y) - 3, (a, b) => set(a, b, black));
  }
  const m = opts.markers;
  if (m) {
    if (m.length % 2 !== 0) throw new DeepgenError("E_SHAPE", "heatmap: markers need (x, y) pairs");
    for (let i = 0; i < m.length; i += 2) {
      const cx = toPx(m[i]!);
      const cy = toPy(m[i + 1]!);
      for (let d = -3; d <= 3; d++) {
        set(cx + d, cy + d, black);
        set(cx + d, cy - d, black);
      }
    }
  }
  // colour bar with vmin, the middle and vmax
  const bx = left + size + 20;
  for (let py = 0; py < size; py++) {
    const c = divergingColor(1 - py / (size - 1));
    for (let d = 0; d < barW; d++) set(bx + d, top + py, c);
  }
  for (const [t, y] of [
    [vmax, top],
    [(vmin + vmax) / 2, top + size / 2],
    [vmin, top + size - 1],
  ] as const) {
    const label = String(Number(t.toPrecision(3)));
    drawText(label, bx + barW + 4, y - 3, (a, b) => set(a, b, black));
  }
  if (opts.title) drawText(opts.title, left + size / 2 - (opts.title.length * GLYPH_WIDTH) / 2, 8, (a, b) => set(a, b, black));
  return canvas.raster;
}
