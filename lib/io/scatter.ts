/**
 * Scatter plots as PNG (latent codes coloured by digit, codes against prior samples): axes
 * with ticks, one colour per group (tab10, then grey), a legend. Beside plot.ts's line plots.
 */
import { DeepgenError } from "../core/errors.js";
import { drawText, GLYPH_HEIGHT, GLYPH_WIDTH } from "./font.js";
import { rgbCanvas } from "./canvas.js";
import type { Raster } from "./png.js";

export interface PointGroup {
  name: string;
  /** Interleaved (x, y) pairs. */
  points: ArrayLike<number>;
  /** RGB; default: the group's tab10 colour. */
  color?: [number, number, number];
}

export interface ScatterOptions {
  width?: number;
  height?: number;
  title?: string;
  /** Half-width of a point's square marker in pixels (default 1). */
  radius?: number;
  /** Axis limits (default: the data's range, padded 5%). */
  xRange?: [number, number];
  yRange?: [number, number];
}

export const TAB10: Array<[number, number, number]> = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];

function niceStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const r = raw / mag;
  return (r >= 5 ? 10 : r >= 2 ? 5 : r >= 1 ? 2 : 1) * mag;
}

export function scatterPlot(groups: PointGroup[], opts: ScatterOptions = {}): Raster {
  const width = opts.width ?? 640;
  const height = opts.height ?? 560;
  const radius = opts.radius ?? 1;
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (const g of groups) {
    if (g.points.length % 2 !== 0) throw new DeepgenError("E_SHAPE", `scatterPlot: group '${g.name}' has an odd number of coordinates`);
    for (let i = 0; i < g.points.length; i += 2) {
      const x = g.points[i]!;
      const y = g.points[i + 1]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      xMin = Math.min(xMin, x);
      xMax = Math.max(xMax, x);
      yMin = Math.min(yMin, y);
      yMax = Math.max(yMax, y);
    }
  }
  if (!Number.isFinite(xMin)) throw new DeepgenError("E_ARG", "scatterPlot: no finite points to plot");
  const pad = (lo: number, hi: number): [number, number] => {
    const d = Math.max(hi - lo, 1e-6) * 0.05;
    return [lo - d, hi + d];
  };
  [xMin, xMax] = opts.xRange ?? pad(xMin, xMax);
  [yMin, yMax] = opts.yRange ?? pad(yMin, yMax);
  const canvas = rgbCanvas(width, height);
  const set = canvas.set;
  const black: [number, number, number] = [0, 0, 0];
  const grey: [number, number, number] = [225, 225, 225];
  const left = 60;
  const right = width - 110; // room for the legend
  const top = 30;
  const bottom = height - 35;
  const px = (x: number): number => left + ((x - xMin) / (xMax - xMin)) * (right - left);
  const py = (y: number): number => bottom - ((y - yMin) / (yMax - yMin)) * (bottom - top);
  const xs = niceStep(xMax - xMin, 8);
  for (let x = Math.ceil(xMin / xs) * xs; x <= xMax; x += xs) {
    for (let y = top; y <= bottom; y++) set(px(x), y, grey);
    const label = x.toFixed(Math.max(0, -Math.floor(Math.log10(xs))));
    drawText(label, px(x) - (label.length * GLYPH_WIDTH) / 2, bottom + 8, (a, b) => set(a, b, black));
  }
  const ys = niceStep(yMax - yMin, 8);
  for (let y = Math.ceil(yMin / ys) * ys; y <= yMax; y += ys) {
    for (let x = left; x <= right; x++) set(x, py(y), grey);
    const label = y.toFixed(Math.max(0, -Math.floor(Math.log10(ys))));
    drawText(label, left - 6 - label.length * GLYPH_WIDTH, py(y) - 3, (a, b) => set(a, b, black));
  }
  for (let x = left; x <= right; x++) {
    set(x, bottom, black);
    set(x, top, black);
  }
  for (let y = top; y <= bottom; y++) {
    set(left, y, black);
    set(right, y, black);
  }
  groups.forEach((g, k) => {
    const color = g.color ?? TAB10[k % TAB10.length]!;
    for (let i = 0; i < g.points.length; i += 2) {
      const x = g.points[i]!;
      const y = g.points[i + 1]!;
      if (!Number.isFinite(x) || !Number.isFinite(y) || x < xMin || x > xMax || y < yMin || y > yMax) continue;
      const cx = px(x);
      const cy = py(y);
      for (let dy = -radius; dy <= radius; dy++) for (let dx = -radius; dx <= radius; dx++) set(cx + dx, cy + dy, color);
    }
    const ly = top + 4 + k * (GLYPH_HEIGHT + 6);
    for (let dy = 0; dy < 5; dy++) for (let dx = 0; dx < 5; dx++) set(right + 10 + dx, ly + 1 + dy, color);
    drawText(g.name, right + 20, ly, (a, b) => set(a, b, black));
  });
  if (opts.title) drawText(opts.title, (left + right) / 2 - (opts.title.length * GLYPH_WIDTH) / 2, 10, (a, b) => set(a, b, black));
  return canvas.raster;
}
