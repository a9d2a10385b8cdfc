/**
 * A small convolutional digit classifier, trained by deepgen on the canonical MNIST train split,
 * that the sample-quality metrics (lib/models/sample-quality.ts) use as their feature
 * extractor and judge:
 *
 *   x [n, 1, 28, 28] in [0, 1] -> conv 4x4 /2 (c0) -> relu -> conv 4x4 /2 (c1) -> relu
 *     -> dense (F) -> relu  = the features ("penultimate layer", [n, F])
 *     -> dense (10)         = the class logits
 *
 * The first three layers are a ConvEncoder (lib/nn/conv-nets.ts) whose dense output goes
 * through the activation; the head is a one-layer Mlp. Training minimizes the softmax
 * cross-entropy (loss kernel group) with Adam, optional random shifts of up to `shift` pixels
 * (zero fill, Philox-seeded per step), and early stopping on the validation cross-entropy of a
 * validation set carved out of train (never test).
 *
 * Files: enc.<i>.w / .b (conv weights [cout, cin, 4, 4], dense W [out, in]) and head.0.w / .b;
 * deepgen.model "classifier". Checkpoints add best.* and Adam state.
 */
import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { philox4x32, type Seed, seedToKey } from "../core/philox.js";
import { splitValidation } from "../data/batching.js";
import type { Dataset } from "../data/dataset.js";
import { modelMetadata, readModelFile } from "../io/model-file.js";
import { writeSafetensors } from "../io/safetensors.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import { Adam } from "../nn/adam.js";
import { ConvEncoder } from "../nn/conv-nets.js";
import { Mlp } from "../nn/dense.js";
import { checkInputValues, type InputCheckOptions, inputRows, modelKernels } from "./common.js";
import { netTensors, readBestCheckpoint, writeBestCheckpoint } from "./checkpoint.js";
import { loadNetParams } from "./latent.js";
import { type EpochRecord, FIT_FIELDS, type FitOptions, freshState, runTrainingLoop, type TrainingState } from "./trainer.js";
import type { ModelCard } from "./card.js";

export const CLASSIFIER_ACTIVATIONS = ["relu", "leakyRelu", "tanh"] as const;
export type ClassifierActivation = (typeof CLASSIFIER_ACTIVATIONS)[number];

export interface ClassifierConfig {
  height: number;
  width: number;
  channels: [number, number];
  /** Width F of the penultimate layer (the metric's features). */
  features: number;
  classes: number;
  activation: ClassifierActivation;
}

export interface ClassifierCreateOptions {
  height?: number;
  width?: number;
  channels?: [number, number];
  features?: number;
  classes?: number;
  activation?: ClassifierActivation;
  initSeed?: number;
  backend?: BackendName;
}

export interface ClassifierEpochRecord extends EpochRecord {
  /** Mean training cross-entropy (nats per image) is `train`; these are after the epoch. */
  validationAccuracy?: number;
}

export interface ClassifierFitOptions extends FitOptions<ClassifierEpochRecord> {
  weightDecay?: number;
  /** Random shifts of up to this many pixels in x and y per training image (0: none). */
  shift?: number;
  /** A fraction of the training set to hold out (default 0.1), or a labelled validation set. */
  validation?: number | Dataset;
  /** Epochs without validation improvement before stopping. */
  patience?: number;
}

/** Options of the calls on images (grayscale in [0, 1]). */
export interface ClassifierCallOptions extends InputCheckOptions {
  backend?: BackendName;
}

const CREATE_KEYS = optionKeys<ClassifierCreateOptions>({
  height: true,
  width: true,
  channels: true,
  features: true,
  classes: true,
  activation: true,
  initSeed: true,
  backend: true,
});
const CALL_KEYS = optionKeys<ClassifierCallOptions>({ backend: true, checkInput: true });
const FIT_KEYS = optionKeys<ClassifierFitOptions>({ ...FIT_FIELDS, weightDecay: true, shift: true, validation: true, patience: true });

export interface ClassifierFitResult extends TrainingState {
  history: ClassifierEpochRecord[];
  trainSize: number;
  validationSize: number;
}

const ENC_STREAM = 700;
const HEAD_STREAM = 710;
const SHIFT_STREAM = 0x5348_4946; // "SHIF"
/** Rows per forward chunk of the inference calls (bounds the layers' buffers). */
const CHUNK = 500;

export class Classifier {
  /** The model card beside the file it was loaded from (set by `load`), else null. */
  card: ModelCard | null = null;
  readonly kind = "classifier";
  backend: BackendName | undefined;

  constructor(
    readonly config: ClassifierConfig,
    readonly encoder: ConvEncoder,
    readonly head: Mlp,
  ) {}

  get dim(): number {
    return this.config.height * this.config.width;
  }

  get featureDim(): number {
    return this.config.features;
  }

