/** Line plots as PNG (training curves): axes with ticks and numbers, one colour per series, a legend. */
import { DeepgenError } from "../core/errors.js";
import { drawText, GLYPH_HEIGHT, GLYPH_WIDTH } from "./font.js";
import { rgbCanvas } from "./canvas.js";
import type { Raster } from "./png.js";

export interface Series {
  name: string;
  /** y values at x = 1, 2, ... (NaN/undefined points are skipped). */
  values: ReadonlyArray<number | undefined>;
  /** x coordinates of the values (default 1, 2, ...); same length as values. */
  x?: ArrayLike<number>;
}

export interface PlotOptions {
  width?: number;
  height?: number;
  xLabel?: string;
  yLabel?: string;
  title?: string;
}

const COLORS: Array<[number, number, number]> = [
  [31, 119, 180],
  [214, 39, 40],
  [44, 160, 44],
  [255, 127, 14],
  [148, 103, 189],
];

/** A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks. */
function tickStep(range: number, count: number): number {
  const raw = range / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const r = raw / mag;
  return (r >= 5 ? 10 : r >= 2 ? 5 : r >= 1 ? 2 : 1) * mag;
}

function formatTick(v: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  return v.toFixed(decimals);
}

export function linePlot(series: Series[], opts: PlotOptions = {}): Raster {
  const width = opts.width ?? 640;
  const height = opts.height ?? 400;
  const points = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v)));
  if (points.length === 0) throw new DeepgenError("E_ARG", "linePlot: no finite values to plot");
  const canvas = rgbCanvas(width, height);
  const set = canvas.set;
  const black: [number, number, number] = [0, 0, 0];
  const grey: [number, number, number] = [220, 220, 220];
  const left = 70;
  const right = width - 20;
  const top = 30;
  const bottom = height - 45;
  for (const s of series) {
    if (s.x && s.x.length !== s.values.length)
      throw new DeepgenError("E_SHAPE", `linePlot: series '${s.name}' has ${s.x.length} x for ${s.values.length} values`);
  }
  const xAt = (s: Series, i: number): number => (s.x ? s.x[i]! : i + 1);
  // Index-based series keep the epoch axis 1..max(2, length); explicit x spans its range.
  const indexAxis = !series.some((s) => s.x);
  let xMin = 1;
  let xMax = Math.max(2, ...series.map((s) => s.values.length));
  if (!indexAxis) {
    xMin = Infinity;
    xMax = -Infinity;
    for (const s of series) {
      for (let i = 0; i < s.values.length; i++) {
        const x = xAt(s, i);
        if (Number.isFinite(x)) {
          xMin = Math.min(xMin, x);
          xMax = Math.max(xMax, x);
        }
      }
    }
    if (!(xMax > xMin)) xMax = xMin + 1;
  }
  let yMin = Math.min(...points);
  let yMax = Math.max(...points);
  if (yMax - yMin < 1e-9) {
    yMin -= 1;
    yMax += 1;
  }
  const yStep = tickStep(yMax - yMin, 6);
  yMin = Math.floor(yMin / yStep) * yStep;
  yMax = Math.ceil(yMax / yStep) * yStep;
  const px = (x: number): number => left + ((x - xMin) / (xMax - xMin)) * (right - left);
  const py = (y: number): number => bottom - ((y - yMin) / (yMax - yMin)) * (bottom - top);
  // grid and y ticks
  for (let y = yMin; y <= yMax + yStep / 2; y += yStep) {
    for (let x = left; x <= right; x++) set(x, py(y), grey);
    const label = formatTick(y, yStep);
    drawText(label, left - 6 - label.length * GLYPH_WIDTH, py(y) - 3, (a, b) => set(a, b, black));
  }
  const xStep = indexAxis ? Math.max(1, tickStep(xMax - 1, 8)) : tickStep(xMax - xMin, 8);
  const xFirst = indexAxis ? 1 : Math.ceil(xMin / xStep - 1e-9) * xStep;
  for (let k = 0, x = xFirst; x <= xMax + xStep * 1e-9; k++, x = xFirst + k * xStep) {
    for (let y = bottom; y < bottom + 4; y++) set(px(x), y, black);
    const label = indexAxis ? String(x) : formatTick(x, xStep);
    drawText(label, px(x) - (label.length * GLYPH_WIDTH) / 2, bottom + 8, (a, b) => set(a, b, black));
  }
  // axes
  for (let x = left; x <= right; x++) set(x, bottom, black);
  for (let y = top; y <= bottom; y++) set(left, y, black);
  // series
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length]!;
    let prev: [number, number] | undefined;
    s.values.forEach((v, i) => {
      if (v === undefined || !Number.isFinite(v) || !Number.isFinite(xAt(s, i))) {
        prev = undefined;
        return;
      }
      const cur: [number, number] = [px(xAt(s, i)), py(v)];
      if (prev) {
        const steps = Math.ceil(Math.max(Math.abs(cur[0] - prev[0]), Math.abs(cur[1] - prev[1]))) + 1;
        for (let t = 0; t <= steps; t++) {
          const x = prev[0] + ((cur[0] - prev[0]) * t) / steps;
          const y = prev[1] + ((cur[1] - prev[1]) * t) / steps;
          set(x, y, color);
          set(x, y + 1, color);
        }
      } else {
        set(cur[0], cur[1], color);
      }
      prev = cur;
    });
    // legend
    const ly = top + 4 + k * (GLYPH_HEIGHT + 6);
    for (let x = right - 150; x < right - 130; x++) for (let d = 0; d < 2; d++) set(x, ly + 3 + d, color);
    drawText(s.name, right - 124, ly, (a, b) => set(a, b, black));
  });
  if (opts.title) drawText(opts.title, (left + right) / 2 - (opts.title.length * GLYPH_WIDTH) / 2, 10, (a, b) => set(a, b, black));
  if (opts.xLabel)
    drawText(opts.xLabel, (left + right) / 2 - (opts.xLabel.length * GLYPH_WIDTH) / 2, height - 16, (a, b) => set(a, b, black));
  if (opts.yLabel) drawText(opts.yLabel, 4, top - 18, (a, b) => set(a, b, black));
  return canvas.raster;
}
