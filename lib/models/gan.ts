/**
 * Generative adversarial networks (Goodfellow et al. 2014): a generator G(z), z ~ N(0, I),
 * and a discriminator D(x) = sigmoid(logit). This file holds the model: its two networks,
 * sampling, the discriminator's verdict, the generator's loss under it, and files; fit
 * trains it (lib/models/gan-trainer.ts).
 * With a categorical code (config.codes = K) the generator takes [z, one-hot c] (the latent
 * rows of lib/models/gan-codes.ts) and D has K more outputs, read by its head
 * (lib/models/gan-heads.ts): InfoGAN's Q(c | x), or with config.conditional the projection
 * discriminator of a class-conditional GAN whose code is the class label.
 * Two architectures: "mlp" (dense layers, any data dimension: images or the toy data of
 * lib/data/toy.ts) and "dcgan" (lib/nn/dcgan-nets.ts, batch norm, images whose sides are
 * multiples of 4). The generator's output is tanh (images in [-1, 1]) or identity (toy data).
 * Sampling runs batch norm in evaluation mode (running statistics), so the image drawn for
 * sample i does not depend on the other samples: z_i is row i of a Philox normal fill. The
 * same (seed, n) gives the same images bit for bit; a different n can change the conv
 * kernels' summation order, so images then agree to float rounding (<= 1e-6), not bit for bit.
 *
 * Files: gen.<i>.*, disc.<i>.* (+ batch-norm running statistics).
 *
 * Longer than most model files, and kept whole: it is the model only (its training, heads and
 * latent rows have files of their own), and sampling, the discriminator's verdict and the
 * generator's loss read the same two networks.
 */
