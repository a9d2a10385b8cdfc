/** The pure-JS backend: the reference twin of every native kernel. Always available. */
import type { Seed } from "../../core/philox.js";
import { type JobOptions, runChunkedJs } from "../job.js";
import type { Distribution, Kernels } from "../kernels.js";
import { checkPhiloxFill } from "../validate.js";
import { philoxFillRange } from "./philox-fill.js";

const FILL_SLICE = 1 << 16;

export const jsKernels: Kernels = {
  backend: "js",

  philoxFill(out: Float32Array, seed: Seed, stream: number, dist: Distribution): void {
    const a = checkPhiloxFill(out, seed, stream, dist);
    philoxFillRange(out, 0, out.length, a.key0, a.key1, a.stream, a.dist);
  },

  async philoxFillAsync(out: Float32Array, seed: Seed, stream: number, dist: Distribution, opts?: JobOptions) {
    const a = checkPhiloxFill(out, seed, stream, dist);
    await runChunkedJs(out.length, FILL_SLICE, opts, (begin, end) =>
      philoxFillRange(out, begin, end, a.key0, a.key1, a.stream, a.dist),
    );
  },
};
