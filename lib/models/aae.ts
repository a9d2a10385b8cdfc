/**
 * Adversarial autoencoder (Makhzani et al. 2016) for binary images: a deterministic encoder
 * z = E(x), a Bernoulli decoder p(x | z) (the VAE's MLPs), and prior fitting by a
 * discriminator D(z) on codes instead of a KL term, so any prior that can be sampled works
 * (lib/models/priors.ts). Each minibatch runs three phases, each with its own Adam:
 *   1. reconstruction: encoder + decoder minimize the cross-entropy -log p(x | E(x));
 *   2. discriminator: D minimizes BCE(D(z ~ prior), 1) + BCE(D(E(x)), 0) (mean over the 2m codes);
 *   3. generator: the encoder minimizes BCE(D(E(x)), 1) (the non-saturating GAN loss).
 * Adversarial training has no monotone objective: fit keeps the final parameters (no
 * best-epoch restore) and reports, per epoch, the reconstruction error, the discriminator's
 * loss and accuracy and the generator's loss.
 *
 * Encoder / decoder: MLPs (default) or the VAE's conv networks (config.arch = "conv",
 * lib/nn/conv-nets.ts); the discriminator is always an MLP on codes.
 *
 * Regularizing the encoder (why): on the ~7,200 training images of the canonical split the
 * encoder learns to place *training* codes where D cannot tell them from prior draws, while
 * held-out codes land off the prior (D accuracy on validation codes 0.6-0.7 with 0.53 on
 * training batches). Three fit options narrow that gap: inputDropout (each input pixel is
 * zeroed with that probability in the encoder's input of all three phases, Philox noise; the
 * reconstruction target stays clean: a denoising autoencoder), weightDecay (decoupled, on the
 * encoder and decoder) and lrDecay (all three learning rates fall linearly to lr * lrDecay at
 * the last epoch, so the final parameters are not a snapshot of an oscillating game).
 * With select = "validation", fit keeps instead the epoch whose validation codes the
 * discriminator tells from prior draws no better than SELECT_BAND around chance (validation
 * accuracy within 0.5 +- 0.05) and, among those, the lowest validation reconstruction error;
 * the last epoch when none qualifies. Only validation images choose: test figures stay honest.
 *
 * Files: enc.<i>.*, dec.<i>.*, disc.<i>.* (W [out, in], b [out]); checkpoints add the Adam
 * states of the three phases (ae.adam.*, disc.adam.*, gen.adam.*).
 */
