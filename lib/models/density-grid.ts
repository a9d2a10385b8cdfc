/**
 * What the generator-density estimates (generator-density.ts, kde-2d.ts) and the toy-data
 * diagnostics share: the density interface, the integration grid over a toy distribution's
 * box, and the checks and summaries of a sample set.
 */
import { checkFloat32Array } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { ToyDistribution } from "../data/toy.js";

/** Anything with a log-density: an estimate, or an exact p_g injected by a test. */
export interface DensityFunction {
  /** log density in nats at n points [n, dim]; -Infinity where the density is zero. */
  logDensity(x: ArrayLike<number>, n: number): Float64Array;
}

export interface GeneratorDensity extends DensityFunction {
  readonly method: "histogram" | "kde";
  /** "freedman-diaconis" | "scott" | "lcv" | "fixed". */
  readonly rule: string;
  /** Bin width (histogram) or kernel standard deviation h (KDE). */
  readonly bandwidth: number;
  /** The grid the estimate was built on (2-D only), for plots. */
  readonly grid?: Grid2d;
  /** Estimated density at the grid nodes [ny, nx] (2-D only). */
  readonly gridValues?: Float64Array;
}

/** Nodes at the centres of an nx x ny partition of the box [x0, x0 + nx dx] x [y0, y0 + ny dy]. */
export interface Grid2d {
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  nx: number;
  ny: number;
}

/**
 * Grid resolution used for integration and the 2-D KDE: a step of at most a quarter of the
 * smallest mode std over the data's box (`bounds`), clamped to [64, 512] per side in 2-D;
 * 8192 points in 1-D.
 */
export function defaultGridSize(data: ToyDistribution): number {
  if (data.dim === 1) return 8192;
  let side = 0;
  for (const [lo, hi] of data.bounds) side = Math.max(side, hi - lo);
  const step = Math.min(...data.stds) / 4;
  return Math.max(64, Math.min(512, Math.ceil(side / step)));
}

export function dataGrid(data: ToyDistribution, gridSize: number): Grid2d {
  const [bx, by] = data.bounds;
  const [x0, x1] = bx!;
  const [y0, y1] = by ?? [0, 1];
  return { x0, y0, dx: (x1 - x0) / gridSize, dy: (y1 - y0) / gridSize, nx: gridSize, ny: data.dim === 2 ? gridSize : 1 };
}

/** Node coordinates [nx * ny, 2] (row-major, y outer) or [nx] in 1-D. */
export function gridPoints(grid: Grid2d, dim: number): Float64Array {
  if (dim === 1) return Float64Array.from({ length: grid.nx }, (_, i) => grid.x0 + (i + 0.5) * grid.dx);
  const out = new Float64Array(grid.nx * grid.ny * 2);
  for (let iy = 0; iy < grid.ny; iy++) {
    for (let ix = 0; ix < grid.nx; ix++) {
      const o = (iy * grid.nx + ix) * 2;
      out[o] = grid.x0 + (ix + 0.5) * grid.dx;
      out[o + 1] = grid.y0 + (iy + 0.5) * grid.dy;
    }
  }
  return out;
}

export function checkSamples(name: string, samples: unknown, dim: number): number {
  const s = checkFloat32Array(name, samples);
  if (s.length === 0 || s.length % dim !== 0) {
    throw new DeepgenError("E_SHAPE", `${name}: ${s.length} values are not a non-empty set of ${dim}-D points`);
  }
  for (let i = 0; i < s.length; i++) {
    if (!Number.isFinite(s[i]!)) throw new DeepgenError("E_ARG", `${name}: value ${i} is not finite (${s[i]})`);
  }
  return s.length / dim;
}

/** Sample standard deviation of every stride-th value from offset. */
export function standardDeviation(x: ArrayLike<number>, stride: number, offset: number): number {
  const n = x.length / stride;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i * stride + offset]!;
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[i * stride + offset]! - mean) ** 2;
  return Math.sqrt(ss / Math.max(1, n - 1));
}
