/**
 * The judge of text-to-image results on MNIST-Captions-60: a CNN that reads a 60x60 canvas
 * back as its layout and the digit in each slot (lib/data/mnist-captions.ts), trained on real
 * canvases of the train digits only.
 *
 *   x [n, 1, 60, 60] in [0, 1], zero-padded to 64x64
 *     -> (conv 4x4 /2 -> act) per channel count (default 32, 64, 128, 256: 64 -> 4 pixels)
 *     -> dense (F) -> act          = the features (judge-feature FID, diversity)
 *     -> dense (6 + 10 + 11)       = three softmax heads: layout, slot 1, slot 2 (10 = empty)
 *
 * The padding lets four halving convs reach a 4x4 map, so digits are recognized by shared
 * convolutional features wherever they sit; with two convs (60 -> 15) the dense layer had to
 * learn each digit at each position, and read pairs of test digits about 93% right.
 *
 * Each training digit is warped a little (rotation, scale, shear: lib/data/digit-warp.ts), so
 * the judge reads new hands as well as the 7,204 it trains on.
 * It trains on canvases of all 440 captions: it is a metric, not a generative model, so it
 * must read banned and unseen-pair captions as well as seen ones; what it never sees is a test
 * digit. Training draws fresh canvases every epoch (Philox(seed, stream = epoch)) and selects
 * the epoch by the summed cross-entropy on a fixed set of canvases of the validation digits.
 *
 * Files: enc.<i>.w / .b and head.0.w / .b; deepgen.model "caption-judge".
 */
import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import {
  CANVAS_DIM,
  CANVAS_SIDE,
  type CanvasRecord,
  type CanvasTarget,
  captionTarget,
  digitImage,
  drawCanvas,
  drawCanvasFrom,
  sampleCanvasRecords,
  sameTarget,
} from "../data/mnist-captions.js";
import { captionDigits, validationCanvases } from "../data/mnist-captions-split.js";
import { JUDGE_WARP, warpDigit } from "../data/digit-warp.js";
import { MNIST_DIM } from "../data/mnist.js";
import { modelMetadata, readModelFile } from "../io/model-file.js";
import { writeSafetensors } from "../io/safetensors.js";
import type { BackendName } from "../kernels/kernels.js";
import { Adam } from "../nn/adam.js";
import { ConvEncoder } from "../nn/conv-nets.js";
import { Mlp } from "../nn/dense.js";
import { netTensors, readBestCheckpoint, writeBestCheckpoint } from "./checkpoint.js";
import { CLASSIFIER_ACTIVATIONS, type ClassifierActivation } from "./classifier.js";
import { type InputCheckOptions, inputRows, modelKernels } from "./common.js";
import { loadNetParams } from "./latent.js";
import { type EpochRecord, FIT_FIELDS, type FitOptions, freshState, runTrainingLoop, type TrainingState } from "./trainer.js";
import type { ModelCard } from "./card.js";

/** Classes of the three heads: layout, slot 1, slot 2 (with "no digit"). */
export const JUDGE_HEADS = [6, 10, 11] as const;
const OUTPUTS = JUDGE_HEADS[0] + JUDGE_HEADS[1] + JUDGE_HEADS[2];
const HEAD_OFFSETS = [0, JUDGE_HEADS[0], JUDGE_HEADS[0] + JUDGE_HEADS[1]] as const;

export interface CaptionJudgeConfig {
  /** Channels of the halving conv layers (1 to 6 of them). */
  channels: number[];
  features: number;
  activation: ClassifierActivation;
}

export interface CaptionJudgeCreateOptions {
  channels?: number[];
  features?: number;
  activation?: ClassifierActivation;
  initSeed?: number;
  backend?: BackendName;
}

export interface CaptionJudgeEpochRecord extends EpochRecord {
  /** Strict accuracy (layout and both slots right) on the validation canvases after the epoch. */
  validationAccuracy?: number;
}

export interface CaptionJudgeFitOptions extends FitOptions<CaptionJudgeEpochRecord> {
  /** Fresh training canvases per epoch (default 10,000). */
  canvasesPerEpoch?: number;
  /** Validation canvases (default 1,000; 0: no validation and no early stopping). */
  validationCanvases?: number;
  patience?: number;
  weightDecay?: number;
  /** Random small affine warps of each training digit (lib/data/digit-warp.ts; default true). */
  augment?: boolean;
}

export interface CaptionJudgeFitResult extends TrainingState {
  history: CaptionJudgeEpochRecord[];
}

/** The judge's reading of canvases. */
export interface JudgeReading {
  /** [n, F] features. */
  features: Float32Array;
  /** [n, 27] log-probabilities, log-softmax within each head. */
  logProbs: Float32Array;
  /** The most probable layout and slots of each canvas. */
  readings: CanvasTarget[];
}

