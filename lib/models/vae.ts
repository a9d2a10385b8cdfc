/**
 * Variational autoencoder (Kingma & Welling 2014) for binary images, with MLP (default) or
 * convolutional (config.arch = "conv", lib/nn/conv-nets.ts) encoder and decoder:
 *
 *   q(z | x) = N(mu(x), diag exp(logvar(x))),   p(z) = N(0, I),   p(x | z) = prod_d Bern(sigmoid(l_d(z)))
 *   ELBO(x) = E_q[log p(x | z)] - KL(q(z | x) || p(z))      (reconstruction term, prior-fitting term)
 *
 * The reconstruction term is estimated with one reparameterized draw z = mu + exp(logvar / 2) eps
 * (the reparam kernels, Philox noise); the KL is closed form (gaussianKl kernels).
 *
 * Decoders (config.decoder), both on the decoder's logits l(z), lambda = sigmoid(l):
 *   "bernoulli"   p(x | z) = prod_d Bern(x_d; lambda_d), for binary images (binarized MNIST,
 *                 the canonical data; bceWithLogits kernels).
 *   "cbernoulli"  the continuous Bernoulli of Loaiza-Ganem & Cunningham (2019),
 *                 p(x | z) = prod_d C(lambda_d) lambda_d^x_d (1 - lambda_d)^(1 - x_d) on [0, 1]^D,
 *                 a normalized density for grayscale images (dequantized MNIST; the
 *                 continuousBernoulliNll kernels). The Bernoulli cross-entropy on grayscale
 *                 targets lacks log C and is no likelihood at all; the continuous Bernoulli adds
 *                 exactly that term. Its log-densities are continuous (nats of a density on
 *                 [0, 1]^D), not comparable to the binarized NLLs. decode() returns its mean
 *                 E[x] = sigmoid(l) + 1/sinh(l) - 1/l (not lambda), and sampling inverts its CDF.
 *
 * logLikelihood is the importance-weighted estimate of Burda et al. (2016),
 *   log p(x) >= L_k = log (1/k) sum_i p(x, z_i) / q(z_i | x),  z_i ~ q(z | x),
 * L_1 = ELBO <= L_k <= L_{k+1} in expectation, L_k -> log p(x). It runs over chunks of draws
 * (memory bounded by `chunk` draws, whatever k), with a stable log-sum-exp (logSumExp kernel).
 *
 * Noise: training step t uses stream t of the reparam kernel, sample index = position in the
 * batch. ELBO evaluation uses stream ELBO_STREAM, sample index = row; the IWAE estimate uses
 * stream IWAE_STREAM, sample index = row * k + i; so results do not depend on batch or chunk
 * sizes.
 *
 * Files: encoder enc.<i>.w, enc.<i>.b; decoder dec.<i>.w, dec.<i>.b (dense W [out, in], conv
 * weights in the conv kernels' layouts; the encoder's last layer outputs [mu, logvar],
 * 2 * latent values).
 *
 * Longer than most model files, and kept whole: the ELBO's forward and backward passes and the
 * IWAE estimator are one piece of mathematics on the same encoder, decoder and likelihood
 * terms (and share their buffers); training lives in vae-trainer.ts, the shared autoencoder
 * parts in autoencoder.ts.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import type { Dataset } from "../data/dataset.js";
import { modelMetadata } from "../io/model-file.js";
import { writeSafetensors } from "../io/safetensors.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import type { Net } from "../nn/conv-nets.js";
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
import {
  allocRows,
  batchRows,
  checkImageShape,
  type InputCheckOptions,
  type InputDomain,
  inputRows,
  netBytesPerRow,
  sizedRequest,
} from "./common.js";
import {
  BACKEND_KEYS,
  type DensityModel,
  INPUT_CALL_KEYS,
  type InputCallOptions,
  type ModelCallOptions,
  type Samples,
  SYNC_INPUT_KEYS,
  type SyncInputOptions,
} from "./density.js";
import { cbInverseCdf, cbMean } from "./latent.js";
import type { OutputMap } from "../kernels/ops/prepared-net.js";
import { type ElboTerms, fitVae, type VaeFitOptions, type VaeFitResult } from "./vae-trainer.js";

export type { ElboTerms, VaeEpochRecord, VaeFitOptions, VaeFitResult } from "./vae-trainer.js";

export { VAE_ACTIVATIONS, VAE_ARCHS, type VaeActivation, type VaeArch } from "./autoencoder.js";

export interface VaeConfig extends AutoencoderConfig {
  decoder: VaeDecoder;
}

export const VAE_DECODERS = ["bernoulli", "cbernoulli"] as const;
export type VaeDecoder = (typeof VAE_DECODERS)[number];

export interface VaeCreateOptions {
  dim: number;
  /** "mlp" (default) or "conv" (needs height and width, multiples of 4; `hidden` is then unused). */
  arch?: VaeArch;
  channels?: [number, number];
  latent?: number;
  hidden?: number[];
  activation?: VaeActivation;
  /** Likelihood p(x | z): "bernoulli" (binary images, default) or "cbernoulli" (grayscale in [0, 1]). */
  decoder?: VaeDecoder;
  initSeed?: number;
  height?: number;
  width?: number;
  backend?: BackendName;
}

