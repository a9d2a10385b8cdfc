/**
 * Optimal-discriminator diagnostics of a GAN on toy data whose density is known
 * (Goodfellow et al. 2014, Prop. 1 and Thm. 1):
 *   D*(x) = p_data(x) / (p_data(x) + p_g(x)),   V(D*, G) = -log 4 + 2 JSD(p_data || p_g).
 * p_g is estimated from generator samples (generator-density.ts), p_data is exact. Two JSD
 * estimates that should agree and fall during training:
 *   valueFunctionJsd: Monte Carlo V(D*, G) = E_data[log D*] + E_g[log(1 - D*)] over fresh data
 *     samples and the generator samples; JSD_V = (V + log 4) / 2. Alongside, the current
 *     discriminator's V(D, G) on the same samples, which is at most V(D*, G) in expectation.
 *   numericJsd: JSD(p_data || p_g) by the midpoint rule on the grid over the data's box, in
 *     nats, in [0, log 2]. p_g mass outside the box (where p_data < 1e-14) adds
 *     (1/2) log 2 per unit of mass, its exact contribution where p_data = 0.
 * All math is float64 and deterministic for a seed.
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import type { ToyDistribution } from "../data/toy.js";
import {
  checkSamples,
  dataGrid,
  defaultGridSize,
  estimateGeneratorDensity,
  gridPoints,
  type DensityEstimateOptions,
  type DensityFunction,
  type GeneratorDensity,
} from "./generator-density.js";

/** A discriminator: probabilities D(x) in [0, 1] for n points x [n, dim]. */
export type Discriminator = (x: Float32Array, n: number) => ArrayLike<number>;

const LOG2 = Math.LN2;
const LOG4 = 2 * Math.LN2;
/** D is clamped to [EPS, 1 - EPS] before the logs: a float32 sigmoid rounds to exactly 1 past ~17. */
export const D_EPS = 1e-7;