export interface JudgeCallOptions extends InputCheckOptions {
  backend?: BackendName;
}

const CREATE_KEYS = optionKeys<CaptionJudgeCreateOptions>({
  channels: true,
  features: true,
  activation: true,
  initSeed: true,
  backend: true,
});
const CALL_KEYS = optionKeys<JudgeCallOptions>({ backend: true, checkInput: true });
const FIT_KEYS = optionKeys<CaptionJudgeFitOptions>({
  ...FIT_FIELDS,
  canvasesPerEpoch: true,
  validationCanvases: true,
  patience: true,
  weightDecay: true,
  augment: true,
});

/** The padded side the convs see. */
const PADDED = 64;
const PAD = (PADDED - CANVAS_SIDE) / 2;
const ENC_STREAM = 720;
const HEAD_STREAM = 730;
const CHUNK = 250;

export class CaptionJudge {
  /** The model card beside the file it was loaded from (set by `load`), else null. */
  card: ModelCard | null = null;
  readonly kind = "caption-judge";
  backend: BackendName | undefined;

  constructor(
    readonly config: CaptionJudgeConfig,
    readonly encoder: ConvEncoder,
    readonly head: Mlp,
  ) {}

  get featureDim(): number {
    return this.config.features;
  }

  static checkConfig(c: Partial<CaptionJudgeConfig>, source: string): CaptionJudgeConfig {
    if (!Array.isArray(c.channels) || c.channels.length < 1 || c.channels.length > 6)
      throw new DeepgenError("E_ARG", `${source}: channels must be 1 to 6 integers (one per halving conv layer)`);
    return {
      channels: c.channels.map((v, i) => checkInteger(`${source}: channels[${i}]`, v, 1, 1024)),
      features: checkInteger(`${source}: features`, c.features, 1, 1 << 14),
      activation: checkOneOf(`${source}: activation`, c.activation, CLASSIFIER_ACTIVATIONS),
    };
  }

  private static networks(c: CaptionJudgeConfig, seed: number): { encoder: ConvEncoder; head: Mlp } {
    const spec = {
      height: PADDED,
      width: PADDED,
      channels: c.channels,
      latentSide: c.features,
      activation: c.activation,
      outputActivation: c.activation,
    };
    const encoder = new ConvEncoder("enc", spec, { seed, stream: ENC_STREAM });
    const head = new Mlp("head", { sizes: [c.features, OUTPUTS], hidden: "identity", output: "identity" }, { seed, stream: HEAD_STREAM });
    return { encoder, head };
  }

  static create(options?: CaptionJudgeCreateOptions): CaptionJudge {
    const opts = checkOptions("CaptionJudge.create", options, CREATE_KEYS);
    const config = CaptionJudge.checkConfig(
      { channels: opts.channels ?? [32, 64, 128, 256], features: opts.features ?? 256, activation: opts.activation ?? "relu" },
      "create",
    );
    const nets = CaptionJudge.networks(config, checkInteger("initSeed", opts.initSeed ?? 0, 0));
    const judge = new CaptionJudge(config, nets.encoder, nets.head);
    judge.backend = opts.backend;
    return judge;
  }

  paramCount(): number {
    return this.encoder.paramCount() + this.head.paramCount();
  }

  /** Features, per-head log-probabilities and the most probable reading of canvases x [n, 3600] in [0, 1]. */
  read(x: Float32Array, options?: JudgeCallOptions): JudgeReading {
    const opts = checkOptions("CaptionJudge.read", options, CALL_KEYS);
    const n = inputRows("CaptionJudge.read", x, CANVAS_DIM, "unit", opts);
    const k = modelKernels(this.backend, opts.backend);
    const F = this.featureDim;
    const features = new Float32Array(n * F);
    const logProbs = new Float32Array(n * OUTPUTS);
    const padded = new Float32Array(Math.min(n, CHUNK) * PADDED * PADDED);
    for (let r0 = 0; r0 < n; r0 += CHUNK) {
      const m = Math.min(CHUNK, n - r0);
      padCanvases(x.subarray(r0 * CANVAS_DIM, (r0 + m) * CANVAS_DIM), m, padded);
      const f = this.encoder.forward(k, padded.subarray(0, m * PADDED * PADDED), m);
      features.set(f.subarray(0, m * F), r0 * F);
      logProbs.set(this.head.forward(k, f, m).subarray(0, m * OUTPUTS), r0 * OUTPUTS);
    }
    const readings: CanvasTarget[] = [];
    for (let i = 0; i < n; i++) {
      const row = logProbs.subarray(i * OUTPUTS, (i + 1) * OUTPUTS);
      const best = [0, 0, 0];
      for (let h = 0; h < 3; h++) {
        const head = row.subarray(HEAD_OFFSETS[h], HEAD_OFFSETS[h]! + JUDGE_HEADS[h]!);
        logSoftmaxInPlace(head);
        best[h] = argmax(head);
      }
      readings.push({ layout: best[0]!, slot1: best[1]!, slot2: best[2]! });
    }
    return { features, logProbs, readings };
  }

