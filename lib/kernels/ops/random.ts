/** Kernel group "random": Philox fills (native/kernels/cpu/philox_fill.cc, js/philox-fill.ts). */
import { DeepgenError } from "../../core/errors.js";
import type { Seed } from "../../core/philox.js";
import { cudaAddon } from "../cuda.js";
import { type JobOptions, runChunkedJs, runNativeJob } from "../job.js";
import { type Distribution, philoxFillRange } from "../js/philox-fill.js";
import { callNative, nativeAddon } from "../native.js";
import { checkPhiloxFill } from "../validate.js";

export type { Distribution };

export interface RandomKernels {
  /**
   * Fills `out` with draws from the Philox stream of (seed, stream): element i is the same
   * value on every backend (uniform: bit-identical; normal: within float rounding of libm).
   */
  philoxFill(out: Float32Array, seed: Seed, stream: number, dist: Distribution): void;
  philoxFillAsync(out: Float32Array, seed: Seed, stream: number, dist: Distribution, opts?: JobOptions): Promise<void>;
}

const FILL_SLICE = 1 << 16;

export const jsRandom: RandomKernels = {
  philoxFill(out, seed, stream, dist) {
    const a = checkPhiloxFill(out, seed, stream, dist);
    philoxFillRange(out, 0, out.length, a.key0, a.key1, a.stream, a.dist);
  },
  async philoxFillAsync(out, seed, stream, dist, opts) {
    const a = checkPhiloxFill(out, seed, stream, dist);
    await runChunkedJs(out.length, FILL_SLICE, opts, (begin, end) => philoxFillRange(out, begin, end, a.key0, a.key1, a.stream, a.dist));
  },
};

export const nativeRandom: RandomKernels = {
  philoxFill(out, seed, stream, dist) {
    const a = checkPhiloxFill(out, seed, stream, dist);
    callNative((addon) => addon.philoxFill(out, a.key0, a.key1, a.stream, a.distCode));
  },
  philoxFillAsync(out, seed, stream, dist, opts) {
    const a = checkPhiloxFill(out, seed, stream, dist);
    const addon = nativeAddon();
    return runNativeJob(opts, (cancel, onProgress) => addon.philoxFillAsync(out, a.key0, a.key1, a.stream, a.distCode, cancel, onProgress));
  },
};

export const cudaRandom: RandomKernels = {
  philoxFill(out, seed, stream, dist) {
    const a = checkPhiloxFill(out, seed, stream, dist);
    callNative(() => cudaAddon().cudaPhiloxFill(out, a.key0, a.key1, a.stream, a.distCode));
  },
  // One short launch plus copies: it runs synchronously behind the promise until
  // device-resident jobs exist.
  async philoxFillAsync(out, seed, stream, dist, opts) {
    if (opts?.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
    cudaRandom.philoxFill(out, seed, stream, dist);
    opts?.onProgress?.(1);
  },
};