function logAddExp(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  const m = Math.max(a, b);
  return m + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** log D*(x) and log(1 - D*(x)) from log p_data and log p_g; D* = 1/2 where both are zero. */
function logOptimal(lp: number, lq: number): [number, number] {
  if (lp === -Infinity && lq === -Infinity) return [-LOG2, -LOG2];
  const lm = logAddExp(lp, lq);
  return [lp - lm, lq - lm];
}

/** D*(x) = p_data / (p_data + p_g) at n points x [n, dim]. */
export function optimalDiscriminator(data: ToyDistribution, pg: DensityFunction, x: ArrayLike<number>, n: number): Float64Array {
  const lp = data.logDensity(x, n);
  const lq = pg.logDensity(x, n);
  return Float64Array.from(lp, (p, i) => Math.exp(logOptimal(p, lq[i]!)[0]));
}

export interface NumericJsdResult {
  /** JSD(p_data || p_g) in nats, in [0, log 2]. */
  jsd: number;
  /** Integral of p_g over the data's box on the grid (the rest counts as off the data). */
  pgMassInBox: number;
}

/** Direct numeric JSD(p_data || p_g) in nats by the midpoint rule on the data's grid. */
export function numericJsd(data: ToyDistribution, pg: DensityFunction, opts: { gridSize?: number } = {}): number {
  return numericJsdDetails(data, pg, opts).jsd;
}

/** log p_data on the grid never changes during training: kept per distribution and grid size. */
const dataGridCache = new WeakMap<ToyDistribution, Map<number, { pts: Float64Array; lp: Float64Array }>>();

function dataOnGrid(data: ToyDistribution, gridSize: number): { pts: Float64Array; lp: Float64Array } {
  let bySize = dataGridCache.get(data);
  if (!bySize) {
    bySize = new Map();
    dataGridCache.set(data, bySize);
  }
  let hit = bySize.get(gridSize);
  if (!hit) {
    const grid = dataGrid(data, gridSize);
    const pts = gridPoints(grid, data.dim);
    hit = { pts, lp: data.logDensity(pts, grid.nx * grid.ny) };
    bySize.clear(); // one size at a time is what a training run uses
    bySize.set(gridSize, hit);
  }
  return hit;
}

export function numericJsdDetails(data: ToyDistribution, pg: DensityFunction, opts: { gridSize?: number } = {}): NumericJsdResult {
  const gridSize = checkInteger("gridSize", opts.gridSize ?? defaultGridSize(data), 8, data.dim === 1 ? 1 << 22 : 4096);
  const grid = dataGrid(data, gridSize);
  const n = grid.nx * grid.ny;
  const { pts, lp } = dataOnGrid(data, gridSize);
  const lq = pg.logDensity(pts, n);
  const cell = grid.dx * (data.dim === 2 ? grid.dy : 1);
  let sum = 0;
  let massQ = 0;
  for (let i = 0; i < n; i++) {
    const a = lp[i]!;
    const b = lq[i]!;
    if (Number.isNaN(a) || Number.isNaN(b)) throw new DeepgenError("E_ARG", "numericJsd: a log-density is NaN");
    const lm = logAddExp(a, b) - LOG2; // log of the mixture (p + q) / 2
    const p = Math.exp(a);
    const q = Math.exp(b);
    if (p > 0) sum += p * (a - lm);
    if (q > 0) sum += q * (b - lm);
    massQ += q;
  }
  massQ *= cell;
  const jsd = 0.5 * sum * cell + 0.5 * LOG2 * Math.max(0, 1 - massQ);
  return { jsd: Math.min(LOG2, Math.max(0, jsd)), pgMassInBox: massQ };
}

export interface ValueJsdOptions {
  /** Seed of the fresh data samples (use one apart from training's). */
  seed: Seed;
  /** Number of fresh data samples (default: as many as generator samples). */
  nData?: number;
  /** Index of the first data sample in the seed's stream (default 0). */
  dataOffset?: number;
  /** The current discriminator, to report V(D, G) on the same samples. */
  discriminator?: Discriminator;
}

export interface ValueJsdResult {
  /** Monte Carlo V(D*, G) = E_data[log D*] + E_g[log(1 - D*)]. */
  vOptimal: number;
  /** (vOptimal + log 4) / 2, the JSD implied by the value function. */
  jsd: number;
  /** Standard error of jsd (Monte Carlo, both sample sets independent). */
  jsdStdErr: number;
  /** V(D, G) of the given discriminator on the same samples (NaN without one). */
  vCurrent: number;
  /** (vCurrent + log 4) / 2: a lower bound on the JSD in expectation, can be < 0 for a poor D. */
  jsdCurrent: number;
}

function meanVar(x: Float64Array): [number, number] {
  let mean = 0;
  for (const v of x) mean += v;
  mean /= x.length;
  let ss = 0;
  for (const v of x) ss += (v - mean) ** 2;
  return [mean, x.length > 1 ? ss / (x.length - 1) : 0];
}

function evalDiscriminator(d: Discriminator, x: Float32Array, n: number): Float64Array {
  const out = d(x, n);
  if (!out || typeof out.length !== "number" || out.length !== n) {
    throw new DeepgenError("E_SHAPE", `discriminator returned ${out?.length} values for ${n} points`);
  }
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = out[i]!;
    if (!(v >= 0 && v <= 1)) throw new DeepgenError("E_ARG", `discriminator output ${i} is ${v}, not a probability in [0, 1]`);
    r[i] = Math.min(1 - D_EPS, Math.max(D_EPS, v));
  }
  return r;
}

/** V(D*, G) by Monte Carlo and the JSD it implies; plus the current discriminator's V(D, G). */
export function valueFunctionJsd(
  data: ToyDistribution,
  pg: DensityFunction,
  generatorSamples: Float32Array,
  opts: ValueJsdOptions,
): ValueJsdResult {
  const m = checkSamples("generator samples", generatorSamples, data.dim);
  const nData = checkInteger("nData", opts.nData ?? m, 1);
  const real = data.sample(nData, opts.seed, opts.dataOffset ?? 0);
  const lpReal = data.logDensity(real, nData);
  const lqReal = pg.logDensity(real, nData);
  const lpFake = data.logDensity(generatorSamples, m);
  const lqFake = pg.logDensity(generatorSamples, m);
  const a = Float64Array.from(lpReal, (p, i) => logOptimal(p, lqReal[i]!)[0]);
  const b = Float64Array.from(lpFake, (p, i) => logOptimal(p, lqFake[i]!)[1]);
  const [ma, va] = meanVar(a);
  const [mb, vb] = meanVar(b);
  const vOptimal = ma + mb;
  let vCurrent = NaN;
  if (opts.discriminator) {
    const dReal = evalDiscriminator(opts.discriminator, real, nData);
    const dFake = evalDiscriminator(opts.discriminator, generatorSamples, m);
    let sa = 0;
    for (const v of dReal) sa += Math.log(v);
    let sb = 0;
    for (const v of dFake) sb += Math.log1p(-v);
    vCurrent = sa / nData + sb / m;
  }
  return {
    vOptimal,
    jsd: (vOptimal + LOG4) / 2,
    jsdStdErr: 0.5 * Math.sqrt(va / nData + vb / m),
    vCurrent,
    jsdCurrent: (vCurrent + LOG4) / 2,
  };
}