export interface IwaeOptions extends ModelCallOptions, InputCheckOptions {
  /** Importance samples per image (1..100000; default 5000 for reports, 1 gives the ELBO). */
  k?: number;
  /** Draws per decoder pass (memory bound; default 1000). */
  chunk?: number;
  seed?: Seed;
}

/** Options of elbo(). */
export interface ElboOptions extends InputCheckOptions {
  backend?: BackendName;
  seed?: Seed;
  /** Images per forward pass (default 500). */
  batchSize?: number;
}

const CREATE_KEYS = optionKeys<VaeCreateOptions>({
  dim: true,
  arch: true,
  channels: true,
  latent: true,
  hidden: true,
  activation: true,
  decoder: true,
  initSeed: true,
  height: true,
  width: true,
  backend: true,
});
const IWAE_KEYS = optionKeys<IwaeOptions>({
  backend: true,
  signal: true,
  onProgress: true,
  checkInput: true,
  k: true,
  chunk: true,
  seed: true,
});
const SYNC_IWAE_KEYS = optionKeys<Omit<IwaeOptions, "signal" | "onProgress">>({
  backend: true,
  checkInput: true,
  k: true,
  chunk: true,
  seed: true,
});
const ELBO_KEYS = optionKeys<ElboOptions>({ backend: true, seed: true, batchSize: true, checkInput: true });

const SIGMOID: OutputMap = { activation: "sigmoid" };

/** Philox stream of the z draws of sample() (ONNX exports record it, so runners draw the same z). */
export const SAMPLE_Z_STREAM = 0x5a;
const SAMPLE_X_STREAM = 0x58;
const ELBO_STREAM = 0xe1b0;
const IWAE_STREAM = 0x1ae;
const ENC_STREAM = 100;
const DEC_STREAM = 200;

/** Copies columns [from, from + cols) of a [n, stride] matrix into out [n, cols]. */
function takeColumns(src: Float32Array, n: number, stride: number, from: number, cols: number, out: Float32Array): void {
  for (let i = 0; i < n; i++) out.set(src.subarray(i * stride + from, i * stride + from + cols), i * cols);
}

function putColumns(src: Float32Array, n: number, cols: number, dst: Float32Array, stride: number, from: number): void {
  for (let i = 0; i < n; i++) dst.set(src.subarray(i * cols, (i + 1) * cols), i * stride + from);
}

export class Vae extends Autoencoder<VaeConfig> implements DensityModel {
  readonly kind = "vae";
  protected readonly mapRange = 3;
  protected readonly className = "Vae";

  /** Binary images for the Bernoulli decoder, grayscale in [0, 1] for the continuous Bernoulli. */
  get inputDomain(): InputDomain {
    return this.config.decoder === "cbernoulli" ? "unit" : "binary";
  }

