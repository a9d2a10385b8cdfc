/**
 * A conditional VAE of MNIST-Captions-60 (Sohn et al. 2015): the likelihood baseline of text to
 * image, beside the GAN (lib/models/text2image.ts), scored by the same judge. On binarized
 * canvases x (pixel > 0.5 -> 1, 3600 pixels) and a caption t, given only as token ids:
 *
 *   e(t)          the model's own caption encoder (lib/nn/token-embedding.ts), width E
 *   q(z | x, t)   = N(mu, diag exp(logvar)),  [mu, logvar] = MLP_enc([x, e(t)])
 *   p(z)          = N(0, I)
 *   p(x | z, t)   = prod_d Bern(sigmoid(l_d)),  l = MLP_dec([z, e(t)])
 *   -ELBO(x, t)   = -E_q[log p(x | z, t)] + KL(q(z | x, t) || p(z))   (reconstruction, KL)
 *
 * The reconstruction term takes one reparameterized draw; the KL is closed form (the objective
 * and its gradient: text-cvae-elbo.ts). Both networks read e(t), so the caption encoder learns
 * from the gradients of both. iwae estimates -log p(x | t) by importance weighting (Burda et al.
 * 2016) with q(z | x, t) as the proposal, k draws per canvas in chunks, a stable log-sum-exp.
 *
 * Noise, as the VAE's (lib/models/vae.ts): training step s uses reparam stream s, sample index =
 * position in the batch; elbo uses CVAE_ELBO_STREAM with sample index = row, iwae
 * CVAE_IWAE_STREAM with sample index row * k + i; generation row i of the seed's normal fill on
 * CVAE_SAMPLE_Z_STREAM. So no result depends on batch or chunk sizes, and image i of a
 * generate call depends only on caption i and the seed.
 *
 * Generation returns the decoder's pixel probabilities (the mean image of p(x | z, t); the
 * decoder's side, text-cvae-generate.ts).
 *
 * Files: text.table, text.b; enc.<i>.w, enc.<i>.b; dec.<i>.w, dec.<i>.b; deepgen.model
 * "text-cvae". Training lives in text-cvae-trainer.ts, the IWAE estimator in
 * text-cvae-iwae.ts.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { tokenizeAll, VOCABULARY } from "../data/caption-tokens.js";
import { CAPTION_TOKENS, CANVAS_DIM, type Caption, captionText } from "../data/mnist-captions.js";
import { type ModelFile, modelMetadata, readModelFile, requireF32 } from "../io/model-file.js";
import { type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import { Mlp } from "../nn/dense.js";
import { TokenEmbedding } from "../nn/token-embedding.js";
import { checkWidths, VAE_ACTIVATIONS, type VaeActivation } from "./autoencoder.js";
import { netTensors } from "./checkpoint.js";
import { inputRows, modelKernels, netBytesPerRow, sizedRequest } from "./common.js";
import { PreparedNetCache } from "./prepared-cache.js";
import type { GenerateAsyncOptions, GeneratedImages, GenerateOptions } from "./text2image.js";
import { CvaeObjective, joinColumns, type TextCvaeElboOptions } from "./text-cvae-elbo.js";
import { CvaeDecoding } from "./text-cvae-generate.js";
import { iwaeDraws, type TextCvaeIwaeAsyncOptions, type TextCvaeIwaeOptions } from "./text-cvae-iwae.js";
import { fitTextCvae, type TextCvaeElbo, type TextCvaeFitOptions, type TextCvaeFitResult } from "./text-cvae-trainer.js";
import type { ModelCard } from "./card.js";

export type { TextCvaeElbo, TextCvaeEpochRecord, TextCvaeFitOptions, TextCvaeFitResult } from "./text-cvae-trainer.js";
export { binarizedCanvases } from "./text-cvae-trainer.js";
export { CVAE_ELBO_STREAM, type TextCvaeElboOptions } from "./text-cvae-elbo.js";
export { CVAE_SAMPLE_Z_STREAM } from "./text-cvae-generate.js";
export { CVAE_IWAE_STREAM, type TextCvaeIwaeAsyncOptions, type TextCvaeIwaeOptions } from "./text-cvae-iwae.js";

export interface TextCvaeConfig {
  arch: "cvae";
  latent: number;
  /** Width E of the caption embedding. */
  textDim: number;
  /** Hidden widths of the encoder; the decoder mirrors them. */
  hidden: number[];
  activation: VaeActivation;
  /** Tokens per caption and the vocabulary, in id order. */
  tokens: number;
  vocabulary: string[];
}

