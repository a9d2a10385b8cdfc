/**
 * Kernel group "norm": batch normalization over [n, c, s] per channel and layer
 * normalization over the last dim of [rows, dim] (native/kernels/cpu/batchnorm.cc,
 * layernorm.cc; JS twins js/batchnorm.ts, js/layernorm.ts).
 *
 * BatchNorm, M = n * s values per channel (s = spatial size, 1 for a dense [n, c]):
 *   training forward: mean, biased var over (n, s); rstd = 1 / sqrt(var + eps);
 *     y = (x - mean) rstd gamma + beta; mean and rstd are written for the backward;
 *     runningMean = (1 - momentum) runningMean + momentum mean,
 *     runningVar = (1 - momentum) runningVar + momentum var M / (M - 1)  (unbiased, as
 *     PyTorch), both updated in place. Needs M >= 2 whenever c > 0 (E_SHAPE otherwise).
 *   eval forward: y = (x - runningMean) / sqrt(runningVar + eps) gamma + beta (any size).
 *   backward (of the training forward): dbeta = sum dy, dgamma = sum dy xhat,
 *     dx = gamma rstd (dy - dbeta / M - xhat dgamma / M), xhat = (x - mean) rstd.
 * LayerNorm over [rows, dim], gamma / beta [dim], mean / rstd [rows]:
 *   forward: y = (x - mean) rstd gamma + beta per row; backward: dx, dgamma = sum_r dy xhat,
 *   dbeta = sum_r dy. rows = 0 is valid (nothing to do, dgamma = dbeta = 0); dim = 0 with
 *   rows > 0 is E_SHAPE.
 *
 * Statistics are computed in double (two passes) and stored as float32; outputs are
 * computed from the stored mean / rstd. Per-channel and per-column reductions are summed in
 * a fixed order: results do not depend on the thread count. Outputs are overwritten. y may be
 * x (then the backward, which reads x, cannot be run); dx may be dy. eps (default 1e-5) must
 * be finite and > 0, momentum (default 0.1) in [0, 1]; both are rounded to float32 on every
 * backend.
 */
import { checkInteger } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import { cudaAddon, noCudaKernel } from "../cuda.js";
import * as bn from "../js/batchnorm.js";
import * as ln from "../js/layernorm.js";
import { callNative } from "../native.js";
import { checkArraysInPlace } from "../validate.js";

export const DEFAULT_NORM_EPS = 1e-5;
export const DEFAULT_BN_MOMENTUM = 0.1;

export interface NormKernels {
  /**
   * x, y: [n, c, s]; gamma, beta, mean (out), rstd (out), runningMean, runningVar (in/out): [c].
   */
  batchNormForwardTrain(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    runningMean: Float32Array,
    runningVar: Float32Array,
    n: number,
    c: number,
    s: number,
    eps?: number,
    momentum?: number,
  ): void;
  /** x, y: [n, c, s]; gamma, beta, runningMean, runningVar: [c]. */
  batchNormForwardEval(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    runningMean: Float32Array,
    runningVar: Float32Array,
    y: Float32Array,
    n: number,
    c: number,
    s: number,
    eps?: number,
  ): void;
  /** x, dy, dx (out): [n, c, s]; gamma, mean, rstd (from the training forward), dgamma, dbeta (out): [c]. */
  batchNormBackward(
    x: Float32Array,
    dy: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    n: number,
    c: number,
    s: number,
  ): void;
  /** x, y: [rows, dim]; gamma, beta: [dim]; mean, rstd (out): [rows]. */
  layerNormForward(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    rows: number,
    dim: number,
    eps?: number,
  ): void;
  /** x, dy, dx (out): [rows, dim]; gamma, dgamma, dbeta (out): [dim]; mean, rstd: [rows]. */
  layerNormBackward(
    x: Float32Array,
    dy: Float32Array,
    gamma: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    rows: number,
    dim: number,
  ): void;
}

// ---- argument checks -------------------------------------------------------------------------

function checkEps(fn: string, eps: unknown): number {
  if (eps === undefined) return Math.fround(DEFAULT_NORM_EPS);
  if (typeof eps !== "number" || !Number.isFinite(eps) || !(Math.fround(eps) > 0) || Math.fround(eps) === Infinity) {
    throw new DeepgenError("E_ARG", `${fn}: eps must be a finite number > 0 (in float32), got ${String(eps)}`);
  }
  return Math.fround(eps);
}

