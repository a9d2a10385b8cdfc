/**
 * The Kernels interface: every numeric operation the models use, implemented once per
 * backend (native CPU, pure JS, CUDA). Model code is written against this interface only.
 *
 * Each operation has a synchronous form and, where the work can be long, an async form that
 * runs off the event loop (native) or in slices (JS) and accepts JobOptions.
 */
import type { Seed } from "../core/philox.js";
import type { JobOptions } from "./job.js";
import type { Distribution } from "./js/philox-fill.js";

export type BackendName = "native" | "js" | "cuda";
export const BACKEND_NAMES: readonly BackendName[] = ["native", "js", "cuda"];

export type { Distribution };

export interface Kernels {
  readonly backend: BackendName;

  /**
   * Fills `out` with draws from the Philox stream of (seed, stream): element i is the same
   * value on every backend (uniform: bit-identical; normal: within float rounding of libm).
   */
  philoxFill(out: Float32Array, seed: Seed, stream: number, dist: Distribution): void;
  philoxFillAsync(out: Float32Array, seed: Seed, stream: number, dist: Distribution, opts?: JobOptions): Promise<void>;
}
