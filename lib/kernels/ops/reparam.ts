/**
 * Kernel group "reparam": reparameterized sampling of diagonal Gaussian posteriors (VAE
 * encoder outputs) and its backward (native/kernels/cpu/reparam.cc, js/reparam.ts).
 *
 *   z = mu + exp(logvar / 2) * eps,  eps ~ N(0, I) from Philox4x32-10 keyed by the seed.
 *
 * With k draws per row, output row r * k + i is draw i of row r (k = 1 for training, k
 * importance samples for the IWAE bound). Noise counters: draw (sample index s, latent dim j)
 * is Box-Muller on the block with counter (floor(j / 4), s, stream, 0x52455041), word j % 4,
 * where s = firstSample + r * k + i. So eps of an example depends only on (seed, stream,
 * sample index, dim): not on the batch size, the chunking or the thread count, and it is the
 * same on both backends (within float rounding of libm's log / sin / cos).
 *
 * Zero sizes: rows = 0 or cols = 0 do nothing. k >= 1 and firstSample + rows * k <= 2^32.
 */
import { checkInteger } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import { type Seed, seedToKey } from "../../core/philox.js";
import { noCudaKernel } from "../cuda.js";
import * as twin from "../js/reparam.js";
import { callNative } from "../native.js";
import { checkDisjointArrays } from "../validate.js";

export interface ReparamSpec {
  /** Number of rows of mu / logvar. */
  rows: number;
  /** Latent dimension. */
  cols: number;
  /** Draws per row (default 1). */
  k?: number;
  seed: Seed;
  /** Philox stream (u32), e.g. the training step; default 0. */
  stream?: number;
  /** Sample index of output row 0 (default 0). */
  firstSample?: number;
}

export interface ReparamKernels {
  /**
   * mu, logvar: [rows, cols]; z, eps (outputs): [rows * k, cols].
   * eps[r*k+i, j] = N(0,1) draw (s = firstSample + r*k + i, j); z = mu + exp(logvar / 2) eps,
   * computed in double and rounded once.
   */
  reparamForward(z: Float32Array, eps: Float32Array, mu: Float32Array, logvar: Float32Array, spec: ReparamSpec): void;
  /**
   * dz, eps: [rows * k, cols]; logvar, dmu, dlogvar: [rows, cols].
   *   dmu (+)= sum_i dz,  dlogvar (+)= sum_i dz eps exp(logvar / 2) / 2
   * in double, rounded once. accumulate = true adds to dmu / dlogvar (e.g. to the KL gradient
   * written before), false overwrites them.
   */
  reparamBackward(
    dmu: Float32Array,
    dlogvar: Float32Array,
    dz: Float32Array,
    eps: Float32Array,
    logvar: Float32Array,
    rows: number,
    cols: number,
    k?: number,
    accumulate?: boolean,
  ): void;
}

const U32 = 0x100000000;

interface Sizes {
  rows: number;
  cols: number;
  k: number;
  n: number;
  nk: number;
}

function checkSizes(fn: string, rows: unknown, cols: unknown, k: unknown): Sizes {
  const r = checkInteger(`${fn} rows`, rows, 0, U32);
  const c = checkInteger(`${fn} cols`, cols, 0, U32);
  const kk = checkInteger(`${fn} k`, k ?? 1, 1, U32);
  if (r * kk > U32) throw new DeepgenError("E_SHAPE", `${fn}: rows * k must be <= 2^32`);
  return { rows: r, cols: c, k: kk, n: r * c, nk: r * kk * c };
}

interface ForwardArgs extends Sizes {
  key0: number;
  key1: number;
  stream: number;
  first: number;
}

function checkForward(z: Float32Array, eps: Float32Array, mu: Float32Array, logvar: Float32Array, spec: ReparamSpec): ForwardArgs {
  const fn = "reparamForward";
  if (typeof spec !== "object" || spec === null) throw new DeepgenError("E_ARG", `${fn}: spec must be an object`);
  const s = checkSizes(fn, spec.rows, spec.cols, spec.k);
  const key = seedToKey(spec.seed);
  const stream = checkInteger(`${fn} stream`, spec.stream ?? 0, 0, U32 - 1);
  const first = checkInteger(`${fn} firstSample`, spec.firstSample ?? 0, 0, U32);
  if (first + s.rows * s.k > U32) throw new DeepgenError("E_ARG", `${fn}: firstSample + rows * k must be <= 2^32`);
  checkDisjointArrays(
    fn,
    [
      ["z", z, s.nk],
      ["eps", eps, s.nk],
    ],
    [
      ["mu", mu, s.n],
      ["logvar", logvar, s.n],
    ],
  );
  return { ...s, ...key, stream, first };
}

function checkBackward(
  dmu: Float32Array,
  dlogvar: Float32Array,
  dz: Float32Array,
  eps: Float32Array,
  logvar: Float32Array,
  rows: number,
  cols: number,
  k: number | undefined,
  accumulate: unknown,
): Sizes & { accumulate: boolean } {
  const fn = "reparamBackward";
  const s = checkSizes(fn, rows, cols, k);
  if (accumulate !== undefined && typeof accumulate !== "boolean") throw new DeepgenError("E_ARG", `${fn}: accumulate must be a boolean`);
  checkDisjointArrays(
    fn,
    [
      ["dmu", dmu, s.n],
      ["dlogvar", dlogvar, s.n],
    ],
    [
      ["dz", dz, s.nk],
      ["eps", eps, s.nk],
      ["logvar", logvar, s.n],
    ],
  );
  return { ...s, accumulate: accumulate === true };
}

export const jsReparam: ReparamKernels = {
  reparamForward(z, eps, mu, logvar, spec) {
    const a = checkForward(z, eps, mu, logvar, spec);
    twin.reparamForward(z, eps, mu, logvar, a.rows, a.cols, a.k, a.key0, a.key1, a.stream, a.first);
  },
  reparamBackward(dmu, dlogvar, dz, eps, logvar, rows, cols, k, accumulate) {
    const a = checkBackward(dmu, dlogvar, dz, eps, logvar, rows, cols, k, accumulate);
    twin.reparamBackward(dmu, dlogvar, dz, eps, logvar, a.rows, a.cols, a.k, a.accumulate);
  },
};

export const nativeReparam: ReparamKernels = {
  reparamForward(z, eps, mu, logvar, spec) {
    const a = checkForward(z, eps, mu, logvar, spec);
    callNative((addon) => addon.reparamForward(z, eps, mu, logvar, a.rows, a.cols, a.k, a.key0, a.key1, a.stream, a.first));
  },
  reparamBackward(dmu, dlogvar, dz, eps, logvar, rows, cols, k, accumulate) {
    const a = checkBackward(dmu, dlogvar, dz, eps, logvar, rows, cols, k, accumulate);
    callNative((addon) => addon.reparamBackward(dmu, dlogvar, dz, eps, logvar, a.rows, a.cols, a.k, a.accumulate));
  },
};

export const cudaReparam: ReparamKernels = noCudaKernel<ReparamKernels>("reparam", ["reparamForward", "reparamBackward"]);
