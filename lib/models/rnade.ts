/**
 * RNADE (Uria, Murray & Larochelle 2013): NADE for real-valued vectors, each conditional a
 * mixture of K Gaussians (weights, means and log-scales computed from the hidden state), in
 * the natural order. Log-density, gradients and sampling are one fused kernel call per batch
 * (lib/kernels/ops/rnade.ts). Trained here on uniformly dequantized grayscale MNIST.
 *
 * Files: W [H, D], c [H], Va, Vm, Vs [D, K, H], ba, bm, bs [D, K].
 */
import { checkInteger, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { gatherRows } from "../data/batching.js";
import { makeDataset } from "../data/dataset.js";
import { modelMetadata, readModelFile, requireF32 } from "../io/model-file.js";
import { type SafeTensor, type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import type { RnadeGradients, RnadeModelArrays } from "../kernels/ops/rnade.js";
import { Adam } from "../nn/adam.js";
import { uniformInit } from "../nn/init.js";
import { type BatchSampleOptions, type SampleRequest, sampleCoalesced } from "./batch.js";
import { allocRows, autoregressiveBytesPerRow, checkImageShape, inputRows, inputRowsAsync, modelKernels, sizedRequest } from "./common.js";
import {
  BACKEND_KEYS,
  type DensityModel,
  INPUT_CALL_KEYS,
  type InputCallOptions,
  type ModelCallOptions,
  SAMPLE_KEYS,
  type SampleOptions,
  type Samples,
  SYNC_INPUT_KEYS,
  SYNC_SAMPLE_KEYS,
  type SyncInputOptions,
  type SyncSampleOptions,
} from "./density.js";
import { checkpointMetadata, readCheckpointFile } from "./checkpoint.js";
import {
  freshState,
  runTrainingLoop,
  trainValidationSplit,
  type TrainingState,
  VALIDATED_FIT_FIELDS,
  type ValidatedFitOptions,
} from "./trainer.js";
import type { ModelCard } from "./card.js";

export interface RnadeConfig {
  dim: number;
  hidden: number;
  components: number;
  height?: number;
  width?: number;
}

/** Defaults: 50 epochs, batches of 100, lr 1e-3, gradient norm clipped at 100, patience 10. */
export interface RnadeFitOptions extends ModelCallOptions, ValidatedFitOptions {
  clipNorm?: number;
}

export interface RnadeCreateOptions {
  dim: number;
  hidden?: number;
  components?: number;
  initSeed?: number;
  height?: number;
  width?: number;
  backend?: BackendName;
}

const CREATE_KEYS = optionKeys<RnadeCreateOptions>({
  dim: true,
  hidden: true,
  components: true,
  initSeed: true,
  height: true,
  width: true,
  backend: true,
});
const FIT_KEYS = optionKeys<RnadeFitOptions>({ ...VALIDATED_FIT_FIELDS, onProgress: true, clipNorm: true });

const PARAMS = ["wt", "c", "va", "vm", "vs", "ba", "bm", "bs"] as const;
type ParamName = (typeof PARAMS)[number];

export class Rnade implements DensityModel {
  /** The model card beside the file it was loaded from (set by `load`), else null. */
  card: ModelCard | null = null;
  readonly kind = "rnade";
  backend: BackendName | undefined;

  constructor(
    readonly config: RnadeConfig,
    readonly arrays: RnadeModelArrays,
  ) {}

  get dim(): number {
    return this.config.dim;
  }

  /** The configuration create() makes and load() accepts (E_ARG, or E_FORMAT from a file, naming `source`). */
  private static checkConfig(c: Partial<RnadeConfig>, source: string): RnadeConfig {
    const dim = checkInteger(`${source}: dim`, c.dim, 1, 1 << 24);
    return {
      dim,
      hidden: checkInteger(`${source}: hidden`, c.hidden, 1, 1 << 20),
      components: checkInteger(`${source}: components`, c.components, 1, 4096),
      ...checkImageShape(c, dim, source),
    };
  }

  static create(opts: RnadeCreateOptions): Rnade {
    checkOptions("Rnade.create", opts, CREATE_KEYS, ["dim"]);
    const config = Rnade.checkConfig(
      { dim: opts.dim, hidden: opts.hidden ?? 100, components: opts.components ?? 5, height: opts.height, width: opts.width },
      "create",
    );
    const { dim: d, hidden: h, components: k } = config;
    const seed = opts.initSeed ?? 0;
    const uniform = (n: number, stream: number, r: number): Float32Array => uniformInit(n, seed, stream, r);
    const rW = Math.sqrt(6 / (d + h));
    const rV = Math.sqrt(6 / (h + k));
    // Spread the initial means over [0, 1] so components start on different parts of the data.
    const bm = new Float32Array(d * k);
    for (let i = 0; i < d; i++) for (let j = 0; j < k; j++) bm[i * k + j] = (j + 0.5) / k;
    const arrays: RnadeModelArrays = {
      d,
      h,
      k,
      wt: uniform(d * h, 1, rW),
      c: new Float32Array(h),
      va: uniform(d * k * h, 2, rV),
      vm: uniform(d * k * h, 3, rV * 0.1),
      vs: uniform(d * k * h, 4, rV * 0.1),
      ba: new Float32Array(d * k),
      bm,
      bs: new Float32Array(d * k).fill(Math.log(0.2)),
    };
    const model = new Rnade(config, arrays);
    model.backend = opts.backend;
    return model;
  }

  paramCount(): number {
    const { dim: d, hidden: h, components: k } = this.config;
    return d * h + h + 3 * d * k * h + 3 * d * k;
  }

  private kernels(backend?: BackendName): Kernels {
    return modelKernels(this.backend, backend);
  }

  /** log p(x) in nats (a density) of dequantized vectors x [n, D], each value in [0, 1). */
  async logProb(x: Float32Array, opts?: InputCallOptions): Promise<Float32Array> {
    const o = checkOptions("Rnade.logProb", opts, INPUT_CALL_KEYS);
    const n = await inputRowsAsync("Rnade.logProb", x, this.dim, "unitHalfOpen", o);
    return sizedRequest("Rnade.logProb", n, autoregressiveBytesPerRow("logProb", this.dim), async () => {
      const out = new Float32Array(n);
      await this.kernels(o.backend).rnadeLogProbAsync(this.arrays, x, n, out, o);
      return out;
    });
  }

  logProbSync(x: Float32Array, opts?: SyncInputOptions): Float32Array {
    const o = checkOptions("Rnade.logProbSync", opts, SYNC_INPUT_KEYS);
    const n = inputRows("Rnade.logProbSync", x, this.dim, "unitHalfOpen", o);
    return sizedRequest("Rnade.logProbSync", n, autoregressiveBytesPerRow("logProb", this.dim), () => {
      const out = new Float32Array(n);
      this.kernels(o.backend).rnadeLogProb(this.arrays, x, n, out);
      return out;
    });
  }

  async sample(n: number, opts: SampleOptions): Promise<Samples> {
    const o = checkOptions("Rnade.sample", opts, SAMPLE_KEYS, ["seed"]);
    return sizedRequest("Rnade.sample", n, autoregressiveBytesPerRow("sample", this.dim), async () => {
      const x = allocRows(n, this.dim);
      await this.kernels(o.backend).rnadeSampleAsync(this.arrays, { n, seed: o.seed }, x, o);
      return { x, n };
    });
  }

  /** The samples of many requests in one call, each exactly its lone sample (lib/models/batch.ts). */
  sampleBatch(requests: readonly SampleRequest[], opts?: BatchSampleOptions): Promise<Samples[]> {
    // A density has no per-dimension probabilities: returnProbs is ignored, as sample() does.
    return sampleCoalesced("Rnade.sampleBatch", requests, { ...opts, returnProbs: false }, this.dim, (n, rowStreams, x) =>
      this.kernels(opts?.backend).rnadeSampleAsync(this.arrays, { n, seed: 0, rowStreams }, x, opts),
    );
  }

  sampleSync(n: number, opts: SyncSampleOptions): Samples {
    const o = checkOptions("Rnade.sampleSync", opts, SYNC_SAMPLE_KEYS, ["seed"]);
    return sizedRequest("Rnade.sampleSync", n, autoregressiveBytesPerRow("sample", this.dim), () => {
      const x = allocRows(n, this.dim);
      this.kernels(o.backend).rnadeSample(this.arrays, { n, seed: o.seed }, x);
      return { x, n };
    });
  }

  async fit(train: Float32Array, options?: RnadeFitOptions): Promise<TrainingState> {
    const opts = checkOptions("Rnade.fit", options, FIT_KEYS);
    const seed = opts.seed ?? 0;
    const { trainX, validX, n } = trainValidationSplit(train, this.dim, opts.validation ?? 0.1, seed, {
      nonEmpty: true,
      domain: "unitHalfOpen",
      checkInput: opts.checkInput,
    });
    const batchSize = checkInteger("batchSize", opts.batchSize ?? 100, 1);
    const kernels = this.kernels(opts.backend);
    const params = Object.fromEntries(PARAMS.map((p) => [p, this.arrays[p]])) as Record<ParamName, Float32Array>;
    const adam = new Adam(params, { lr: opts.lr ?? 1e-3, clipNorm: opts.clipNorm ?? 100 });
    const best = Object.fromEntries(PARAMS.map((p) => [p, params[p].slice()])) as Record<ParamName, Float32Array>;
    let state = freshState();
    if (opts.resumeFrom !== undefined) state = await this.loadCheckpoint(opts.resumeFrom, adam, best);
    const grads = Object.fromEntries(PARAMS.map((p) => [p, new Float32Array(params[p].length)])) as RnadeGradients;
    const trainSet = makeDataset(trainX, undefined, 1, this.dim);
    const batchX = new Float32Array(batchSize * this.dim);
    const logp = new Float32Array(batchSize);
    return runTrainingLoop(
      {
        n,
        batchSize,
        epochs: checkInteger("epochs", opts.epochs ?? 50, 0),
        seed,
        patience: opts.patience ?? 10,
        signal: opts.signal,
        onBatch: opts.onBatch,
        onEpoch: opts.onEpoch,
      },
      {
        trainBatch: async (indices) => {
          const m = indices.length;
          gatherRows(trainSet, indices, batchX);
          await kernels.rnadeBackwardAsync(this.arrays, batchX.subarray(0, m * this.dim), m, 1 / m, logp.subarray(0, m), grads);
          adam.update(kernels, grads as unknown as Record<string, Float32Array>);
          let nll = 0;
          for (let i = 0; i < m; i++) nll -= logp[i]!;
          return nll;
        },
        validate: async () => {
          const lp = await this.logProb(validX, { backend: kernels.backend, checkInput: false });
          return -lp.reduce((a, v) => a + v, 0) / Math.max(1, lp.length);
        },
        keepBest: () => {
          for (const p of PARAMS) best[p].set(params[p]);
        },
        restoreBest: () => {
          for (const p of PARAMS) params[p].set(best[p]);
        },
        checkpoint:
          opts.checkpointPath === undefined
            ? undefined
            : (st) =>
                writeSafetensors(
                  opts.checkpointPath!,
                  { ...this.tensors(this.arrays), ...this.tensors(best, "best."), ...adam.stateTensors() },
                  { ...modelMetadata(this.kind, this.config), ...checkpointMetadata(st, adam.step) },
                ),
      },
      state,
    );
  }

  private async loadCheckpoint(path: string, adam: Adam, best: Record<ParamName, Float32Array>): Promise<TrainingState> {
    const { file, ...cp } = await readCheckpointFile<RnadeConfig>(path, "rnade");
    const { dim, hidden, components } = file.config;
    if (dim !== this.config.dim || hidden !== this.config.hidden || components !== this.config.components) {
      throw new DeepgenError(
        "E_FORMAT",
        `${path}: checkpoint is D=${dim} H=${hidden} K=${components}, model is D=${this.config.dim} H=${this.config.hidden} K=${this.config.components}`,
      );
    }
    const current = Rnade.arraysFrom(file, this.config);
    const bestArrays = Rnade.arraysFrom(file, this.config, "best.");
    for (const p of PARAMS) {
      this.arrays[p].set(current[p]);
      best[p].set(bestArrays[p]);
    }
    adam.loadState(file.tensors, cp.adamStep);
    return cp.state;
  }

  /** The file tensors (paper layout: W [H, D]) of a parameter set. */
  private tensors(a: Record<ParamName, Float32Array>, prefix = ""): Record<string, TensorToWrite> {
    const { dim: d, hidden: h, components: k } = this.config;
    const w = new Float32Array(d * h);
    for (let i = 0; i < d; i++) for (let j = 0; j < h; j++) w[j * d + i] = a.wt[i * h + j]!;
    return {
      [`${prefix}W`]: { shape: [h, d], data: w },
      [`${prefix}c`]: { shape: [h], data: a.c },
      [`${prefix}Va`]: { shape: [d, k, h], data: a.va },
      [`${prefix}Vm`]: { shape: [d, k, h], data: a.vm },
      [`${prefix}Vs`]: { shape: [d, k, h], data: a.vs },
      [`${prefix}ba`]: { shape: [d, k], data: a.ba },
      [`${prefix}bm`]: { shape: [d, k], data: a.bm },
      [`${prefix}bs`]: { shape: [d, k], data: a.bs },
    };
  }

  private static arraysFrom(f: { tensors: Map<string, SafeTensor> }, cfg: RnadeConfig, prefix = ""): RnadeModelArrays {
    const { dim: d, hidden: h, components: k } = cfg;
    const w = requireF32(f, `${prefix}W`, [h, d]);
    const wt = new Float32Array(d * h);
    for (let j = 0; j < h; j++) for (let i = 0; i < d; i++) wt[i * h + j] = w[j * d + i]!;
    return {
      d,
      h,
      k,
      wt,
      c: requireF32(f, `${prefix}c`, [h]).slice(),
      va: requireF32(f, `${prefix}Va`, [d, k, h]).slice(),
      vm: requireF32(f, `${prefix}Vm`, [d, k, h]).slice(),
      vs: requireF32(f, `${prefix}Vs`, [d, k, h]).slice(),
      ba: requireF32(f, `${prefix}ba`, [d, k]).slice(),
      bm: requireF32(f, `${prefix}bm`, [d, k]).slice(),
      bs: requireF32(f, `${prefix}bs`, [d, k]).slice(),
    };
  }

  async save(path: string): Promise<void> {
    await writeSafetensors(path, this.tensors(this.arrays), modelMetadata(this.kind, this.config));
  }

  static async load(path: string, options?: { backend?: BackendName }): Promise<Rnade> {
    const opts = checkOptions("Rnade.load", options, BACKEND_KEYS);
    const { file, config } = await readModelFile(path, "rnade", Rnade.checkConfig);
    const model = new Rnade(config, Rnade.arraysFrom(file, config));
    model.backend = opts.backend;
    return model;
  }
}