export interface TextCvaeCreateOptions {
  /** Latent dimension (default 32). */
  latent?: number;
  /** Caption embedding width (default 64). */
  textDim?: number;
  /** Hidden widths of the encoder, mirrored by the decoder (default [500]). */
  hidden?: number[];
  /** Hidden activation (default relu). */
  activation?: VaeActivation;
  initSeed?: number;
  backend?: BackendName;
}

const CREATE_KEYS = optionKeys<TextCvaeCreateOptions>({
  latent: true,
  textDim: true,
  hidden: true,
  activation: true,
  initSeed: true,
  backend: true,
});
const ELBO_KEYS = optionKeys<TextCvaeElboOptions>({ seed: true, batchSize: true, backend: true, checkInput: true });
const IWAE_KEYS = optionKeys<TextCvaeIwaeOptions>({ k: true, chunk: true, seed: true, backend: true, checkInput: true });
const IWAE_ASYNC_KEYS = optionKeys<TextCvaeIwaeAsyncOptions>({
  k: true,
  chunk: true,
  seed: true,
  backend: true,
  checkInput: true,
  signal: true,
  onProgress: true,
});

const TEXT_STREAM = 900;
const ENC_STREAM = 910;
const DEC_STREAM = 930;

export class TextCvae {
  /** The model card beside the file it was loaded from (set by `load`), else null. */
  card: ModelCard | null = null;
  readonly kind = "text-cvae";
  backend: BackendName | undefined;
  private readonly preparedDecoder: PreparedNetCache;
  private readonly preparedEncoder: PreparedNetCache;
  private readonly objective: CvaeObjective;
  private readonly decoding: CvaeDecoding;

  constructor(
    readonly config: TextCvaeConfig,
    readonly text: TokenEmbedding,
    readonly encoder: Mlp,
    readonly decoder: Mlp,
  ) {
    this.preparedDecoder = new PreparedNetCache(decoder);
    this.preparedEncoder = new PreparedNetCache(encoder);
    this.objective = new CvaeObjective(text, encoder, decoder, config.latent, config.textDim);
    this.decoding = new CvaeDecoding(
      decoder,
      this.preparedDecoder,
      config.latent,
      config.textDim,
      (backend) => this.kernels(backend),
      (captions) => this.encodeText(captions),
    );
  }

  get dim(): number {
    return CANVAS_DIM;
  }

  get latent(): number {
    return this.config.latent;
  }

  get textDim(): number {
    return this.config.textDim;
  }

  static checkConfig(c: Partial<TextCvaeConfig>, source: string): TextCvaeConfig {
    if (c.arch !== "cvae") throw new DeepgenError("E_ARG", `${source}: arch must be "cvae", got ${String(c.arch)}`);
    if (!Array.isArray(c.vocabulary) || c.vocabulary.join(" ") !== VOCABULARY.join(" "))
      throw new DeepgenError("E_ARG", `${source}: the vocabulary differs from this version's MNIST-Captions-60 vocabulary`);
    return {
      arch: "cvae",
      latent: checkInteger(`${source}: latent`, c.latent, 1, 4096),
      textDim: checkInteger(`${source}: textDim`, c.textDim, 1, 4096),
      hidden: checkWidths(source, "hidden", c.hidden),
      activation: checkOneOf(`${source}: activation`, c.activation, VAE_ACTIVATIONS),
      tokens: checkInteger(`${source}: tokens`, c.tokens, CAPTION_TOKENS, CAPTION_TOKENS),
      vocabulary: [...VOCABULARY],
    };
  }