import { checkInteger, checkOneOf } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { gatherRows } from "../data/batching.js";
import { type Dataset, makeDataset } from "../data/dataset.js";
import { modelMetadata, requireF32 } from "../io/model-file.js";
import { type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import type { BackendName } from "../kernels/kernels.js";
import type { ActivationKind } from "../kernels/ops/activation.js";
import { Adam } from "../nn/adam.js";
import type { Net } from "../nn/conv-nets.js";
import { Mlp, type MlpSpec } from "../nn/dense.js";
import { Autoencoder, type AutoencoderConfig, autoencoderNets, checkConvArch, checkWidths, loadAutoencoder, VAE_ACTIVATIONS, type VaeActivation, type VaeArch } from "./autoencoder.js";
import { adamStates, loadAdamStates, readPhasedCheckpoint } from "./checkpoint.js";
import { batchRows, checkImageShape } from "./common.js";
import type { SampleOptions, Samples } from "./density.js";
import { loadMlp, loadNetParams, sigmoidInPlace } from "./latent.js";
import { checkPrior, PRIORS, type PriorKind, samplePrior } from "./priors.js";
import { type EpochRecord, freshState, runTrainingLoop, trainValidationSplit, type TrainingProgress, type TrainingState } from "./trainer.js";

export interface AaeConfig extends AutoencoderConfig {
  discHidden: number[];
  prior: PriorKind;
}

export interface AaeCreateOptions {
  dim: number;
  latent?: number;
  hidden?: number[];
  discHidden?: number[];
  activation?: VaeActivation;
  prior?: PriorKind;
  arch?: VaeArch;
  channels?: [number, number];
  initSeed?: number;
  height?: number;
  width?: number;
  backend?: BackendName;
}

export interface AaeTerms {
  /** Mean cross-entropy -log p(x | E(x)) in nats per image. */
  reconstruction: number;
  /** Mean discriminator BCE over codes and prior draws. */
  discriminatorLoss: number;
  /** Fraction of codes and prior draws the discriminator classifies correctly. */
  discriminatorAccuracy: number;
  /** Mean generator (encoder) BCE against label 1. */
  generatorLoss: number;
}

export interface AaeEpochRecord extends EpochRecord {
  terms: AaeTerms;
  /** Validation reconstruction error and discriminator accuracy after the epoch. */
  validationTerms?: { reconstruction: number; discriminatorAccuracy: number };
}

export interface AaeFitOptions {
  epochs?: number;
  batchSize?: number;
  /** Learning rate of the reconstruction phase (default 1e-3). */
  lr?: number;
  /**
   * Learning rate of the discriminator and generator phases (Adam with beta1 = 0.5; default
   * 1e-3: with 1e-4 the codes of MNIST (2-D, mog10) stayed far wider than the prior after 30
   * epochs, discriminator accuracy ~0.84; with 1e-3 ~0.6).
   */
  adversarialLr?: number;
  /** Probability of zeroing each input pixel of the encoder in the three phases (default 0; see the file comment). */
  inputDropout?: number;
  /** Decoupled weight decay of the encoder and decoder (default 0). */
  weightDecay?: number;
  /** Learning rates fall linearly to this fraction of their start by the last epoch (default 1: constant). */
  lrDecay?: number;
  /** Discriminator updates per minibatch (default 1), each against fresh prior draws. */
  discSteps?: number;
  /** "last" (default): keep the final parameters; "validation": the epoch chosen on validation (see the file comment). */
  select?: AaeSelect;
  validation?: Float32Array | number;
  seed?: Seed;
  backend?: BackendName;
  signal?: AbortSignal;
  /** Write a checkpoint here after every epoch (atomic): parameters and the three Adam states. */
  checkpointPath?: string;
  /** Continue from this checkpoint (same data and options): the run continues exactly. */
  resumeFrom?: string;
  onBatch?: (p: TrainingProgress) => void;
  onEpoch?: (r: AaeEpochRecord, state: TrainingState) => void | Promise<void>;
}

export const AAE_SELECT = ["last", "validation"] as const;
export type AaeSelect = (typeof AAE_SELECT)[number];
/** select "validation": epochs qualify when |validation discriminator accuracy - 0.5| <= SELECT_BAND. */
export const SELECT_BAND = 0.05;

export interface AaeFitResult extends TrainingState {
  /** The epoch whose parameters the model holds (select "validation"), else the last. */
  selectedEpoch: number;
  trainSize: number;
  validationSize: number;
  history: AaeEpochRecord[];
}

const ENC_STREAM = 300;
const DEC_STREAM = 400;
const DISC_STREAM = 500;
/** Philox stream of the z draws of sample() (ONNX exports record it, so runners draw the same z). */
export const SAMPLE_Z_STREAM = 0x5a;
const SAMPLE_X_STREAM = 0x58;
/** Prior draws of training step t use stream PRIOR_STREAM_BASE + t; evaluation uses EVAL_PRIOR_STREAM. */
const PRIOR_STREAM_BASE = 0x10000;
/** Extra discriminator step j >= 1 of training step t draws the prior from stream EXTRA_PRIOR_STREAM_BASE + j * 2^24 + t. */
const EXTRA_PRIOR_STREAM_BASE = 0x50000000;
/** Input-dropout noise of training step t uses stream DROPOUT_STREAM_BASE + t. */
const DROPOUT_STREAM_BASE = 0x40000000;
const EVAL_PRIOR_STREAM = 0xe7a1;
/** Streams of refitDiscriminatorAccuracy: its initialization, prior draws (+ step) and code picks (+ step). */
const REFIT_DISC_STREAM = 600;
const REFIT_PRIOR_STREAM = 0x20000000;
const REFIT_PICK_STREAM = 0x30000000;

export class Aae extends Autoencoder<AaeConfig> {
  readonly kind = "aae";
  protected readonly mapRange = 6;

  constructor(
    config: AaeConfig,
    encoder: Net,
    decoder: Net,
    readonly discriminator: Mlp,
  ) {
    super(config, encoder, decoder);
  }

  /** Fresh encoder and decoder of a configuration (Glorot-uniform from the seed). */
  static networks(c: AaeConfig, seed: number): { encoder: Net; decoder: Net } {
    return autoencoderNets(c, seed, { encoder: ENC_STREAM, decoder: DEC_STREAM }, c.latent);
  }

  static specs(c: AaeConfig): { enc: MlpSpec; dec: MlpSpec; disc: MlpSpec } {
    const act: ActivationKind = c.activation;
    return {
      enc: { sizes: [c.dim, ...c.hidden, c.latent], hidden: act, output: "identity" },
      dec: { sizes: [c.latent, ...[...c.hidden].reverse(), c.dim], hidden: act, output: "identity" },
      disc: { sizes: [c.latent, ...c.discHidden, 1], hidden: act, output: "identity" },
    };
  }

  private static checkConfig(c: Partial<AaeConfig>, source: string): AaeConfig {
    const dim = checkInteger(`${source}: dim`, c.dim, 1, 1 << 24);
    const latent = checkInteger(`${source}: latent`, c.latent, 1, 4096);
    const out: AaeConfig = {
      dim,
      latent,
      hidden: checkWidths(source, "hidden", c.hidden),
      discHidden: checkWidths(source, "discHidden", c.discHidden),
      activation: checkOneOf(`${source}: activation`, c.activation, VAE_ACTIVATIONS),
      prior: checkOneOf(`${source}: prior`, c.prior, PRIORS),
    };
    checkPrior(out.prior, latent);
    Object.assign(out, checkImageShape(c, dim, source));
    return Object.assign(out, checkConvArch(c, out, source));
  }

  static create(opts: AaeCreateOptions): Aae {
    const config = Aae.checkConfig(
      {
        dim: opts.dim,
        latent: opts.latent ?? 2,
        hidden: opts.hidden ?? [500, 500],
        discHidden: opts.discHidden ?? [500, 500],
        activation: opts.activation ?? "relu",
        prior: opts.prior ?? "gaussian",
        arch: opts.arch,
        channels: opts.channels,
        height: opts.height,
        width: opts.width,
      },
      "create",
    );
    const seed = checkInteger("initSeed", opts.initSeed ?? 0, 0);
    const nets = Aae.networks(config, seed);
    const model = new Aae(config, nets.encoder, nets.decoder, new Mlp("disc", Aae.specs(config).disc, { seed, stream: DISC_STREAM }));
    model.backend = opts.backend;
    return model;
  }

  override paramCount(): number {
    return super.paramCount() + this.discriminator.paramCount();
  }

  /** Codes E(x) [n, latent]. */
  encode(x: Float32Array, opts: { backend?: BackendName } = {}): Float32Array {
    const n = batchRows(x, this.dim);
    return this.encoder.forward(this.kernels(opts.backend), x, n).slice();
  }

  /** Pixel probabilities [n, D] of codes z [n, latent]. */
  decode(z: Float32Array, opts: { backend?: BackendName } = {}): Float32Array {
    const n = batchRows(z, this.latent);
    return sigmoidInPlace(this.decoder.forward(this.kernels(opts.backend), z, n).slice());
  }

  /** A code stands for x as E(x): reconstruct and interpolate decode it. */
  protected codeOf(x: Float32Array, opts: { backend?: BackendName }): Float32Array {
    return this.encode(x, opts);
  }

  /** Prior draws [n, latent] (stream: EVAL_PRIOR_STREAM unless given). */
  samplePrior(n: number, seed: Seed, stream = EVAL_PRIOR_STREAM): Float32Array {
    checkInteger("n", n, 0);
    return samplePrior(this.config.prior, n, this.latent, seed, stream);
  }

  /** Decodes prior draws; x is Bernoulli draws of the decoded probabilities. */
  sampleSync(n: number, opts: Omit<SampleOptions, "signal" | "onProgress">): Samples {
    const z = this.samplePrior(n, opts.seed, SAMPLE_Z_STREAM);
    const probs = this.decode(z, opts);
    const u = new Float32Array(probs.length);
    this.kernels(opts.backend).philoxFill(u, opts.seed, SAMPLE_X_STREAM, "uniform");
    const x = new Float32Array(probs.length);
    for (let i = 0; i < x.length; i++) x[i] = u[i]! < probs[i]! ? 1 : 0;
    return opts.returnProbs ? { x, probs, n } : { x, n };
  }

  /** Mean reconstruction cross-entropy (nats per image) of x. */
  reconstructionError(x: Float32Array, opts: { backend?: BackendName; batchSize?: number } = {}): number {
    const n = batchRows(x, this.dim);
    const k = this.kernels(opts.backend);
    const bs = checkInteger("batchSize", opts.batchSize ?? 500, 1);
    let total = 0;
    for (let b = 0; b < n; b += bs) {
      const m = Math.min(bs, n - b);
      const xb = x.subarray(b * this.dim, (b + m) * this.dim);
      const z = this.encoder.forward(k, xb, m);
      total += k.bceWithLogitsForward(null, this.decoder.forward(k, z, m), xb, m, this.dim);
    }
    return total / Math.max(1, n);
  }

  /**
   * The discriminator's accuracy on the codes of x against as many prior draws (seeded):
   * 0.5 means it cannot tell them apart (the codes match the prior as far as D can see).
   */
  discriminatorAccuracy(x: Float32Array, opts: { backend?: BackendName; seed?: Seed } = {}): number {
    const n = batchRows(x, this.dim);
    if (n === 0) throw new DeepgenError("E_SHAPE", "discriminatorAccuracy: no images");
    const k = this.kernels(opts.backend);
    const codes = this.encode(x, opts);
    const prior = this.samplePrior(n, opts.seed ?? 0);
    let correct = 0;
    const real = this.discriminator.forward(k, prior, n);
    for (let i = 0; i < n; i++) if (real[i]! > 0) correct++;
    const fake = this.discriminator.forward(k, codes, n);
    for (let i = 0; i < n; i++) if (fake[i]! <= 0) correct++;
    return correct / (2 * n);
  }

  /**
   * A stricter two-sample check than discriminatorAccuracy: a *fresh* discriminator (same
   * widths, initialized from `seed`) is trained for `steps` minibatches (Adam 1e-3, beta1 0.5)
   * to tell the codes of `trainX` (the encoder frozen) from prior draws, then its accuracy on
   * the codes of `testX` against as many fresh prior draws is returned. The training
   * discriminator is a snapshot of an adversarial game; this one is trained to convergence
   * against the final encoder, so 0.5 means no difference it can find and anything above
   * measures a mismatch that is really there (or one it overfits to in the training codes).
   */
  refitDiscriminatorAccuracy(
    trainX: Float32Array,
    testX: Float32Array,
    opts: { backend?: BackendName; seed?: Seed; steps?: number; batchSize?: number } = {},
  ): number {
    const nTrain = batchRows(trainX, this.dim);
    const nTest = batchRows(testX, this.dim);
    if (nTrain === 0 || nTest === 0) throw new DeepgenError("E_SHAPE", "refitDiscriminatorAccuracy: no images");
    const steps = checkInteger("steps", opts.steps ?? 2000, 1);
    const m = Math.min(nTrain, checkInteger("batchSize", opts.batchSize ?? 100, 1));
    const seed = opts.seed ?? 0;
    const k = this.kernels(opts.backend);
    const L = this.latent;
    const disc = new Mlp("disc", Aae.specs(this.config).disc, { seed: Number(BigInt.asUintN(32, BigInt(seed))), stream: REFIT_DISC_STREAM });
    const adam = new Adam(disc.params(), { lr: 1e-3, beta1: 0.5 });
    const grads = disc.grads();
    const codes = this.encode(trainX, opts);
    const c2 = new Float32Array(2 * m * L);
    const lab = new Float32Array(2 * m).fill(1, 0, m);
    const dd = new Float32Array(2 * m);
    const pick = new Float32Array(m);
    for (let t = 0; t < steps; t++) {
      samplePrior(this.config.prior, m, L, seed, (REFIT_PRIOR_STREAM + t) >>> 0, c2.subarray(0, m * L));
      k.philoxFill(pick, seed, (REFIT_PICK_STREAM + t) >>> 0, "uniform");
      for (let i = 0; i < m; i++) {
        const r = Math.min(nTrain - 1, Math.floor(pick[i]! * nTrain));
        c2.set(codes.subarray(r * L, (r + 1) * L), (m + i) * L);
      }
      const out = disc.forward(k, c2, 2 * m);
      k.bceWithLogitsBackward(dd, out, lab, 2 * m, 1, 1 / (2 * m));
      disc.backward(k, dd, 2 * m, false);
      adam.update(k, grads);
    }
    const testCodes = this.encode(testX, opts);
    const prior = this.samplePrior(nTest, seed);
    let correct = 0;
    const real = disc.forward(k, prior, nTest);
    for (let i = 0; i < nTest; i++) if (real[i]! > 0) correct++;
    const fake = disc.forward(k, testCodes, nTest);
    for (let i = 0; i < nTest; i++) if (fake[i]! <= 0) correct++;
    return correct / (2 * nTest);
  }

  // ---- training ----

  async fit(train: Float32Array | Dataset, opts: AaeFitOptions = {}): Promise<AaeFitResult> {
    const seed = opts.seed ?? 0;
    const { trainX, validX, n } = trainValidationSplit(train, this.dim, opts.validation ?? 0.1, seed);
    const batchSize = checkInteger("batchSize", opts.batchSize ?? 100, 1);
    const epochs = checkInteger("epochs", opts.epochs ?? 100, 0);
    const k = this.kernels(opts.backend);
    const L = this.latent;
    const D = this.dim;
    const lr = opts.lr ?? 1e-3;
    const weightDecay = opts.weightDecay ?? 0;
    const inputDropout = opts.inputDropout ?? 0;
    const lrDecay = opts.lrDecay ?? 1;
    const discSteps = checkInteger("discSteps", opts.discSteps ?? 1, 1, 100);
    const select = checkOneOf("select", opts.select ?? "last", AAE_SELECT);
    if (!(weightDecay >= 0) || !Number.isFinite(weightDecay)) throw new DeepgenError("E_ARG", `weightDecay must be >= 0, got ${weightDecay}`);
    if (!(inputDropout >= 0 && inputDropout < 1)) throw new DeepgenError("E_ARG", `inputDropout must be in [0, 1), got ${inputDropout}`);
    if (!(lrDecay > 0 && lrDecay <= 1)) throw new DeepgenError("E_ARG", `lrDecay must be in (0, 1], got ${lrDecay}`);
    const aeAdam = new Adam({ ...this.encoder.params(), ...this.decoder.params() }, { lr, weightDecay });
    const advLr = opts.adversarialLr ?? 1e-3;
    if (!(advLr > 0)) throw new DeepgenError("E_ARG", `adversarialLr must be > 0, got ${advLr}`);
    const discAdam = new Adam(this.discriminator.params(), { lr: advLr, beta1: 0.5 });
    const genAdam = new Adam(this.encoder.params(), { lr: advLr, beta1: 0.5 });
    const aeGrads = { ...this.encoder.grads(), ...this.decoder.grads() };
    const encGrads = this.encoder.grads();
    const discGrads = this.discriminator.grads();
    const trainSet = makeDataset(trainX, undefined, 1, D);
    const batchX = new Float32Array(batchSize * D);
    const dlogits = new Float32Array(batchSize * D);
    const codes2 = new Float32Array(2 * batchSize * L);
    const labels2 = new Float32Array(2 * batchSize);
    const dd = new Float32Array(2 * batchSize);
    const ones = new Float32Array(batchSize).fill(1);
    const noisyX = new Float32Array(inputDropout > 0 ? batchSize * D : 0);
    const totalSteps = Math.max(1, epochs * Math.ceil(n / batchSize));
    const sums = { rec: 0, dLoss: 0, dCorrect: 0, gLoss: 0, seen: 0 };
    let step = 0;
    const adams = { ae: aeAdam, disc: discAdam, gen: genAdam };
    const params = this.allParams();
    // select "validation": a copy of the chosen epoch's parameters (chosen.epoch 0: none yet)
    const best: Record<string, Float32Array> = {};
    if (select === "validation") for (const [name, p] of Object.entries(params)) best[name] = p.slice();
    let chosen = { epoch: 0, reconstruction: Infinity };
    let state = freshState();
    if (opts.resumeFrom !== undefined) {
      const cp = await this.loadCheckpoint(opts.resumeFrom, adams, best);
      state = cp.state;
      step = cp.step;
      chosen = cp.chosen;
    }
    const history = state.history as AaeEpochRecord[];
    // The loop records each epoch before the checkpoint and onEpoch hooks; the first of them
    // to see it adds the terms (so checkpoints hold them too).
    const finishEpoch = (st: TrainingState): AaeEpochRecord => {
      const last = st.history[st.history.length - 1]!;
      if ("terms" in last) return last as AaeEpochRecord;
      const s = Math.max(1, sums.seen);
      const rec: AaeEpochRecord = {
        ...last,
        terms: { reconstruction: sums.rec / s, discriminatorLoss: sums.dLoss / s, discriminatorAccuracy: sums.dCorrect / (2 * s), generatorLoss: sums.gLoss / s },
      };
      if (lastValid !== undefined) rec.validationTerms = lastValid;
      st.history[st.history.length - 1] = rec; // (the same array as `history`)
      return rec;
    };
    let lastValid: AaeEpochRecord["validationTerms"];
    const result = await runTrainingLoop(
      {
        n,
        batchSize,
        epochs,
        seed,
        patience: Infinity,
        signal: opts.signal,
        onBatch: opts.onBatch,
        onEpoch: async (_r, st) => {
          const rec = finishEpoch(st);
          Object.assign(sums, { rec: 0, dLoss: 0, dCorrect: 0, gLoss: 0, seen: 0 });
          await opts.onEpoch?.(rec, st);
        },
      },
      {
        trainBatch: async (indices) => {
          const m = indices.length;
          step++;
          gatherRows(trainSet, indices, batchX);
          const x = batchX.subarray(0, m * D);
          // linear learning-rate decay by step (a function of the step: resumed runs follow it)
          const f = 1 - ((1 - lrDecay) * Math.min(step - 1, totalSteps)) / totalSteps;
          aeAdam.opts.lr = lr * f;
          discAdam.opts.lr = advLr * f;
          genAdam.opts.lr = advLr * f;
          // the encoder's input: x with pixels dropped (denoising), or x itself
          let xin = x;
          if (inputDropout > 0) {
            xin = noisyX.subarray(0, m * D);
            k.philoxFill(xin, seed, (DROPOUT_STREAM_BASE + step) >>> 0, "uniform");
            for (let i = 0; i < m * D; i++) xin[i] = xin[i]! < inputDropout ? 0 : x[i]!;
          }
          // 1. reconstruction
          const z = this.encoder.forward(k, xin, m);
          const logits = this.decoder.forward(k, z, m);
          const rec = k.bceWithLogitsForward(null, logits, x, m, D);
          const dl = dlogits.subarray(0, m * D);
          k.bceWithLogitsBackward(dl, logits, x, m, D, 1 / m);
          const dz = this.decoder.backward(k, dl, m, true)!;
          this.encoder.backward(k, dz, m, false);
          aeAdam.update(k, aeGrads);
          // 2. discriminator: prior draws (label 1) then codes (label 0)
          const c2 = codes2.subarray(0, 2 * m * L);
          samplePrior(this.config.prior, m, L, seed, (PRIOR_STREAM_BASE + step) >>> 0, c2.subarray(0, m * L));
          const fakeCodes = this.encoder.forward(k, xin, m);
          c2.set(fakeCodes, m * L);
          const lab = labels2.subarray(0, 2 * m);
          lab.fill(1, 0, m);
          lab.fill(0, m, 2 * m);
          const ddv = dd.subarray(0, 2 * m);
          let dLoss = 0;
          let correct = 0;
          for (let j = 0; j < discSteps; j++) {
            // extra discriminator steps: the same codes against fresh prior draws
            if (j > 0) samplePrior(this.config.prior, m, L, seed, (EXTRA_PRIOR_STREAM_BASE + j * 0x1000000 + step) >>> 0, c2.subarray(0, m * L));
            const dOut = this.discriminator.forward(k, c2, 2 * m);
            if (j === 0) {
              // the terms reported: the first step's, before this batch's updates
              dLoss = k.bceWithLogitsForward(null, dOut, lab, 2 * m, 1);
              for (let i = 0; i < 2 * m; i++) if (dOut[i]! > 0 === i < m) correct++;
            }
            k.bceWithLogitsBackward(ddv, dOut, lab, 2 * m, 1, 1 / (2 * m));
            this.discriminator.backward(k, ddv, 2 * m, false);
            discAdam.update(k, discGrads);
          }
          // 3. generator: the encoder (its activations still those of step 2) fools the updated D
          const gOut = this.discriminator.forward(k, fakeCodes, m);
          const gLoss = k.bceWithLogitsForward(null, gOut, ones.subarray(0, m), m, 1);
          const dg = ddv.subarray(0, m);
          k.bceWithLogitsBackward(dg, gOut, ones.subarray(0, m), m, 1, 1 / m);
          const dcode = this.discriminator.backward(k, dg, m, true)!;
          this.encoder.backward(k, dcode, m, false);
          genAdam.update(k, encGrads);
          sums.rec += rec;
          sums.dLoss += dLoss / 2;
          sums.dCorrect += correct;
          sums.gLoss += gLoss;
          sums.seen += m;
          return rec;
        },
        validate: async () => {
          lastValid = { reconstruction: this.reconstructionError(validX, { backend: k.backend }), discriminatorAccuracy: this.discriminatorAccuracy(validX, { backend: k.backend, seed }) };
          if (select === "validation" && Math.abs(lastValid.discriminatorAccuracy - 0.5) <= SELECT_BAND && lastValid.reconstruction < chosen.reconstruction) {
            chosen = { epoch: state.epoch + 1, reconstruction: lastValid.reconstruction };
            for (const [name, p] of Object.entries(params)) best[name]!.set(p);
          }
          return lastValid.reconstruction;
        },
        // adversarial training: the final parameters are kept (see the file comment)
        keepBest: () => undefined,
        restoreBest: () => {
          if (chosen.epoch > 0) for (const [name, p] of Object.entries(params)) p.set(best[name]!);
        },
        checkpoint:
          opts.checkpointPath === undefined
            ? undefined
            : (st) => {
                finishEpoch(st);
                return this.saveCheckpoint(opts.checkpointPath!, adams, st, step, select === "validation" ? { best, chosen } : undefined);
              },
      },
      state,
    );
    return { ...result, history, selectedEpoch: chosen.epoch > 0 ? chosen.epoch : result.epoch, trainSize: n, validationSize: validX.length / D };
  }

  // ---- files ----

  async save(path: string, extraMetadata: Record<string, string> = {}): Promise<void> {
    await writeSafetensors(path, this.tensors(), modelMetadata(this.kind, this.config, extraMetadata));
  }

  private tensors(): Record<string, TensorToWrite> {
    const tensors: Record<string, TensorToWrite> = {};
    for (const mlp of [this.encoder, this.decoder, this.discriminator]) {
      const shapes = mlp.shapes();
      for (const [name, data] of Object.entries(mlp.params())) tensors[name] = { shape: shapes[name]!, data };
    }
    return tensors;
  }

  /** Parameters and the three optimizers' states (each under its own prefix: ae., disc., gen.). */
  private async saveCheckpoint(
    path: string,
    adams: Record<string, Adam>,
    state: TrainingState,
    step: number,
    selection?: { best: Record<string, Float32Array>; chosen: { epoch: number; reconstruction: number } },
  ): Promise<void> {
    const states = adamStates(adams);
    const steps = states.steps;
    const tensors = { ...this.tensors(), ...states.tensors };
    // select "validation": the chosen epoch's parameters as best.<name>
    if (selection !== undefined) for (const [name, t] of Object.entries(this.tensors())) tensors[`best.${name}`] = { shape: t.shape, data: selection.best[name]! };
    const chosen = selection === undefined ? undefined : { epoch: selection.chosen.epoch, reconstruction: Number.isFinite(selection.chosen.reconstruction) ? selection.chosen.reconstruction : null };
    await writeSafetensors(path, tensors, modelMetadata(this.kind, this.config, { "deepgen.checkpoint": JSON.stringify({ state, step, adamSteps: steps, chosen }) }));
  }

  /** Parameters of the three networks by name. */
  private allParams(): Record<string, Float32Array> {
    return { ...this.encoder.params(), ...this.decoder.params(), ...this.discriminator.params() };
  }

  private async loadCheckpoint(
    path: string,
    adams: Record<string, Adam>,
    best: Record<string, Float32Array>,
  ): Promise<{ state: TrainingState; step: number; chosen: { epoch: number; reconstruction: number } }> {
    type Meta = { state: TrainingState; step: number; adamSteps: Record<string, number>; chosen?: { epoch: number; reconstruction: number | null } };
    const { file, cp } = await readPhasedCheckpoint<AaeConfig, Meta>(path, "aae", this.config);
    for (const net of [this.encoder, this.decoder, this.discriminator]) loadNetParams(file, net);
    loadAdamStates(file.tensors, adams, cp.adamSteps);
    const wantBest = Object.keys(best).length > 0;
    if (wantBest !== (cp.chosen !== undefined)) {
      throw new DeepgenError("E_FORMAT", `${path}: the checkpoint was written with a different 'select' option`);
    }
    if (wantBest) {
      const shapes = { ...this.encoder.shapes(), ...this.decoder.shapes(), ...this.discriminator.shapes() };
      for (const [name, shape] of Object.entries(shapes)) best[name]!.set(requireF32(file, `best.${name}`, shape));
    }
    const chosen = { epoch: cp.chosen?.epoch ?? 0, reconstruction: cp.chosen?.reconstruction ?? Infinity };
    return { state: cp.state, step: cp.step, chosen };
  }

  static async load(path: string, opts: { backend?: BackendName } = {}): Promise<Aae> {
    const { file, config, encoder, decoder } = await loadAutoencoder(path, "aae", Aae.checkConfig, Aae.networks);
    const model = new Aae(config, encoder, decoder, loadMlp(file, "disc", Aae.specs(config).disc));
    model.backend = opts.backend;
    return model;
  }
}
