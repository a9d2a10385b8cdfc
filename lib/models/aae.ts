/**
 * Adversarial autoencoder (Makhzani et al. 2016) for binary images: a deterministic encoder
 * z = E(x), a Bernoulli decoder p(x | z) (the VAE's MLPs), and prior fitting by a
 * discriminator D(z) on codes instead of a KL term, so any prior that can be sampled works
 * (lib/models/priors.ts). Training, three adversarial phases per minibatch, is
 * lib/models/aae-trainer.ts.
 *
 * Encoder / decoder: MLPs (default) or the VAE's conv networks (config.arch = "conv",
 * lib/nn/conv-nets.ts); the discriminator is always an MLP on codes.
 *
 * Files: enc.<i>.*, dec.<i>.*, disc.<i>.* (W [out, in], b [out]).
 */
import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import type { Dataset } from "../data/dataset.js";
import { modelMetadata } from "../io/model-file.js";
import { type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import type { BackendName } from "../kernels/kernels.js";
import type { ActivationKind } from "../kernels/ops/activation.js";
import { Adam } from "../nn/adam.js";
import type { Net } from "../nn/conv-nets.js";
import { Mlp, type MlpSpec } from "../nn/dense.js";
import { type AaeFitOptions, type AaeFitResult, fitAae } from "./aae-trainer.js";
import {
  Autoencoder,
  type AutoencoderConfig,
  autoencoderNets,
  checkConvArch,
  checkWidths,
  loadAutoencoder,
  VAE_ACTIVATIONS,
  type VaeActivation,
  type VaeArch,
} from "./autoencoder.js";
import { netTensors } from "./checkpoint.js";
import { batchRows, checkImageShape, type InputCheckOptions, type InputDomain, inputRows, netBytesPerRow } from "./common.js";
import { BACKEND_KEYS, type Samples, type SyncInputOptions } from "./density.js";
import { loadMlp } from "./latent.js";
import type { OutputMap } from "../kernels/ops/prepared-net.js";
import { checkPrior, PRIORS, type PriorKind, samplePrior } from "./priors.js";

export { AAE_SELECT, type AaeEpochRecord, type AaeFitOptions, type AaeFitResult, type AaeTerms } from "./aae-trainer.js";

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

/** Options of the evaluations on images. */
export interface AaeEvalOptions extends InputCheckOptions {
  backend?: BackendName;
  seed?: Seed;
  /** reconstructionError: images per forward pass; refitDiscriminatorAccuracy: the refit's minibatch. */
  batchSize?: number;
  /** refitDiscriminatorAccuracy: minibatches of the refit. */
  steps?: number;
}

const CREATE_KEYS = optionKeys<AaeCreateOptions>({
  dim: true,
  latent: true,
  hidden: true,
  discHidden: true,
  activation: true,
  prior: true,
  arch: true,
  channels: true,
  initSeed: true,
  height: true,
  width: true,
  backend: true,
});
const RECONSTRUCTION_KEYS = optionKeys<Pick<AaeEvalOptions, "backend" | "batchSize" | "checkInput">>({
  backend: true,
  batchSize: true,
  checkInput: true,
});
const ACCURACY_KEYS = optionKeys<Pick<AaeEvalOptions, "backend" | "seed" | "checkInput">>({ backend: true, seed: true, checkInput: true });
const REFIT_KEYS = optionKeys<AaeEvalOptions>({ backend: true, seed: true, batchSize: true, steps: true, checkInput: true });

const ENC_STREAM = 300;
const DEC_STREAM = 400;
const DISC_STREAM = 500;
/** Philox stream of the z draws of sample() (ONNX exports record it, so runners draw the same z). */
export const SAMPLE_Z_STREAM = 0x5a;
const SAMPLE_X_STREAM = 0x58;
const EVAL_PRIOR_STREAM = 0xe7a1;
/** Streams of refitDiscriminatorAccuracy: its initialization, prior draws (+ step) and code picks (+ step). */
const REFIT_DISC_STREAM = 600;
const REFIT_PRIOR_STREAM = 0x20000000;
const REFIT_PICK_STREAM = 0x30000000;

const PRIOR_KEYS = optionKeys<{ seed: Seed; stream?: number }>({ seed: true, stream: true });

export class Aae extends Autoencoder<AaeConfig> {
  readonly kind = "aae";
  protected readonly mapRange = 6;
  protected readonly className = "Aae";

  /** Binary images: the decoder is Bernoulli. */
  get inputDomain(): InputDomain {
    return "binary";
  }

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
    checkOptions("Aae.create", opts, CREATE_KEYS, ["dim"]);
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
  encode(x: Float32Array, opts?: SyncInputOptions): Float32Array {
    const { n, backend } = this.inputOf("encode", x, opts);
    return this.encodeRows(x, n, backend);
  }

  private encodeRows(x: Float32Array, n: number, backend: BackendName | undefined): Float32Array {
    return this.encoderOutput(x, n, backend);
  }

  /** Pixel probabilities [n, D] of codes z [n, latent]. */
  decode(z: Float32Array, opts?: { backend?: BackendName }): Float32Array {
    const o = checkOptions("Aae.decode", opts, BACKEND_KEYS);
    return this.decoderLogits(z, batchRows(z, this.latent), o.backend, this.sampleMap);
  }

  /** A code stands for x as E(x): reconstruct and interpolate decode it. */
  protected codeOf(x: Float32Array, opts: { backend?: BackendName }): Float32Array {
    return this.encodeRows(x, batchRows(x, this.dim), opts.backend);
  }

  /** Prior draws [n, latent] (Philox stream: EVAL_PRIOR_STREAM unless given). */
  samplePrior(n: number, options: { seed: Seed; stream?: number }): Float32Array {
    const { seed, stream } = checkOptions("Aae.samplePrior", options, PRIOR_KEYS, ["seed"]);
    checkInteger("n", n, 0);
    return samplePrior(this.config.prior, n, this.latent, seed, stream ?? EVAL_PRIOR_STREAM);
  }

  protected sampleBytesPerRow(): number {
    // z, the decoder's activations, its logits, uniforms and draws
    return 4 * this.latent + netBytesPerRow(this.decoder) + 4 * 3 * this.dim;
  }

  protected latentDraws(n: number, seed: Seed): Float32Array {
    return this.samplePrior(n, { seed, stream: SAMPLE_Z_STREAM });
  }

  /** x is Bernoulli draws of the decoded probabilities. */
  protected readonly sampleMap: OutputMap = { activation: "sigmoid" };

  /** out: the decoder's probabilities. */
  protected samplesOf(out: Float32Array, n: number, seed: Seed, backend: BackendName | undefined, returnProbs: boolean): Samples {
    const probs = out.slice();
    const u = new Float32Array(probs.length);
    this.kernels(backend).philoxFill(u, seed, SAMPLE_X_STREAM, "uniform");
    const x = new Float32Array(probs.length);
    for (let i = 0; i < x.length; i++) x[i] = u[i]! < probs[i]! ? 1 : 0;
    return returnProbs ? { x, probs, n } : { x, n };
  }

  /** Mean reconstruction cross-entropy (nats per image) of x. */
  reconstructionError(x: Float32Array, options?: Pick<AaeEvalOptions, "backend" | "batchSize" | "checkInput">): number {
    const opts = checkOptions("Aae.reconstructionError", options, RECONSTRUCTION_KEYS);
    const n = inputRows("Aae.reconstructionError", x, this.dim, "binary", opts);
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
  discriminatorAccuracy(x: Float32Array, options?: Pick<AaeEvalOptions, "backend" | "seed" | "checkInput">): number {
    const opts = checkOptions("Aae.discriminatorAccuracy", options, ACCURACY_KEYS);
    const n = inputRows("Aae.discriminatorAccuracy", x, this.dim, "binary", opts);
    if (n === 0) throw new DeepgenError("E_SHAPE", "discriminatorAccuracy: no images");
    const k = this.kernels(opts.backend);
    const codes = this.encodeRows(x, n, opts.backend);
    const prior = this.samplePrior(n, { seed: opts.seed ?? 0 });
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
  refitDiscriminatorAccuracy(trainX: Float32Array, testX: Float32Array, options?: AaeEvalOptions): number {
    const opts = checkOptions("Aae.refitDiscriminatorAccuracy", options, REFIT_KEYS);
    const nTrain = inputRows("Aae.refitDiscriminatorAccuracy: trainX", trainX, this.dim, "binary", opts);
    const nTest = inputRows("Aae.refitDiscriminatorAccuracy: testX", testX, this.dim, "binary", opts);
    if (nTrain === 0 || nTest === 0) throw new DeepgenError("E_SHAPE", "refitDiscriminatorAccuracy: no images");
    const steps = checkInteger("steps", opts.steps ?? 2000, 1);
    const m = Math.min(nTrain, checkInteger("batchSize", opts.batchSize ?? 100, 1));
    const seed = opts.seed ?? 0;
    const k = this.kernels(opts.backend);
    const L = this.latent;
    const disc = new Mlp("disc", Aae.specs(this.config).disc, {
      seed: Number(BigInt.asUintN(32, BigInt(seed))),
      stream: REFIT_DISC_STREAM,
    });
    const adam = new Adam(disc.params(), { lr: 1e-3, beta1: 0.5 });
    const grads = disc.grads();
    const codes = this.encodeRows(trainX, nTrain, opts.backend);
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
    const testCodes = this.encodeRows(testX, nTest, opts.backend);
    const prior = this.samplePrior(nTest, { seed });
    let correct = 0;
    const real = disc.forward(k, prior, nTest);
    for (let i = 0; i < nTest; i++) if (real[i]! > 0) correct++;
    const fake = disc.forward(k, testCodes, nTest);
    for (let i = 0; i < nTest; i++) if (fake[i]! <= 0) correct++;
    return correct / (2 * nTest);
  }

  // ---- training ----

  /** Adversarial training (lib/models/aae-trainer.ts); the model keeps the final or the selected epoch's parameters. */
  fit(train: Float32Array | Dataset, opts: AaeFitOptions = {}): Promise<AaeFitResult> {
    return this.training(() => fitAae(this, train, opts));
  }

  // ---- files ----

  /** The model file's tensors: the three networks' parameters. */
  tensors(): Record<string, TensorToWrite> {
    return netTensors([this.encoder, this.decoder, this.discriminator]);
  }

  async save(path: string, extraMetadata: Record<string, string> = {}): Promise<void> {
    await writeSafetensors(path, this.tensors(), modelMetadata(this.kind, this.config, extraMetadata));
  }

  static async load(path: string, options?: { backend?: BackendName }): Promise<Aae> {
    const opts = checkOptions("Aae.load", options, BACKEND_KEYS);
    const { file, config, encoder, decoder } = await loadAutoencoder(path, "aae", Aae.checkConfig, Aae.networks);
    const model = new Aae(config, encoder, decoder, loadMlp(file, "disc", Aae.specs(config).disc));
    model.backend = opts.backend;
    return model;
  }
}