  private static build(c: TextCvaeConfig, seed: number): TextCvae {
    const E = c.textDim;
    const net = (name: string, sizes: number[], stream: number) =>
      new Mlp(name, { sizes, hidden: c.activation, output: "identity" }, { seed, stream });
    return new TextCvae(
      c,
      new TokenEmbedding("text", c.tokens, c.vocabulary.length, E, { seed, stream: TEXT_STREAM }),
      net("enc", [CANVAS_DIM + E, ...c.hidden, 2 * c.latent], ENC_STREAM),
      net("dec", [c.latent + E, ...[...c.hidden].reverse(), CANVAS_DIM], DEC_STREAM),
    );
  }

  static create(options?: TextCvaeCreateOptions): TextCvae {
    const opts = checkOptions("TextCvae.create", options, CREATE_KEYS);
    const config = TextCvae.checkConfig(
      {
        arch: "cvae",
        latent: opts.latent ?? 32,
        textDim: opts.textDim ?? 64,
        hidden: opts.hidden ?? [500],
        activation: opts.activation ?? "relu",
        tokens: CAPTION_TOKENS,
        vocabulary: [...VOCABULARY],
      },
      "create",
    );
    const model = TextCvae.build(config, checkInteger("initSeed", opts.initSeed ?? 0, 0));
    model.backend = opts.backend;
    return model;
  }

  paramCount(): number {
    return this.text.paramCount() + this.encoder.paramCount() + this.decoder.paramCount();
  }

  private kernels(backend?: BackendName): Kernels {
    return modelKernels(this.backend, backend);
  }

  /** Token ids [n, L] of a list of captions (bad words are E_ARG). */
  private ids(what: string, captions: readonly string[]): Int32Array {
    if (!Array.isArray(captions)) throw new DeepgenError("E_ARG", `${what}: captions must be an array of strings`);
    return tokenizeAll(captions, this.config.tokens);
  }

  /** The caption embeddings e(t) [n, E] (captions normalized and tokenized; bad words are E_ARG). */
  encodeText(captions: string | readonly string[]): Float32Array {
    return this.text.forward(this.ids("TextCvae.encodeText", typeof captions === "string" ? [captions] : captions));
  }

  /** Rows of binary canvases x [n, 3600] with one caption each; returns n and the caption ids. */
  private canvasRows(what: string, x: Float32Array, captions: readonly string[], checkInput?: boolean): { n: number; ids: Int32Array } {
    const n = inputRows(what, x, CANVAS_DIM, "binary", { checkInput });
    const ids = this.ids(what, captions);
    if (captions.length !== n) throw new DeepgenError("E_SHAPE", `${what}: ${n} canvases but ${captions.length} captions`);
    return { n, ids };
  }

  // ---- the objective ----

  /**
   * One batch of the training objective loss = (sum BCE + sum KL) / m and its gradient, written
   * into the gradient arrays of the encoder, decoder and caption encoder (grads()). x [m, 3600]
   * binary, ids [m, L] token ids; draw i uses sample index i of reparam stream o.stream.
   * Returns the batch's summed terms. Public for the trainer and gradient checks.
   */
  lossAndGradients(
    k: Kernels,
    x: Float32Array,
    ids: Int32Array,
    m: number,
    o: { seed: Seed; stream: number },
  ): { rec: number; kl: number; loss: number } {
    return this.objective.lossAndGradients(k, x, ids, m, o);
  }

  /**
   * Mean ELBO terms of binary canvases x [n, 3600] under their captions, one draw per canvas
   * (CVAE_ELBO_STREAM, sample index = row: deterministic for a seed, whatever the batch size).
   */
  elbo(x: Float32Array, captions: readonly string[], options?: TextCvaeElboOptions): TextCvaeElbo {
    const opts = checkOptions("TextCvae.elbo", options, ELBO_KEYS);
    const { n, ids } = this.canvasRows("TextCvae.elbo", x, captions, opts.checkInput);
    const k = this.kernels(opts.backend);
    const bs = checkInteger("batchSize", opts.batchSize ?? 500, 1);
    return this.objective.mean(k, x, ids, n, this.config.tokens, bs, opts.seed ?? 0);
  }