  static checkConfig(c: Partial<ClassifierConfig>, source: string): ClassifierConfig {
    const height = checkInteger(`${source}: height`, c.height, 4, 4096);
    const width = checkInteger(`${source}: width`, c.width, 4, 4096);
    if (height % 4 !== 0 || width % 4 !== 0) throw new DeepgenError("E_ARG", `${source}: height and width must be multiples of 4`);
    if (!Array.isArray(c.channels) || c.channels.length !== 2) throw new DeepgenError("E_ARG", `${source}: channels must be two integers`);
    const channels: [number, number] = [
      checkInteger(`${source}: channels[0]`, c.channels[0], 1, 1024),
      checkInteger(`${source}: channels[1]`, c.channels[1], 1, 1024),
    ];
    return {
      height,
      width,
      channels,
      features: checkInteger(`${source}: features`, c.features, 1, 1 << 14),
      classes: checkInteger(`${source}: classes`, c.classes, 2, 1 << 14),
      activation: checkOneOf(`${source}: activation`, c.activation, CLASSIFIER_ACTIVATIONS),
    };
  }

  private static networks(c: ClassifierConfig, seed: number): { encoder: ConvEncoder; head: Mlp } {
    const encoder = new ConvEncoder(
      "enc",
      {
        height: c.height,
        width: c.width,
        channels: c.channels,
        latentSide: c.features,
        activation: c.activation,
        outputActivation: c.activation,
      },
      { seed, stream: ENC_STREAM },
    );
    const head = new Mlp("head", { sizes: [c.features, c.classes], hidden: "identity", output: "identity" }, { seed, stream: HEAD_STREAM });
    return { encoder, head };
  }

  static create(options?: ClassifierCreateOptions): Classifier {
    const opts = checkOptions("Classifier.create", options, CREATE_KEYS);
    const config = Classifier.checkConfig(
      {
        height: opts.height ?? 28,
        width: opts.width ?? 28,
        channels: opts.channels ?? [32, 64],
        features: opts.features ?? 128,
        classes: opts.classes ?? 10,
        activation: opts.activation ?? "relu",
      },
      "create",
    );
    const nets = Classifier.networks(config, checkInteger("initSeed", opts.initSeed ?? 0, 0));
    const model = new Classifier(config, nets.encoder, nets.head);
    model.backend = opts.backend;
    return model;
  }

  paramCount(): number {
    return this.encoder.paramCount() + this.head.paramCount();
  }

  private kernels(backend?: BackendName): Kernels {
    return modelKernels(this.backend, backend);
  }

  /** Rows of images x (grayscale in [0, 1]) and the call's kernels, options and values checked. */
  private images(method: string, x: Float32Array, options: ClassifierCallOptions | undefined): { n: number; k: Kernels } {
    const opts = checkOptions(`Classifier.${method}`, options, CALL_KEYS);
    return { n: inputRows(`Classifier.${method}`, x, this.dim, "unit", opts), k: this.kernels(opts.backend) };
  }

  /** Runs `fn` on chunks of the n images of x: (features [m, F], logits [m, C], first row, rows). */
  private forEachChunk(
    x: Float32Array,
    n: number,
    k: Kernels,
    fn: (features: Float32Array, logits: Float32Array, r0: number, m: number) => void,
  ): void {
    for (let r0 = 0; r0 < n; r0 += CHUNK) {
      const m = Math.min(CHUNK, n - r0);
      const f = this.encoder.forward(k, x.subarray(r0 * this.dim, (r0 + m) * this.dim), m);
      fn(f, this.head.forward(k, f, m), r0, m);
    }
  }

  /** Penultimate-layer features [n, F] (after the activation) of images x [n, H * W] in [0, 1]. */
  features(x: Float32Array, opts?: ClassifierCallOptions): Float32Array {
    const { n, k } = this.images("features", x, opts);
    const out = new Float32Array(n * this.featureDim);
    this.forEachChunk(x, n, k, (f, _l, r0) => out.set(f, r0 * this.featureDim));
    return out;
  }

  /** Class logits [n, C]. */
  logits(x: Float32Array, opts?: ClassifierCallOptions): Float32Array {
    const { n, k } = this.images("logits", x, opts);
    const C = this.config.classes;
    const out = new Float32Array(n * C);
    this.forEachChunk(x, n, k, (_f, l, r0) => out.set(l, r0 * C));
    return out;
  }

