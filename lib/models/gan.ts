/**
 * Generative adversarial networks (Goodfellow et al. 2014): a generator G(z), z ~ N(0, I),
 * and a discriminator D(x) = sigmoid(logit), trained by alternating minibatch updates, each
 * network with its own Adam (beta1 = 0.5, as Radford et al. 2016):
 *   discriminator: minimize BCE(D(x), 1) + BCE(D(G(z)), 0), mean over the 2m examples
 *     (without batch norm in D, real and generated examples go through in one batch of 2m;
 *     with discNorm or discStddev, as two batches of m, so that D judges a generated batch by
 *     generated-batch statistics both in its own update and in the generator's: a mixed
 *     batch would let D learn on mixed statistics that the generator's pass never shows it,
 *     and the generator then "fools" a D that was never trained on what it sees);
 *   generator, after every k-th discriminator update, on the same G(z):
 *     "nonsaturating" (default): minimize BCE(D(G(z)), 1) = -log D(G(z));
 *     "minimax": minimize log(1 - D(G(z))) = -BCE(D(G(z)), 0), the original value function.
 * With a categorical code (config.codes = K, InfoGAN, lib/models/gan-codes.ts) the generator
 * takes [z, one-hot c], D has K more outputs Q(c | x), and both objectives add
 * codeWeight x the code's cross-entropy on the generated batch (Q learns on generated rows only).
 * A class-conditional GAN (config.conditional, codes = K classes) feeds the class label the same
 * way, draws real rows with their data labels and generated rows with uniform labels, and its
 * discriminator is a projection discriminator (Miyato & Koyama 2018): the logit of an example
 * with label y is output 0 plus output 1 + y (no code loss).
 * Two architectures: "mlp" (dense layers, any data dimension: images or the toy data of
 * lib/data/toy.ts) and "dcgan" (lib/nn/dcgan-nets.ts, batch norm, images whose sides are
 * multiples of 4). The generator's output is tanh (images in [-1, 1]) or identity (toy data).
 * Sampling runs batch norm in evaluation mode (running statistics), so the image drawn for
 * sample i does not depend on the other samples: z_i is row i of a Philox normal fill. The
 * same (seed, n) gives the same images bit for bit; a different n can change the conv
 * kernels' summation order, so images then agree to float rounding (<= 1e-6), not bit for bit.
 *
 * Adversarial training has no validation objective: fit keeps the final parameters and
 * reports per epoch the two losses and the discriminator's mean outputs on real and
 * generated data. Files: gen.<i>.*, disc.<i>.* (+ batch-norm running statistics);
 * checkpoints add both Adam states and the step counter, and resume exactly.
 */