  /** Fresh networks of a configuration (Glorot-uniform from the seed). */
  static networks(cfg: VaeConfig, seed: number): { encoder: Net; decoder: Net } {
    return autoencoderNets(cfg, seed, { encoder: ENC_STREAM, decoder: DEC_STREAM }, 2 * cfg.latent);
  }

  static create(opts: VaeCreateOptions): Vae {
    checkOptions("Vae.create", opts, CREATE_KEYS, ["dim"]);
    const config = Vae.checkConfig(
      {
        dim: opts.dim,
        latent: opts.latent ?? 32,
        hidden: opts.hidden ?? [500, 500],
        activation: opts.activation ?? "relu",
        decoder: opts.decoder ?? "bernoulli",
        arch: opts.arch,
        channels: opts.channels,
        height: opts.height,
        width: opts.width,
      },
      "create",
    );
    const seed = checkInteger("initSeed", opts.initSeed ?? 0, 0);
    const nets = Vae.networks(config, seed);
    const model = new Vae(config, nets.encoder, nets.decoder);
    model.backend = opts.backend;
    return model;
  }

  private static checkConfig(c: Partial<VaeConfig>, source: string): VaeConfig {
    const dim = checkInteger(`${source}: dim`, c.dim, 1, 1 << 24);
    const latent = checkInteger(`${source}: latent`, c.latent, 1, 4096);
    const hidden = checkWidths(source, "hidden", c.hidden);
    const activation = checkOneOf(`${source}: activation`, c.activation, VAE_ACTIVATIONS);
    const decoder = checkOneOf(`${source}: decoder`, c.decoder ?? "bernoulli", VAE_DECODERS);
    const out: VaeConfig = { dim, latent, hidden, activation, decoder, ...checkImageShape(c, dim, source) };
    const conv = checkConvArch(c, out, source);
    if (conv.arch === "conv") {
      Object.assign(out, conv);
      out.hidden = []; // unused by the conv networks
    }
    return out;
  }

  private rows(x: Float32Array): number {
    return batchRows(x, this.dim);
  }

  // ---- encode / decode ----

  /** mu, logvar [n, latent] of q(z | x) for x [n, D]. */
  encode(x: Float32Array, opts?: SyncInputOptions): { mu: Float32Array; logvar: Float32Array; n: number } {
    const { n, backend } = this.inputOf("encode", x, opts);
    return this.encodeRows(x, n, backend);
  }

  private encodeRows(x: Float32Array, n: number, backend: BackendName | undefined): { mu: Float32Array; logvar: Float32Array; n: number } {
    return this.posterior(this.encoderOutput(x, n, backend), n);
  }

  /** mu and logvar from the encoder's output h [n, 2 latent]. */
  private posterior(h: Float32Array, n: number): { mu: Float32Array; logvar: Float32Array; n: number } {
    const L = this.latent;
    const mu = new Float32Array(n * L);
    const logvar = new Float32Array(n * L);
    takeColumns(h, n, 2 * L, 0, L, mu);
    takeColumns(h, n, 2 * L, L, L, logvar);
    return { mu, logvar, n };
  }

  /**
   * Pixel means E[x | z] [n, D] for codes z [n, latent]: the probabilities sigmoid(l(z)) of the
   * Bernoulli decoder, the continuous Bernoulli's mean for "cbernoulli".
   */
  decode(z: Float32Array, opts?: { backend?: BackendName }): Float32Array {
    checkOptions("Vae.decode", opts, BACKEND_KEYS);
    const n = batchRows(z, this.latent);
    if (this.config.decoder !== "cbernoulli") return this.decoderLogits(z, n, opts?.backend, SIGMOID);
    const logits = this.decoderLogits(z, n, opts?.backend);
    for (let i = 0; i < logits.length; i++) logits[i] = cbMean(logits[i]!);
    return logits;
  }

