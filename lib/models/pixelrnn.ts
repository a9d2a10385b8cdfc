/**
 * PixelRNN (van den Oord, Kalchbrenner, Kavukcuoglu 2016) for binary images: a 7x7 mask-A
 * convolution, L Row LSTM or Diagonal BiLSTM layers with residual connections, two mask-B 1x1
 * convolutions (ReLU between) and a sigmoid per pixel. Exact log-likelihood, training and
 * sampling are each ONE kernel call per batch (lib/kernels/ops/pixelrnn.ts); sampling is the
 * cached linear-time sampler (the naive full-recompute one is kept as `sampleNaive`).
 *
 * Files hold one tensor per weight, named by layer and direction (see tensorNames), with
 * kind, layers, hidden, height and width in the config.
 */
import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { gatherRows } from "../data/batching.js";
import { type Dataset, makeDataset } from "../data/dataset.js";
import { fileConfig, loadModelFile, type ModelFile, modelMetadata, requireF32 } from "../io/model-file.js";
import { type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import { MASK_A_TAPS, type PixelRnnKindName, pixelRnnDirections, pixelRnnLayout } from "../kernels/js/pixelrnn.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import type { PixelRnnModelArrays, PixelRnnSpec } from "../kernels/ops/pixelrnn.js";
import { checkPixelRnnModel } from "../kernels/ops/pixelrnn.js";
import { runChunkedJs } from "../kernels/job.js";
import { Adam } from "../nn/adam.js";
import { type BatchSampleOptions, type SampleRequest, sampleCoalesced, sampleEachInTurn } from "./batch.js";
import { checkpointMetadata, readCheckpointFile } from "./checkpoint.js";
import { uniformInit } from "../nn/init.js";
import {
  allocRows,
  autoregressiveBytesPerRow,
  batchRows,
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
} from "./density.js";
import { meanNll } from "./nade.js";
import {
  freshState,
  runTrainingLoop,
  trainValidationSplit,
  type TrainingState,
  VALIDATED_FIT_FIELDS,
  type ValidatedFitOptions,
} from "./trainer.js";
import type { ModelCard } from "./card.js";

export type { PixelRnnKindName } from "../kernels/js/pixelrnn.js";

export interface PixelRnnConfig {
  kind: PixelRnnKindName;
  layers: number;
  hidden: number;
  height: number;
  width: number;
}

export interface PixelRnnCreateOptions {
  kind: PixelRnnKindName;
  height: number;
  width: number;
  layers?: number;
  hidden?: number;
  initSeed?: number;
  backend?: BackendName;
}

/** Defaults: 100 epochs, batches of 64, lr 1e-3, gradient norm clipped at 100, patience 5. */
export interface PixelRnnFitOptions extends ModelCallOptions, ValidatedFitOptions {
  clipNorm?: number;
}

export interface PixelRnnFitResult extends TrainingState {
  trainSize: number;
  validationSize: number;
}

/** Sampling's options: those of every model, and which sampler. */
export interface PixelRnnSampleOptions extends SampleOptions {
  /** The cached linear-time sampler (default) or the naive full-recompute one (same draws). */
  cached?: boolean;
}

/** A completion's options: sampling's, and how many pixels (raster order: the top known / width rows) are given. */
export type PixelRnnCompleteOptions = PixelRnnSampleOptions & InputCheckOptions & { known: number };

const CREATE_KEYS = optionKeys<PixelRnnCreateOptions>({
  kind: true,
  height: true,
  width: true,
  layers: true,
  hidden: true,
  initSeed: true,
  backend: true,
});
const FIT_KEYS = optionKeys<PixelRnnFitOptions>({ ...VALIDATED_FIT_FIELDS, onProgress: true, clipNorm: true });
const PIXELRNN_SAMPLE_KEYS = [...SAMPLE_KEYS, "cached"];
const PIXELRNN_SYNC_SAMPLE_KEYS = [...SYNC_SAMPLE_KEYS, "cached"];
const COMPLETE_KEYS = [...PIXELRNN_SAMPLE_KEYS, "known", "checkInput"];
const SYNC_COMPLETE_KEYS = [...PIXELRNN_SYNC_SAMPLE_KEYS, "known", "checkInput"];

const SAMPLE_STREAM = 0;
const COPY_SLICE_ROWS = 64; // rows of x checked and copied between yields by complete()
const DIR_NAMES: Record<PixelRnnKindName, string[]> = { rowlstm: ["row"], diagbilstm: ["lr", "rl"] };

/** Name, offset and shape of every tensor of the flat parameter array. */
function tensorNames(s: PixelRnnSpec): Array<{ name: string; offset: number; shape: number[] }> {
  const lay = pixelRnnLayout(s);
  const h = s.hidden;
  const dirs = pixelRnnDirections(s.kind);
  const out = [
    { name: "in.w", offset: lay.inW, shape: [MASK_A_TAPS, h] },
    { name: "in.b", offset: lay.inB, shape: [h] },
  ];
  for (let l = 0; l < s.layers; l++) {
    dirs.forEach((d, di) => {
      const ld = l * dirs.length + di;
      const p = `l${l}.${DIR_NAMES[s.kind][di]}`;
      out.push({ name: `${p}.wis`, offset: lay.wis[ld]!, shape: [d.is.length * h, 4 * h] });
      out.push({ name: `${p}.wss`, offset: lay.wss[ld]!, shape: [d.ss.length * h, 4 * h] });
      out.push({ name: `${p}.b`, offset: lay.bias[ld]!, shape: [4 * h] });
    });
  }
  out.push({ name: "out1.w", offset: lay.out1W, shape: [h, h] });
  out.push({ name: "out1.b", offset: lay.out1B, shape: [h] });
  out.push({ name: "out2.w", offset: lay.out2W, shape: [h] });
  out.push({ name: "out2.b", offset: lay.out2B, shape: [1] });
  return out;
}

export class PixelRnn implements DensityModel {
  /** The model card beside the file it was loaded from (set by `load`), else null. */
  card: ModelCard | null = null;
  backend: BackendName | undefined;

  constructor(
    readonly config: PixelRnnConfig,
    readonly params: Float32Array,
  ) {}

  get kind(): PixelRnnKindName {
    return this.config.kind;
  }

  get dim(): number {
    return this.config.height * this.config.width;
  }

  get spec(): PixelRnnSpec {
    const c = this.config;
    return { kind: c.kind, layers: c.layers, hidden: c.hidden, rows: c.height, cols: c.width };
  }

  private get arrays(): PixelRnnModelArrays {
    return { spec: this.spec, params: this.params };
  }

  /** The configuration create() makes and load() accepts (E_ARG, or E_FORMAT from a file, naming `source`). */
  private static checkConfig(c: Partial<PixelRnnConfig>, source: string): PixelRnnConfig {
    return {
      kind: checkOneOf(`${source}: kind`, c.kind, ["rowlstm", "diagbilstm"] as const),
      layers: checkInteger(`${source}: layers`, c.layers, 1, 64),
      hidden: checkInteger(`${source}: hidden`, c.hidden, 1, 4096),
      height: checkInteger(`${source}: height`, c.height, 1, 4096),
      width: checkInteger(`${source}: width`, c.width, 1, 4096),
    };
  }

  static create(opts: PixelRnnCreateOptions): PixelRnn {
    checkOptions("PixelRnn.create", opts, CREATE_KEYS, ["kind", "height", "width"]);
    const config = PixelRnn.checkConfig(
      { kind: opts.kind, layers: opts.layers ?? 1, hidden: opts.hidden ?? 32, height: opts.height, width: opts.width },
      "create",
    );
    const model = new PixelRnn(config, new Float32Array(pixelRnnLayout({ ...config, rows: config.height, cols: config.width }).total));
    checkPixelRnnModel(model.arrays);
    const seed = opts.initSeed ?? 0;
    const h = config.hidden;
    tensorNames(model.spec).forEach((t, i) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      const dst = model.params.subarray(t.offset, t.offset + n);
      if (t.name.endsWith(".b")) {
        // LSTM biases: forget gate 1 (long memory at the start), the rest 0; other biases 0.
        if (t.shape[0] === 4 * h) dst.fill(1, h, 2 * h);
        return;
      }
      const fanIn = t.shape.length === 2 ? t.shape[0]! : h;
      const fanOut = t.shape.length === 2 ? t.shape[1]! : 1;
      dst.set(uniformInit(n, seed, 16 + i, Math.sqrt(6 / (fanIn + fanOut))));
    });
    model.backend = opts.backend;
    return model;
  }

  paramCount(): number {
    return this.params.length;
  }

  private kernels(backend?: BackendName): Kernels {
    return modelKernels(this.backend, backend);
  }

  async logProb(x: Float32Array, opts?: InputCallOptions): Promise<Float32Array> {
    const o = checkOptions("PixelRnn.logProb", opts, INPUT_CALL_KEYS);
    const n = await inputRowsAsync("PixelRnn.logProb", x, this.dim, "binary", o);
    return sizedRequest("PixelRnn.logProb", n, autoregressiveBytesPerRow("logProb", this.dim), async () => {
      const out = new Float32Array(n);
      await this.kernels(o.backend).pixelRnnLogProbAsync(this.arrays, x, n, out, o);
      return out;
    });
  }

  logProbSync(x: Float32Array, opts?: SyncInputOptions): Float32Array {
    const o = checkOptions("PixelRnn.logProbSync", opts, SYNC_INPUT_KEYS);
    const n = inputRows("PixelRnn.logProbSync", x, this.dim, "binary", o);
    return sizedRequest("PixelRnn.logProbSync", n, autoregressiveBytesPerRow("logProb", this.dim), () => {
      const out = new Float32Array(n);
      this.kernels(o.backend).pixelRnnLogProb(this.arrays, x, n, out);
      return out;
    });
  }

  /** Draws n images with the cached (linear-time) sampler, one kernel call. */
  async sample(n: number, opts: PixelRnnSampleOptions): Promise<Samples> {
    const o = checkOptions("PixelRnn.sample", opts, PIXELRNN_SAMPLE_KEYS, ["seed"]);
    return sizedRequest("PixelRnn.sample", n, autoregressiveBytesPerRow("sample", this.dim, o.returnProbs), async () => {
      const x = allocRows(n, this.dim);
      const probs = o.returnProbs ? allocRows(n, this.dim) : undefined;
      await this.kernels(o.backend).pixelRnnSampleAsync(
        this.arrays,
        { n, seed: o.seed, stream: SAMPLE_STREAM, cached: o.cached ?? true },
        x,
        probs,
        o,
      );
      return probs ? { x, probs, n } : { x, n };
    });
  }

  /** The samples of many requests in one call, each exactly its lone sample (lib/models/batch.ts). */
  sampleBatch(requests: readonly SampleRequest[], opts?: BatchSampleOptions): Promise<Samples[]> {
    const kernels = this.kernels(opts?.backend);
    // The device sampler takes one key per launch, and its probabilities may round apart from
    // the CPU's: on 'cuda' each request is drawn in turn, as its lone sample() is.
    if (kernels.backend === "cuda") return sampleEachInTurn(requests, opts, false, (r, o) => this.sample(r.n, { ...o, seed: r.seed }));
    return sampleCoalesced("PixelRnn.sampleBatch", requests, opts, this.dim, (n, rowStreams, x, probs) =>
      kernels.pixelRnnSampleAsync(this.arrays, { n, seed: 0, stream: SAMPLE_STREAM, rowStreams }, x, probs, opts),
    );
  }

  sampleSync(n: number, opts: Omit<PixelRnnSampleOptions, "signal" | "onProgress">): Samples {
    const o = checkOptions("PixelRnn.sampleSync", opts, PIXELRNN_SYNC_SAMPLE_KEYS, ["seed"]);
    return sizedRequest("PixelRnn.sampleSync", n, autoregressiveBytesPerRow("sample", this.dim, o.returnProbs), () => {
      const x = allocRows(n, this.dim);
      const probs = o.returnProbs ? allocRows(n, this.dim) : undefined;
      this.kernels(o.backend).pixelRnnSample(this.arrays, { n, seed: o.seed, stream: SAMPLE_STREAM, cached: o.cached ?? true }, x, probs);
      return probs ? { x, probs, n } : { x, n };
    });
  }

  /**
   * Completes images: the first `known` pixels of each row of x (raster order: the top known /
   * width rows) are kept and the rest drawn, on the counters of sample(n, {seed}) (so known = 0
   * is that sample). Returns new arrays; x is not modified.
   */
  async complete(x: Float32Array, opts: PixelRnnCompleteOptions): Promise<Samples> {
    const o = checkOptions("PixelRnn.complete", opts, COMPLETE_KEYS, ["seed", "known"]);
    const { n, known } = this.completionSize(x, o.known);
    return sizedRequest("PixelRnn.complete", n, autoregressiveBytesPerRow("sample", this.dim, o.returnProbs), async () => {
      const d = this.dim;
      const out = new Float32Array(n * d);
      // Checking and copying x is O(n D) on the event loop: in slices that yield, as Nade.complete does.
      await runChunkedJs(n, COPY_SLICE_ROWS, { signal: o.signal }, (b, e) => {
        if (o.checkInput !== false) this.checkKnown("PixelRnn.complete", x, b, e, known);
        out.set(x.subarray(b * d, e * d), b * d);
      });
      const probs = o.returnProbs ? allocRows(n, d) : undefined;
      await this.kernels(o.backend).pixelRnnSampleAsync(
        this.arrays,
        { n, seed: o.seed, stream: SAMPLE_STREAM, cached: o.cached ?? true, known },
        out,
        probs,
        o,
      );
      return probs ? { x: out, probs, n } : { x: out, n };
    });
  }

  completeSync(x: Float32Array, opts: Omit<PixelRnnCompleteOptions, "signal" | "onProgress">): Samples {
    const o = checkOptions("PixelRnn.completeSync", opts, SYNC_COMPLETE_KEYS, ["seed", "known"]);
    const { n, known } = this.completionSize(x, o.known);
    return sizedRequest("PixelRnn.completeSync", n, autoregressiveBytesPerRow("sample", this.dim, o.returnProbs), () => {
      if (o.checkInput !== false) this.checkKnown("PixelRnn.completeSync", x, 0, n, known);
      const out = x.slice();
      const probs = o.returnProbs ? allocRows(n, this.dim) : undefined;
      this.kernels(o.backend).pixelRnnSample(
        this.arrays,
        { n, seed: o.seed, stream: SAMPLE_STREAM, cached: o.cached ?? true, known },
        out,
        probs,
      );
      return probs ? { x: out, probs, n } : { x: out, n };
    });
  }

  /** Rows of x and the known count, checked. */
  private completionSize(x: Float32Array, known: number): { n: number; known: number } {
    return { n: batchRows(x, this.dim), known: checkInteger("known", known, 0, this.dim) };
  }

  /** E_ARG naming the first known pixel of rows [begin, end) that is not 0 or 1. */
  private checkKnown(what: string, x: Float32Array, begin: number, end: number, known: number): void {
    for (let r = begin; r < end; r++) {
      for (let p = 0; p < known; p++) {
        const v = x[r * this.dim + p]!;
        if (v !== 0 && v !== 1) throw new DeepgenError("E_ARG", `${what}: known pixel ${p} of row ${r} is ${v}, not 0 or 1`);
      }
    }
  }

  /** The reference sampler that reruns the whole network for every pixel (same draws, O(D^2)). */
  sampleNaive(n: number, opts: SampleOptions): Promise<Samples> {
    const o = checkOptions("PixelRnn.sampleNaive", opts, SAMPLE_KEYS, ["seed"]);
    return this.sample(n, { ...o, cached: false });
  }

  /** Trains with Adam (global-norm clipping) on minibatches, early-stopping on validation NLL; keeps the best parameters. */
  async fit(train: Float32Array | Dataset, options?: PixelRnnFitOptions): Promise<PixelRnnFitResult> {
    const opts = checkOptions("PixelRnn.fit", options, FIT_KEYS);
    const seed = opts.seed ?? 0;
    const { trainX, validX, n } = trainValidationSplit(train, this.dim, opts.validation ?? 0.1, seed, {
      nonEmpty: true,
      domain: "binary",
      checkInput: opts.checkInput,
    });
    const batchSize = checkInteger("batchSize", opts.batchSize ?? 64, 1);
    const epochs = checkInteger("epochs", opts.epochs ?? 100, 0);
    const kernels = this.kernels(opts.backend);
    const params = { params: this.params };
    const adam = new Adam(params, { lr: opts.lr ?? 1e-3, clipNorm: opts.clipNorm ?? 100 });
    const best = this.params.slice();
    let state = freshState();
    if (opts.resumeFrom !== undefined) {
      state = await this.loadCheckpoint(opts.resumeFrom, adam, best);
    } else {
      this.initOutputBias(trainX);
      best.set(this.params);
    }
    const grads = new Float32Array(this.params.length);
    const batchX = new Float32Array(batchSize * this.dim);
    const batchLogp = new Float32Array(batchSize);
    const trainSet = makeDataset(trainX, undefined, 1, this.dim);
    const result = await runTrainingLoop(
      { n, batchSize, epochs, seed, patience: opts.patience ?? 5, signal: opts.signal, onBatch: opts.onBatch, onEpoch: opts.onEpoch },
      {
        trainBatch: async (indices) => {
          const m = indices.length;
          gatherRows(trainSet, indices, batchX);
          const x = batchX.subarray(0, m * this.dim);
          const logp = batchLogp.subarray(0, m);
          await kernels.pixelRnnBackwardAsync(this.arrays, x, m, 1 / m, logp, grads);
          adam.update(kernels, { params: grads });
          let nll = 0;
          for (let i = 0; i < m; i++) nll -= logp[i]!;
          return nll;
        },
        validate: async () => meanNll(await this.logProb(validX, { backend: kernels.backend, checkInput: false })),
        keepBest: () => best.set(this.params),
        restoreBest: () => this.params.set(best),
        checkpoint: opts.checkpointPath === undefined ? undefined : (s) => this.saveCheckpoint(opts.checkpointPath!, adam, best, s),
      },
      state,
    );
    return { ...result, trainSize: n, validationSize: validX.length / this.dim };
  }

  /** Output bias = logit of the mean pixel: the first epoch starts from the marginal. */
  private initOutputBias(x: Float32Array): void {
    let ones = 0;
    for (const v of x) if (v > 0.5) ones++;
    const p = (ones + 1) / (x.length + 2);
    this.params[pixelRnnLayout(this.spec).out2B] = Math.log(p / (1 - p));
  }

  // ---- files ----

  private tensors(params: Float32Array, prefix = ""): Record<string, TensorToWrite> {
    const out: Record<string, TensorToWrite> = {};
    for (const t of tensorNames(this.spec)) {
      const n = t.shape.reduce((a, b) => a * b, 1);
      out[`${prefix}${t.name}`] = { shape: t.shape, data: params.subarray(t.offset, t.offset + n) };
    }
    return out;
  }

  async save(path: string): Promise<void> {
    await writeSafetensors(path, this.tensors(this.params), modelMetadata(this.kind, this.config));
  }

  static async load(path: string, options?: { backend?: BackendName }): Promise<PixelRnn> {
    const opts = checkOptions("PixelRnn.load", options, BACKEND_KEYS);
    const model = PixelRnn.fromFile(await loadModelFile<PixelRnnConfig>(path), path);
    model.backend = opts.backend;
    return model;
  }

  /** @internal used by the trainers and loaders, not part of the public API */
  static fromFile(file: ModelFile<PixelRnnConfig>, source: string, prefix = ""): PixelRnn {
    if (file.model !== "rowlstm" && file.model !== "diagbilstm")
      throw new DeepgenError("E_FORMAT", `${source}: not a PixelRNN file (model '${file.model}')`);
    const config = fileConfig(file, source, PixelRnn.checkConfig);
    if (config.kind !== file.model)
      throw new DeepgenError("E_FORMAT", `${source}: config.kind '${config.kind}' does not match model '${file.model}'`);
    const model = new PixelRnn(config, new Float32Array(pixelRnnLayout({ ...config, rows: config.height, cols: config.width }).total));
    for (const t of tensorNames(model.spec)) {
      let data: Float32Array;
      try {
        data = requireF32(file, `${prefix}${t.name}`, t.shape);
      } catch (e) {
        throw new DeepgenError("E_FORMAT", `${source}: ${(e as Error).message}`, { cause: e });
      }
      model.params.set(data, t.offset);
    }
    return model;
  }

  private async saveCheckpoint(path: string, adam: Adam, best: Float32Array, state: TrainingState): Promise<void> {
    const tensors = { ...this.tensors(this.params), ...this.tensors(best, "best."), ...adam.stateTensors() };
    await writeSafetensors(path, tensors, modelMetadata(this.kind, this.config, checkpointMetadata(state, adam.step)));
  }

  private async loadCheckpoint(path: string, adam: Adam, best: Float32Array): Promise<TrainingState> {
    const { file, ...cp } = await readCheckpointFile<PixelRnnConfig>(path, undefined);
    const current = PixelRnn.fromFile(file, path);
    if (JSON.stringify(current.config) !== JSON.stringify(this.config)) {
      throw new DeepgenError(
        "E_FORMAT",
        `${path}: checkpoint is ${JSON.stringify(current.config)}, model is ${JSON.stringify(this.config)}`,
      );
    }
    this.params.set(current.params);
    best.set(PixelRnn.fromFile(file, path, "best.").params);
    adam.loadState(file.tensors, cp.adamStep);
    return cp.state;
  }
}
