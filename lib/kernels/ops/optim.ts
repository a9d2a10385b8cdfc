/**
 * Kernel group "optim": fused in-place optimizer steps and gradient clipping by the global
 * norm (native/kernels/cpu/optim.cc, js/optim.ts). Each step is one pass over the arrays;
 * arithmetic is float64 per element in a fixed order, so the native and JS backends give the
 * same bits and a checkpointed run resumes exactly on either.
 */
import { checkFloat32Array, checkInteger } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import { cudaAddon, noCudaKernel } from "../cuda.js";
import * as twin from "../js/optim.js";
import { callNative } from "../native.js";
import { checkDisjointArrays } from "../validate.js";

export interface AdamStepOptions {
  /** Learning rate, >= 0. */
  lr: number;
  /** Moment decay rates in [0, 1) (usual: 0.9, 0.999). */
  beta1: number;
  beta2: number;
  /** Added to sqrt(v-hat), > 0 (usual: 1e-8). */
  eps: number;
  /** The step number t >= 1 of this update (1 for the first): bias correction 1 - beta^t. */
  step: number;
  /** Decoupled weight decay (AdamW): p *= 1 - lr * weightDecay before the update. Default 0. */
  weightDecay?: number;
}

export interface SgdStepOptions {
  /** Learning rate, >= 0. */
  lr: number;
  /** Momentum mu in [0, 1]; 0 (default) is plain SGD and needs no velocity. */
  momentum?: number;
  /** Nesterov momentum (needs momentum > 0). Default false. */
  nesterov?: boolean;
  /** L2 weight decay added to the gradient: g + weightDecay * p. Default 0. */
  weightDecay?: number;
}

export interface OptimKernels {
  /**
   * One Adam (AdamW with weightDecay) step, in place on params, m, v (all the length of
   * params; grads read only). Per element, with bc_k = 1 - beta_k^step:
   *   p = p (1 - lr wd); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
   *   p -= (lr / bc1) m / (sqrt(v / bc2) + eps)
   */
  adamStep(params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, opts: AdamStepOptions): void;
  /**
   * One SGD step, in place on params and velocity (PyTorch's form, no dampening):
   *   g = grad + wd p; v = mu v + g; p -= lr (nesterov ? g + mu v : v)   (p -= lr g if mu = 0)
   * velocity may be null when momentum is 0.
   */
  sgdStep(params: Float32Array, grads: Float32Array, velocity: Float32Array | null, opts: SgdStepOptions): void;
  /**
   * Clips a list of gradient arrays by their global L2 norm (computed in float64 in a fixed
   * blocked order): when norm > maxNorm, every array is scaled in place by maxNorm / norm.
   * Returns the norm before clipping. A non-finite norm (Inf/NaN gradients) is returned and
   * nothing is scaled, so the caller can skip the step. maxNorm > 0; Infinity only measures.
   * An empty list has norm 0.
   */
  clipGradNorm(grads: readonly Float32Array[], maxNorm: number): number;
}

function finiteInRange(fn: string, name: string, v: unknown, lo: number, hi: number, hiOpen: boolean): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < lo || (hiOpen ? v >= hi : v > hi)) {
    throw new DeepgenError("E_ARG", `${fn}: ${name} must be a finite number in [${lo}, ${hi}${hiOpen ? ")" : "]"}, got ${String(v)}`);
  }
  return v;
}

function checkAdam(params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, opts: AdamStepOptions): twin.AdamConstants {
  const fn = "adamStep";
  if (typeof opts !== "object" || opts === null) throw new DeepgenError("E_ARG", `${fn}: options must be an object`);
  checkFloat32Array(`${fn} params`, params);
  const n = params.length;
  checkDisjointArrays(
    fn,
    [
      ["params", params, n],
      ["m", m, n],
      ["v", v, n],
    ],
    [["grads", grads, n]],
  );
  const lr = finiteInRange(fn, "lr", opts.lr, 0, Infinity, false);
  const beta1 = finiteInRange(fn, "beta1", opts.beta1, 0, 1, true);
  const beta2 = finiteInRange(fn, "beta2", opts.beta2, 0, 1, true);
  const eps = finiteInRange(fn, "eps", opts.eps, 0, Infinity, false);
  if (eps === 0) throw new DeepgenError("E_ARG", `${fn}: eps must be > 0`);
  const weightDecay = finiteInRange(fn, "weightDecay", opts.weightDecay ?? 0, 0, Infinity, false);
  const step = checkInteger(`${fn} step`, opts.step, 1);
  // Computed here once, so every backend uses the very same bias corrections.
  const biasCorrection1 = 1 - beta1 ** step;
  const biasCorrection2 = 1 - beta2 ** step;
  return { lr, beta1, beta2, eps, weightDecay, biasCorrection1, biasCorrection2 };
}