  /** Summed -log p(x | z) of a batch (rowOut: per image) from the decoder's logits. */
  private decoderNll(k: Kernels, rowOut: Float32Array | null, logits: Float32Array, x: Float32Array, m: number): number {
    return this.config.decoder === "cbernoulli"
      ? k.continuousBernoulliNllForward(rowOut, logits, x, m, this.dim)
      : k.bceWithLogitsForward(rowOut, logits, x, m, this.dim);
  }

  private decoderNllBackward(k: Kernels, dlogits: Float32Array, logits: Float32Array, x: Float32Array, m: number, scale: number): void {
    if (this.config.decoder === "cbernoulli") k.continuousBernoulliNllBackward(dlogits, logits, x, m, this.dim, scale);
    else k.bceWithLogitsBackward(dlogits, logits, x, m, this.dim, scale);
  }

  /** A code stands for x by its posterior mean: reconstruct and interpolate decode mu(x). */
  protected codeOf(x: Float32Array, opts: { backend?: BackendName }): Float32Array {
    return this.encodeRows(x, batchRows(x, this.dim), opts.backend).mu;
  }

  // ---- sampling ----

  protected sampleBytesPerRow(): number {
    // z, the decoder's activations, its logits, uniforms, draws and means
    return 4 * this.latent + netBytesPerRow(this.decoder) + 4 * 4 * this.dim;
  }

  protected latentDraws(n: number, seed: Seed, backend: BackendName | undefined): Float32Array {
    const z = allocRows(n, this.latent);
    this.kernels(backend).philoxFill(z, seed, SAMPLE_Z_STREAM, "normal");
    return z;
  }

  protected get sampleMap(): OutputMap | undefined {
    return this.config.decoder === "cbernoulli" ? undefined : SIGMOID;
  }

  /** out: the Bernoulli decoder's probabilities, the continuous Bernoulli's logits. */
  protected samplesOf(out: Float32Array, n: number, seed: Seed, backend: BackendName | undefined, returnProbs: boolean): Samples {
    const u = new Float32Array(out.length);
    this.kernels(backend).philoxFill(u, seed, SAMPLE_X_STREAM, "uniform");
    const x = new Float32Array(out.length);
    let probs: Float32Array;
    if (this.config.decoder === "cbernoulli") {
      probs = new Float32Array(out.length);
      for (let i = 0; i < x.length; i++) {
        probs[i] = cbMean(out[i]!);
        x[i] = cbInverseCdf(out[i]!, u[i]!);
      }
    } else {
      probs = out.slice();
      for (let i = 0; i < x.length; i++) x[i] = u[i]! < probs[i]! ? 1 : 0;
    }
    return returnProbs ? { x, probs, n } : { x, n };
  }

  // ---- objective ----

  /**
   * Mean ELBO terms over x [n, D] with one draw per image (stream ELBO_STREAM, sample index =
   * row: deterministic for a seed), evaluated in batches of `batchSize`.
   */
  elbo(x: Float32Array, options?: ElboOptions): ElboTerms {
    const opts = checkOptions("Vae.elbo", options, ELBO_KEYS);
    const n = inputRows("Vae.elbo", x, this.dim, this.inputDomain, opts);
    const k = this.kernels(opts.backend);
    const bs = checkInteger("batchSize", opts.batchSize ?? 500, 1);
    let rec = 0;
    let kl = 0;
    for (let b = 0; b < n; b += bs) {
      const m = Math.min(bs, n - b);
      const t = this.forwardTerms(k, x.subarray(b * this.dim, (b + m) * this.dim), m, opts.seed ?? 0, ELBO_STREAM, b);
      rec += t.rec;
      kl += t.kl;
    }
    const d = Math.max(1, n);
    return { reconstruction: -rec / d, kl: kl / d, elbo: -(rec + kl) / d };
  }

