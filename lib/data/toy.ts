/**
 * Toy distributions whose density is known exactly, for GAN diagnostics (optimal
 * discriminator, Jensen-Shannon divergence, mode coverage). All are equal- or fixed-weight
 * mixtures of isotropic Gaussians:
 *   mog1d  1-D: weights 0.3 / 0.4 / 0.3, means -2.5 / 0.5 / 3, std 0.5 / 0.3 / 0.4
 *   mog2d  2-D: 25 equal Gaussians on the 5x5 grid {-4, -2, 0, 2, 4}^2, std 0.1
 *   ring8  2-D: 8 equal Gaussians on the circle of radius 2 at angles 2 pi k / 8, std 0.05
 *          (Metz et al. 2017, unrolled GANs, use std 0.02; 0.05 keeps the grid integration of
 *          the diagnostics accurate at a 384 x 384 grid)
 *
 * Sampling is counter-based: sample i (global index offset + i) uses the Philox block with
 * counter (i mod 2^32, floor(i / 2^32), TOY_STREAM, 0) keyed by the seed: word 0 picks the
 * component, words 1 (radius) and 2 (angle) feed Box-Muller in double; in 2-D the cosine and
 * sine of the same draw are the two independent coordinates.
 * So the same seed gives the same samples for any n (prefixes agree) and any batching.
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { philox4x32, seedToKey, uniformF64, type Seed } from "../core/philox.js";

/** Philox counter word 2 of toy-data draws ("toy" in ASCII), apart from model streams. */
export const TOY_STREAM = 0x746f79;

export const TOY_DATASETS = ["mog1d", "mog2d", "ring8"] as const;
export type ToyName = (typeof TOY_DATASETS)[number];

export interface MixtureSpec {
  name: string;
  dim: number;
  /** Component weights (normalized on construction). */
  weights: ArrayLike<number>;
  /** Component means [k, dim]. */
  means: ArrayLike<number>;
  /** Isotropic standard deviation of each component [k]. */
  stds: ArrayLike<number>;
}

export interface ToyDistribution {
  readonly name: string;
  readonly dim: number;
  /** Mixture weights [k], summing to 1. */
  readonly weights: Float64Array;
  /** Mode centres [k, dim] (the component means). */
  readonly means: Float64Array;
  /** Component standard deviations [k]. */
  readonly stds: Float64Array;
  /** A box holding all but ~1e-15 of the mass: per dimension [lo, hi] (means +- 8 std). */
  readonly bounds: ReadonlyArray<readonly [number, number]>;
  /** log p(x) in nats for n points x [n, dim], in float64 (log-sum-exp over components). */
  logDensity(x: ArrayLike<number>, n: number): Float64Array;
  /** Samples [n, dim]; indices offset .. offset + n - 1 of the seed's sample stream. */
  sample(n: number, seed: Seed, offset?: number): Float32Array;
}

const LOG_2PI = Math.log(2 * Math.PI);

class GaussianMixture implements ToyDistribution {
  readonly name: string;
  readonly dim: number;
  readonly weights: Float64Array;
  readonly means: Float64Array;
  readonly stds: Float64Array;
  readonly bounds: ReadonlyArray<readonly [number, number]>;
  private readonly cumulative: Float64Array;
  private readonly logNorm: Float64Array;