  /**
   * Features, predicted classes (argmax of the logits; ties: the lowest class) and each
   * prediction's softmax probability, in one pass.
   */
  featuresAndPredictions(
    x: Float32Array,
    opts?: ClassifierCallOptions,
  ): { features: Float32Array; predictions: Uint16Array; confidences: Float32Array } {
    const { n, k } = this.images("featuresAndPredictions", x, opts);
    const C = this.config.classes;
    const features = new Float32Array(n * this.featureDim);
    const predictions = new Uint16Array(n);
    const confidences = new Float32Array(n);
    this.forEachChunk(x, n, k, (f, l, r0, m) => {
      features.set(f, r0 * this.featureDim);
      for (let i = 0; i < m; i++) {
        const best = argmax(l, i * C, C);
        predictions[r0 + i] = best;
        let z = 0; // softmax of the largest logit: 1 / sum_c exp(l_c - l_best)
        for (let c = 0; c < C; c++) z += Math.exp(l[i * C + c]! - l[i * C + best]!);
        confidences[r0 + i] = 1 / z;
      }
    });
    return { features, predictions, confidences };
  }

  predict(x: Float32Array, opts?: ClassifierCallOptions): Uint16Array {
    return this.featuresAndPredictions(x, opts).predictions;
  }

  /** Mean cross-entropy (nats per image) and accuracy on labelled images. */
  evaluate(x: Float32Array, labels: ArrayLike<number>, opts?: ClassifierCallOptions): { loss: number; accuracy: number } {
    const { n, k } = this.images("evaluate", x, opts);
    if (labels.length !== n) throw new DeepgenError("E_SHAPE", `evaluate: ${n} images but ${labels.length} labels`);
    if (n === 0) throw new DeepgenError("E_SHAPE", "evaluate: no images");
    const C = this.config.classes;
    let loss = 0;
    let correct = 0;
    this.forEachChunk(x, n, k, (_f, l, r0, m) => {
      loss += k.softmaxCrossEntropyForward(null, l, oneHot(labels, r0, m, C), m, C);
      for (let i = 0; i < m; i++) if (argmax(l, i * C, C) === labels[r0 + i]) correct++;
    });
    return { loss: loss / n, accuracy: correct / n };
  }

  // ---- training ----

  async fit(train: Dataset, options?: ClassifierFitOptions): Promise<ClassifierFitResult> {
    const opts = checkOptions("Classifier.fit", options, FIT_KEYS);
    if (train.labels === undefined) throw new DeepgenError("E_ARG", "a classifier needs labelled training images");
    if (train.height !== this.config.height || train.width !== this.config.width) {
      throw new DeepgenError(
        "E_SHAPE",
        `training images are ${train.height}x${train.width}, the classifier takes ${this.config.height}x${this.config.width}`,
      );
    }
    const seed = opts.seed ?? 0;
    let trainSet = train;
    let valid: Dataset | undefined;
    const validation = opts.validation ?? 0.1;
    if (typeof validation === "number") {
      if (validation > 0) ({ train: trainSet, validation: valid } = splitValidation(train, validation, seed));
    } else {
      if (validation.labels === undefined) throw new DeepgenError("E_ARG", "the validation set needs labels");
      valid = validation;
    }
    if (opts.checkInput !== false) {
      checkInputValues("Classifier.fit: training images", train.x, this.dim, "unit");
      if (valid !== undefined) checkInputValues("Classifier.fit: validation images", valid.x, this.dim, "unit");
    }
    const D = this.dim;
    const C = this.config.classes;
    const n = trainSet.n;
    const batchSize = checkInteger("batchSize", opts.batchSize ?? 64, 1);
    const epochs = checkInteger("epochs", opts.epochs ?? 30, 0);
    const shift = checkInteger("shift", opts.shift ?? 0, 0, Math.min(this.config.height, this.config.width) - 1);
    const k = this.kernels(opts.backend);
    const params = { ...this.encoder.params(), ...this.head.params() };
    const grads = { ...this.encoder.grads(), ...this.head.grads() };
    const adam = new Adam(params, { lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? 0 });
    const best: Record<string, Float32Array> = {};
    for (const [name, p] of Object.entries(params)) best[name] = p.slice();
    let state = freshState();
    if (opts.resumeFrom !== undefined) state = await this.loadCheckpoint(opts.resumeFrom, adam, best);
    const batchX = new Float32Array(batchSize * D);
    const dlogits = new Float32Array(batchSize * C);
    const labels = trainSet.labels!;
    let lastAccuracy: number | undefined;
    const result = await runTrainingLoop(
      {
        n,
        batchSize,
        epochs,
        seed,
        patience: opts.patience ?? Infinity,
        signal: opts.signal,
        onBatch: opts.onBatch,
        onEpoch: async (_r, st) => {
          const rec = st.history[st.history.length - 1] as ClassifierEpochRecord;
          if (lastAccuracy !== undefined) rec.validationAccuracy = lastAccuracy;
          await opts.onEpoch?.(rec, st);
        },
      },
      {
        trainBatch: async (indices) => {
          const m = indices.length;
          const x = batchX.subarray(0, m * D);
          // Shifts are keyed by the adam step, so a resumed run sees the same ones.
          gatherShifted(trainSet, indices, x, shift, seed, adam.step);
          const targets = oneHot(labels, 0, m, C, indices);
          const f = this.encoder.forward(k, x, m);
          const logits = this.head.forward(k, f, m);
          const loss = k.softmaxCrossEntropyForward(null, logits, targets, m, C);
          const dl = dlogits.subarray(0, m * C);
          k.softmaxCrossEntropyBackward(dl, logits, targets, m, C, 1 / m);
          const df = this.head.backward(k, dl, m, true)!;
          this.encoder.backward(k, df, m, false);
          adam.update(k, grads);
          return loss;
        },
        validate: async () => {
          if (valid === undefined) return undefined;
          const r = this.evaluate(valid.x, valid.labels!, { backend: k.backend, checkInput: false });
          lastAccuracy = r.accuracy;
          return r.loss;
        },
        keepBest: () => {
          for (const name of Object.keys(best)) best[name]!.set(params[name]!);
        },
        restoreBest: () => {
          for (const name of Object.keys(best)) params[name]!.set(best[name]!);
        },
        checkpoint: opts.checkpointPath === undefined ? undefined : (st) => this.saveCheckpoint(opts.checkpointPath!, adam, best, st),
      },
      state,
    );
    return { ...result, history: result.history as ClassifierEpochRecord[], trainSize: n, validationSize: valid?.n ?? 0 };
  }

