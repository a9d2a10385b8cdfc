/**
 * The 2-D generator-density estimate of generator-density.ts: a Gaussian kernel density
 * estimate with isotropic bandwidth h, computed by linear
 *   binning onto the integration grid and a separable convolution truncated at 4h (Wand 1994),
 *   so its cost is O(G^2 h / delta), not O(m x points); for h >= 8 delta on a coarser grid
 *   of step <= h / 4. Points inside the grid read the grid by bilinear interpolation; the taps'
 *   std is sqrt(h^2 - delta^2 / 3) to cancel the average variance binning and read-back add.
 *   Against the exact kernel sum at data points (ring8, h = 1.4 delta): median relative error
 *   0.3%, 99th percentile 3%. Points outside the grid get the exact kernel sum over the
 *   samples within 5h (a spatial hash). Bandwidth rules:
 *     "lcv" (default): likelihood cross-validation, an h in {delta * sqrt(2)^k} up to Scott's h
 *       that maximizes the leave-one-out log-likelihood of the samples on the grid (exact for
 *       the binned estimate: each sample's own binned contribution is removed), found by
 *       doubling h from delta until the score drops, then trying the half-steps around the best. Rule-of-thumb bandwidths
 *       assume one Gaussian bump and over-smooth multimodal sharp data badly (Scott's h for a
 *       perfect ring8 generator, m = 10,000, is ~0.3, six times the mode std).
 *     "scott": h = sd m^(-1/6) with sd the root mean of the two coordinate variances
 *       (in 2-D Silverman's rule (4 / (d + 2))^(1 / (d + 4)) sd m^(-1/(d+4)) is the same).
 *     a number: that h.
 *   h is never below the grid step delta (the binned estimate needs h >= delta).
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { type GeneratorDensity, type Grid2d, standardDeviation } from "./density-grid.js";

/** Linear-binning weights of the samples on the grid nodes; samples off the node range are listed apart. */
interface Binning {
  /** Per inside sample: node index of the lower-left corner and fractional offsets. */
  corner: Int32Array;
  fx: Float64Array;
  fy: Float64Array;
  inside: number;
  /** Binned mass per node [ny, nx] (sum of weights; each inside sample adds 1). */
  mass: Float64Array;
}

function binSamples(samples: Float32Array, m: number, g: Grid2d): Binning {
  const corner = new Int32Array(m).fill(-1);
  const fxs = new Float64Array(m);
  const fys = new Float64Array(m);
  const mass = new Float64Array(g.nx * g.ny);
  let inside = 0;
  for (let i = 0; i < m; i++) {
    const u = (samples[2 * i]! - g.x0) / g.dx - 0.5;
    const v = (samples[2 * i + 1]! - g.y0) / g.dy - 0.5;
    if (!(u >= 0 && v >= 0 && u <= g.nx - 1 && v <= g.ny - 1)) continue;
    const ix = Math.min(g.nx - 2, Math.floor(u));
    const iy = Math.min(g.ny - 2, Math.floor(v));
    const fx = u - ix;
    const fy = v - iy;
    const c = iy * g.nx + ix;
    corner[i] = c;
    fxs[i] = fx;
    fys[i] = fy;
    mass[c]! += (1 - fx) * (1 - fy);
    mass[c + 1]! += fx * (1 - fy);
    mass[c + g.nx]! += (1 - fx) * fy;
    mass[c + g.nx + 1]! += fx * fy;
    inside++;
  }
  return { corner, fx: fxs, fy: fys, inside, mass };
}

/** 1-D Gaussian weights exp(-(t step)^2 / (2 h^2)) / (sqrt(2 pi) h) for t = -T..T, T = ceil(4h / step). */
/**
 * The Gaussian's std on a grid of this step: linear binning and bilinear read-back each add on
 * average step^2 / 6 of variance, so the taps use sqrt(h^2 - step^2 / 3) to keep the total
 * kernel's variance h^2 (floored at h / 2).
 */