import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { type ModelFile, modelMetadata, readModelFile, requireF32 } from "../io/model-file.js";
import { type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import { softplus } from "../kernels/js/vmath.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import type { Net } from "../nn/conv-nets.js";
import { checkDcganSpec, DcganDiscriminator, DcganGenerator } from "../nn/dcgan-nets.js";
import { Mlp } from "../nn/dense.js";
import {
  allocRows,
  batchRows,
  finishedAsync,
  type InputCheckOptions,
  type InputDomain,
  inputRows,
  modelKernels,
  netBytesPerRow,
  sizedRequest,
} from "./common.js";
import { BATCH_KEYS, type BatchSampleOptions, batchRowCount, concatRows, type SampleRequest, splitSamples } from "./batch.js";
import { PreparedNetCache } from "./prepared-cache.js";
import type { OutputMap } from "../kernels/ops/prepared-net.js";
import type { Samples } from "./density.js";
import { CODE_STREAM_OFFSET, fillLatent } from "./gan-codes.js";
import { checkLabels, type DiscriminatorHead, discriminatorHead, type GanLossScratch, lossScratch } from "./gan-heads.js";
import { fitGan, type GanFitOptions, type GanFitResult, type GanLoss } from "./gan-trainer.js";
import type { ModelCard } from "./card.js";

export { GAN_LOSSES, type GanEpochRecord, type GanFitOptions, type GanFitResult, type GanLoss, topKKeep } from "./gan-trainer.js";
export type { GanLossScratch } from "./gan-heads.js";

export const GAN_ARCHS = ["mlp", "dcgan"] as const;
export type GanArch = (typeof GAN_ARCHS)[number];
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

/** Options of sampling: sampleSync, and sample with signal and onProgress. */
export interface GanSampleOptions {
  seed: Seed;
  backend?: BackendName;
  returnProbs?: boolean;
  /** Fix the categorical code (or class) of every sample. */
  code?: number;
}

export interface GanAsyncSampleOptions extends GanSampleOptions {
  signal?: AbortSignal;
  onProgress?: (f: number) => void;
}

/** Options of discriminate. */
export interface GanDiscriminateOptions extends InputCheckOptions {
  backend?: BackendName;
  /** A conditional model's label of each example. */
  labels?: ArrayLike<number>;
}

export interface GanRecalibrateOptions {
  seed?: Seed;
  batches?: number;
  batchSize?: number;
  backend?: BackendName;
}

const CREATE_KEYS = optionKeys<GanCreateOptions>({
  arch: true,
  dim: true,
  zdim: true,
  output: true,
  height: true,
  width: true,
  hidden: true,
  discHidden: true,
  channels: true,
  discChannels: true,
  discNorm: true,
  discStddev: true,
  codes: true,
  conditional: true,
  initSeed: true,
  backend: true,
});
const SAMPLE_SYNC_KEYS = optionKeys<GanSampleOptions>({ seed: true, backend: true, returnProbs: true, code: true });
const SAMPLE_ASYNC_KEYS = optionKeys<GanAsyncSampleOptions>({
  seed: true,
  backend: true,
  returnProbs: true,
  code: true,
  signal: true,
  onProgress: true,
});
const GENERATE_KEYS = optionKeys<Omit<GanSampleOptions, "returnProbs">>({ seed: true, backend: true, code: true });
const BACKEND_ONLY = optionKeys<{ backend?: BackendName }>({ backend: true });
const LATENT_KEYS = optionKeys<GanLatentOptions>({ seed: true, code: true });
const INTERPOLATE_KEYS = optionKeys<GanInterpolateOptions>({ seed: true, from: true, to: true, steps: true, backend: true });

/** Which latent draws: those of `sample(n, { seed })`, with the categorical code or class fixed when given. */
export interface GanLatentOptions {
  seed: Seed;
  code?: number;
}

/** Gan.interpolateLatent: the segment between the latent draws of samples `from` and `to` of a seed. */
export interface GanInterpolateOptions {
  seed: Seed;
  /** Index of the first sample of `sample(n, { seed })`. */
  from: number;
  /** Index of the last sample. */
  to: number;
  /** Images on the segment, ends included (>= 2). */
  steps: number;
  backend?: BackendName;
}
const DISCRIMINATE_KEYS = optionKeys<GanDiscriminateOptions>({ backend: true, labels: true, checkInput: true });
const RECALIBRATE_KEYS = optionKeys<GanRecalibrateOptions>({ seed: true, batches: true, batchSize: true, backend: true });

const GEN_STREAM = 600;
const DISC_STREAM = 700;
/** Sampling draws z from this stream (training step t from a stream of its own, lib/models/gan-trainer.ts). */
export const GAN_SAMPLE_Z_STREAM = 0x5a;
/** Sampling draws the categorical codes (when the model has them) from this stream. */
export const GAN_SAMPLE_CODE_STREAM = 0x5b;
/** Batch-norm recalibration draws z from RECALIBRATE_STREAM + batch. */
const RECALIBRATE_STREAM = 0x30000;
const NO_CODES = new Int32Array(0);

function widths(source: string, name: string, a: unknown): number[] {
  if (!Array.isArray(a) || a.length < 1 || a.length > 8)
    throw new DeepgenError("E_ARG", `${source}: ${name} must be an array of 1 to 8 widths`);
  return a.map((h) => checkInteger(`${source}: ${name} width`, h, 1, 1 << 16));
}

function pair(source: string, name: string, a: unknown): [number, number] {
  if (!Array.isArray(a) || a.length !== 2) throw new DeepgenError("E_ARG", `${source}: ${name} must be two channel counts`);
  return [checkInteger(`${source}: ${name}`, a[0], 1, 4096), checkInteger(`${source}: ${name}`, a[1], 1, 4096)];
}

export class Gan {
  /** The model card beside the file it was loaded from (set by `load`), else null. */
  card: ModelCard | null = null;
  readonly kind = "gan";
  backend: BackendName | undefined;
  /** How D's outputs become logits (plain, InfoGAN code, or class projection), fixed by the config. */
  readonly head: DiscriminatorHead;
  /** The generator packed once for sampling (rebuilt after the weights change). */
  private readonly prepared: PreparedNetCache;

  constructor(
    readonly config: GanConfig,
    readonly generator: Net,
    readonly discriminator: Net,
  ) {
    this.head = discriminatorHead(this.codes, this.conditional);
    this.prepared = new PreparedNetCache(generator);
  }

  /** Call after changing the generator's parameter arrays in place (fit and recalibrateBatchNorm need not): sampling re-packs them. */
  weightsChanged(): void {
    this.prepared.invalidate();
  }

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
      checkDcganSpec({
        height: out.height,
        width: out.width!,
        zdim,
        channels: out.channels,
        discChannels: out.discChannels,
        discNorm: out.discNorm,
      });
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
    const outputs = discriminatorHead(K, c.conditional === true).width;
    if (c.arch === "dcgan") {
      const spec = {
        height: c.height!,
        width: c.width!,
        zdim: latent,
        channels: c.channels!,
        discChannels: c.discChannels!,
        discNorm: c.discNorm!,
        discStddev: c.discStddev === true,
      };
      return {
        generator: new DcganGenerator("gen", spec, { seed, stream: GEN_STREAM }),
        discriminator: new DcganDiscriminator("disc", spec, { seed, stream: DISC_STREAM }, outputs),
      };
    }
    return {
      generator: new Mlp("gen", { sizes: [latent, ...c.hidden!, c.dim], hidden: "relu", output: c.output }, { seed, stream: GEN_STREAM }),
      discriminator: new Mlp(
        "disc",
        { sizes: [c.dim, ...c.discHidden!, outputs], hidden: "leakyRelu", output: "identity" },
        { seed, stream: DISC_STREAM },
      ),
    };
  }

  static create(opts: GanCreateOptions): Gan {
    checkOptions("Gan.create", opts, CREATE_KEYS, ["dim"]);
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

  /**
   * The values its examples may take: any finite number. Not only the generator's range: a
   * discriminator judges (and fit trains on) data a tanh generator cannot reach.
   */
  get inputDomain(): InputDomain {
    return "finite";
  }

  /** G(z) for z [n, latentDim] (noise, then the one-hot code if any) in evaluation mode: [n, dim] in the output's range. */
  generate(z: Float32Array, options?: { backend?: BackendName }): Float32Array {
    const opts = checkOptions("Gan.generate", options, BACKEND_ONLY);
    const n = batchRows(z, this.latentDim);
    const k = this.kernels(opts.backend);
    const prepared = this.prepared.get(k);
    if (prepared !== undefined) return prepared.forwardSync(z, n);
    this.generator.setTraining?.(false);
    return this.generator.forward(k, z, n).slice();
  }

  /**
   * The latent draws of `sample(n, {seed})`: [n, latentDim], row i the same for any n. With a
   * categorical code, `code` fixes it for every row (the noise stays that of the seed).
   */
  sampleLatent(n: number, options: GanLatentOptions): Float32Array {
    const { seed, code } = checkOptions("Gan.sampleLatent", options, LATENT_KEYS, ["seed"]);
    const z = allocRows(n, this.latentDim);
    let given: Int32Array | undefined;
    if (code !== undefined) {
      if (this.codes === 0)
        throw new DeepgenError("E_ARG", "this GAN has no categorical code or class to fix (train it with codes or conditional)");
      given = new Int32Array(n).fill(checkInteger("code", code, 0, this.codes - 1));
    }
    fillLatent(this.kernels("js"), z, n, this.zdim, this.codes, seed, { noise: GAN_SAMPLE_Z_STREAM, code: GAN_SAMPLE_CODE_STREAM }, given);
    return z;
  }

  /** n generated examples [n, dim] (raw generator output, tanh range for images). */
  generateSamples(n: number, options: { seed: Seed; backend?: BackendName; code?: number }): Float32Array {
    const opts = checkOptions("Gan.generateSamples", options, GENERATE_KEYS, ["seed"]);
    return this.sized("Gan.generateSamples", n, () =>
      this.generate(this.sampleLatent(n, { seed: opts.seed, code: opts.code }), { backend: opts.backend }),
    );
  }

  /** A request of n samples: the latent draws, the generator's activations and the images. */
  private sized<T>(what: string, n: number, run: () => T): T {
    return sizedRequest(what, n, 4 * this.latentDim + netBytesPerRow(this.generator) + 4 * this.dim, run);
  }

  /**
   * Samples as images in [0, 1] ((x + 1) / 2 of the tanh output), in the shape the other
   * samplers return (x and probs are the same grey images: a GAN has no Bernoulli layer).
   */
  sampleSync(n: number, options: GanSampleOptions): { x: Float32Array; probs?: Float32Array; n: number } {
    const opts = checkOptions("Gan.sampleSync", options, SAMPLE_SYNC_KEYS, ["seed"]);
    const x = this.sized("Gan.sample", n, () => {
      const z = this.sampleLatent(n, { seed: opts.seed, code: opts.code });
      const k = this.kernels(opts.backend);
      const prepared = this.prepared.get(k);
      return prepared !== undefined
        ? prepared.forwardSync(z, n, this.imageMap)
        : this.toImages(this.generate(z, { backend: opts.backend }));
    });
    return opts.returnProbs ? { x, probs: x, n } : { x, n };
  }

  /** The same samples as sampleSync, drawn off the event loop. */
  async sample(n: number, options: GanAsyncSampleOptions): Promise<Samples> {
    const opts = checkOptions("Gan.sample", options, SAMPLE_ASYNC_KEYS, ["seed"]);
    const { seed, code, ...batchOpts } = opts;
    const [part] = await this.sampleBatch([{ n, seed, code }], batchOpts);
    return part!;
  }

  /**
   * The samples of many requests in one generator forward: each request's latent draws come
   * from its own seed and the generator's rows do not depend on each other, so each result is
   * bit for bit its lone sample (lib/models/batch.ts).
   */
  async sampleBatch(requests: readonly SampleRequest[], opts?: BatchSampleOptions): Promise<Samples[]> {
    const o = checkOptions("Gan.sampleBatch", opts, BATCH_KEYS);
    const total = batchRowCount(requests, true);
    return this.sized("Gan.sample", total, async () => {
      const z = concatRows(requests.map((r) => this.sampleLatent(r.n, { seed: r.seed, code: r.code })));
      const k = this.kernels(o.backend);
      const prepared = this.prepared.get(k);
      const x =
        prepared !== undefined
          ? await prepared.forward(z, total, o)
          : await finishedAsync(o, () => this.generate(z, { backend: o.backend }));
      this.toImages(x);
      return splitSamples(requests, this.dim, x, o.returnProbs ? x : undefined);
    });
  }

  /** tanh outputs to images in [0, 1]: (x + 1) / 2, in place (the prepared net's map does it natively). */
  private toImages(x: Float32Array): Float32Array {
    const m = this.imageMap;
    if (m !== undefined) for (let i = 0; i < x.length; i++) x[i] = Math.fround(x[i]! + (m.shift ?? 0)) * (m.scale ?? 1);
    return x;
  }

  private get imageMap(): OutputMap | undefined {
    return this.config.output === "tanh" ? { shift: 1, scale: 0.5 } : undefined;
  }

  /** Discriminator probabilities D(x) [n] (evaluation mode); a conditional model needs the examples' labels. */
  discriminate(x: Float32Array, options?: GanDiscriminateOptions): Float32Array {
    const opts = checkOptions("Gan.discriminate", options, DISCRIMINATE_KEYS);
    const n = inputRows("Gan.discriminate", x, this.dim, this.inputDomain, opts);
    const labels = this.head.readsLabels ? checkLabels("discriminate", opts.labels, n, this.codes) : [];
    this.discriminator.setTraining?.(false);
    const out = this.discriminator.forward(this.kernels(opts.backend), x, n);
    const logits = new Float32Array(n);
    this.head.logits(out, n, labels, logits, lossScratch(n, this.codes));
    return logits.map((l) => 1 / (1 + Math.exp(-l)));
  }

  /**
   * `steps` images on the segment between the latent draws of samples `from` and `to` of
   * `sample(n, { seed })` (a walk in latent space; Vae.interpolateImages walks between images).
   */
  interpolateLatent(options: GanInterpolateOptions): Float32Array {
    const opts = checkOptions("Gan.interpolateLatent", options, INTERPOLATE_KEYS, ["seed", "from", "to", "steps"]);
    const steps = checkInteger("steps", opts.steps, 2, 10000);
    const a = checkInteger("from", opts.from, 0, 1 << 20);
    const b = checkInteger("to", opts.to, 0, 1 << 20);
    const z = this.sampleLatent(Math.max(a, b) + 1, { seed: opts.seed });
    const L = this.latentDim; // a code blends linearly between the two one-hot rows
    const out = new Float32Array(steps * L);
    for (let s = 0; s < steps; s++) {
      const t = s / (steps - 1);
      for (let j = 0; j < L; j++) out[s * L + j] = (1 - t) * z[a * L + j]! + t * z[b * L + j]!;
    }
    return this.generate(out, { backend: opts.backend });
  }

  /**
   * Re-estimates the generator's batch-norm running statistics for its current weights: `batches`
   * training-mode forwards of `batchSize` latent draws (seeded; momentum 0.1, so after 50
   * batches the old statistics weigh 0.9^50 < 1%). Needed after the weights change other
   * than by training, e.g. when the averaged weights replace them. No-op without batch norm.
   */
  recalibrateBatchNorm(options?: GanRecalibrateOptions): void {
    const opts = checkOptions("Gan.recalibrateBatchNorm", options, RECALIBRATE_KEYS);
    this.prepared.invalidate();
    if (Object.keys(this.generator.buffers?.() ?? {}).length === 0) return;
    const k = this.kernels(opts.backend);
    const bs = checkInteger("batchSize", opts.batchSize ?? 64, 2);
    const batches = checkInteger("batches", opts.batches ?? 50, 1);
    const z = new Float32Array(bs * this.latentDim);
    this.generator.setTraining?.(true);
    for (let b = 0; b < batches; b++) {
      fillLatent(k, z, bs, this.zdim, this.codes, opts.seed ?? 0, {
        noise: RECALIBRATE_STREAM + b,
        code: CODE_STREAM_OFFSET + RECALIBRATE_STREAM + b,
      });
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
    if (K > 0 && (info === undefined || info.codes.length < m))
      throw new DeepgenError("E_ARG", `generatorLossGradient: this GAN has a ${K}-way code; pass the ${m} codes the examples came from`);
    const codes = info?.codes ?? NO_CODES;
    // a label out of range would read another row's output: the labels are checked like fit's
    if (this.head.readsLabels) checkLabels("generatorLossGradient", codes.subarray(0, m), m, K);
    const out = this.discriminator.forward(k, x, m);
    const logits = scratch.realFake.subarray(0, m);
    this.head.logits(out, m, codes, logits, scratch);
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
    const { dOut, codeLoss } = this.head.outputGradient(k, dg, m, codes, scratch, { from: 0, weight: (info?.weight ?? 0) / m });
    const dfake = this.discriminator.backward(k, dOut, m, true)!;
    return codeLoss === undefined ? { loss: sign * bce, dfake } : { loss: sign * bce, codeLoss, dfake };
  }

  /**
   * Adversarial training on x [n, dim] (images already in the generator's range: [-1, 1] for
   * tanh; lib/models/gan-trainer.ts). Returns the per-epoch losses; the model keeps its final
   * parameters.
   */
  fit(x: Float32Array, opts: GanFitOptions = {}): Promise<GanFitResult> {
    return this.prepared.whileTraining(() => fitGan(this, x, opts));
  }

  // ---- files ----

  /** The model file's tensors: both networks' parameters and batch-norm running statistics. */
  tensors(): Record<string, TensorToWrite> {
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

  /** Sets every tensor of tensors() from a model file (E_FORMAT when one is missing or misshapen). */
  loadParams(file: Pick<ModelFile, "tensors">): void {
    for (const net of [this.generator, this.discriminator]) {
      const shapes = net.shapes();
      for (const [name, p] of Object.entries(net.params())) p.set(requireF32(file, name, shapes[name]!));
      for (const [name, b] of Object.entries(net.buffers?.() ?? {})) b.data.set(requireF32(file, name, b.shape));
    }
  }

  static async load(path: string, options?: { backend?: BackendName }): Promise<Gan> {
    const opts = checkOptions("Gan.load", options, BACKEND_ONLY);
    const { file, config } = await readModelFile(path, "gan", Gan.checkConfig);
    const nets = Gan.networks(config, 0);
    const model = new Gan(config, nets.generator, nets.discriminator);
    model.loadParams(file);
    model.generator.setTraining?.(false);
    model.discriminator.setTraining?.(false);
    model.backend = opts.backend;
    return model;
  }
}