function checkMomentum(fn: string, momentum: unknown): number {
  if (momentum === undefined) return Math.fround(DEFAULT_BN_MOMENTUM);
  if (typeof momentum !== "number" || !(momentum >= 0 && momentum <= 1)) {
    throw new DeepgenError("E_ARG", `${fn}: momentum must be a number in [0, 1], got ${String(momentum)}`);
  }
  return Math.fround(momentum);
}

function checkNcs(fn: string, n: unknown, c: unknown, s: unknown, training: boolean) {
  const d = { n: checkInteger(`${fn} n`, n, 0), c: checkInteger(`${fn} c`, c, 0), s: checkInteger(`${fn} s`, s, 0) };
  if (training && d.c > 0 && d.n * d.s < 2) {
    throw new DeepgenError(
      "E_SHAPE",
      `${fn}: training needs more than one value per channel (n * s = ${d.n * d.s}; use eval mode for a single value)`,
    );
  }
  return { ...d, total: d.n * d.c * d.s };
}

function checkRowsDim(fn: string, rows: unknown, dim: unknown) {
  const r = checkInteger(`${fn} rows`, rows, 0);
  const d = checkInteger(`${fn} dim`, dim, 0);
  if (r > 0 && d === 0) throw new DeepgenError("E_SHAPE", `${fn}: cannot normalize rows of length 0`);
  return { rows: r, dim: d, total: r * d };
}

type Args<M extends keyof NormKernels> = Parameters<NormKernels[M]>;

// Validation shared by every backend (the public arguments, checked as unknown values).
const check = {
  bnTrain(...[x, gamma, beta, y, mean, rstd, rm, rv, n, c, s, eps, momentum]: Args<"batchNormForwardTrain">) {
    const fn = "batchNormForwardTrain";
    const d = checkNcs(fn, n, c, s, true);
    const e = checkEps(fn, eps);
    const m = checkMomentum(fn, momentum);
    checkArraysInPlace(
      fn,
      [
        ["x", x, d.total],
        ["gamma", gamma, d.c],
        ["beta", beta, d.c],
        ["y", y, d.total],
        ["mean", mean, d.c],
        ["rstd", rstd, d.c],
        ["runningMean", rm, d.c],
        ["runningVar", rv, d.c],
      ],
      ["y", "mean", "rstd", "runningMean", "runningVar"],
      [["x", "y"]],
    );
    return { eps: e, momentum: m };
  },
  bnEval(...[x, gamma, beta, rm, rv, y, n, c, s, eps]: Args<"batchNormForwardEval">) {
    const fn = "batchNormForwardEval";
    const d = checkNcs(fn, n, c, s, false);
    const e = checkEps(fn, eps);
    checkArraysInPlace(
      fn,
      [
        ["x", x, d.total],
        ["gamma", gamma, d.c],
        ["beta", beta, d.c],
        ["runningMean", rm, d.c],
        ["runningVar", rv, d.c],
        ["y", y, d.total],
      ],
      ["y"],
      [["x", "y"]],
    );
    return e;
  },
  bnBackward(...[x, dy, gamma, mean, rstd, dx, dgamma, dbeta, n, c, s]: Args<"batchNormBackward">) {
    const fn = "batchNormBackward";
    const d = checkNcs(fn, n, c, s, true);
    checkArraysInPlace(
      fn,
      [
        ["x", x, d.total],
        ["dy", dy, d.total],
        ["gamma", gamma, d.c],
        ["mean", mean, d.c],
        ["rstd", rstd, d.c],
        ["dx", dx, d.total],
        ["dgamma", dgamma, d.c],
        ["dbeta", dbeta, d.c],
      ],
      ["dx", "dgamma", "dbeta"],
      [["dx", "dy"]],
    );
  },
  lnForward(...[x, gamma, beta, y, mean, rstd, rows, dim, eps]: Args<"layerNormForward">) {
    const fn = "layerNormForward";
    const d = checkRowsDim(fn, rows, dim);
    const e = checkEps(fn, eps);
    checkArraysInPlace(
      fn,
      [
        ["x", x, d.total],
        ["gamma", gamma, d.dim],
        ["beta", beta, d.dim],
        ["y", y, d.total],
        ["mean", mean, d.rows],
        ["rstd", rstd, d.rows],
      ],
      ["y", "mean", "rstd"],
      [["x", "y"]],
    );
    return e;
  },
  lnBackward(...[x, dy, gamma, mean, rstd, dx, dgamma, dbeta, rows, dim]: Args<"layerNormBackward">) {
    const fn = "layerNormBackward";
    const d = checkRowsDim(fn, rows, dim);
    checkArraysInPlace(
      fn,
      [
        ["x", x, d.total],
        ["dy", dy, d.total],
        ["gamma", gamma, d.dim],
        ["mean", mean, d.rows],
        ["rstd", rstd, d.rows],
        ["dx", dx, d.total],
        ["dgamma", dgamma, d.dim],
        ["dbeta", dbeta, d.dim],
      ],
      ["dx", "dgamma", "dbeta"],
      [["dx", "dy"]],
    );
  },
};

