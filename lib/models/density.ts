/** What every explicit-likelihood model offers (baselines, NADE, later PixelRNN). */
import type { BackendName } from "../kernels/kernels.js";
import type { JobOptions } from "../kernels/job.js";
import type { Seed } from "../core/philox.js";

export interface ModelCallOptions extends JobOptions {
  /** Kernel backend for this call; default: the model's backend, then DEEPGEN_BACKEND, then native. */
  backend?: BackendName;
}

export interface SampleOptions extends ModelCallOptions {
  seed: Seed;
  /** Also return p(x_d = 1 | x_<d) for every pixel: the smooth "mean" images. */
  returnProbs?: boolean;
}

export interface Samples {
  /** [n, D] of 0/1 values. */
  x: Float32Array;
  /** [n, D] conditional probabilities the draws used (when returnProbs). */
  probs?: Float32Array;
  n: number;
}

export interface DensityModel {
  /** Family name, as in model files' deepgen.model. */
  readonly kind: string;
  /** Dimensionality D of the modelled binary vectors. */
  readonly dim: number;
  paramCount(): number;
  /** log p(x_i) in nats for x [n, D] of 0/1 values. */
  logProb(x: Float32Array, opts?: ModelCallOptions): Promise<Float32Array>;
  logProbSync(x: Float32Array, opts?: { backend?: BackendName }): Float32Array;
  sample(n: number, opts: SampleOptions): Promise<Samples>;
  sampleSync(n: number, opts: Omit<SampleOptions, "signal" | "onProgress">): Samples;
  save(path: string): Promise<void>;
}