function checkSgd(params: Float32Array, grads: Float32Array, velocity: Float32Array | null, opts: SgdStepOptions): twin.SgdConstants {
  const fn = "sgdStep";
  if (typeof opts !== "object" || opts === null) throw new DeepgenError("E_ARG", `${fn}: options must be an object`);
  checkFloat32Array(`${fn} params`, params);
  const n = params.length;
  const lr = finiteInRange(fn, "lr", opts.lr, 0, Infinity, false);
  const momentum = finiteInRange(fn, "momentum", opts.momentum ?? 0, 0, 1, false);
  const weightDecay = finiteInRange(fn, "weightDecay", opts.weightDecay ?? 0, 0, Infinity, false);
  const nesterov = opts.nesterov ?? false;
  if (typeof nesterov !== "boolean") throw new DeepgenError("E_ARG", `${fn}: nesterov must be a boolean`);
  if (nesterov && momentum === 0) throw new DeepgenError("E_ARG", `${fn}: nesterov needs momentum > 0`);
  if (momentum !== 0 && (velocity === null || velocity === undefined)) {
    throw new DeepgenError("E_ARG", `${fn}: momentum needs a velocity array`);
  }
  checkDisjointArrays(
    fn,
    [
      ["params", params, n],
      ["velocity", velocity ?? null, n],
    ],
    [["grads", grads, n]],
  );
  return { lr, momentum, weightDecay, nesterov };
}

function checkClip(grads: readonly Float32Array[], maxNorm: number): void {
  const fn = "clipGradNorm";
  if (!Array.isArray(grads)) throw new DeepgenError("E_ARG", `${fn}: grads must be an array of Float32Array`);
  if (typeof maxNorm !== "number" || !(maxNorm > 0)) {
    throw new DeepgenError("E_ARG", `${fn}: maxNorm must be a number > 0 (Infinity: only measure), got ${String(maxNorm)}`);
  }
  // Every array is scaled in place: one listed twice (or two views of the same memory)
  // would be scaled twice.
  const entries = grads.map((g, i) => [`grads[${i}]`, g, (g as { length?: number })?.length ?? 0] as const);
  checkDisjointArrays(fn, entries, []);
}

export const jsOptim: OptimKernels = {
  adamStep(params, grads, m, v, opts) {
    twin.adamStep(params, grads, m, v, checkAdam(params, grads, m, v, opts));
  },
  sgdStep(params, grads, velocity, opts) {
    twin.sgdStep(params, grads, velocity ?? null, checkSgd(params, grads, velocity, opts));
  },
  clipGradNorm(grads, maxNorm) {
    checkClip(grads, maxNorm);
    return twin.clipGradNorm(grads, maxNorm);
  },
};

export const nativeOptim: OptimKernels = {
  adamStep(params, grads, m, v, opts) {
    const c = checkAdam(params, grads, m, v, opts);
    callNative((a) => a.adamStep(params, grads, m, v, c.lr, c.beta1, c.beta2, c.eps, c.weightDecay, c.biasCorrection1, c.biasCorrection2));
  },
  sgdStep(params, grads, velocity, opts) {
    const c = checkSgd(params, grads, velocity, opts);
    callNative((a) => a.sgdStep(params, grads, velocity ?? null, c.lr, c.momentum, c.nesterov, c.weightDecay));
  },
  clipGradNorm(grads, maxNorm) {
    checkClip(grads, maxNorm);
    return callNative((a) => a.clipGradNorm([...grads], maxNorm));
  },
};

/** Adam (bit-identical to the plain CPU loop) and clipping on the CUDA kernels (native/kernels/cuda/optim.cu); SGD has no CUDA kernel yet. */
export const cudaOptim: OptimKernels = {
  ...noCudaKernel<OptimKernels>("optim", ["sgdStep"]),
  clipGradNorm(grads, maxNorm) {
    checkClip(grads, maxNorm);
    return callNative(() => cudaAddon().cudaClipGradNorm([...grads], maxNorm));
  },
  adamStep(params, grads, m, v, opts) {
    const c = checkAdam(params, grads, m, v, opts);
    callNative(() =>
      cudaAddon().cudaAdamStep(params, grads, m, v, c.lr, c.beta1, c.beta2, c.eps, c.weightDecay, c.biasCorrection1, c.biasCorrection2),
    );
  },
};