  /** Summed cross-entropy of the three heads (nats per canvas) and strict accuracy on captioned canvases. */
  evaluate(x: Float32Array, records: readonly CanvasRecord[], options?: JudgeCallOptions): { loss: number; accuracy: number } {
    const { logProbs, readings } = this.read(x, options);
    if (records.length !== readings.length) throw new DeepgenError("E_SHAPE", `${readings.length} canvases but ${records.length} records`);
    if (records.length === 0) throw new DeepgenError("E_SHAPE", "evaluate: no canvases");
    let loss = 0;
    let correct = 0;
    records.forEach((rec, i) => {
      const t = captionTarget(rec.caption);
      loss -= targetLogProb(logProbs, i, t);
      if (sameTarget(readings[i]!, t)) correct++;
    });
    return { loss: loss / records.length, accuracy: correct / records.length };
  }

  // ---- training ----

  async fit(options?: CaptionJudgeFitOptions): Promise<CaptionJudgeFitResult> {
    const opts = checkOptions("CaptionJudge.fit", options, FIT_KEYS);
    const seed = opts.seed ?? 0;
    const n = checkInteger("canvasesPerEpoch", opts.canvasesPerEpoch ?? 10_000, 1);
    const nValid = checkInteger("validationCanvases", opts.validationCanvases ?? 1000, 0);
    const batchSize = checkInteger("batchSize", opts.batchSize ?? 64, 1);
    const epochs = checkInteger("epochs", opts.epochs ?? 30, 0);
    const k = modelKernels(this.backend, opts.backend);
    const digits = captionDigits().train;
    const valid = nValid > 0 ? validationCanvases(nValid, "all") : undefined;
    const params = { ...this.encoder.params(), ...this.head.params() };
    const grads = { ...this.encoder.grads(), ...this.head.grads() };
    const adam = new Adam(params, { lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? 0 });
    const best: Record<string, Float32Array> = {};
    for (const [name, p] of Object.entries(params)) best[name] = p.slice();
    let state = freshState();
    if (opts.resumeFrom !== undefined)
      state = await readBestCheckpoint(opts.resumeFrom, this.kind, this.config, [this.encoder, this.head], adam, best);
    const batchX = new Float32Array(batchSize * CANVAS_DIM);
    const batchPadded = new Float32Array(batchSize * PADDED * PADDED);
    const augment = opts.augment ?? true;
    const warpA = new Float32Array(MNIST_DIM);
    const warpB = new Float32Array(MNIST_DIM);
    const dlogits = new Float32Array(batchSize * OUTPUTS);
    const heads = JUDGE_HEADS.map((c) => ({
      logits: new Float32Array(batchSize * c),
      targets: new Float32Array(batchSize * c),
      dl: new Float32Array(batchSize * c),
    }));
    let epochRecords: { epoch: number; records: CanvasRecord[] } | undefined;
    let lastAccuracy: number | undefined;
    const result = await runTrainingLoop(
      {
        n,
        batchSize,
        epochs,
        seed,
        patience: valid === undefined ? Infinity : (opts.patience ?? Infinity),
        signal: opts.signal,
        onBatch: opts.onBatch,
        onEpoch: async (_r, st) => {
          const rec = st.history[st.history.length - 1] as CaptionJudgeEpochRecord;
          if (lastAccuracy !== undefined) rec.validationAccuracy = lastAccuracy;
          await opts.onEpoch?.(rec, st);
        },
      },
      {
        trainBatch: async (indices) => {
          const epoch = state.epoch + 1;
          if (epochRecords?.epoch !== epoch) epochRecords = { epoch, records: sampleCanvasRecords(digits, "all", n, seed, epoch) };
          const m = indices.length;
          const x = batchX.subarray(0, m * CANVAS_DIM);
          for (let i = 0; i < m; i++) {
            const rec = epochRecords.records[indices[i]!]!;
            if (!augment) drawCanvas(digits, rec, x, i * CANVAS_DIM);
            else {
              warpDigit(digitImage(digits, rec.indexA), warpA, JUDGE_WARP, seed, indices[i]!, epoch, 0);
              if (rec.offsetB !== undefined) warpDigit(digitImage(digits, rec.indexB), warpB, JUDGE_WARP, seed, indices[i]!, epoch, 1);
              drawCanvasFrom(warpA, rec.offsetB === undefined ? undefined : warpB, rec, x, i * CANVAS_DIM);
            }
          }
          const f = this.encoder.forward(k, padCanvases(x, m, batchPadded), m);
          const logits = this.head.forward(k, f, m);
          let loss = 0;
          for (let h = 0; h < 3; h++) {
            const C = JUDGE_HEADS[h]!;
            const { logits: hl, targets, dl } = heads[h]!;
            targets.fill(0);
            for (let i = 0; i < m; i++) {
              const t = captionTarget(epochRecords.records[indices[i]!]!.caption);
              targets[i * C + [t.layout, t.slot1, t.slot2][h]!] = 1;
              hl.set(logits.subarray(i * OUTPUTS + HEAD_OFFSETS[h]!, i * OUTPUTS + HEAD_OFFSETS[h]! + C), i * C);
            }
            loss += k.softmaxCrossEntropyForward(null, hl.subarray(0, m * C), targets.subarray(0, m * C), m, C);
            k.softmaxCrossEntropyBackward(dl.subarray(0, m * C), hl.subarray(0, m * C), targets.subarray(0, m * C), m, C, 1 / m);
            for (let i = 0; i < m; i++) dlogits.set(dl.subarray(i * C, (i + 1) * C), i * OUTPUTS + HEAD_OFFSETS[h]!);
          }
          const df = this.head.backward(k, dlogits.subarray(0, m * OUTPUTS), m, true)!;
          this.encoder.backward(k, df, m, false);
          adam.update(k, grads);
          return loss;
        },
        validate: async () => {
          if (valid === undefined) return undefined;
          const r = this.evaluate(valid.x, valid.records, { backend: k.backend, checkInput: false });
          lastAccuracy = r.accuracy;
          return r.loss;
        },
        keepBest: () => {
          for (const name of Object.keys(best)) best[name]!.set(params[name]!);
        },
        restoreBest: () => {
          for (const name of Object.keys(best)) params[name]!.set(best[name]!);
        },
        checkpoint:
          opts.checkpointPath === undefined
            ? undefined
            : (st) => writeBestCheckpoint(opts.checkpointPath!, this.kind, this.config, [this.encoder, this.head], adam, best, st),
      },
      state,
    );
    return { ...result, history: result.history as CaptionJudgeEpochRecord[] };
  }