  /** Forward of a batch: summed -log p(x|z) and summed KL; keeps the buffers for a backward. */
  private forwardTerms(
    k: Kernels,
    x: Float32Array,
    m: number,
    seed: Seed,
    stream: number,
    firstSample: number,
  ): { rec: number; kl: number; logits: Float32Array } {
    const L = this.latent;
    const b = this.buffers(m);
    const h = this.encoder.forward(k, x, m);
    const mu = b.mu.subarray(0, m * L);
    const lv = b.lv.subarray(0, m * L);
    takeColumns(h, m, 2 * L, 0, L, mu);
    takeColumns(h, m, 2 * L, L, L, lv);
    const z = b.z.subarray(0, m * L);
    const eps = b.eps.subarray(0, m * L);
    k.reparamForward(z, eps, mu, lv, { rows: m, cols: L, seed, stream, firstSample });
    const logits = this.decoder.forward(k, z, m);
    const rec = this.decoderNll(k, null, logits, x, m);
    const kl = k.gaussianKlForward(null, mu, lv, m, L);
    return { rec, kl, logits };
  }

  private buf:
    | {
        rows: number;
        mu: Float32Array;
        lv: Float32Array;
        z: Float32Array;
        eps: Float32Array;
        dmu: Float32Array;
        dlv: Float32Array;
        dh: Float32Array;
        dlogits: Float32Array;
      }
    | undefined;

  private buffers(m: number) {
    if (this.buf === undefined || this.buf.rows < m) {
      const L = this.latent;
      this.buf = {
        rows: m,
        mu: new Float32Array(m * L),
        lv: new Float32Array(m * L),
        z: new Float32Array(m * L),
        eps: new Float32Array(m * L),
        dmu: new Float32Array(m * L),
        dlv: new Float32Array(m * L),
        dh: new Float32Array(m * 2 * L),
        dlogits: new Float32Array(m * this.dim),
      };
    }
    return this.buf;
  }

  /**
   * One batch of the training objective and its gradient, written into the encoder's and
   * decoder's gradient arrays: loss = (sum BCE + beta * KL') / m, KL' the (free-bits) KL.
   * Returns the batch's summed true terms. Public for gradient checks.
   */
  lossAndGradients(
    k: Kernels,
    x: Float32Array,
    m: number,
    o: { seed: Seed; stream: number; beta?: number; freeBits?: number },
  ): { rec: number; kl: number; loss: number } {
    const L = this.latent;
    const beta = o.beta ?? 1;
    const freeBits = o.freeBits ?? 0;
    const t = this.forwardTerms(k, x, m, o.seed, o.stream, 0);
    const b = this.buffers(m);
    const mu = b.mu.subarray(0, m * L);
    const lv = b.lv.subarray(0, m * L);
    const dlogits = b.dlogits.subarray(0, m * this.dim);
    this.decoderNllBackward(k, dlogits, t.logits, x, m, 1 / m);
    const dz = this.decoder.backward(k, dlogits, m, true)!;
    const dmu = b.dmu.subarray(0, m * L);
    const dlv = b.dlv.subarray(0, m * L);
    k.gaussianKlBackward(dmu, dlv, mu, lv, m, L, beta / m);
    let klObjective = t.kl;
    if (freeBits > 0) {
      // per-dimension batch-mean KL; dimensions under the floor contribute freeBits and no gradient
      klObjective = 0;
      for (let j = 0; j < L; j++) {
        let s = 0;
        for (let i = 0; i < m; i++) {
          const a = i * L + j;
          s += 0.5 * (mu[a]! * mu[a]! + Math.exp(lv[a]!) - 1 - lv[a]!);
        }
        const mean = s / m;
        if (mean < freeBits) {
          klObjective += freeBits * m;
          for (let i = 0; i < m; i++) {
            dmu[i * L + j] = 0;
            dlv[i * L + j] = 0;
          }
        } else {
          klObjective += s;
        }
      }
    }
    k.reparamBackward(dmu, dlv, dz, b.eps.subarray(0, m * L), lv, m, L, 1, true);
    const dh = b.dh.subarray(0, m * 2 * L);
    putColumns(dmu, m, L, dh, 2 * L, 0);
    putColumns(dlv, m, L, dh, 2 * L, L);
    this.encoder.backward(k, dh, m, false);
    return { rec: t.rec, kl: t.kl, loss: (t.rec + beta * klObjective) / m };
  }

