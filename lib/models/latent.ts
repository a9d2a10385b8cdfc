/** Helpers shared by the latent-variable models (VAE, AAE): code grids, interpolation, probabilities. */
import { checkInteger } from "../core/check.js";
import { type ModelFile, requireF32 } from "../io/model-file.js";
import type { Net } from "../nn/conv-nets.js";
import { cbLogNormGrad } from "../kernels/js/loss.js";
import { Mlp, type MlpSpec } from "../nn/dense.js";

/** Stable logistic of every element, in place; returns the array. */
export function sigmoidInPlace(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    a[i] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
  }
  return a;
}

/**
 * Mean of the continuous Bernoulli with logit z: sigmoid(z) - d log C / dz = sigmoid(z) +
 * 1/sinh z - 1/z (exponential family: the mean is the log-partition's derivative); 0.5 at z = 0.
 */
export function cbMean(z: number): number {
  return 1 / (1 + Math.exp(-z)) - cbLogNormGrad(z);
}

/**
 * A continuous-Bernoulli draw from a uniform u in [0, 1) by inverting the CDF
 * F(x) = (lambda^x (1 - lambda)^(1 - x) + lambda - 1) / (2 lambda - 1):
 * x = log1p(u expm1(z)) / z (u itself near z = 0, where the density is flat).
 */
export function cbInverseCdf(z: number, u: number): number {
  if (Math.abs(z) < 1e-6) return u;
  // for large z, log1p(u expm1(z)) = z + log(u + (1 - u) e^-z): no overflow of expm1
  const x = z > 30 ? 1 + Math.log(u + (1 - u) * Math.exp(-z)) / z : Math.log1p(u * Math.expm1(z)) / z;
  return Math.min(1, Math.max(0, x));
}

/**
 * `steps` (>= 2) codes on the segment from code 0 to code 1 of `ends` [2, latent], endpoints
 * included: [steps, latent].
 */
export function interpolateCodes(ends: Float32Array, latent: number, steps: number): Float32Array {
  checkInteger("steps", steps, 2, 10000);
  const z = new Float32Array(steps * latent);
  for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    for (let j = 0; j < latent; j++) z[s * latent + j] = (1 - t) * ends[j]! + t * ends[latent + j]!;
  }
  return z;
}

/**
 * A size x size grid of 2-D codes over [-range, range]^2, row-major with z1 increasing to the
 * right and z2 increasing upwards (as a plot): [size^2, 2].
 */
export function gridCodes(size: number, range: number): Float32Array {
  checkInteger("size", size, 2, 100);
  if (!(range > 0) || !Number.isFinite(range)) throw new RangeError("range must be > 0");
  const z = new Float32Array(size * size * 2);
  for (let r = 0; r < size; r++)
    for (let c = 0; c < size; c++) {
      z[(r * size + c) * 2] = -range + (2 * range * c) / (size - 1);
      z[(r * size + c) * 2 + 1] = range - (2 * range * r) / (size - 1);
    }
  return z;
}

/** The MLP `name` of a model file, every tensor checked against the spec's shapes. */
export function loadMlp(file: ModelFile<unknown>, name: string, spec: MlpSpec): Mlp {
  const tensors: Record<string, Float32Array> = {};
  for (let i = 0; i + 1 < spec.sizes.length; i++) {
    tensors[`${name}.${i}.w`] = requireF32(file, `${name}.${i}.w`, [spec.sizes[i + 1]!, spec.sizes[i]!]).slice();
    tensors[`${name}.${i}.b`] = requireF32(file, `${name}.${i}.b`, [spec.sizes[i + 1]!]).slice();
  }
  return new Mlp(name, spec, tensors);
}

/** Copies every parameter of `net` from the model file (E_FORMAT when missing or misshapen). */
export function loadNetParams(file: ModelFile<unknown>, net: Net): void {
  const shapes = net.shapes();
  for (const [name, p] of Object.entries(net.params())) p.set(requireF32(file, name, shapes[name]!));
}