export interface CoverageOptions {
  /** A sample is high quality within `sigmas` std of its nearest mode (default 3). */
  sigmas?: number;
  /** A mode is hit with at least this many high-quality samples (default 1). */
  minCount?: number;
}

export interface Coverage {
  modes: number;
  modesHit: number;
  /** Fraction of samples within `sigmas` std of their nearest mode. */
  highQualityFraction: number;
  /** High-quality samples per mode [k]. */
  counts: Int32Array;
  sigmas: number;
  minCount: number;
}

/**
 * Mode coverage: each sample goes to its nearest mode centre (Euclidean); it is high quality
 * when within sigmas * std of that mode (3 std holds 98.9% of a 2-D Gaussian's mass, 99.7%
 * in 1-D). Modes hit: modes with at least minCount high-quality samples.
 */
export function modeCoverage(data: ToyDistribution, samples: Float32Array, opts: CoverageOptions = {}): Coverage {
  const m = checkSamples("samples", samples, data.dim);
  const sigmas = opts.sigmas ?? 3;
  if (!(sigmas > 0) || !Number.isFinite(sigmas)) throw new DeepgenError("E_ARG", `sigmas must be > 0, got ${sigmas}`);
  const minCount = checkInteger("minCount", opts.minCount ?? 1, 1);
  const k = data.weights.length;
  const dim = data.dim;
  const counts = new Int32Array(k);
  let good = 0;
  for (let i = 0; i < m; i++) {
    let best = -1;
    let bestD2 = Infinity;
    for (let c = 0; c < k; c++) {
      let d2 = 0;
      for (let d = 0; d < dim; d++) d2 += (samples[i * dim + d]! - data.means[c * dim + d]!) ** 2;
      if (d2 < bestD2) {
        bestD2 = d2;
        best = c;
      }
    }
    const r = sigmas * data.stds[best]!;
    if (bestD2 <= r * r) {
      counts[best]!++;
      good++;
    }
  }
  let modesHit = 0;
  for (const c of counts) if (c >= minCount) modesHit++;
  return { modes: k, modesHit, highQualityFraction: good / m, counts, sigmas, minCount };
}

export interface DiagnoseOptions {
  data: ToyDistribution;
  /** Generator samples [m, data.dim]. */
  generatorSamples: Float32Array;
  /** The current discriminator (optional: without it vCurrent is NaN). */
  discriminator?: Discriminator;
  /** Seed of the fresh data samples of the Monte Carlo estimate. */
  seed: Seed;
  nData?: number;
  density?: DensityEstimateOptions;
  coverage?: CoverageOptions;
}

export interface GanDiagnostics {
  /** JSD implied by the Monte Carlo value function V(D*, G), nats. */
  jsdValue: number;
  jsdValueStdErr: number;
  /** Direct numeric JSD(p_data || p_g) on the grid, nats. */
  jsdNumeric: number;
  vOptimal: number;
  /** V(D, G) of the current discriminator (NaN without one). */
  vCurrent: number;
  /** (vCurrent + log 4) / 2. */
  jsdCurrent: number;
  coverage: Coverage;
  /** The p_g estimate (for plots: discriminatorPlot reuses it). */
  pg: GeneratorDensity;
  /** Wall time of the whole diagnosis. */
  seconds: number;
}

/**
 * Everything per epoch in one call: estimate p_g from the generator samples, the two JSD
 * estimates, the current discriminator's value, mode coverage.
 */
export function diagnoseGan(opts: DiagnoseOptions): GanDiagnostics {
  const t0 = performance.now();
  const { data, generatorSamples } = opts;
  const pg = estimateGeneratorDensity(data, generatorSamples, opts.density);
  const gridSize = opts.density?.gridSize;
  const v = valueFunctionJsd(data, pg, generatorSamples, { seed: opts.seed, nData: opts.nData, discriminator: opts.discriminator });
  const jsdNumeric = numericJsd(data, pg, gridSize === undefined ? {} : { gridSize });
  const coverage = modeCoverage(data, generatorSamples, opts.coverage);
  return {
    jsdValue: v.jsd,
    jsdValueStdErr: v.jsdStdErr,
    jsdNumeric,
    vOptimal: v.vOptimal,
    vCurrent: v.vCurrent,
    jsdCurrent: v.jsdCurrent,
    coverage,
    pg,
    seconds: (performance.now() - t0) / 1000,
  };
}
