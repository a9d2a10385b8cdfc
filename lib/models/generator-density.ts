/**
 * Density estimates p_g of a generator from its samples, for the optimal-discriminator
 * diagnostics on toy data (gan-diagnostics.ts). Everything is float64 and deterministic.
 *
 * 1-D: a histogram with edges at the multiples of the width w, stored sparsely (only
 *   non-empty bins, so far outliers cost nothing). Bin width rules:
 *     "cv" (default): least-squares cross-validation (Rudemo 1982): the w among FD * 2^(j/4),
 *       j = -16..8, minimizing 2 / ((m-1) w) - (m+1) / ((m-1) w) sum_k (c_k / m)^2;
 *     "fd": Freedman-Diaconis, w = 2 IQR m^(-1/3) (robust to an untrained generator's outliers);
 *     "scott": w = 3.49 sd m^(-1/3);  a number: that width.
 * 2-D: a Gaussian kernel density estimate with bandwidth chosen by likelihood cross-validation
 *   (kde-2d.ts).
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { ToyDistribution } from "../data/toy.js";
import { checkSamples, dataGrid, defaultGridSize, type GeneratorDensity, standardDeviation } from "./density-grid.js";
import { kdeDensity } from "./kde-2d.js";

export {
  checkSamples,
  dataGrid,
  defaultGridSize,
  type DensityFunction,
  type GeneratorDensity,
  type Grid2d,
  gridPoints,
} from "./density-grid.js";
export { exactKde2d } from "./kde-2d.js";

export interface DensityEstimateOptions {
  /** 1-D bin width: "fd" (Freedman-Diaconis, default), "scott", or a width > 0. */
  bins?: BinRule;
  /** 2-D KDE bandwidth: "lcv" (default), "scott", or h > 0. */
  bandwidth?: "lcv" | "scott" | number;
  /** Grid nodes per side in 2-D / points in 1-D (default: defaultGridSize(data)). */
  gridSize?: number;
}

/** p_g from generator samples [m, data.dim]: histogram in 1-D, binned Gaussian KDE in 2-D. */
export function estimateGeneratorDensity(
  data: ToyDistribution,
  samples: Float32Array,
  opts: DensityEstimateOptions = {},
): GeneratorDensity {
  const m = checkSamples("generator samples", samples, data.dim);
  if (data.dim === 1) return histogramDensity(samples, m, opts.bins ?? "cv", Math.min(...data.stds) / 10);
  const gridSize = checkInteger("gridSize", opts.gridSize ?? defaultGridSize(data), 8, 4096);
  return kdeDensity(samples, m, dataGrid(data, gridSize), opts.bandwidth ?? "lcv");
}

function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

type BinRule = "cv" | "fd" | "scott" | number;

/** Counts of the non-empty bins [k w, (k + 1) w), keyed by k: sparse, so outliers cost nothing. */
function binCounts(samples: Float32Array, m: number, width: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (let i = 0; i < m; i++) {
    const k = Math.floor(samples[i]! / width);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

/** Rudemo's least-squares cross-validation risk of a histogram (lower is better). */
function histogramCvRisk(counts: Map<number, number>, m: number, width: number): number {
  let sq = 0;
  for (const c of counts.values()) sq += c * c;
  return (2 - ((m + 1) * sq) / (m * m)) / ((m - 1) * width);
}

/** Histogram density of 1-D samples; `fallback` is the width used when the rule gives 0. */
export function histogramDensity(samples: Float32Array, m: number, bins: BinRule, fallback: number): GeneratorDensity {
  const bad = (): DeepgenError => new DeepgenError("E_ARG", `bins must be "cv", "fd", "scott" or a width > 0, got ${String(bins)}`);
  let width: number;
  let rule: string;
  if (typeof bins === "number") {
    if (!(bins > 0) || !Number.isFinite(bins)) throw bad();
    width = bins;
    rule = "fixed";
  } else if (bins === "fd" || bins === "cv") {
    const sorted = Float64Array.from(samples).sort();
    width = 2 * (quantileSorted(sorted, 0.75) - quantileSorted(sorted, 0.25)) * m ** (-1 / 3);
    rule = "freedman-diaconis";
    if (!(width > 0)) width = fallback;
    if (bins === "cv" && m > 1) {
      // Widths FD * 2^(j/4), j = -16..8: the Freedman-Diaconis width assumes one bump and is
      // several times too wide for well separated modes.
      const fd = width;
      let best = Infinity;
      for (let j = -16; j <= 8; j++) {
        const w = fd * 2 ** (j / 4);
        const risk = histogramCvRisk(binCounts(samples, m, w), m, w);
        if (risk < best) {
          best = risk;
          width = w;
        }
      }
      rule = "cv";
    }
  } else if (bins === "scott") {
    width = 3.49 * standardDeviation(samples, 1, 0) * m ** (-1 / 3);
    rule = "scott";
    if (!(width > 0)) width = fallback;
  } else {
    throw bad();
  }
  const counts = binCounts(samples, m, width);
  const logScale = -Math.log(m * width);
  return {
    method: "histogram",
    rule,
    bandwidth: width,
    logDensity(x, n) {
      checkInteger("n", n, 0);
      if (x.length !== n) throw new DeepgenError("E_SHAPE", `histogram logDensity: ${x.length} values for ${n} 1-D points`);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const c = counts.get(Math.floor(x[i]! / width)) ?? 0;
        out[i] = c > 0 ? Math.log(c) + logScale : -Infinity;
      }
      return out;
    },
  };
}