  params(): Record<string, Float32Array> {
    return { ...this.text.params(), ...this.encoder.params(), ...this.decoder.params() };
  }

  grads(): Record<string, Float32Array> {
    return { ...this.text.grads(), ...this.encoder.grads(), ...this.decoder.grads() };
  }

  /** Trains on the ELBO with Adam and early stopping; keeps the best parameters (lib/models/text-cvae-trainer.ts). */
  async fit(options?: TextCvaeFitOptions): Promise<TextCvaeFitResult> {
    return this.preparedEncoder.whileTraining(() => this.preparedDecoder.whileTraining(() => fitTextCvae(this, options)));
  }

  /** After changing weights in place: drops the prepared copies of the networks. */
  weightsChanged(): void {
    this.preparedDecoder.invalidate();
    this.preparedEncoder.invalidate();
  }

  // ---- likelihood ----

  /**
   * The importance-weighted estimate of -log p(x | t) in nats, the mean over the canvases x
   * [n, 3600] (binary) and their captions: L_k = log (1/k) sum_i p(x, z_i | t) / q(z_i | x, t),
   * z_i ~ q(z | x, t); draw i of canvas r has sample index r * k + i, so the estimate does not
   * depend on `chunk`. k = 1 is the one-draw bound (its KL sampled, not closed form).
   */
  iwaeSync(x: Float32Array, captions: readonly string[], options?: TextCvaeIwaeOptions): number {
    const opts = checkOptions("TextCvae.iwaeSync", options, IWAE_KEYS);
    const { n, ids } = this.canvasRows("TextCvae.iwaeSync", x, captions, opts.checkInput);
    return sizedRequest("TextCvae.iwae", n, this.iwaeBytesPerRow(), () => {
      const k = this.kernels(opts.backend);
      const { e, encIn } = this.encoderInput(x, ids, n);
      const prepared = this.preparedEncoder.get(k);
      const h = prepared !== undefined ? prepared.forwardSync(encIn, n) : this.encoder.forward(k, encIn, n).slice();
      const steps = iwaeDraws(k, { x, e, h, n, latent: this.latent, textDim: this.textDim }, opts);
      let r = steps.next();
      while (!r.done) r = steps.next(this.decoding.output(r.value.rows, r.value.count, opts.backend));
      return r.value;
    });
  }

