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
 * The reconstruction term takes one reparameterized draw (the reparam kernels); the KL is
 * closed form (gaussianKl kernels). Both networks read e(t), so the caption encoder learns from
 * the gradients of both. iwae estimates -log p(x | t) by importance weighting (Burda et al.
 * 2016) with q(z | x, t) as the proposal, k draws per canvas in chunks, a stable log-sum-exp.
 *
 * Noise, as the VAE's (lib/models/vae.ts): training step s uses reparam stream s, sample index =
 * position in the batch; elbo uses CVAE_ELBO_STREAM with sample index = row, iwae
 * CVAE_IWAE_STREAM with sample index row * k + i; generation row i of the seed's normal fill on
 * CVAE_SAMPLE_Z_STREAM. So no result depends on batch or chunk sizes, and image i of a
 * generate call depends only on caption i and the seed.
 *
 * Generation returns the decoder's pixel probabilities (the mean image of p(x | z, t)), drawn
 * by the prepared decoder as a native job off the event loop (CUDA runs on the calling thread).
 *
 * Files: text.table, text.b; enc.<i>.w, enc.<i>.b; dec.<i>.w, dec.<i>.b; deepgen.model
 * "text-cvae". Training lives in text-cvae-trainer.ts, the IWAE estimator in
 * text-cvae-iwae.ts.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { normalizeCaption, tokenizeAll, VOCABULARY } from "../data/caption-tokens.js";