  // ---- files ----

  async save(path: string, extraMetadata: Record<string, string> = {}): Promise<void> {
    await writeSafetensors(path, netTensors([this.encoder, this.head]), modelMetadata(this.kind, this.config, extraMetadata));
  }

  static async load(path: string, options?: { backend?: BackendName }): Promise<CaptionJudge> {
    const opts = checkOptions("CaptionJudge.load", options, optionKeys<{ backend?: BackendName }>({ backend: true }));
    const { file, config } = await readModelFile<CaptionJudgeConfig>(path, "caption-judge", CaptionJudge.checkConfig);
    const nets = CaptionJudge.networks(config, 0);
    loadNetParams(file, nets.encoder);
    loadNetParams(file, nets.head);
    const judge = new CaptionJudge(config, nets.encoder, nets.head);
    judge.backend = opts.backend;
    return judge;
  }
}

/** log p(t | canvas i) under the judge: the sum of the three heads' log-probabilities. */
export function targetLogProb(logProbs: Float32Array, i: number, t: CanvasTarget): number {
  const row = i * OUTPUTS;
  return logProbs[row + t.layout]! + logProbs[row + HEAD_OFFSETS[1] + t.slot1]! + logProbs[row + HEAD_OFFSETS[2] + t.slot2]!;
}

/** Canvases [m, 60 * 60] centred in zero-filled [m, 64 * 64] rows of `out`; returns those rows. */
function padCanvases(x: Float32Array, m: number, out: Float32Array): Float32Array {
  const rows = out.subarray(0, m * PADDED * PADDED);
  rows.fill(0);
  for (let i = 0; i < m; i++) {
    for (let r = 0; r < CANVAS_SIDE; r++) {
      const src = i * CANVAS_DIM + r * CANVAS_SIDE;
      rows.set(x.subarray(src, src + CANVAS_SIDE), i * PADDED * PADDED + (r + PAD) * PADDED + PAD);
    }
  }
  return rows;
}

function logSoftmaxInPlace(a: Float32Array): void {
  let max = -Infinity;
  for (const v of a) if (v > max) max = v;
  let sum = 0;
  for (const v of a) sum += Math.exp(v - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < a.length; i++) a[i] = a[i]! - lse;
}

function argmax(a: Float32Array): number {
  let best = 0;
  for (let c = 1; c < a.length; c++) if (a[c]! > a[best]!) best = c;
  return best;
}