import { checkInteger, checkOneOf } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { gatherRows } from "../data/batching.js";
import { makeDataset } from "../data/dataset.js";
import { asModelFile, modelMetadata, requireF32 } from "../io/model-file.js";
import { readSafetensors, type SafeTensor, type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import { softplus } from "../kernels/js/vmath.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import { Adam } from "../nn/adam.js";
import { WeightAverage } from "../nn/weight-average.js";
import type { Net } from "../nn/conv-nets.js";
import { checkDcganSpec, DcganDiscriminator, DcganGenerator } from "../nn/dcgan-nets.js";
import { Mlp } from "../nn/dense.js";
import { checkLabels, codeLossBackward, fillLatent, mergeOutputGrads, projectGrads, projectLogits, splitOutputs } from "./gan-codes.js";
import { adamStates, CHECKPOINT_KEY, loadAdamStates, readPhasedCheckpoint } from "./checkpoint.js";
import { allocRows, batchRows, modelKernels } from "./common.js";
import { type EpochRecord, freshState, runTrainingLoop, type TrainingProgress, type TrainingState } from "./trainer.js";

export const GAN_ARCHS = ["mlp", "dcgan"] as const;
export type GanArch = (typeof GAN_ARCHS)[number];
export const GAN_LOSSES = ["nonsaturating", "minimax"] as const;
export type GanLoss = (typeof GAN_LOSSES)[number];
export const GAN_OUTPUTS = ["tanh", "identity"] as const;
export type GanOutput = (typeof GAN_OUTPUTS)[number];

export interface GanConfig {
  arch: GanArch;
  /** Data dimension (pixels for images). */
  dim: number;
  zdim: number;
  /** Generator output: tanh (images in [-1, 1]) or identity (unbounded toy data). */
  output: GanOutput;
  height?: number;
  width?: number;
  /** mlp: hidden widths of the generator and the discriminator. */
  hidden?: number[];
  discHidden?: number[];
  /** dcgan: generator channels [after dense, after the first convT], discriminator channels, BN in D. */
  channels?: [number, number];
  discChannels?: [number, number];
  discNorm?: boolean;
  /** dcgan: a minibatch standard deviation feature before D's logit (written only when true). */
  discStddev?: boolean;
  /**
   * InfoGAN categorical code (lib/models/gan-codes.ts): K values, fed to the generator one-hot
   * after the zdim noise values and read back by K more discriminator outputs (written only
   * when > 0).
   */
  codes?: number;
  /**
   * The code is the data's class label (fit needs `labels`) and D a projection discriminator,
   * instead of InfoGAN's unsupervised code (written only when true; needs codes).
   */
  conditional?: boolean;
}

export interface GanCreateOptions extends Partial<GanConfig> {
  dim: number;
  initSeed?: number;
  backend?: BackendName;
}

export interface GanTerms {
  /** Mean discriminator BCE over real and generated examples. */
  discriminatorLoss: number;
  /** Mean generator loss (of the chosen kind) over its updates. */
  generatorLoss: number;
  /** Mean D(x) on real data and D(G(z)) on generated data (before the D update). */
  dReal: number;
  dFake: number;
  /** With a code: mean CE(Q(c | G(z, c)), c) in nats on generated data (before the D update; log K = chance). */
  codeLoss?: number;
}

export interface GanEpochRecord extends EpochRecord {
  terms: GanTerms;
  /** Measurements an onEpoch hook attaches (e.g. the toy-data diagnostics); kept in later checkpoints. */
  diagnostics?: Record<string, number>;
}

export interface GanFitOptions {
  epochs?: number;
  batchSize?: number;
  /** Adam learning rate of both networks (default 2e-4, as Radford et al.). */
  lr?: number;
  discriminatorLr?: number;
  /** Both learning rates fall linearly by step to this fraction of their start at the last epoch (default 1: constant). */
  lrDecay?: number;
  /** Adam beta1 (default 0.5). */
  beta1?: number;
  /** Discriminator updates per generator update (k; default 1). */
  discriminatorSteps?: number;
  /**
   * Keep an exponential moving average of the generator's parameters with this decay (e.g.
   * 0.999; default 0: off). The per-epoch hooks then see, and fit leaves in the model, the
   * averaged generator, its batch-norm running statistics re-estimated for the averaged
   * weights (recalibrateBatchNorm); checkpoints hold both, so resume stays exact.
   */
  ema?: number;
  loss?: GanLoss;
  /** With an InfoGAN code: the weight of the code loss in both networks' objectives (default 1, as Chen et al. for discrete codes). */
  codeWeight?: number;
  /** A conditional model's class label of each training example, [n] in 0..codes-1. */
  labels?: ArrayLike<number>;
  /**
   * Top-k generator updates (Sinha et al. 2020): the generator learns only from the k samples
   * of its batch that the discriminator rates most real, k = ceil(m max(topK, 0.99^epoch)),
   * falling from the whole batch to this fraction (e.g. 0.5; default 1: every sample).
   */
  topK?: number;
  seed?: Seed;
  backend?: BackendName;
  signal?: AbortSignal;
  checkpointPath?: string;
  resumeFrom?: string;
  onBatch?: (p: TrainingProgress) => void;
  onEpoch?: (r: GanEpochRecord, state: TrainingState) => void | Promise<void>;
}

export interface GanFitResult extends TrainingState {
  trainSize: number;
  history: GanEpochRecord[];
}

/**
 * Top-k training's kept count for a batch of m in epoch `epoch` (from 0): ceil(m max(topK,
 * 0.99^epoch)), the whole batch at first, then 1% fewer per epoch down to the fraction topK.
 */
export function topKKeep(m: number, topK: number, epoch: number): number {
  return Math.min(m, Math.ceil(m * Math.max(topK, 0.99 ** epoch)));
}

const GEN_STREAM = 600;
const DISC_STREAM = 700;
/** Sampling draws z from this stream; training step t draws from Z_STREAM_BASE + t. */
export const GAN_SAMPLE_Z_STREAM = 0x5a;
/** Sampling draws the categorical codes (when the model has them) from this stream. */
export const GAN_SAMPLE_CODE_STREAM = 0x5b;
const Z_STREAM_BASE = 0x20000;
/** Batch-norm recalibration draws z from RECALIBRATE_STREAM + batch. */
const RECALIBRATE_STREAM = 0x30000;
/** Codes come from these plus the same offsets (above any step count the noise streams reach). */
const CODE_STREAM_OFFSET = 0x40000000;

/** Buffers of the loss steps for batches up to m (rows of real + generated: 2m) and a K-way code. */
export interface GanLossScratch {
  target: Float32Array;
  dlogit: Float32Array;
  realFake: Float32Array;
  codeLogits: Float32Array;
  dCode: Float32Array;
  onehot: Float32Array;
  dOut: Float32Array;
}

function lossScratch(m: number, K: number): GanLossScratch {
  const n = 2 * m;
  return {
    target: new Float32Array(n),
    dlogit: new Float32Array(n),
    realFake: new Float32Array(n),
    codeLogits: new Float32Array(n * K),
    dCode: new Float32Array(n * K),
    onehot: new Float32Array(n * K),
    dOut: new Float32Array(n * (1 + K)),
  };
}

function addInto(y: Float32Array, x: Float32Array): void {
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + x[i]!;
}

function widths(source: string, name: string, a: unknown): number[] {
  if (!Array.isArray(a) || a.length < 1 || a.length > 8) throw new DeepgenError("E_ARG", `${source}: ${name} must be an array of 1 to 8 widths`);
  return a.map((h) => checkInteger(`${source}: ${name} width`, h, 1, 1 << 16));
}

function pair(source: string, name: string, a: unknown): [number, number] {
  if (!Array.isArray(a) || a.length !== 2) throw new DeepgenError("E_ARG", `${source}: ${name} must be two channel counts`);
  return [checkInteger(`${source}: ${name}`, a[0], 1, 4096), checkInteger(`${source}: ${name}`, a[1], 1, 4096)];
}

export class Gan {
  readonly kind = "gan";
  backend: BackendName | undefined;

  constructor(
    readonly config: GanConfig,
    readonly generator: Net,
    readonly discriminator: Net,
  ) {}

  get dim(): number {
    return this.config.dim;
  }

  /** Noise dimension (the generator's input adds the code's K one-hot values). */
  get zdim(): number {
    return this.config.zdim;
  }

  /** K of the categorical code (0: none). */
  get codes(): number {
    return this.config.codes ?? 0;
  }

  /** Whether the code is the class label (projection discriminator) rather than InfoGAN's. */
  get conditional(): boolean {
    return this.config.conditional === true;
  }

  /** Width of the generator's input: zdim + K. */
  get latentDim(): number {
    return this.zdim + this.codes;
  }

  static checkConfig(c: Partial<GanConfig>, source: string): GanConfig {
    const arch = checkOneOf(`${source}: arch`, c.arch, GAN_ARCHS);
    const dim = checkInteger(`${source}: dim`, c.dim, 1, 1 << 24);
    const zdim = checkInteger(`${source}: zdim`, c.zdim, 1, 4096);
    const output = checkOneOf(`${source}: output`, c.output, GAN_OUTPUTS);
    const out: GanConfig = { arch, dim, zdim, output };
    if (c.height !== undefined || c.width !== undefined) {
      const h = checkInteger(`${source}: height`, c.height, 1);
      const w = checkInteger(`${source}: width`, c.width, 1);
      if (h * w !== dim) throw new DeepgenError("E_ARG", `${source}: height x width must equal dim`);
      out.height = h;
      out.width = w;
    }
    if (arch === "mlp") {
      out.hidden = widths(source, "hidden", c.hidden);
      out.discHidden = widths(source, "discHidden", c.discHidden);
    } else {
      if (out.height === undefined) throw new DeepgenError("E_ARG", `${source}: the dcgan architecture needs height and width`);
      if (output !== "tanh") throw new DeepgenError("E_ARG", `${source}: the dcgan generator ends in tanh`);
      out.channels = pair(source, "channels", c.channels);
      out.discChannels = pair(source, "discChannels", c.discChannels);
      out.discNorm = Boolean(c.discNorm);
      if (c.discStddev === true) out.discStddev = true;
      checkDcganSpec({ height: out.height, width: out.width!, zdim, channels: out.channels, discChannels: out.discChannels, discNorm: out.discNorm });
    }
    if (c.codes !== undefined && c.codes !== 0) out.codes = checkInteger(`${source}: codes`, c.codes, 2, 256);
    if (c.conditional === true) {
      if (out.codes === undefined) throw new DeepgenError("E_ARG", `${source}: a conditional GAN needs codes, the number of classes`);
      out.conditional = true;
    }
    return out;
  }

  static networks(c: GanConfig, seed: number): { generator: Net; discriminator: Net } {
    const K = c.codes ?? 0;
    const latent = c.zdim + K;
    if (c.arch === "dcgan") {
      const spec = { height: c.height!, width: c.width!, zdim: latent, channels: c.channels!, discChannels: c.discChannels!, discNorm: c.discNorm!, discStddev: c.discStddev === true };
      return { generator: new DcganGenerator("gen", spec, { seed, stream: GEN_STREAM }), discriminator: new DcganDiscriminator("disc", spec, { seed, stream: DISC_STREAM }, 1 + K) };
    }
    return {
      generator: new Mlp("gen", { sizes: [latent, ...c.hidden!, c.dim], hidden: "relu", output: c.output }, { seed, stream: GEN_STREAM }),
      discriminator: new Mlp("disc", { sizes: [c.dim, ...c.discHidden!, 1 + K], hidden: "leakyRelu", output: "identity" }, { seed, stream: DISC_STREAM }),
    };
  }

  static create(opts: GanCreateOptions): Gan {
    const arch = opts.arch ?? "mlp";
    const config = Gan.checkConfig(
      {
        arch,
        dim: opts.dim,
        zdim: opts.zdim ?? (arch === "dcgan" ? 100 : 64),
        output: opts.output ?? "tanh",
        height: opts.height,
        width: opts.width,
        hidden: opts.hidden ?? [256, 256],
        discHidden: opts.discHidden ?? [256, 256],
        channels: opts.channels ?? [128, 64],
        discChannels: opts.discChannels ?? [64, 128],
        discNorm: opts.discNorm ?? false,
        discStddev: opts.discStddev,
        codes: opts.codes,
        conditional: opts.conditional,
      },
      "create",
    );
    const seed = checkInteger("initSeed", opts.initSeed ?? 0, 0);
    const nets = Gan.networks(config, seed);
    const model = new Gan(config, nets.generator, nets.discriminator);
    model.backend = opts.backend;
    return model;
  }

  paramCount(): number {
    return this.generator.paramCount() + this.discriminator.paramCount();
  }

  private kernels(backend?: BackendName): Kernels {
    return modelKernels(this.backend, backend);
  }

  /** G(z) for z [n, latentDim] (noise, then the one-hot code if any) in evaluation mode: [n, dim] in the output's range. */
  generate(z: Float32Array, opts: { backend?: BackendName } = {}): Float32Array {
    const n = batchRows(z, this.latentDim);
    this.generator.setTraining?.(false);
    return this.generator.forward(this.kernels(opts.backend), z, n).slice();
  }

  /**
   * The latent draws of `sample(n, {seed})`: [n, latentDim], row i the same for any n. With a
   * categorical code, `code` fixes it for every row (the noise stays that of the seed).
   */
  sampleLatent(n: number, seed: Seed, code?: number): Float32Array {
    const z = allocRows(n, this.latentDim);
    let given: Int32Array | undefined;
    if (code !== undefined) {
      if (this.codes === 0) throw new DeepgenError("E_ARG", "this GAN has no categorical code or class to fix (train it with codes or conditional)");
      given = new Int32Array(n).fill(checkInteger("code", code, 0, this.codes - 1));
    }
    fillLatent(this.kernels("js"), z, n, this.zdim, this.codes, seed, { noise: GAN_SAMPLE_Z_STREAM, code: GAN_SAMPLE_CODE_STREAM }, given);
    return z;
  }

  /** n generated examples [n, dim] (raw generator output, tanh range for images). */
  generateSamples(n: number, opts: { seed: Seed; backend?: BackendName; code?: number }): Float32Array {
    return this.generate(this.sampleLatent(n, opts.seed, opts.code), opts);
  }

  /**
   * Samples as images in [0, 1] ((x + 1) / 2 of the tanh output), in the shape the other
   * samplers return (x and probs are the same grey images: a GAN has no Bernoulli layer).
   */
  sampleSync(n: number, opts: { seed: Seed; backend?: BackendName; returnProbs?: boolean; code?: number }): { x: Float32Array; probs?: Float32Array; n: number } {
    const x = this.generateSamples(n, opts);
    if (this.config.output === "tanh") for (let i = 0; i < x.length; i++) x[i] = (x[i]! + 1) / 2;
    return opts.returnProbs ? { x, probs: x, n } : { x, n };
  }

  async sample(n: number, opts: { seed: Seed; backend?: BackendName; returnProbs?: boolean; code?: number; signal?: AbortSignal; onProgress?: (f: number) => void }) {
    if (opts.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
    const s = this.sampleSync(n, opts);
    opts.onProgress?.(1);
    return s;
  }

  /** Discriminator probabilities D(x) [n] (evaluation mode); a conditional model needs the examples' labels. */
  discriminate(x: Float32Array, opts: { backend?: BackendName; labels?: ArrayLike<number> } = {}): Float32Array {
    const n = batchRows(x, this.dim);
    const labels = this.conditional ? checkLabels("discriminate", opts.labels, n, this.codes) : null;
    this.discriminator.setTraining?.(false);
    const out = this.discriminator.forward(this.kernels(opts.backend), x, n);
    const w = 1 + this.codes; // column 0 is the real/fake logit
    const logits = new Float32Array(n);
    if (labels !== null) projectLogits(out, n, this.codes, labels, logits);
    else for (let i = 0; i < n; i++) logits[i] = out[i * w]!;
    return logits.map((l) => 1 / (1 + Math.exp(-l)));
  }

  /** `steps` images on the segment between the latent draws of samples a and b (seeded). */
  interpolate(seed: Seed, a: number, b: number, steps: number, opts: { backend?: BackendName } = {}): Float32Array {
    checkInteger("steps", steps, 2, 10000);
    checkInteger("a", a, 0, 1 << 20);
    checkInteger("b", b, 0, 1 << 20);
    const z = this.sampleLatent(Math.max(a, b) + 1, seed);
    const L = this.latentDim; // a code blends linearly between the two one-hot rows
    const out = new Float32Array(steps * L);
    for (let s = 0; s < steps; s++) {
      const t = s / (steps - 1);
      for (let j = 0; j < L; j++) out[s * L + j] = (1 - t) * z[a * L + j]! + t * z[b * L + j]!;
    }
    return this.generate(out, opts);
  }

  /**
   * Re-estimates the generator's batch-norm running statistics for its current weights: `batches`
   * training-mode forwards of `batchSize` latent draws (seeded; momentum 0.1, so after 50
   * batches the old statistics weigh 0.9^50 < 1%). Needed after the weights change other
   * than by training, e.g. when the averaged weights replace them. No-op without batch norm.
   */
  recalibrateBatchNorm(opts: { seed?: Seed; batches?: number; batchSize?: number; backend?: BackendName } = {}): void {
    if (Object.keys(this.generator.buffers?.() ?? {}).length === 0) return;
    const k = this.kernels(opts.backend);
    const bs = checkInteger("batchSize", opts.batchSize ?? 64, 2);
    const batches = checkInteger("batches", opts.batches ?? 50, 1);
    const z = new Float32Array(bs * this.latentDim);
    this.generator.setTraining?.(true);
    for (let b = 0; b < batches; b++) {
      fillLatent(k, z, bs, this.zdim, this.codes, opts.seed ?? 0, { noise: RECALIBRATE_STREAM + b, code: CODE_STREAM_OFFSET + RECALIBRATE_STREAM + b });
      this.generator.forward(k, z, bs);
    }
    this.generator.setTraining?.(false);
  }

  /**
   * The generator's loss on generated examples x [m, dim] under the current discriminator
   * (mean over the batch) and its gradient with respect to x [m, dim]:
   *   nonsaturating: mean -log D(x) = mean BCE(logit, 1)
   *   minimax:       mean log(1 - D(x)) = -mean BCE(logit, 0)
   * The discriminator's parameter gradients are overwritten (and not used). With `keep` < m
   * only the `keep` examples with the largest logits count (top-k training): the loss is their
   * mean, the others' gradients are zero. A model with a categorical code needs the codes the
   * examples were generated from: `info.weight` times the mean code cross-entropy (over all m)
   * joins the gradient and comes back as codeLoss (unweighted). For a conditional model the
   * codes are the labels that D's projection logit reads (no code loss; the weight is unused).
   */
  generatorLossGradient(
    k: Kernels,
    x: Float32Array,
    m: number,
    loss: GanLoss,
    scratch: GanLossScratch = lossScratch(m, this.codes),
    keep = m,
    info?: { codes: Int32Array; weight: number },
  ): { loss: number; codeLoss?: number; dfake: Float32Array } {
    checkInteger("keep", keep, 1, m);
    const K = this.codes;
    if (K > 0 && (info === undefined || info.codes.length < m)) throw new DeepgenError("E_ARG", `generatorLossGradient: this GAN has a ${K}-way code; pass the ${m} codes the examples came from`);
    const out = this.discriminator.forward(k, x, m);
    const logits = K === 0 ? out : scratch.realFake.subarray(0, m);
    // a label out of range would read another row's output: the labels are checked like fit's
    if (this.conditional) projectLogits(out, m, K, checkLabels("generatorLossGradient", info!.codes.subarray(0, m), m, K), logits);
    else if (K > 0) splitOutputs(out, m, K, logits, scratch.codeLogits);
    const t = scratch.target.subarray(0, m).fill(loss === "nonsaturating" ? 1 : 0);
    const dg = scratch.dlogit.subarray(0, m);
    const sign = loss === "nonsaturating" ? 1 : -1;
    k.bceWithLogitsBackward(dg, logits, t, m, 1, sign / keep);
    let bce: number;
    if (keep === m) bce = k.bceWithLogitsForward(null, logits, t, m, 1) / m;
    else {
      // the largest logits first (ties: the lower index); the rest get no gradient
      const order = Array.from({ length: m }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
      bce = 0;
      for (const i of order.slice(0, keep)) bce += softplus(t[i] === 1 ? -logits[i]! : logits[i]!) / keep;
      for (const i of order.slice(keep)) dg[i] = 0;
    }
    if (K === 0) return { loss: sign * bce, dfake: this.discriminator.backward(k, dg, m, true)! };
    const dout = scratch.dOut.subarray(0, m * (1 + K));
    if (this.conditional) {
      projectGrads(dout, m, K, info!.codes, dg);
      return { loss: sign * bce, dfake: this.discriminator.backward(k, dout, m, true)! };
    }
    const codeLoss = codeLossBackward(k, scratch.dCode, scratch.codeLogits, info!.codes, m, K, info!.weight / m, scratch.onehot);
    mergeOutputGrads(dout, m, K, dg, scratch.dCode);
    return { loss: sign * bce, codeLoss, dfake: this.discriminator.backward(k, dout, m, true)! };
  }

  // ---- training ----

  /**
   * Adversarial training on x [n, dim] (images already in the generator's range: [-1, 1] for
   * tanh). Returns the per-epoch losses; the model keeps its final parameters.
   */
  async fit(x: Float32Array, opts: GanFitOptions = {}): Promise<GanFitResult> {
    const n = batchRows(x, this.dim);
    const seed = opts.seed ?? 0;
    const batchSize = checkInteger("batchSize", opts.batchSize ?? 64, 2);
    const epochs = checkInteger("epochs", opts.epochs ?? 25, 0);
    const kSteps = checkInteger("discriminatorSteps", opts.discriminatorSteps ?? 1, 1, 100);
    const loss = checkOneOf("loss", opts.loss ?? "nonsaturating", GAN_LOSSES);
    const lr = opts.lr ?? 2e-4;
    const beta1 = opts.beta1 ?? 0.5;
    const lrDecay = opts.lrDecay ?? 1;
    if (!(lrDecay > 0 && lrDecay <= 1)) throw new DeepgenError("E_ARG", `lrDecay must be in (0, 1], got ${lrDecay}`);
    const topK = opts.topK ?? 1;
    if (!(topK > 0 && topK <= 1)) throw new DeepgenError("E_ARG", `topK must be in (0, 1], got ${topK}`);
    const codeWeight = opts.codeWeight ?? 1;
    if (!(codeWeight >= 0 && Number.isFinite(codeWeight))) throw new DeepgenError("E_ARG", `codeWeight must be a finite number >= 0, got ${codeWeight}`);
    const k = this.kernels(opts.backend);
    const D = this.dim;
    const K = this.codes;
    const conditional = this.conditional;
    const dataLabels = conditional ? checkLabels("fit", opts.labels, n, K) : null;
    const genAdam = new Adam(this.generator.params(), { lr, beta1 });
    const emaDecay = opts.ema ?? 0;
    if (!(emaDecay >= 0 && emaDecay < 1)) throw new DeepgenError("E_ARG", `ema must be in [0, 1), got ${emaDecay}`);
    const average = emaDecay > 0 ? new WeightAverage(this.generator.params(), emaDecay, { warmup: true }) : null;
    const discLr = opts.discriminatorLr ?? lr;
    const discAdam = new Adam(this.discriminator.params(), { lr: discLr, beta1 });
    const stepsPerEpoch = Math.max(1, Math.ceil(n / batchSize) - (n % batchSize === 1 ? 1 : 0)); // batches of one are skipped
    const totalSteps = Math.max(1, epochs * stepsPerEpoch);
    const genGrads = this.generator.grads();
    const discGrads = this.discriminator.grads();
    // D's output for an example depends on its batch (batch norm, minibatch stddev)
    const separateBatches = this.config.discNorm === true || this.config.discStddev === true;
    const logitsBuf = new Float32Array(2 * batchSize);
    const realGrads = separateBatches ? Object.fromEntries(Object.entries(discGrads).map(([name, g]) => [name, new Float32Array(g.length)])) : null;
    const data = makeDataset(x, undefined, 1, D);
    const both = new Float32Array(2 * batchSize * D);
    const z = new Float32Array(batchSize * this.latentDim);
    const labels = new Float32Array(2 * batchSize);
    const rowClasses = new Int32Array(2 * batchSize); // conditional: [real rows' labels; generated rows' codes]
    const dlogit = new Float32Array(2 * batchSize);
    const scratch = lossScratch(batchSize, K);
    const sums = { dLoss: 0, gLoss: 0, gUpdates: 0, dReal: 0, dFake: 0, codeLoss: 0, seen: 0 };
    let step = 0;
    const adams = { gen: genAdam, disc: discAdam };
    let state = freshState();
    if (opts.resumeFrom !== undefined) {
      const cp = await this.loadCheckpoint(opts.resumeFrom, adams, average);
      state = cp.state;
      step = cp.step;
    }
    const history = state.history as GanEpochRecord[];
    const finishEpoch = (st: TrainingState): GanEpochRecord => {
      const last = st.history[st.history.length - 1]!;
      if ("terms" in last) return last as GanEpochRecord;
      const s = Math.max(1, sums.seen);
      const rec: GanEpochRecord = {
        ...last,
        terms: {
          discriminatorLoss: sums.dLoss / s,
          generatorLoss: sums.gLoss / Math.max(1, sums.gUpdates),
          dReal: sums.dReal / s,
          dFake: sums.dFake / s,
          ...(K > 0 && !conditional ? { codeLoss: sums.codeLoss / s } : {}),
        },
      };
      st.history[st.history.length - 1] = rec;
      return rec;
    };
    this.generator.setTraining?.(true);
    this.discriminator.setTraining?.(true);
    try {
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
            Object.assign(sums, { dLoss: 0, gLoss: 0, gUpdates: 0, dReal: 0, dFake: 0, codeLoss: 0, seen: 0 });
            if (opts.onEpoch !== undefined) {
              const restore = average === null ? null : this.useAverage(average, seed, k.backend);
              try {
                await opts.onEpoch(rec, st);
              } finally {
                restore?.();
              }
            }
            this.generator.setTraining?.(true);
            this.discriminator.setTraining?.(true);
          },
        },
        {
          trainBatch: async (idx) => {
            const m = idx.length;
            if (m < 2) return 0; // a last batch of one cannot be batch-normalized; skipped
            step++;
            // linear decay by step (a function of the step: a resumed run follows the same schedule)
            const f = 1 - ((1 - lrDecay) * Math.min(step - 1, totalSteps)) / totalSteps;
            genAdam.opts.lr = lr * f;
            discAdam.opts.lr = discLr * f;
            // 1. discriminator on [real; G(z)], z (and the codes) from this step's own Philox streams
            const zb = z.subarray(0, m * this.latentDim);
            const codes = fillLatent(k, zb, m, this.zdim, K, seed, { noise: Z_STREAM_BASE + step, code: CODE_STREAM_OFFSET + Z_STREAM_BASE + step });
            const fake = this.generator.forward(k, zb, m);
            const xb = both.subarray(0, 2 * m * D);
            gatherRows(data, idx, xb.subarray(0, m * D));
            xb.set(fake, m * D);
            if (dataLabels !== null) {
              for (let i = 0; i < m; i++) rowClasses[i] = dataLabels[idx[i]!]!;
              rowClasses.set(codes, m);
            }
            const lab = labels.subarray(0, 2 * m);
            lab.fill(1, 0, m);
            lab.fill(0, m, 2 * m);
            const dd = dlogit.subarray(0, 2 * m);
            const out = logitsBuf.subarray(0, 2 * m); // the real/fake logits of all 2m rows
            // D's forward and backward over rows [first, first + r) of [real; generated]
            const pass = (first: number, r: number): void => {
              const o = this.discriminator.forward(k, xb.subarray(first * D, (first + r) * D), r);
              const rf = out.subarray(first, first + r);
              const classes = rowClasses.subarray(first, first + r);
              if (K === 0) rf.set(o);
              else if (conditional) projectLogits(o, r, K, classes, rf);
              else splitOutputs(o, r, K, rf, scratch.codeLogits);
              const drf = dd.subarray(first, first + r);
              k.bceWithLogitsBackward(drf, rf, lab.subarray(first, first + r), r, 1, 1 / (2 * m));
              if (K === 0) {
                this.discriminator.backward(k, drf, r, false);
                return;
              }
              const dout = scratch.dOut.subarray(0, r * (1 + K));
              if (conditional) {
                projectGrads(dout, r, K, classes, drf);
                this.discriminator.backward(k, dout, r, false);
                return;
              }
              // Q learns the codes of the generated rows (those from m on) only
              const g0 = Math.max(first, m) - first;
              const dCode = scratch.dCode.subarray(0, r * K).fill(0);
              if (g0 < r) {
                const codeLoss = codeLossBackward(k, dCode.subarray(g0 * K), scratch.codeLogits.subarray(g0 * K), codes, r - g0, K, codeWeight / m, scratch.onehot);
                sums.codeLoss += codeLoss * (r - g0);
              }
              mergeOutputGrads(dout, r, K, drf, dCode);
              this.discriminator.backward(k, dout, r, false);
            };
            if (separateBatches) {
              // real batch, then generated batch; the parameter gradients of the two add
              pass(0, m);
              for (const [name, g] of Object.entries(discGrads)) realGrads![name]!.set(g);
              pass(m, m);
              for (const [name, g] of Object.entries(discGrads)) addInto(g, realGrads![name]!);
            } else pass(0, 2 * m);
            const dLoss = k.bceWithLogitsForward(null, out, lab, 2 * m, 1);
            for (let i = 0; i < m; i++) sums.dReal += 1 / (1 + Math.exp(-out[i]!));
            for (let i = m; i < 2 * m; i++) sums.dFake += 1 / (1 + Math.exp(-out[i]!));
            discAdam.update(k, discGrads);
            sums.dLoss += dLoss / 2;
            sums.seen += m;
            if (step % kSteps !== 0) return dLoss / 2;
            // 2. generator on the same G(z) (its activations are still those of step 1)
            // top-k: a function of the step's epoch, so a resumed run follows it too
            const keep = topKKeep(m, topK, Math.floor((step - 1) / stepsPerEpoch));
            const g = this.generatorLossGradient(k, fake, m, loss, scratch, keep, K > 0 ? { codes, weight: codeWeight } : undefined);
            this.generator.backward(k, g.dfake, m, false);
            genAdam.update(k, genGrads);
            average?.update();
            sums.gLoss += g.loss * m;
            sums.gUpdates += m;
            return dLoss / 2;
          },
          validate: async () => undefined,
          keepBest: () => undefined,
          restoreBest: () => undefined,
          checkpoint:
            opts.checkpointPath === undefined
              ? undefined
              : (st) => {
                  finishEpoch(st);
                  return this.saveCheckpoint(opts.checkpointPath!, adams, st, step, average);
                },
        },
        state,
      );
      return { ...result, history, trainSize: n };
    } finally {
      this.generator.setTraining?.(false);
      this.discriminator.setTraining?.(false);
      if (average !== null) {
        average.swap(); // the model keeps the averaged generator
        this.recalibrateBatchNorm({ seed, backend: k.backend });
      }
    }
  }

  /**
   * Puts the averaged generator in place (batch norm recalibrated for it) and returns how to
   * put the live generator and its running statistics back.
   */
  private useAverage(average: WeightAverage, seed: Seed, backend: BackendName): () => void {
    const running = Object.values(this.generator.buffers?.() ?? {}).map((b) => [b.data, b.data.slice()] as const);
    average.swap();
    this.recalibrateBatchNorm({ seed, backend });
    return () => {
      average.swap();
      for (const [data, saved] of running) data.set(saved);
    };
  }

  // ---- files ----

  private tensors(): Record<string, TensorToWrite> {
    const tensors: Record<string, TensorToWrite> = {};
    for (const net of [this.generator, this.discriminator]) {
      const shapes = net.shapes();
      for (const [name, data] of Object.entries(net.params())) tensors[name] = { shape: shapes[name]!, data };
      for (const [name, b] of Object.entries(net.buffers?.() ?? {})) tensors[name] = b;
    }
    return tensors;
  }

  async save(path: string, extraMetadata: Record<string, string> = {}): Promise<void> {
    await writeSafetensors(path, this.tensors(), modelMetadata(this.kind, this.config, extraMetadata));
  }

  private async saveCheckpoint(path: string, adams: Record<string, Adam>, state: TrainingState, step: number, average: WeightAverage | null): Promise<void> {
    const states = adamStates(adams);
    const tensors = { ...this.tensors(), ...states.tensors };
    const shapes = this.generator.shapes();
    if (average !== null) for (const [name, a] of Object.entries(average.averages)) tensors[`ema.${name}`] = { shape: shapes[name]!, data: a };
    await writeSafetensors(path, tensors, modelMetadata(this.kind, this.config, { [CHECKPOINT_KEY]: JSON.stringify({ state, step, adamSteps: states.steps, ...(average === null ? {} : { emaUpdates: average.updates }) }) }));
  }

  private loadParams(file: { tensors: Map<string, SafeTensor> }): void {
    for (const net of [this.generator, this.discriminator]) {
      const shapes = net.shapes();
      for (const [name, p] of Object.entries(net.params())) p.set(requireF32(file, name, shapes[name]!));
      for (const [name, b] of Object.entries(net.buffers?.() ?? {})) b.data.set(requireF32(file, name, b.shape));
    }
  }

  private async loadCheckpoint(path: string, adams: Record<string, Adam>, average: WeightAverage | null): Promise<{ state: TrainingState; step: number }> {
    const { file, cp } = await readPhasedCheckpoint<GanConfig, { state: TrainingState; step: number; adamSteps: Record<string, number>; emaUpdates?: number }>(path, "gan", this.config);
    this.loadParams(file);
    if (average !== null) {
      // a checkpoint of a run without averaging starts the average (and its warm-up) at its
      // parameters; one written before the warm-up existed continues at the full decay
      const shapes = this.generator.shapes();
      const saved = Object.keys(average.averages).every((name) => file.tensors.has(`ema.${name}`));
      for (const [name, a] of Object.entries(average.averages)) a.set(saved ? requireF32(file, `ema.${name}`, shapes[name]!) : this.generator.params()[name]!);
      average.updates = !saved ? 0 : Number.isInteger(cp.emaUpdates) && cp.emaUpdates! >= 0 ? cp.emaUpdates! : Number.MAX_SAFE_INTEGER;
    }
    loadAdamStates(file.tensors, adams, cp.adamSteps);
    return { state: cp.state, step: cp.step };
  }

  static async load(path: string, opts: { backend?: BackendName } = {}): Promise<Gan> {
    const file = asModelFile<GanConfig>(await readSafetensors(path), path, "gan");
    let config: GanConfig;
    try {
      config = Gan.checkConfig(file.config, path);
    } catch (e) {
      throw new DeepgenError("E_FORMAT", (e as Error).message, { cause: e });
    }
    const nets = Gan.networks(config, 0);
    const model = new Gan(config, nets.generator, nets.discriminator);
    model.loadParams(file);
    model.generator.setTraining?.(false);
    model.discriminator.setTraining?.(false);
    model.backend = opts.backend;
    return model;
  }
}