  // ---- files ----

  async save(path: string, extraMetadata: Record<string, string> = {}): Promise<void> {
    await writeSafetensors(path, netTensors([this.encoder, this.head]), modelMetadata(this.kind, this.config, extraMetadata));
  }

  private saveCheckpoint(path: string, adam: Adam, best: Record<string, Float32Array>, state: TrainingState): Promise<void> {
    return writeBestCheckpoint(path, this.kind, this.config, [this.encoder, this.head], adam, best, state);
  }

  private loadCheckpoint(path: string, adam: Adam, best: Record<string, Float32Array>): Promise<TrainingState> {
    return readBestCheckpoint(path, "classifier", this.config, [this.encoder, this.head], adam, best);
  }

  static async load(path: string, options?: { backend?: BackendName }): Promise<Classifier> {
    const opts = checkOptions("Classifier.load", options, optionKeys<{ backend?: BackendName }>({ backend: true }));
    const { file, config } = await readModelFile<ClassifierConfig>(path, "classifier", Classifier.checkConfig);
    const nets = Classifier.networks(config, 0);
    loadNetParams(file, nets.encoder);
    loadNetParams(file, nets.head);
    const model = new Classifier(config, nets.encoder, nets.head);
    model.backend = opts.backend;
    return model;
  }
}

function argmax(a: Float32Array, begin: number, n: number): number {
  let best = 0;
  for (let c = 1; c < n; c++) if (a[begin + c]! > a[begin + best]!) best = c;
  return best;
}

/** One-hot rows [m, C] of labels[r0 .. r0 + m) (or of labels[indices[i]]). */
function oneHot(labels: ArrayLike<number>, r0: number, m: number, C: number, indices?: ArrayLike<number>): Float32Array {
  const t = new Float32Array(m * C);
  for (let i = 0; i < m; i++) {
    const y = labels[indices === undefined ? r0 + i : indices[i]!]!;
    if (!Number.isInteger(y) || y < 0 || y >= C) throw new DeepgenError("E_ARG", `label ${y} outside 0..${C - 1}`);
    t[i * C + y] = 1;
  }
  return t;
}

/**
 * Copies the listed images into out, each moved by (dy, dx) in [-shift, shift]^2 pixels (the
 * uncovered border is 0), the shifts drawn from Philox(seed, stream SHIFT_STREAM, counter step).
 */
export function gatherShifted(d: Dataset, indices: ArrayLike<number>, out: Float32Array, shift: number, seed: Seed, step: number): void {
  const { height: H, width: W, dim: D } = d;
  const { key0, key1 } = seedToKey(seed);
  const block = new Uint32Array(4);
  const span = 2 * shift + 1;
  for (let i = 0; i < indices.length; i++) {
    const src = d.x.subarray(indices[i]! * D, (indices[i]! + 1) * D);
    const dst = out.subarray(i * D, (i + 1) * D);
    if (shift === 0) {
      dst.set(src);
      continue;
    }
    philox4x32(i, step >>> 0, SHIFT_STREAM, 0, key0, key1, block);
    const dy = (block[0]! % span) - shift;
    const dx = (block[1]! % span) - shift;
    dst.fill(0);
    for (let y = Math.max(0, dy); y < Math.min(H, H + dy); y++) {
      const sy = y - dy;
      for (let x = Math.max(0, dx); x < Math.min(W, W + dx); x++) dst[y * W + x] = src[sy * W + x - dx]!;
    }
  }
}