  constructor(spec: MixtureSpec) {
    const dim = checkInteger("dim", spec.dim, 1, 2);
    const k = spec.weights.length;
    if (k < 1 || spec.stds.length !== k || spec.means.length !== k * dim) {
      throw new DeepgenError(
        "E_SHAPE",
        `mixture '${spec.name}': ${k} weights, ${spec.stds.length} stds and ${spec.means.length} mean values do not fit ${k} components in ${dim}-D`,
      );
    }
    let total = 0;
    for (let c = 0; c < k; c++) {
      const w = spec.weights[c]!;
      const s = spec.stds[c]!;
      if (!(w > 0) || !Number.isFinite(w) || !(s > 0) || !Number.isFinite(s)) {
        throw new DeepgenError("E_ARG", `mixture '${spec.name}': weights and stds must be finite and > 0`);
      }
      total += w;
    }
    for (let i = 0; i < spec.means.length; i++) {
      if (!Number.isFinite(spec.means[i]!)) throw new DeepgenError("E_ARG", `mixture '${spec.name}': means must be finite`);
    }
    this.name = spec.name;
    this.dim = dim;
    this.weights = Float64Array.from(spec.weights, (w) => w / total);
    this.means = Float64Array.from(spec.means);
    this.stds = Float64Array.from(spec.stds);
    this.cumulative = new Float64Array(k);
    this.logNorm = new Float64Array(k);
    let acc = 0;
    for (let c = 0; c < k; c++) {
      acc += this.weights[c]!;
      this.cumulative[c] = acc;
      const s = this.stds[c]!;
      this.logNorm[c] = Math.log(this.weights[c]!) - dim * (0.5 * LOG_2PI + Math.log(s));
    }
    const bounds: Array<[number, number]> = [];
    for (let d = 0; d < dim; d++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let c = 0; c < k; c++) {
        lo = Math.min(lo, this.means[c * dim + d]! - 8 * this.stds[c]!);
        hi = Math.max(hi, this.means[c * dim + d]! + 8 * this.stds[c]!);
      }
      bounds.push([lo, hi]);
    }
    this.bounds = bounds;
  }

  logDensity(x: ArrayLike<number>, n: number): Float64Array {
    checkInteger("n", n, 0);
    if (x.length !== n * this.dim)
      throw new DeepgenError("E_SHAPE", `${this.name}.logDensity: ${x.length} values for ${n} points of dimension ${this.dim}`);
    const k = this.weights.length;
    const dim = this.dim;
    const out = new Float64Array(n);
    const terms = new Float64Array(k);
    const means = this.means;
    const invVar = Float64Array.from(this.stds, (s) => 1 / (2 * s * s));
    for (let i = 0; i < n; i++) {
      const x0 = +x[i * dim]!;
      const x1 = dim === 2 ? +x[i * dim + 1]! : 0;
      let max = -Infinity;
      for (let c = 0; c < k; c++) {
        const d0 = x0 - means[c * dim]!;
        const d1 = dim === 2 ? x1 - means[c * dim + 1]! : 0;
        const t = this.logNorm[c]! - (d0 * d0 + d1 * d1) * invVar[c]!;
        terms[c] = t;
        if (t > max) max = t;
      }
      if (!Number.isFinite(max)) {
        out[i] = Number.isNaN(max) || Number.isNaN(x0) || Number.isNaN(x1) ? NaN : -Infinity;
        continue;
      }
      // Components more than e^-60 below the largest change nothing in double precision.
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const d = terms[c]! - max;
        if (d > -60) sum += Math.exp(d);
      }
      out[i] = max + Math.log(sum);
    }
    return out;
  }

  sample(n: number, seed: Seed, offset = 0): Float32Array {
    checkInteger("n", n, 0);
    checkInteger("offset", offset, 0);
    const { key0, key1 } = seedToKey(seed);
    const dim = this.dim;
    const k = this.weights.length;
    const out = new Float32Array(n * dim);
    const block = new Uint32Array(4);
    for (let i = 0; i < n; i++) {
      const j = offset + i;
      philox4x32(j % 0x100000000, Math.floor(j / 0x100000000), TOY_STREAM, 0, key0, key1, block);
      const u = uniformF64(block[0]!);
      let c = 0;
      while (c < k - 1 && u >= this.cumulative[c]!) c++;
      const r = Math.sqrt(-2 * Math.log(uniformF64(block[1]!)));
      const t = 2 * Math.PI * uniformF64(block[2]!);
      const s = this.stds[c]!;
      out[i * dim] = this.means[c * dim]! + s * r * Math.cos(t);
      if (dim === 2) out[i * dim + 1] = this.means[c * dim + 1]! + s * r * Math.sin(t);
    }
    return out;
  }
}

/** A mixture of isotropic Gaussians in 1-D or 2-D with the ToyDistribution interface. */
export function gaussianMixture(spec: MixtureSpec): ToyDistribution {
  return new GaussianMixture(spec);
}

function ring8(): ToyDistribution {
  const means: number[] = [];
  for (let c = 0; c < 8; c++) means.push(2 * Math.cos((2 * Math.PI * c) / 8), 2 * Math.sin((2 * Math.PI * c) / 8));
  return gaussianMixture({ name: "ring8", dim: 2, weights: new Array(8).fill(1), means, stds: new Array(8).fill(0.05) });
}

function mog2d(): ToyDistribution {
  const means: number[] = [];
  for (let a = -4; a <= 4; a += 2) for (let b = -4; b <= 4; b += 2) means.push(a, b);
  return gaussianMixture({ name: "mog2d", dim: 2, weights: new Array(25).fill(1), means, stds: new Array(25).fill(0.1) });
}

function mog1d(): ToyDistribution {
  return gaussianMixture({ name: "mog1d", dim: 1, weights: [0.3, 0.4, 0.3], means: [-2.5, 0.5, 3], stds: [0.5, 0.3, 0.4] });
}

/** The named toy distribution; E_ARG for a name not in TOY_DATASETS. */
export function toyDistribution(name: string): ToyDistribution {
  switch (name) {
    case "mog1d":
      return mog1d();
    case "mog2d":
      return mog2d();
    case "ring8":
      return ring8();
    default:
      throw new DeepgenError("E_ARG", `unknown toy dataset '${String(name)}': expected one of ${TOY_DATASETS.join(", ")}`);
  }
}
