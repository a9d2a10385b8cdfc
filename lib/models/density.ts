/** What every explicit-likelihood model offers (baselines, NADE, later PixelRNN). */
import type { BackendName } from "../kernels/kernels.js";
import type { JobOptions } from "../kernels/job.js";
import type { Seed } from "../core/philox.js";
import { optionKeys } from "../core/check.js";
import type { InputCheckOptions } from "./common.js";

export interface ModelCallOptions extends JobOptions {
  /** Kernel backend for this call; default: the model's backend, then DEEPGEN_BACKEND, then native. */
  backend?: BackendName;
}

/** The options of a call that reads images: ModelCallOptions and checkInput. */
export interface InputCallOptions extends ModelCallOptions, InputCheckOptions {}

/** The options of a synchronous call that reads images. */
export interface SyncInputOptions extends InputCheckOptions {
  backend?: BackendName;
}

export interface SampleOptions extends ModelCallOptions {
  seed: Seed;
  /** Also return p(x_d = 1 | x_<d) for every pixel: the smooth "mean" images. */
  returnProbs?: boolean;
}

export type SyncSampleOptions = Omit<SampleOptions, "signal" | "onProgress">;

/** The keys each kind of call accepts (checkOptions). */
export const INPUT_CALL_KEYS = optionKeys<InputCallOptions>({ backend: true, signal: true, onProgress: true, checkInput: true });
export const SYNC_INPUT_KEYS = optionKeys<SyncInputOptions>({ backend: true, checkInput: true });
export const BACKEND_KEYS = optionKeys<{ backend?: BackendName }>({ backend: true });
export const SAMPLE_KEYS = optionKeys<SampleOptions>({ backend: true, signal: true, onProgress: true, seed: true, returnProbs: true });
export const SYNC_SAMPLE_KEYS = optionKeys<SyncSampleOptions>({ backend: true, seed: true, returnProbs: true });

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
  logProb(x: Float32Array, opts?: InputCallOptions): Promise<Float32Array>;
  logProbSync(x: Float32Array, opts?: SyncInputOptions): Float32Array;
  sample(n: number, opts: SampleOptions): Promise<Samples>;
  sampleSync(n: number, opts: SyncSampleOptions): Samples;
  save(path: string): Promise<void>;
}