function tapStd(h: number, step: number): number {
  return Math.sqrt(Math.max(h * h - (step * step) / 3, (h * h) / 4));
}

function kernelTaps(h: number, step: number): Float64Array {
  const T = Math.ceil((4 * h) / step);
  const taps = new Float64Array(2 * T + 1);
  const norm = 1 / (Math.sqrt(2 * Math.PI) * h);
  for (let t = -T; t <= T; t++) taps[t + T] = norm * Math.exp(-((t * step) ** 2) / (2 * h * h));
  return taps;
}

/** Binned KDE on the grid nodes: (1/m) * (mass convolved with the separable Gaussian). */
function convolve(mass: Float64Array, g: Grid2d, h: number, m: number): Float64Array {
  const kx = kernelTaps(tapStd(h, g.dx), g.dx);
  const ky = kernelTaps(tapStd(h, g.dy), g.dy);
  const Tx = (kx.length - 1) / 2;
  const Ty = (ky.length - 1) / 2;
  const tmp = new Float64Array(mass.length);
  // Scatter along x: each non-empty node spreads into its row (mass is sparse early on).
  for (let iy = 0; iy < g.ny; iy++) {
    const row = iy * g.nx;
    for (let ix = 0; ix < g.nx; ix++) {
      const w = mass[row + ix]!;
      if (w === 0) continue;
      const a = Math.max(0, ix - Tx);
      const b = Math.min(g.nx - 1, ix + Tx);
      for (let j = a; j <= b; j++) tmp[row + j]! += w * kx[j - ix + Tx]!;
    }
  }
  const out = new Float64Array(mass.length);
  for (let iy = 0; iy < g.ny; iy++) {
    const a = Math.max(0, iy - Ty);
    const b = Math.min(g.ny - 1, iy + Ty);
    for (let jy = a; jy <= b; jy++) {
      const w = ky[jy - iy + Ty]! / m;
      const src = iy * g.nx;
      const dst = jy * g.nx;
      for (let ix = 0; ix < g.nx; ix++) out[dst + ix]! += w * tmp[src + ix]!;
    }
  }
  return out;
}

function interpolate(values: Float64Array, g: Grid2d, c: number, fx: number, fy: number): number {
  return (
    (1 - fx) * (1 - fy) * values[c]! + fx * (1 - fy) * values[c + 1]! + (1 - fx) * fy * values[c + g.nx]! + fx * fy * values[c + g.nx + 1]!
  );
}

/**
 * The grid the binned KDE with bandwidth h is computed on: the data grid, or for h >= 8 delta
 * a coarser one over the same box with a step of at most h / 4 (the binned estimate is then
 * still accurate, and the convolution costs O(G^2) whatever h is).
 */
function kdeGrid(g: Grid2d, h: number): Grid2d {
  const f = Math.max(1, Math.floor(h / (4 * Math.max(g.dx, g.dy))));
  if (f === 1) return g;
  const nx = Math.max(2, Math.ceil(g.nx / f));
  const ny = Math.max(2, Math.ceil(g.ny / f));
  return { x0: g.x0, y0: g.y0, nx, ny, dx: (g.nx * g.dx) / nx, dy: (g.ny * g.dy) / ny };
}

