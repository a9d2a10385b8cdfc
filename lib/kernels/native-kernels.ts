/** The native CPU backend (default): the addon's kernels on the native thread pool. */
import type { Seed } from "../core/philox.js";
import { type JobOptions, runNativeJob } from "./job.js";
import type { Distribution, Kernels } from "./kernels.js";
import { callNative, nativeAddon } from "./native.js";
import { checkPhiloxFill } from "./validate.js";

export const nativeKernels: Kernels = {
  backend: "native",

  philoxFill(out: Float32Array, seed: Seed, stream: number, dist: Distribution): void {
    const a = checkPhiloxFill(out, seed, stream, dist);
    callNative((addon) => addon.philoxFill(out, a.key0, a.key1, a.stream, a.distCode));
  },

  philoxFillAsync(out: Float32Array, seed: Seed, stream: number, dist: Distribution, opts?: JobOptions) {
    const a = checkPhiloxFill(out, seed, stream, dist);
    const addon = nativeAddon();
    return runNativeJob(opts, (cancel, onProgress) =>
      addon.philoxFillAsync(out, a.key0, a.key1, a.stream, a.distCode, cancel, onProgress),
    );
  },
};
