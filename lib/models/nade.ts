/**
 * NADE (Larochelle & Murray 2011): an autoregressive model of binary vectors of any length D,
 *   p(x) = prod_d p(x_{o_d} | x_{o_<d}),  p(x_o = 1 | .) = sigmoid(b_o + V_o . sigmoid(c + W_{:,<} x_<)),
 * with exact log-likelihood, fused sampling and analytic O(DH) gradients, each ONE kernel
 * call per batch (lib/kernels/ops/nade.ts).
 *
 * Files hold the paper's tensors: W [H, D], c [H], V [D, H], b [D], with the ordering in the
 * metadata ("nade.ordering", a JSON array: step d models dimension ordering[d]).
 */
import { getKernels } from "../kernels/backend.js";
import { runChunkedJs } from "../kernels/job.js";
import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { gatherRows, permutation } from "../data/batching.js";
import { type Dataset, makeDataset } from "../data/dataset.js";
import { fileConfig, loadModelFile, type ModelFile, modelMetadata, requireF32 } from "../io/model-file.js";
import { type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import { CudaNadeModel, type NadeGradients, type NadeModelArrays, residentCudaNade } from "../kernels/ops/nade.js";
import { Adam } from "../nn/adam.js";
import { type BatchSampleOptions, type SampleRequest, sampleCoalesced, sampleEachInTurn } from "./batch.js";
import { checkpointMetadata, readCheckpointFile } from "./checkpoint.js";
import { uniformInit } from "../nn/init.js";
import {
  allocRows,
  autoregressiveBytesPerRow,
  batchRows,
  checkImageShape,
  type InputCheckOptions,
  inputRows,
  inputRowsAsync,
  modelKernels,
  sizedRequest,
} from "./common.js";
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
import {
  freshState,
  runTrainingLoop,
  trainValidationSplit,
  type TrainingState,
  VALIDATED_FIT_FIELDS,
  type ValidatedFitOptions,
} from "./trainer.js";
import type { ModelCard } from "./card.js";

export type Ordering = "natural" | "random";

export interface NadeConfig {
  dim: number;
  hidden: number;
  ordering: Ordering;
  /** Seed of the random ordering (ignored for 'natural'). */
  orderingSeed: number;
  /** Image shape, when the vectors are images (for grids and completion by rows). */
  height?: number;
  width?: number;
}

export interface NadeCreateOptions {
  dim: number;
  hidden?: number;
  ordering?: Ordering;
  orderingSeed?: number;
  /** Seed of the weight initialization. */
  initSeed?: number;
  height?: number;
  width?: number;
  backend?: BackendName;
}

/** Defaults: 100 epochs, batches of 100, lr 1e-3, patience 10. */
export interface NadeFitOptions extends ModelCallOptions, ValidatedFitOptions {
  weightDecay?: number;
  clipNorm?: number;
}

export type NadeCompleteOptions = SampleOptions & InputCheckOptions & { known: number };

const CREATE_KEYS = optionKeys<NadeCreateOptions>({
  dim: true,
  hidden: true,
  ordering: true,
  orderingSeed: true,
  initSeed: true,
  height: true,
  width: true,
  backend: true,
});
const FIT_KEYS = optionKeys<NadeFitOptions>({ ...VALIDATED_FIT_FIELDS, onProgress: true, weightDecay: true, clipNorm: true });
const COMPLETE_KEYS = optionKeys<NadeCompleteOptions>({
  backend: true,
  signal: true,
  onProgress: true,
  seed: true,
  returnProbs: true,
  checkInput: true,
  known: true,
});

export interface NadeFitResult extends TrainingState {
  trainSize: number;
  validationSize: number;
}

const SAMPLE_STREAM = 0;
const COPY_SLICE_ROWS = 64; // rows of x checked and copied between yields by complete()
const INIT_W_STREAM = 1;
const INIT_V_STREAM = 2;
const ORDER_STREAM = 0x4f52; // "OR"

function logit(p: number): number {
  return Math.log(p / (1 - p));
}

export class Nade implements DensityModel {
  /** The model card beside the file it was loaded from (set by `load`), else null. */
  card: ModelCard | null = null;
  readonly kind = "nade";
  backend: BackendName | undefined;

  constructor(
    readonly config: NadeConfig,
    /** Kernel layout: wt and v [D, H]. */
    readonly arrays: NadeModelArrays,
  ) {}

  get dim(): number {
    return this.config.dim;
  }

  /** The configuration create() makes and load() accepts (E_ARG, or E_FORMAT from a file, naming `source`). */
  private static checkConfig(c: Partial<NadeConfig>, source: string): NadeConfig {
    const dim = checkInteger(`${source}: dim`, c.dim, 1, 1 << 24);
    const hidden = checkInteger(`${source}: hidden`, c.hidden, 1, 1 << 20);
    const ordering = checkOneOf(`${source}: ordering`, c.ordering, ["natural", "random"] as const);
    const orderingSeed = checkInteger(`${source}: orderingSeed`, c.orderingSeed, 0);
    return { dim, hidden, ordering, orderingSeed, ...checkImageShape(c, dim, source) };
  }

  static create(opts: NadeCreateOptions): Nade {
    checkOptions("Nade.create", opts, CREATE_KEYS, ["dim"]);
    const config = Nade.checkConfig(
      {
        dim: opts.dim,
        hidden: opts.hidden ?? 500,
        ordering: opts.ordering ?? "natural",
        orderingSeed: opts.orderingSeed ?? 0,
        height: opts.height,
        width: opts.width,
      },
      "create",
    );
    const { dim, hidden, ordering, orderingSeed } = config;
    const initSeed = opts.initSeed ?? 0;
    const order =
      ordering === "natural"
        ? Int32Array.from({ length: dim }, (_, i) => i)
        : Int32Array.from(permutation(dim, orderingSeed, ORDER_STREAM));
    const r = Math.sqrt(6 / (dim + hidden));
    const uniform = (n: number, stream: number, range: number): Float32Array => uniformInit(n, initSeed, stream, range);
    const arrays: NadeModelArrays = {
      d: dim,
      h: hidden,
      wt: uniform(dim * hidden, INIT_W_STREAM, r),
      c: new Float32Array(hidden),
      v: uniform(dim * hidden, INIT_V_STREAM, r),
      b: new Float32Array(dim),
      order,
    };
    const model = new Nade(config, arrays);
    model.backend = opts.backend;
    return model;
  }

  paramCount(): number {
    const { dim: d, hidden: h } = this.config;
    return 2 * d * h + d + h;
  }

  private kernels(backend?: BackendName): Kernels {
    return modelKernels(this.backend, backend);
  }

  /** The device copy of the weights for backend 'cuda', uploaded on first use. */
  private cudaModel: CudaNadeModel | undefined;

  /** Inference kernels of a call; on 'cuda' they use the device copy (no re-upload per call). */
  private inference(backend?: BackendName): Pick<Kernels, "nadeLogProb" | "nadeLogProbAsync" | "nadeSample" | "nadeSampleAsync"> {
    const k = this.kernels(backend);
    if (k.backend !== "cuda") return k;
    return residentCudaNade(() => {
      if (this.cudaModel === undefined || this.cudaModel.disposed) this.cudaModel = CudaNadeModel.upload(this.arrays);
      return this.cudaModel;
    });
  }

  /**
   * Frees the device memory of backend 'cuda' (a no-op otherwise); the next cuda call uploads
   * the weights again. Call it too after changing `arrays` by hand (fit() does it itself).
   */
  dispose(): void {
    this.cudaModel?.dispose();
    this.cudaModel = undefined;
  }

  async logProb(x: Float32Array, opts?: InputCallOptions): Promise<Float32Array> {
    const o = checkOptions("Nade.logProb", opts, INPUT_CALL_KEYS);
    const n = await inputRowsAsync("Nade.logProb", x, this.dim, "binary", o);
    return sizedRequest("Nade.logProb", n, autoregressiveBytesPerRow("logProb", this.dim), async () => {
      const out = new Float32Array(n);
      await this.inference(o.backend).nadeLogProbAsync(this.arrays, x, n, out, o);
      return out;
    });
  }

  logProbSync(x: Float32Array, opts?: SyncInputOptions): Float32Array {
    const o = checkOptions("Nade.logProbSync", opts, SYNC_INPUT_KEYS);
    const n = inputRows("Nade.logProbSync", x, this.dim, "binary", o);
    return sizedRequest("Nade.logProbSync", n, autoregressiveBytesPerRow("logProb", this.dim), () => {
      const out = new Float32Array(n);
      this.inference(o.backend).nadeLogProb(this.arrays, x, n, out);
      return out;
    });
  }

  async sample(n: number, opts: SampleOptions): Promise<Samples> {
    const o = checkOptions("Nade.sample", opts, SAMPLE_KEYS, ["seed"]);
    return sizedRequest("Nade.sample", n, autoregressiveBytesPerRow("sample", this.dim, o.returnProbs), async () => {
      const x = allocRows(n, this.dim);
      const probs = o.returnProbs ? allocRows(n, this.dim) : undefined;
      await this.inference(o.backend).nadeSampleAsync(this.arrays, { n, seed: o.seed, stream: SAMPLE_STREAM }, x, probs, o);
      return probs ? { x, probs, n } : { x, n };
    });
  }

  /** The samples of many requests in one call, each exactly its lone sample (lib/models/batch.ts). */
  sampleBatch(requests: readonly SampleRequest[], opts?: BatchSampleOptions): Promise<Samples[]> {
    // The device sampler takes one key per launch, and its probabilities may round apart from
    // the CPU's: on 'cuda' each request is drawn in turn, as its lone sample() is.
    if (this.kernels(opts?.backend).backend === "cuda")
      return sampleEachInTurn(requests, opts, false, (r, o) => this.sample(r.n, { ...o, seed: r.seed }));
    return sampleCoalesced("Nade.sampleBatch", requests, opts, this.dim, (n, rowStreams, x, probs) =>
      this.inference(opts?.backend).nadeSampleAsync(this.arrays, { n, seed: 0, stream: SAMPLE_STREAM, rowStreams }, x, probs, opts),
    );
  }

  sampleSync(n: number, opts: SyncSampleOptions): Samples {
    const o = checkOptions("Nade.sampleSync", opts, SYNC_SAMPLE_KEYS, ["seed"]);
    return sizedRequest("Nade.sampleSync", n, autoregressiveBytesPerRow("sample", this.dim, o.returnProbs), () => {
      const x = allocRows(n, this.dim);
      const probs = o.returnProbs ? allocRows(n, this.dim) : undefined;
      this.inference(o.backend).nadeSample(this.arrays, { n, seed: o.seed, stream: SAMPLE_STREAM }, x, probs);
      return probs ? { x, probs, n } : { x, n };
    });
  }

  /**
   * Samples the rest of partially observed vectors: the first `known` steps of the ordering
   * are taken from x (for the natural ordering of an image: the top known / width rows), the
   * others are drawn. Returns new arrays; x is not modified.
   */
  async complete(x: Float32Array, opts: NadeCompleteOptions): Promise<Samples> {
    const o = checkOptions("Nade.complete", opts, COMPLETE_KEYS, ["seed", "known"]);
    const n = batchRows(x, this.dim);
    const known = checkInteger("known", o.known, 0, this.dim);
    return sizedRequest("Nade.complete", n, autoregressiveBytesPerRow("sample", this.dim, o.returnProbs), async () => {
      const d = this.dim;
      const out = new Float32Array(n * d);
      // Checking and copying x is O(n D) on the event loop (a copy of fresh memory costs page
      // faults too): in slices that yield, so that concurrent calls leave timers running.
      // Only the known steps are read; the rest of each row is drawn over.
      await runChunkedJs(n, COPY_SLICE_ROWS, { signal: o.signal }, (b, e) => {
        if (o.checkInput !== false) this.checkKnown(x, b, e, known);
        out.set(x.subarray(b * d, e * d), b * d);
      });
      const probs = o.returnProbs ? new Float32Array(n * d) : undefined;
      await this.inference(o.backend).nadeSampleAsync(this.arrays, { n, seed: o.seed, stream: SAMPLE_STREAM, known }, out, probs, o);
      return probs ? { x: out, probs, n } : { x: out, n };
    });
  }

  /** E_ARG naming the first known value (steps < known of the ordering) of rows [begin, end) that is not 0 or 1. */
  private checkKnown(x: Float32Array, begin: number, end: number, known: number): void {
    const d = this.dim;
    const order = this.arrays.order;
    for (let r = begin; r < end; r++) {
      for (let s = 0; s < known; s++) {
        const i = r * d + order[s]!;
        if (x[i] !== 0 && x[i] !== 1)
          throw new DeepgenError(
            "E_ARG",
            `Nade.complete: x[${i}] (row ${r}, value ${order[s]}) = ${x[i]} is not 0 or 1; this model takes values 0 or 1`,
          );
      }
    }
  }

  /** Trains with Adam on minibatches, early-stopping on validation NLL; keeps the best parameters. */
  async fit(train: Float32Array | Dataset, options?: NadeFitOptions): Promise<NadeFitResult> {
    const opts = checkOptions("Nade.fit", options, FIT_KEYS);
    const seed = opts.seed ?? 0;
    const { trainX, validX, n } = trainValidationSplit(train, this.dim, opts.validation ?? 0.1, seed, {
      nonEmpty: true,
      domain: "binary",
      checkInput: opts.checkInput,
    });
    const batchSize = checkInteger("batchSize", opts.batchSize ?? 100, 1);
    const epochs = checkInteger("epochs", opts.epochs ?? 100, 0);
    const patience = opts.patience ?? 10;
    const kernels = this.kernels(opts.backend);
    this.dispose(); // training changes the weights: a device copy would be stale
    const params = { wt: this.arrays.wt, c: this.arrays.c, v: this.arrays.v, b: this.arrays.b };
    const adam = new Adam(params, { lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? 0, clipNorm: opts.clipNorm ?? Infinity });
    const best = { wt: params.wt.slice(), c: params.c.slice(), v: params.v.slice(), b: params.b.slice() };
    let state = freshState();
    if (opts.resumeFrom !== undefined) {
      state = await this.loadCheckpoint(opts.resumeFrom, adam, best);
    } else {
      this.initBiasFromData(trainX);
    }
    const grads: NadeGradients = {
      dwt: new Float32Array(params.wt.length),
      dc: new Float32Array(params.c.length),
      dv: new Float32Array(params.v.length),
      db: new Float32Array(params.b.length),
    };
    const batchX = new Float32Array(batchSize * this.dim);
    const batchLogp = new Float32Array(batchSize);
    const trainSet = makeDataset(trainX, undefined, 1, this.dim);
    const result = await runTrainingLoop(
      { n, batchSize, epochs, seed, patience, signal: opts.signal, onBatch: opts.onBatch, onEpoch: opts.onEpoch },
      {
        trainBatch: async (indices) => {
          const m = indices.length;
          gatherRows(trainSet, indices, batchX);
          const x = batchX.subarray(0, m * this.dim);
          const logp = batchLogp.subarray(0, m);
          await kernels.nadeBackwardAsync(this.arrays, x, m, 1 / m, logp, grads);
          adam.update(kernels, { wt: grads.dwt, c: grads.dc, v: grads.dv, b: grads.db });
          let nll = 0;
          for (let i = 0; i < m; i++) nll -= logp[i]!;
          return nll;
        },
        validate: async () => {
          this.dispose();
          return meanNll(await this.logProb(validX, { backend: kernels.backend, checkInput: false }));
        },
        keepBest: () => {
          for (const k of Object.keys(best) as (keyof typeof best)[]) best[k].set(params[k]);
        },
        restoreBest: () => {
          for (const k of Object.keys(best) as (keyof typeof best)[]) params[k].set(best[k]);
        },
        checkpoint: opts.checkpointPath === undefined ? undefined : (s) => this.saveCheckpoint(opts.checkpointPath!, adam, best, s),
      },
      state,
    );
    this.dispose();
    return { ...result, trainSize: n, validationSize: validX.length / this.dim };
  }

  /** b = logit of the (smoothed) marginal of each pixel: the independent-Bernoulli fit. */
  private initBiasFromData(x: Float32Array): void {
    const n = x.length / this.dim;
    const counts = new Float64Array(this.dim);
    for (let i = 0; i < n; i++) for (let j = 0; j < this.dim; j++) if (x[i * this.dim + j]! > 0.5) counts[j]!++;
    for (let j = 0; j < this.dim; j++) this.arrays.b[j] = logit((counts[j]! + 1) / (n + 2));
  }

  // ---- files ----

  private paperTensors(wt: Float32Array, c: Float32Array, v: Float32Array, b: Float32Array, prefix = ""): Record<string, TensorToWrite> {
    const { dim: d, hidden: h } = this.config;
    const w = new Float32Array(d * h); // W [H, D] = wt^T
    for (let i = 0; i < d; i++) for (let j = 0; j < h; j++) w[j * d + i] = wt[i * h + j]!;
    return {
      [`${prefix}W`]: { shape: [h, d], data: w },
      [`${prefix}c`]: { shape: [h], data: c },
      [`${prefix}V`]: { shape: [d, h], data: v },
      [`${prefix}b`]: { shape: [d], data: b },
    };
  }

  private metadata(extra: Record<string, string> = {}): Record<string, string> {
    return modelMetadata(this.kind, this.config, { ...extra, "nade.ordering": JSON.stringify(Array.from(this.arrays.order)) });
  }

  async save(path: string): Promise<void> {
    const a = this.arrays;
    await writeSafetensors(path, this.paperTensors(a.wt, a.c, a.v, a.b), this.metadata());
  }

  static async load(path: string, options?: { backend?: BackendName }): Promise<Nade> {
    const opts = checkOptions("Nade.load", options, BACKEND_KEYS);
    const model = Nade.fromFile(await loadModelFile<NadeConfig>(path, "nade"), path);
    model.backend = opts.backend;
    return model;
  }

  /** @internal used by the trainers and loaders, not part of the public API */
  static fromFile(file: ModelFile<NadeConfig>, source: string, prefix = ""): Nade {
    const config = fileConfig(file, source, Nade.checkConfig);
    const { dim, hidden } = config;
    let order: Int32Array;
    try {
      order = Int32Array.from(JSON.parse(file.metadata["nade.ordering"] ?? "null") as number[]);
    } catch (e) {
      throw new DeepgenError("E_FORMAT", `${source}: nade.ordering metadata is missing or not a JSON array`, { cause: e });
    }
    const w = requireF32(file, `${prefix}W`, [hidden, dim]);
    const wt = new Float32Array(dim * hidden);
    for (let j = 0; j < hidden; j++) for (let i = 0; i < dim; i++) wt[i * hidden + j] = w[j * dim + i]!;
    const arrays: NadeModelArrays = {
      d: dim,
      h: hidden,
      wt,
      c: requireF32(file, `${prefix}c`, [hidden]).slice(),
      v: requireF32(file, `${prefix}V`, [dim, hidden]).slice(),
      b: requireF32(file, `${prefix}b`, [dim]).slice(),
      order,
    };
    try {
      getKernels("js").nadeLogProb(arrays, new Float32Array(0), 0, new Float32Array(0)); // validates order
    } catch (e) {
      throw new DeepgenError("E_FORMAT", `${source}: ${(e as Error).message}`, { cause: e });
    }
    return new Nade(config, arrays);
  }

  private async saveCheckpoint(
    path: string,
    adam: Adam,
    best: Record<"wt" | "c" | "v" | "b", Float32Array>,
    state: TrainingState,
  ): Promise<void> {
    const a = this.arrays;
    const tensors = {
      ...this.paperTensors(a.wt, a.c, a.v, a.b),
      ...this.paperTensors(best.wt, best.c, best.v, best.b, "best."),
      ...adam.stateTensors(),
    };
    await writeSafetensors(path, tensors, this.metadata(checkpointMetadata(state, adam.step)));
  }

  private async loadCheckpoint(path: string, adam: Adam, best: Record<"wt" | "c" | "v" | "b", Float32Array>): Promise<TrainingState> {
    const { file, ...cp } = await readCheckpointFile<NadeConfig>(path, "nade");
    if (file.config.dim !== this.config.dim || file.config.hidden !== this.config.hidden) {
      throw new DeepgenError(
        "E_FORMAT",
        `${path}: checkpoint is D=${file.config.dim} H=${file.config.hidden}, model is D=${this.config.dim} H=${this.config.hidden}`,
      );
    }
    const current = Nade.fromFile(file, path);
    const bestModel = Nade.fromFile(file, path, "best.");
    for (const k of ["wt", "c", "v", "b"] as const) {
      this.arrays[k].set(current.arrays[k]);
      best[k].set(bestModel.arrays[k]);
    }
    this.arrays.order.set(current.arrays.order);
    adam.loadState(file.tensors, cp.adamStep);
    return cp.state;
  }
}

export function meanNll(logp: Float32Array): number {
  let s = 0;
  for (const v of logp) s -= v;
  return s / Math.max(1, logp.length);
}
