/**
 * Pictures of the GAN toy diagnostics (gan-diagnostics.ts), as Rasters for writePng:
 *   discriminatorPlot  1-D: p_data, the p_g estimate, D and D* over the data's box on one chart;
 *                      2-D: heatmaps of D and D* side by side, data modes marked. D* is left
 *                      out (1-D) or grey (2-D) where p_data and p_g are both below 1e-3 of
 *                      p_data's peak: it is 0/0 there, and the estimate's noise shows.
 *   samplesPlot        2-D: generator samples over data samples (scatter).
 *   jsdCurvePlot       the JSD estimates by epoch.
 */
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import type { ToyDistribution } from "../data/toy.js";
import { sideBySide } from "../io/canvas.js";
import { heatmap } from "../io/heatmap.js";
import { linePlot, type Series } from "../io/plot.js";
import type { Raster } from "../io/png.js";
import { scatterPlot } from "../io/scatter.js";
import { optimalDiscriminator, type Discriminator } from "./gan-diagnostics.js";
import { checkSamples, type DensityFunction } from "./generator-density.js";

export interface DiscriminatorPlotOptions {
  /** Evaluation points per axis (default 400 in 1-D, 150 in 2-D). */
  resolution?: number;
  title?: string;
}

/** Runs the discriminator on float64 points and checks what comes back. */
function discriminate(d: Discriminator, pts: Float64Array, n: number): Float64Array {
  const out = d(Float32Array.from(pts), n);
  if (!out || out.length !== n) throw new DeepgenError("E_SHAPE", `discriminator returned ${out?.length} values for ${n} points`);
  return Float64Array.from(out);
}

/** D vs D* (and, in 1-D, the densities behind D*). Without a discriminator only D* is drawn. */
export function discriminatorPlot(
  data: ToyDistribution,
  pg: DensityFunction,
  discriminator?: Discriminator,
  opts: DiscriminatorPlotOptions = {},
): Raster {
  const title = opts.title ?? `${data.name}: d vs optimal d*`;
  if (data.dim === 1) {
    const n = opts.resolution ?? 400;
    const [lo, hi] = data.bounds[0]!;
    const x = Float64Array.from({ length: n }, (_, i) => lo + ((i + 0.5) * (hi - lo)) / n);
    const pData = Array.from(data.logDensity(x, n), Math.exp);
    const pG = Array.from(pg.logDensity(x, n), Math.exp);
    const floor = 1e-3 * Math.max(...pData);
    const dStar = Array.from(optimalDiscriminator(data, pg, x, n), (v, i) => (pData[i]! < floor && pG[i]! < floor ? undefined : v));
    const series: Series[] = [
      { name: "p_data", x, values: pData },
      { name: "p_g estimate", x, values: pG },
      { name: "d*", x, values: dStar },
    ];
    if (discriminator) series.push({ name: "d", x, values: Array.from(discriminate(discriminator, x, n)) });
    return linePlot(series, { title, xLabel: "x", yLabel: "density | probability" });
  }
  const r = opts.resolution ?? 150;
  const [[x0, x1], [y0, y1]] = data.bounds as [[number, number], [number, number]];
  const pts = new Float64Array(r * r * 2);
  for (let iy = 0; iy < r; iy++) {
    for (let ix = 0; ix < r; ix++) {
      pts[(iy * r + ix) * 2] = x0 + ((ix + 0.5) * (x1 - x0)) / r;
      pts[(iy * r + ix) * 2 + 1] = y0 + ((iy + 0.5) * (y1 - y0)) / r;
    }
  }
  const common = { xRange: [x0, x1] as [number, number], yRange: [y0, y1] as [number, number], markers: data.means };
  const panels: Raster[] = [];
  if (discriminator) panels.push(heatmap(discriminate(discriminator, pts, r * r), r, r, { ...common, title: "d(x)" }));
  // D* is 0/0 where neither density has mass: grey where both are below 1e-3 of p_data's peak.
  const dStar = optimalDiscriminator(data, pg, pts, r * r);
  const lp = data.logDensity(pts, r * r);
  const lq = pg.logDensity(pts, r * r);
  const floor = Math.log(1e-3) + lp.reduce((a, b) => Math.max(a, b), -Infinity);
  for (let i = 0; i < r * r; i++) if (lp[i]! < floor && lq[i]! < floor) dStar[i] = NaN;
  panels.push(heatmap(dStar, r, r, { ...common, title: "d*(x) = p_data / (p_data + p_g)" }));
  return sideBySide(panels);
}

/** Generator samples over fresh data samples (the first n of each), 2-D only. */
export function samplesPlot(
  data: ToyDistribution,
  generatorSamples: Float32Array,
  seed: Seed,
  opts: { n?: number; title?: string } = {},
): Raster {
  if (data.dim !== 2)
    throw new DeepgenError("E_ARG", `samplesPlot draws 2-D data; ${data.name} is ${data.dim}-D (discriminatorPlot shows p_g there)`);
  const m = checkSamples("generator samples", generatorSamples, 2);
  const n = Math.min(m, opts.n ?? 2000);
  const [[x0, x1], [y0, y1]] = data.bounds as [[number, number], [number, number]];
  return scatterPlot(
    [
      { name: "data", points: data.sample(n, seed), color: [160, 160, 160] },
      { name: "generator", points: generatorSamples.subarray(0, 2 * n), color: [214, 39, 40] },
    ],
    { title: opts.title ?? `${data.name}: samples`, xRange: [x0, x1], yRange: [y0, y1] },
  );
}

export interface JsdRecord {
  jsdValue: number;
  jsdNumeric: number;
  /** (V(D, G) + log 4) / 2 of the current discriminator, optional. */
  jsdCurrent?: number;
}

/** The JSD estimates by epoch (x = 1, 2, ...), in nats. */
export function jsdCurvePlot(history: ReadonlyArray<JsdRecord>, opts: { title?: string } = {}): Raster {
  if (history.length === 0) throw new DeepgenError("E_ARG", "jsdCurvePlot: no epochs to plot");
  const series: Series[] = [
    { name: "jsd from v(d*,g)", values: history.map((h) => h.jsdValue) },
    { name: "jsd numeric", values: history.map((h) => h.jsdNumeric) },
  ];
  if (history.some((h) => h.jsdCurrent !== undefined && Number.isFinite(h.jsdCurrent))) {
    series.push({ name: "from v(d,g)", values: history.map((h) => h.jsdCurrent) });
  }
  return linePlot(series, { title: opts.title ?? "jensen-shannon divergence by epoch", xLabel: "epoch", yLabel: "jsd (nats)" });
}