// ---- implementations -----------------------------------------------------------------------

export const jsNorm: NormKernels = {
  batchNormForwardTrain(x, gamma, beta, y, mean, rstd, rm, rv, n, c, s, eps, momentum) {
    const a = check.bnTrain(x, gamma, beta, y, mean, rstd, rm, rv, n, c, s, eps, momentum);
    bn.batchNormForwardTrain(x, gamma, beta, y, mean, rstd, rm, rv, n, c, s, a.eps, a.momentum);
  },
  batchNormForwardEval(x, gamma, beta, rm, rv, y, n, c, s, eps) {
    const e = check.bnEval(x, gamma, beta, rm, rv, y, n, c, s, eps);
    bn.batchNormForwardEval(x, gamma, beta, rm, rv, y, n, c, s, e);
  },
  batchNormBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, n, c, s) {
    check.bnBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, n, c, s);
    bn.batchNormBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, n, c, s);
  },
  layerNormForward(x, gamma, beta, y, mean, rstd, rows, dim, eps) {
    const e = check.lnForward(x, gamma, beta, y, mean, rstd, rows, dim, eps);
    ln.layerNormForward(x, gamma, beta, y, mean, rstd, rows, dim, e);
  },
  layerNormBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, rows, dim) {
    check.lnBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, rows, dim);
    ln.layerNormBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, rows, dim);
  },
};

export const nativeNorm: NormKernels = {
  batchNormForwardTrain(x, gamma, beta, y, mean, rstd, rm, rv, n, c, s, eps, momentum) {
    const a = check.bnTrain(x, gamma, beta, y, mean, rstd, rm, rv, n, c, s, eps, momentum);
    callNative((addon) => addon.batchNormForwardTrain(x, gamma, beta, y, mean, rstd, rm, rv, n, c, s, a.eps, a.momentum));
  },
  batchNormForwardEval(x, gamma, beta, rm, rv, y, n, c, s, eps) {
    const e = check.bnEval(x, gamma, beta, rm, rv, y, n, c, s, eps);
    callNative((addon) => addon.batchNormForwardEval(x, gamma, beta, rm, rv, y, n, c, s, e));
  },
  batchNormBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, n, c, s) {
    check.bnBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, n, c, s);
    callNative((addon) => addon.batchNormBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, n, c, s));
  },
  layerNormForward(x, gamma, beta, y, mean, rstd, rows, dim, eps) {
    const e = check.lnForward(x, gamma, beta, y, mean, rstd, rows, dim, eps);
    callNative((addon) => addon.layerNormForward(x, gamma, beta, y, mean, rstd, rows, dim, e));
  },
  layerNormBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, rows, dim) {
    check.lnBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, rows, dim);
    callNative((addon) => addon.layerNormBackward(x, dy, gamma, mean, rstd, dx, dgamma, dbeta, rows, dim));
  },
};

/** Batch-norm forward on the GPU (native/kernels/cuda/batchnorm.cu); the backward and layer norm have no CUDA kernel yet. */
export const cudaNorm: NormKernels = {
  ...noCudaKernel<NormKernels>("norm", ["batchNormBackward", "layerNormForward", "layerNormBackward"]),
  batchNormForwardTrain(x, gamma, beta, y, mean, rstd, rm, rv, n, c, s, eps, momentum) {
    const a = check.bnTrain(x, gamma, beta, y, mean, rstd, rm, rv, n, c, s, eps, momentum);
    callNative(() => cudaAddon().cudaBatchNormForwardTrain(x, gamma, beta, y, mean, rstd, rm, rv, n, c, s, a.eps, a.momentum));
  },
  batchNormForwardEval(x, gamma, beta, rm, rv, y, n, c, s, eps) {
    const e = check.bnEval(x, gamma, beta, rm, rv, y, n, c, s, eps);
    callNative(() => cudaAddon().cudaBatchNormForwardEval(x, gamma, beta, rm, rv, y, n, c, s, e));
  },
};