  /** Parameters and gradients by name (enc.*, dec.*). */
  params(): Record<string, Float32Array> {
    return { ...this.encoder.params(), ...this.decoder.params() };
  }

  grads(): Record<string, Float32Array> {
    return { ...this.encoder.grads(), ...this.decoder.grads() };
  }

  // ---- training ----

  /** Trains on the ELBO with Adam, early-stopping on the validation -ELBO; keeps the best parameters (lib/models/vae-trainer.ts). */
  fit(train: Float32Array | Dataset, opts: VaeFitOptions = {}): Promise<VaeFitResult> {
    return this.training(() => fitVae(this, train, opts));
  }

  // ---- likelihood ----

  /**
   * Importance-weighted log-likelihood estimates L_k [n] (nats) of x [n, D] (see the file
   * comment). Draw i of image r uses sample index r * k + i, so the estimate does not depend
   * on `chunk`. k = 1 is the one-draw ELBO.
   */
  logLikelihoodSync(x: Float32Array, opts?: Omit<IwaeOptions, "signal" | "onProgress">): Float32Array {
    return this.logLikelihoodAs("Vae.logLikelihoodSync", x, checkOptions("Vae.logLikelihoodSync", opts, SYNC_IWAE_KEYS));
  }

  async logLikelihood(x: Float32Array, opts?: IwaeOptions): Promise<Float32Array> {
    return this.logLikelihoodAsyncAs("Vae.logLikelihood", x, checkOptions("Vae.logLikelihood", opts, IWAE_KEYS));
  }

  /** Bytes an IWAE request holds per image: the encoder's activations, the posterior's mean and log variance, the estimate. */
  private iwaeBytesPerRow(): number {
    return netBytesPerRow(this.encoder) + 8 * this.latent + 4;
  }

  private logLikelihoodAs(what: string, x: Float32Array, opts: Omit<IwaeOptions, "signal" | "onProgress">): Float32Array {
    const n = inputRows(what, x, this.dim, this.inputDomain, opts);
    return sizedRequest(what, n, this.iwaeBytesPerRow(), () => {
      const gen = this.iwae(x, n, opts, this.encodeRows(x, n, opts.backend));
      let r = gen.next();
      while (!r.done) r = gen.next(this.decoderLogits(r.value.z, r.value.rows, opts.backend));
      return r.value;
    });
  }