import { CAPTION_TOKENS, CANVAS_DIM, type Caption, captionText } from "../data/mnist-captions.js";
import { type ModelFile, modelMetadata, readModelFile, requireF32 } from "../io/model-file.js";
import { type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import type { OutputMap } from "../kernels/ops/prepared-net.js";
import { Mlp } from "../nn/dense.js";
import { TokenEmbedding } from "../nn/token-embedding.js";
import { checkWidths, VAE_ACTIVATIONS, type VaeActivation } from "./autoencoder.js";
import { netTensors } from "./checkpoint.js";
import { inputRows, modelKernels, netBytesPerRow, sizedRequest } from "./common.js";
import { sigmoidInPlace } from "./latent.js";
import { PreparedNetCache } from "./prepared-cache.js";
import type { GenerateAsyncOptions, GeneratedImages, GenerateOptions } from "./text2image.js";
import { iwaeDraws } from "./text-cvae-iwae.js";
import { fitTextCvae, type TextCvaeElbo, type TextCvaeFitOptions, type TextCvaeFitResult } from "./text-cvae-trainer.js";

export type { TextCvaeElbo, TextCvaeEpochRecord, TextCvaeFitOptions, TextCvaeFitResult } from "./text-cvae-trainer.js";
export { binarizedCanvases } from "./text-cvae-trainer.js";
export { CVAE_IWAE_STREAM } from "./text-cvae-iwae.js";

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

/** Options of elbo(). */
export interface TextCvaeElboOptions {
  seed?: Seed;
  /** Canvases per forward pass (default 500). */
  batchSize?: number;
  backend?: BackendName;
  /** false skips the check that x is binary (data the caller has binarized). */
  checkInput?: boolean;
}

/** Options of iwaeSync(). */
export interface TextCvaeIwaeOptions {
  /** Importance samples per canvas (1..100000; default 500; 1 gives a one-draw bound). */
  k?: number;
  /** Draws per decoder pass (memory bound; default 1000). */
  chunk?: number;
  seed?: Seed;
  backend?: BackendName;
  checkInput?: boolean;
}

export interface TextCvaeIwaeAsyncOptions extends TextCvaeIwaeOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
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
const GENERATE_KEYS = optionKeys<GenerateOptions>({ n: true, seed: true, backend: true });
const GENERATE_ASYNC_KEYS = optionKeys<GenerateAsyncOptions>({ n: true, seed: true, backend: true, signal: true, onProgress: true });

const TEXT_STREAM = 900;
const ENC_STREAM = 910;
const DEC_STREAM = 930;
/** Philox streams of generation's z and of elbo's draws ("CVZ0", "CVE0"; iwae's is CVAE_IWAE_STREAM). */
export const CVAE_SAMPLE_Z_STREAM = 0x4356_5a30;
export const CVAE_ELBO_STREAM = 0x4356_4530;
const SIGMOID: OutputMap = { activation: "sigmoid" };

/** out [n, a + b] = [A_i, B_i] of A [n, a] and B [n, b]. */
function joinColumns(A: Float32Array, a: number, B: Float32Array, b: number, n: number, out: Float32Array): Float32Array {
  for (let i = 0; i < n; i++) {
    out.set(A.subarray(i * a, (i + 1) * a), i * (a + b));
    out.set(B.subarray(i * b, (i + 1) * b), i * (a + b) + a);
  }
  return out;
}

/** out [n, cols] = columns [from, from + cols) of src [n, stride]. */
function takeColumns(src: Float32Array, n: number, stride: number, from: number, cols: number, out: Float32Array): Float32Array {
  for (let i = 0; i < n; i++) out.set(src.subarray(i * stride + from, i * stride + from + cols), i * cols);
  return out;
}

export class TextCvae {
  readonly kind = "text-cvae";
  backend: BackendName | undefined;
  private readonly preparedDecoder: PreparedNetCache;
  private readonly preparedEncoder: PreparedNetCache;

  constructor(
    readonly config: TextCvaeConfig,
    readonly text: TokenEmbedding,
    readonly encoder: Mlp,
    readonly decoder: Mlp,
  ) {
    this.preparedDecoder = new PreparedNetCache(decoder);
    this.preparedEncoder = new PreparedNetCache(encoder);
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

  private buf:
    | {
        rows: number;
        e: Float32Array;
        encIn: Float32Array;
        mu: Float32Array;
        lv: Float32Array;
        z: Float32Array;
        eps: Float32Array;
        decIn: Float32Array;
        dlogits: Float32Array;
        dz: Float32Array;
        dmu: Float32Array;
        dlv: Float32Array;
        dh: Float32Array;
        de: Float32Array;
      }
    | undefined;

  private buffers(m: number) {
    if (this.buf === undefined || this.buf.rows < m) {
      const { latent: L, textDim: E } = this;
      const f = (w: number) => new Float32Array(m * w);
      this.buf = {
        rows: m,
        e: f(E),
        encIn: f(CANVAS_DIM + E),
        mu: f(L),
        lv: f(L),
        z: f(L),
        eps: f(L),
        decIn: f(L + E),
        dlogits: f(CANVAS_DIM),
        dz: f(L),
        dmu: f(L),
        dlv: f(L),
        dh: f(2 * L),
        de: f(E),
      };
    }
    return this.buf;
  }

  /** Forward of a batch: summed reconstruction NLL and KL; keeps the buffers for a backward. */
  private forwardTerms(
    k: Kernels,
    x: Float32Array,
    ids: Int32Array,
    m: number,
    noise: { seed: Seed; stream: number; firstSample: number },
  ): { rec: number; kl: number; logits: Float32Array } {
    const { latent: L, textDim: E } = this;
    const b = this.buffers(m);
    const e = this.text.forward(ids, b.e.subarray(0, m * E));
    const h = this.encoder.forward(k, joinColumns(x, CANVAS_DIM, e, E, m, b.encIn.subarray(0, m * (CANVAS_DIM + E))), m);
    const mu = takeColumns(h, m, 2 * L, 0, L, b.mu.subarray(0, m * L));
    const lv = takeColumns(h, m, 2 * L, L, L, b.lv.subarray(0, m * L));
    const z = b.z.subarray(0, m * L);
    k.reparamForward(z, b.eps.subarray(0, m * L), mu, lv, { rows: m, cols: L, ...noise });
    const logits = this.decoder.forward(k, joinColumns(z, L, e, E, m, b.decIn.subarray(0, m * (L + E))), m);
    return { rec: k.bceWithLogitsForward(null, logits, x, m, CANVAS_DIM), kl: k.gaussianKlForward(null, mu, lv, m, L), logits };
  }

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
    const { latent: L, textDim: E } = this;
    const t = this.forwardTerms(k, x, ids, m, { seed: o.seed, stream: o.stream, firstSample: 0 });
    const b = this.buffers(m);
    const dlogits = b.dlogits.subarray(0, m * CANVAS_DIM);
    k.bceWithLogitsBackward(dlogits, t.logits, x, m, CANVAS_DIM, 1 / m);
    const ddec = this.decoder.backward(k, dlogits, m, true)!;
    const dz = takeColumns(ddec, m, L + E, 0, L, b.dz.subarray(0, m * L));
    const de = takeColumns(ddec, m, L + E, L, E, b.de.subarray(0, m * E));
    const mu = b.mu.subarray(0, m * L);
    const lv = b.lv.subarray(0, m * L);
    const dmu = b.dmu.subarray(0, m * L);
    const dlv = b.dlv.subarray(0, m * L);
    k.gaussianKlBackward(dmu, dlv, mu, lv, m, L, 1 / m);
    k.reparamBackward(dmu, dlv, dz, b.eps.subarray(0, m * L), lv, m, L, 1, true);
    const dh = joinColumns(dmu, L, dlv, L, m, b.dh.subarray(0, m * 2 * L));
    const denc = this.encoder.backward(k, dh, m, true)!;
    // e(t) feeds both networks: its gradient is the sum of what each sends back
    for (let i = 0; i < m; i++) for (let c = 0; c < E; c++) de[i * E + c] = de[i * E + c]! + denc[i * (CANVAS_DIM + E) + CANVAS_DIM + c]!;
    this.text.backward(ids, de);
    return { rec: t.rec, kl: t.kl, loss: (t.rec + t.kl) / m };
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
    const T = this.config.tokens;
    let rec = 0;
    let kl = 0;
    for (let b = 0; b < n; b += bs) {
      const m = Math.min(bs, n - b);
      const t = this.forwardTerms(k, x.subarray(b * CANVAS_DIM, (b + m) * CANVAS_DIM), ids.subarray(b * T, (b + m) * T), m, {
        seed: opts.seed ?? 0,
        stream: CVAE_ELBO_STREAM,
        firstSample: b,
      });
      rec += t.rec;
      kl += t.kl;
    }
    const d = Math.max(1, n);
    return { reconstruction: rec / d, kl: kl / d, negElbo: (rec + kl) / d };
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
      while (!r.done) r = steps.next(this.decoderOutput(r.value.rows, r.value.count, opts.backend));
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
            : this.decoderOutput(r.value.rows, r.value.count, opts.backend);
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

  /** The decoder's output [n, 3600] of input rows [z, e] [n, latent + E]: logits, or with `map` their probabilities. */
  private decoderOutput(rows: Float32Array, n: number, backend?: BackendName, map?: OutputMap): Float32Array {
    const k = this.kernels(backend);
    const prepared = this.preparedDecoder.get(k);
    if (prepared !== undefined) return prepared.forwardSync(rows, n, map);
    const y = this.decoder.forward(k, rows, n).slice();
    return map === undefined ? y : sigmoidInPlace(y);
  }

  /** The captions of a generate call, one per image. */
  private captionRows(what: string, captions: string | readonly string[], n: number | undefined): string[] {
    if (typeof captions === "string") {
      const count = checkInteger(`${what}: n`, n ?? 1, 1);
      return new Array<string>(count).fill(normalizeCaption(captions));
    }
    if (!Array.isArray(captions) || captions.length === 0)
      throw new DeepgenError("E_ARG", `${what}: give a caption or a non-empty list of captions`);
    if (n !== undefined && n !== captions.length)
      throw new DeepgenError("E_ARG", `${what}: n (${n}) must match the ${captions.length} captions given, or be left out`);
    return captions.map((c) => normalizeCaption(c));
  }

  /** The decoder's input rows [n, latent + E]: row i's z (row i of the seed's normal draw) and e(captions[i]). */
  latentRows(captions: readonly string[], seed: Seed): Float32Array {
    const n = captions.length;
    const z = new Float32Array(n * this.latent);
    this.kernels("js").philoxFill(z, seed, CVAE_SAMPLE_Z_STREAM, "normal");
    return joinColumns(z, this.latent, this.encodeText(captions), this.textDim, n, new Float32Array(n * (this.latent + this.textDim)));
  }

  private sized<T>(what: string, n: number, run: () => T): T {
    return sizedRequest(what, n, 4 * (this.latent + this.textDim) + 4 * CANVAS_DIM * 4, run);
  }

  /** Pixel probabilities [n, 3600] of a caption (n images) or of each caption of a list, synchronously. */
  generateSync(captions: string | readonly string[], options?: GenerateOptions): GeneratedImages {
    const opts = checkOptions("TextCvae.generateSync", options, GENERATE_KEYS);
    const rows = this.captionRows("TextCvae.generateSync", captions, opts.n);
    const n = rows.length;
    return this.sized("TextCvae.generate", n, () => ({
      x: this.decoderOutput(this.latentRows(rows, opts.seed ?? 0), n, opts.backend, SIGMOID),
      n,
      captions: rows,
    }));
  }

  /** The same images as generateSync, drawn off the event loop (a native job; CUDA runs on the calling thread). */
  async generate(captions: string | readonly string[], options?: GenerateAsyncOptions): Promise<GeneratedImages> {
    const opts = checkOptions("TextCvae.generate", options, GENERATE_ASYNC_KEYS);
    const rows = this.captionRows("TextCvae.generate", captions, opts.n);
    const n = rows.length;
    return this.sized("TextCvae.generate", n, async () => {
      const latent = this.latentRows(rows, opts.seed ?? 0);
      const prepared = this.preparedDecoder.get(this.kernels(opts.backend));
      if (opts.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
      const x =
        prepared !== undefined
          ? await prepared.forward(latent, n, { signal: opts.signal, onProgress: opts.onProgress, map: SIGMOID })
          : this.decoderOutput(latent, n, opts.backend, SIGMOID);
      return { x, n, captions: rows };
    });
  }

  /** Images of captions given as MNIST-Captions-60 records (the metrics' generator). */
  async generateCaptions(captions: readonly Caption[], seed: Seed, signal?: AbortSignal): Promise<Float32Array> {
    return (await this.generate(captions.map(captionText), { seed, signal })).x;
  }

  /**
   * Rows of `steps` images at fixed z (row r: z row r of the seed) whose caption embeddings
   * move linearly from captionA's to captionB's: [rows * steps, 3600], row-major.
   */
  interpolateSync(
    captionA: string,
    captionB: string,
    options: { steps?: number; rows?: number; seed?: Seed; backend?: BackendName } = {},
  ): Float32Array {
    const steps = checkInteger("steps", options.steps ?? 8, 2, 64);
    const rows = checkInteger("rows", options.rows ?? 1, 1, 64);
    const [ea, eb] = [this.encodeText(captionA), this.encodeText(captionB)];
    const { latent: L, textDim: E } = this;
    const z = new Float32Array(rows * L);
    this.kernels("js").philoxFill(z, options.seed ?? 0, CVAE_SAMPLE_Z_STREAM, "normal");
    const n = rows * steps;
    const input = new Float32Array(n * (L + E));
    for (let r = 0; r < rows; r++) {
      for (let s = 0; s < steps; s++) {
        const i = r * steps + s;
        const f = s / (steps - 1);
        input.set(z.subarray(r * L, (r + 1) * L), i * (L + E));
        for (let c = 0; c < E; c++) input[i * (L + E) + L + c] = (1 - f) * ea[c]! + f * eb[c]!;
      }
    }
    return this.decoderOutput(input, n, options.backend, SIGMOID);
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