  /** iwaeSync's estimate, its networks run as native jobs off the event loop (a CUDA model runs them here). */
  async iwae(x: Float32Array, captions: readonly string[], options?: TextCvaeIwaeAsyncOptions): Promise<number> {
    const opts = checkOptions("TextCvae.iwae", options, IWAE_ASYNC_KEYS);
    const { n, ids } = this.canvasRows("TextCvae.iwae", x, captions, opts.checkInput);
    return sizedRequest("TextCvae.iwae", n, this.iwaeBytesPerRow(), async () => {
      const k = this.kernels(opts.backend);
      const aborted = () => {
        if (opts.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
      };
      aborted();
      const { e, encIn } = this.encoderInput(x, ids, n);
      const encoder = this.preparedEncoder.get(k);
      const decoder = this.preparedDecoder.get(k);
      const h =
        encoder !== undefined ? await encoder.forward(encIn, n, { signal: opts.signal }) : this.encoder.forward(k, encIn, n).slice();
      const steps = iwaeDraws(k, { x, e, h, n, latent: this.latent, textDim: this.textDim }, opts);
      let r = steps.next();
      while (!r.done) {
        aborted();
        opts.onProgress?.(r.value.done);
        // The decoder's forward, most of the work, runs as a native job; the rest of a chunk is
        // a few small kernels on this thread.
        const logits =
          decoder !== undefined
            ? await decoder.forward(r.value.rows, r.value.count, { signal: opts.signal })
            : this.decoding.output(r.value.rows, r.value.count, opts.backend);
        if (decoder === undefined) await yieldToEventLoop();
        r = steps.next(logits);
      }
      opts.onProgress?.(1);
      return r.value;
    });
  }

  /** The caption embeddings e [n, E] of token ids [n, L] and the encoder's input rows [x, e] [n, 3600 + E]. */
  private encoderInput(x: Float32Array, ids: Int32Array, n: number): { e: Float32Array; encIn: Float32Array } {
    const e = this.text.forward(ids);
    return { e, encIn: joinColumns(x, CANVAS_DIM, e, this.textDim, n, new Float32Array(n * (CANVAS_DIM + this.textDim))) };
  }

  /** Bytes an IWAE request holds per canvas: the encoder's input and output, the caption embedding. */
  private iwaeBytesPerRow(): number {
    return 4 * (CANVAS_DIM + 2 * this.textDim + 2 * this.latent) + netBytesPerRow(this.encoder);
  }

  // ---- generation ----

  /**
   * The decoder's input rows [n, latent + E]: row i's z (row i of the seed's normal draw) and e(captions[i]).
   * @internal used by the trainers and loaders, not part of the public API
   */
  latentRows(captions: readonly string[], seed: Seed): Float32Array {
    return this.decoding.latentRows(captions, seed);
  }

  /** Pixel probabilities [n, 3600] of a caption (n images) or of each caption of a list, synchronously. */
  generateSync(captions: string | readonly string[], options?: GenerateOptions): GeneratedImages {
    return this.decoding.generateSync(captions, options);
  }

  /** The same images as generateSync, drawn off the event loop (a native job; CUDA runs on the calling thread). */
  async generate(captions: string | readonly string[], options?: GenerateAsyncOptions): Promise<GeneratedImages> {
    return this.decoding.generate(captions, options);
  }

  /** Images of captions given as MNIST-Captions-60 records (the metrics' generator). */
  async generateCaptions(captions: readonly Caption[], options: { seed: Seed; signal?: AbortSignal }): Promise<Float32Array> {
    return (await this.generate(captions.map(captionText), { seed: options.seed, signal: options.signal })).x;
  }

  /**
   * Rows of `steps` images at fixed z (row r: z row r of the seed) whose caption embeddings
   * move linearly from captionA's to captionB's: [rows * steps, 3600], row-major.
   */
  interpolateCaptions(
    captionA: string,
    captionB: string,
    options: { steps?: number; rows?: number; seed?: Seed; backend?: BackendName } = {},
  ): Float32Array {
    return this.decoding.interpolateCaptions(captionA, captionB, options);
  }

  // ---- files ----

  /** Every parameter, by file name. */
  tensors(): Record<string, TensorToWrite> {
    const out = netTensors([this.encoder, this.decoder]);
    const shapes = this.text.shapes();
    for (const [name, p] of Object.entries(this.text.params())) out[name] = { shape: shapes[name]!, data: p };
    return out;
  }

  /** Reads every parameter from a model or checkpoint file. */
  loadParams(file: ModelFile<unknown>): void {
    for (const [name, t] of Object.entries(this.tensors())) (t.data as Float32Array).set(requireF32(file, name, t.shape));
    this.weightsChanged();
  }

  async save(path: string, extraMetadata: Record<string, string> = {}): Promise<void> {
    await writeSafetensors(path, this.tensors(), modelMetadata(this.kind, this.config, extraMetadata));
  }

  static async load(path: string, options?: { backend?: BackendName }): Promise<TextCvae> {
    const opts = checkOptions("TextCvae.load", options, optionKeys<{ backend?: BackendName }>({ backend: true }));
    const { file, config } = await readModelFile<TextCvaeConfig>(path, "text-cvae", TextCvae.checkConfig);
    const model = TextCvae.build(config, 0);
    model.loadParams(file);
    model.backend = opts.backend;
    return model;
  }
}