/** Leave-one-out mean log-likelihood of the samples on the grid under the binned KDE with bandwidth h. */
function lcvScore(samples: Float32Array, m: number, fine: Grid2d, h: number): number {
  const g = kdeGrid(fine, h);
  const b = binSamples(samples, m, g);
  if (b.inside < 2) return -Infinity;
  const values = convolve(b.mass, g, h, m);
  // A sample's own part of the binned estimate at itself: sum over pairs of its corner weights
  // of w_a w_b K(node_a - node_b) / m, separable in x and y.
  const hx = tapStd(h, g.dx);
  const hy = tapStd(h, g.dy);
  const k0x = 1 / (Math.sqrt(2 * Math.PI) * hx);
  const k0y = 1 / (Math.sqrt(2 * Math.PI) * hy);
  const k1x = k0x * Math.exp(-(g.dx * g.dx) / (2 * hx * hx));
  const k1y = k0y * Math.exp(-(g.dy * g.dy) / (2 * hy * hy));
  let score = 0;
  for (let i = 0; i < m; i++) {
    const c = b.corner[i]!;
    if (c < 0) continue;
    const fx = b.fx[i]!;
    const fy = b.fy[i]!;
    const sx = ((1 - fx) ** 2 + fx * fx) * k0x + 2 * fx * (1 - fx) * k1x;
    const sy = ((1 - fy) ** 2 + fy * fy) * k0y + 2 * fy * (1 - fy) * k1y;
    const loo = (m * interpolate(values, g, c, fx, fy) - sx * sy) / (m - 1);
    if (!(loo > 0)) return -Infinity;
    score += Math.log(loo);
  }
  return score / b.inside;
}

/** Binned KDE with bandwidth h at the nodes of the data grid `fine`. */
function binnedKde(samples: Float32Array, m: number, fine: Grid2d, h: number): Float64Array {
  const g = kdeGrid(fine, h);
  const values = convolve(binSamples(samples, m, g).mass, g, h, m);
  if (g === fine) return values;
  const out = new Float64Array(fine.nx * fine.ny);
  for (let iy = 0; iy < fine.ny; iy++) {
    const v = Math.min(g.ny - 1, Math.max(0, (fine.y0 + (iy + 0.5) * fine.dy - g.y0) / g.dy - 0.5));
    const cy = Math.min(g.ny - 2, Math.floor(v));
    for (let ix = 0; ix < fine.nx; ix++) {
      const u = Math.min(g.nx - 1, Math.max(0, (fine.x0 + (ix + 0.5) * fine.dx - g.x0) / g.dx - 0.5));
      const cx = Math.min(g.nx - 2, Math.floor(u));
      out[iy * fine.nx + ix] = interpolate(values, g, cy * g.nx + cx, u - cx, v - cy);
    }
  }
  return out;
}

/** Exact Gaussian KDE at points, summing the samples within 5h through a spatial hash. */
export function exactKde2d(samples: ArrayLike<number>, m: number, h: number): (x: ArrayLike<number>, n: number) => Float64Array {
  const cell = 5 * h;
  // Cell indices are clamped to +-2^20 so keys stay exact; far points share the edge cells,
  // where the distance test still decides.
  const OFF = 2 ** 20;
  const cellOf = (v: number): number => Math.max(-OFF, Math.min(OFF, Math.floor(v / cell)));
  const key = (cx: number, cy: number): number => (cx + OFF) * (2 * OFF + 1) + (cy + OFF);
  const buckets = new Map<number, number[]>();
  for (let i = 0; i < m; i++) {
    const k = key(cellOf(samples[2 * i]!), cellOf(samples[2 * i + 1]!));
    let list = buckets.get(k);
    if (!list) {
      list = [];
      buckets.set(k, list);
    }
    list.push(i);
  }
  const norm = 1 / (2 * Math.PI * h * h * m);
  const r2 = cell * cell;
  return (x, n) => {
    const out = new Float64Array(n);
    for (let p = 0; p < n; p++) {
      const px = x[2 * p]!;
      const py = x[2 * p + 1]!;
      const cx = cellOf(px);
      const cy = cellOf(py);
      let sum = 0;
      for (let a = Math.max(-OFF, cx - 1); a <= Math.min(OFF, cx + 1); a++) {
        for (let b = Math.max(-OFF, cy - 1); b <= Math.min(OFF, cy + 1); b++) {
          const list = buckets.get(key(a, b));
          if (!list) continue;
          for (const i of list) {
            const d2 = (samples[2 * i]! - px) ** 2 + (samples[2 * i + 1]! - py) ** 2;
            if (d2 <= r2) sum += Math.exp(-d2 / (2 * h * h));
          }
        }
      }
      out[p] = sum * norm;
    }
    return out;
  };
}