  private logLikelihoodAsyncAs(what: string, x: Float32Array, opts: IwaeOptions): Promise<Float32Array> {
    const n = inputRows(what, x, this.dim, this.inputDomain, opts);
    return sizedRequest(what, n, this.iwaeBytesPerRow(), async () => {
      const prepared = this.preparedDecoder.get(this.kernels(opts.backend));
      const gen = this.iwae(x, n, opts, this.posterior(await this.encoderOutputAsync(x, n, opts), n));
      let r = gen.next();
      while (!r.done) {
        if (opts.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
        opts.onProgress?.(r.value.done);
        // The decoder's forward, most of the work, runs as a native job; the rest of a chunk
        // is a few small kernels on this thread.
        const logits =
          prepared !== undefined
            ? await prepared.forward(r.value.z, r.value.rows, { signal: opts.signal })
            : this.decoderLogits(r.value.z, r.value.rows, opts.backend);
        if (prepared === undefined) await yieldToEventLoop();
        r = gen.next(logits);
      }
      opts.onProgress?.(1);
      return r.value;
    });
  }

  /**
   * The estimates of x (already checked: n rows). Yields each chunk's codes z [rows, latent]
   * with the fraction done before it, and takes back the decoder's logits of them, so that the
   * sync and async forms differ only in how they run the decoder.
   */
  private *iwae(
    x: Float32Array,
    n: number,
    opts: Omit<IwaeOptions, "signal" | "onProgress">,
    posterior: { mu: Float32Array; logvar: Float32Array },
  ): Generator<{ z: Float32Array; rows: number; done: number }, Float32Array, Float32Array> {
    const K = checkInteger("k", opts.k ?? 5000, 1, 100000);
    const chunk = checkInteger("chunk", opts.chunk ?? 1000, 1, 1 << 20);
    if (n * K > 0x100000000) throw new DeepgenError("E_ARG", `n * k = ${n * K} draws exceed the 2^32 sample indices of one call`);
    const seed = opts.seed ?? 0;
    const k = this.kernels(opts.backend);
    const D = this.dim;
    const L = this.latent;
    const out = new Float32Array(n);
    const { mu, logvar } = posterior;
    const B = Math.min(chunk, K);
    const z = new Float32Array(B * L);
    const eps = new Float32Array(B * L);
    const xt = new Float32Array(B * D);
    const mut = new Float32Array(B * L);
    const lvt = new Float32Array(B * L);
    const zeros = new Float32Array(B * L);
    const bce = new Float32Array(B);
    const logPz = new Float32Array(B);
    const logQ = new Float32Array(B);
    const logw = new Float32Array(K);
    const lse = new Float32Array(1);
    const total = n * Math.ceil(K / B);
    let done = 0;
    for (let r = 0; r < n; r++) {
      const xr = x.subarray(r * D, (r + 1) * D);
      const mur = mu.subarray(r * L, (r + 1) * L);
      const lvr = logvar.subarray(r * L, (r + 1) * L);
      for (let i = 0; i < B; i++) {
        xt.set(xr, i * D);
        mut.set(mur, i * L);
        lvt.set(lvr, i * L);
      }
      for (let s0 = 0; s0 < K; s0 += B) {
        const b = Math.min(B, K - s0);
        const zb = z.subarray(0, b * L);
        // draws r*K + s0 .. + b - 1 of this image (the kernel's k draws of one row)
        k.reparamForward(zb, eps.subarray(0, b * L), mur, lvr, {
          rows: 1,
          cols: L,
          k: b,
          seed,
          stream: IWAE_STREAM,
          firstSample: r * K + s0,
        });
        const logits = yield { z: zb, rows: b, done: done / total };
        this.decoderNll(k, bce.subarray(0, b), logits, xt.subarray(0, b * D), b);
        k.gaussianLogProbForward(logPz.subarray(0, b), zb, zeros.subarray(0, b * L), zeros.subarray(0, b * L), b, L);
        k.gaussianLogProbForward(logQ.subarray(0, b), zb, mut.subarray(0, b * L), lvt.subarray(0, b * L), b, L);
        for (let i = 0; i < b; i++) logw[s0 + i] = -bce[i]! + logPz[i]! - logQ[i]!;
        done++;
      }
      k.logSumExpForward(lse, logw, 1, K);
      out[r] = lse[0]! - Math.log(K);
    }
    return out;
  }

  /** DensityModel: log p(x) estimated by IWAE with k = 100 (use logLikelihood for other k). */
  async logProb(x: Float32Array, opts?: InputCallOptions): Promise<Float32Array> {
    return this.logLikelihoodAsyncAs("Vae.logProb", x, { ...checkOptions("Vae.logProb", opts, INPUT_CALL_KEYS), k: 100 });
  }

  logProbSync(x: Float32Array, opts?: SyncInputOptions): Float32Array {
    return this.logLikelihoodAs("Vae.logProbSync", x, { ...checkOptions("Vae.logProbSync", opts, SYNC_INPUT_KEYS), k: 100 });
  }

  // ---- files ----

  async save(path: string, extraMetadata: Record<string, string> = {}): Promise<void> {
    await writeSafetensors(path, netTensors([this.encoder, this.decoder]), modelMetadata(this.kind, this.config, extraMetadata));
  }

  static async load(path: string, options?: { backend?: BackendName }): Promise<Vae> {
    const opts = checkOptions("Vae.load", options, BACKEND_KEYS);
    const { config, encoder, decoder } = await loadAutoencoder(path, "vae", Vae.checkConfig, Vae.networks);
    const model = new Vae(config, encoder, decoder);
    model.backend = opts.backend;
    return model;
  }
}