/**
 * The h in {lo * sqrt(2)^k} <= hi maximizing score: doubling from lo until the score drops
 * (it is unimodal in practice), then the two half-steps around the best doubling.
 */
function lcvSearch(score: (h: number) => number, lo: number, hi: number): number {
  const limit = hi * (1 + 1e-9);
  let h = lo;
  let best = score(lo);
  for (let cand = 2 * lo; cand <= limit; cand *= 2) {
    const s = score(cand);
    if (s <= best && best > -Infinity) break;
    if (s > best) {
      best = s;
      h = cand;
    }
  }
  for (const cand of [h / Math.SQRT2, h * Math.SQRT2]) {
    if (cand < lo || cand > limit) continue;
    const s = score(cand);
    if (s > best) {
      best = s;
      h = cand;
    }
  }
  return h;
}

export function kdeDensity(samples: Float32Array, m: number, g: Grid2d, bandwidth: "lcv" | "scott" | number): GeneratorDensity {
  const step = Math.min(g.dx, g.dy);
  const sd = Math.sqrt((standardDeviation(samples, 2, 0) ** 2 + standardDeviation(samples, 2, 1) ** 2) / 2);
  const scott = Math.max(step, sd * m ** (-1 / 6));
  let h: number;
  let rule: string;
  if (typeof bandwidth === "number") {
    if (!(bandwidth > 0) || !Number.isFinite(bandwidth))
      throw new DeepgenError("E_ARG", `bandwidth must be "lcv", "scott" or h > 0, got ${bandwidth}`);
    h = Math.max(step, bandwidth);
    rule = "fixed";
  } else if (bandwidth === "scott") {
    h = scott;
    rule = "scott";
  } else if (bandwidth === "lcv") {
    rule = "lcv";
    h = scott;
    h = lcvSearch((cand) => lcvScore(samples, m, g, cand), step, scott);
  } else {
    throw new DeepgenError("E_ARG", `bandwidth must be "lcv", "scott" or h > 0, got ${String(bandwidth)}`);
  }
  const values = binnedKde(samples, m, g, h);
  let exact: ((x: ArrayLike<number>, n: number) => Float64Array) | undefined; // built on the first point off the grid
  return {
    method: "kde",
    rule,
    bandwidth: h,
    grid: g,
    gridValues: values,
    logDensity(x, n) {
      checkInteger("n", n, 0);
      if (x.length !== 2 * n) throw new DeepgenError("E_SHAPE", `kde logDensity: ${x.length} values for ${n} 2-D points`);
      const out = new Float64Array(n);
      const outside: number[] = [];
      for (let i = 0; i < n; i++) {
        const u = (x[2 * i]! - g.x0) / g.dx - 0.5;
        const v = (x[2 * i + 1]! - g.y0) / g.dy - 0.5;
        if (!(u >= 0 && v >= 0 && u <= g.nx - 1 && v <= g.ny - 1)) {
          outside.push(i);
          continue;
        }
        const ix = Math.min(g.nx - 2, Math.floor(u));
        const iy = Math.min(g.ny - 2, Math.floor(v));
        out[i] = Math.log(Math.max(0, interpolate(values, g, iy * g.nx + ix, u - ix, v - iy)));
      }
      if (outside.length > 0) {
        exact ??= exactKde2d(samples, m, h);
        const pts = new Float64Array(outside.length * 2);
        outside.forEach((i, k) => {
          pts[2 * k] = x[2 * i]!;
          pts[2 * k + 1] = x[2 * i + 1]!;
        });
        const d = exact(pts, outside.length);
        outside.forEach((i, k) => {
          out[i] = Math.log(d[k]!);
        });
      }
      return out;
    },
  };
}
