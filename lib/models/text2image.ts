/**
 * Text to image on MNIST-Captions-60: GAN-INT-CLS (Reed et al. 2016). A caption reaches the
 * networks only as token ids (lib/data/caption-tokens.ts); each network has its own caption
 * encoder (lib/nn/caption-encoder.ts), learned with it:
 *
 *   generator      [z, e_G(t)] -> DCGAN generator (lib/nn/dcgan-nets.ts) -> tanh -> 60x60
 *   discriminator  x -> DCGAN discriminator -> [o_0, v] (1 + E outputs);
 *                  logit(x, t) = o_0 + v . e_D(t)   (a projection discriminator on the caption)
 *
 * trained with the matching-aware loss and GAN-INT's interpolated captions
 * (lib/models/text2image-trainer.ts, lib/models/text2image-loss.ts). Sampling runs batch norm
 * in evaluation mode through a prepared network (a native job off the event loop), so image i
 * depends only on its caption and row i of the seed's noise: the same seed and captions give
 * the same images on every backend, in any batch.
 *
 * Files: gen.<i>.*, disc.<i>.* (+ batch-norm running statistics), gentext.*, disctext.*;
 * deepgen.model "text2image".
 */
import { checkInteger, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { CAPTION_TOKENS, CANVAS_DIM, CANVAS_SIDE, type Caption, captionText } from "../data/mnist-captions.js";
import { captionRows, normalizeCaption, tokenizeAll, VOCABULARY } from "../data/caption-tokens.js";
import { type ModelFile, modelMetadata, readModelFile, requireF32 } from "../io/model-file.js";
import { type TensorToWrite, writeSafetensors } from "../io/safetensors.js";
import type { BackendName } from "../kernels/kernels.js";
import type { OutputMap } from "../kernels/ops/prepared-net.js";
import { DcganDiscriminator, DcganGenerator } from "../nn/dcgan-nets.js";
import { CaptionEncoder } from "../nn/caption-encoder.js";
import { netTensors } from "./checkpoint.js";
import { modelKernels, sizedRequest } from "./common.js";
import { PreparedNetCache } from "./prepared-cache.js";
import { fitText2Image, type TextToImageFitOptions, type TextToImageFitResult } from "./text2image-trainer.js";
import type { ModelCard } from "./card.js";

export type { TextToImageEpochRecord, TextToImageFitOptions, TextToImageFitResult } from "./text2image-trainer.js";

export interface TextToImageConfig {
  arch: "gan";
  zdim: number;
  /** Width E of the caption embeddings, and of the caption encoders' hidden layer. */
  textDim: number;
  textHidden: number;
  /** Tokens per caption and the vocabulary, in id order. */
  tokens: number;
  vocabulary: string[];
  /** Generator channels [after the dense, after the first convT]; discriminator channels. */
  channels: [number, number];
  discChannels: [number, number];
}

export interface TextToImageCreateOptions {
  zdim?: number;
  textDim?: number;
  textHidden?: number;
  channels?: [number, number];
  discChannels?: [number, number];
  initSeed?: number;
  backend?: BackendName;
}

/** Options of generate and generateSync. */
export interface GenerateOptions {
  /** Images per caption when one caption is given (default 1); with a list, one image per caption. */
  n?: number;
  seed?: Seed;
  backend?: BackendName;
}

export interface GenerateAsyncOptions extends GenerateOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number) => void;
}

export interface GeneratedImages {
  /** [n, 3600] grayscale in [0, 1], row i showing captions[i]. */
  x: Float32Array;
  n: number;
  /** The normalized caption of each row. */
  captions: string[];
}

const CREATE_KEYS = optionKeys<TextToImageCreateOptions>({
  zdim: true,
  textDim: true,
  textHidden: true,
  channels: true,
  discChannels: true,
  initSeed: true,
  backend: true,
});
const GENERATE_KEYS = optionKeys<GenerateOptions>({ n: true, seed: true, backend: true });
const GENERATE_ASYNC_KEYS = optionKeys<GenerateAsyncOptions>({ n: true, seed: true, backend: true, signal: true, onProgress: true });

const GEN_STREAM = 800;
const DISC_STREAM = 810;
const GEN_TEXT_STREAM = 820;
const DISC_TEXT_STREAM = 830;
/** The Philox stream of generation noise (training uses streams of its own). */
export const T2I_SAMPLE_Z_STREAM = 0x5432_4930; // "T2I0"
const IMAGE_MAP: OutputMap = { shift: 1, scale: 0.5 };

export class TextToImage {
  /** The model card beside the file it was loaded from (set by `load`), else null. */
  card: ModelCard | null = null;
  readonly kind = "text2image";
  backend: BackendName | undefined;
  private readonly prepared: PreparedNetCache;

  constructor(
    readonly config: TextToImageConfig,
    readonly generator: DcganGenerator,
    readonly discriminator: DcganDiscriminator,
    readonly genText: CaptionEncoder,
    readonly discText: CaptionEncoder,
  ) {
    this.prepared = new PreparedNetCache(generator);
  }

  get dim(): number {
    return CANVAS_DIM;
  }

  get zdim(): number {
    return this.config.zdim;
  }

  get textDim(): number {
    return this.config.textDim;
  }

  get latentDim(): number {
    return this.config.zdim + this.config.textDim;
  }

  static checkConfig(c: Partial<TextToImageConfig>, source: string): TextToImageConfig {
    if (c.arch !== "gan") throw new DeepgenError("E_ARG", `${source}: arch must be "gan", got ${String(c.arch)}`);
    const pair = (what: string, v: unknown): [number, number] => {
      if (!Array.isArray(v) || v.length !== 2) throw new DeepgenError("E_ARG", `${source}: ${what} must be two integers`);
      return [checkInteger(`${source}: ${what}[0]`, v[0], 1, 4096), checkInteger(`${source}: ${what}[1]`, v[1], 1, 4096)];
    };
    if (!Array.isArray(c.vocabulary) || c.vocabulary.join(" ") !== VOCABULARY.join(" "))
      throw new DeepgenError("E_ARG", `${source}: the vocabulary differs from this version's MNIST-Captions-60 vocabulary`);
    return {
      arch: "gan",
      zdim: checkInteger(`${source}: zdim`, c.zdim, 1, 4096),
      textDim: checkInteger(`${source}: textDim`, c.textDim, 1, 4096),
      textHidden: checkInteger(`${source}: textHidden`, c.textHidden, 1, 4096),
      tokens: checkInteger(`${source}: tokens`, c.tokens, CAPTION_TOKENS, CAPTION_TOKENS),
      vocabulary: [...VOCABULARY],
      channels: pair("channels", c.channels),
      discChannels: pair("discChannels", c.discChannels),
    };
  }

  private static build(config: TextToImageConfig, seed: number): TextToImage {
    const spec = {
      zdim: config.zdim + config.textDim,
      height: CANVAS_SIDE,
      width: CANVAS_SIDE,
      channels: config.channels,
      discChannels: config.discChannels,
      discNorm: false,
      discStddev: false,
    };
    const V = config.vocabulary.length;
    return new TextToImage(
      config,
      new DcganGenerator("gen", spec, { seed, stream: GEN_STREAM }),
      new DcganDiscriminator("disc", spec, { seed, stream: DISC_STREAM }, 1 + config.textDim),
      new CaptionEncoder("gentext", config.tokens, V, config.textHidden, config.textDim, { seed, stream: GEN_TEXT_STREAM }),
      new CaptionEncoder("disctext", config.tokens, V, config.textHidden, config.textDim, { seed, stream: DISC_TEXT_STREAM }),
    );
  }

  static create(options?: TextToImageCreateOptions): TextToImage {
    const opts = checkOptions("TextToImage.create", options, CREATE_KEYS);
    const config = TextToImage.checkConfig(
      {
        arch: "gan",
        zdim: opts.zdim ?? 100,
        textDim: opts.textDim ?? 128,
        textHidden: opts.textHidden ?? 256,
        tokens: CAPTION_TOKENS,
        vocabulary: [...VOCABULARY],
        channels: opts.channels ?? [128, 64],
        discChannels: opts.discChannels ?? [64, 128],
      },
      "create",
    );
    const model = TextToImage.build(config, checkInteger("initSeed", opts.initSeed ?? 0, 0));
    model.backend = opts.backend;
    return model;
  }

  paramCount(): number {
    return this.generator.paramCount() + this.discriminator.paramCount() + this.genText.paramCount() + this.discText.paramCount();
  }

  /**
   * The generator's embeddings [n, E] of captions (normalized and tokenized; bad words are
   * E_ARG). Each distinct caption is encoded once: a request for n images of one caption
   * costs one encoder pass.
   */
  encodeText(captions: string | readonly string[], options: { backend?: BackendName } = {}): Float32Array {
    const list = (typeof captions === "string" ? [captions] : captions).map((c) => normalizeCaption(c));
    const distinct = [...new Set(list)];
    const k = modelKernels(this.backend, options.backend);
    const encoded = this.genText.forward(k, tokenizeAll(distinct, this.config.tokens));
    const E = this.textDim;
    if (distinct.length === list.length) return encoded;
    const at = new Map(distinct.map((c, i) => [c, i]));
    const out = new Float32Array(list.length * E);
    list.forEach((c, i) => {
      const j = at.get(c)!;
      out.set(encoded.subarray(j * E, (j + 1) * E), i * E);
    });
    return out;
  }

  /**
   * The generator's input rows [n, zdim + E]: row i's noise (row i of the seed's draw) and e_G(captions[i]).
   * @internal used by the trainers and loaders, not part of the public API
   */
  latentRows(captions: readonly string[], seed: Seed, backend?: BackendName): Float32Array {
    const n = captions.length;
    const z = new Float32Array(n * this.zdim);
    modelKernels(this.backend, "js").philoxFill(z, seed, T2I_SAMPLE_Z_STREAM, "normal");
    return this.joinRows(z, this.encodeText(captions, { backend }), n);
  }

  /**
   * [z_i, e_i] rows of z [n, zdim] and e [n, E].
   * @internal used by the trainers and loaders, not part of the public API
   */
  joinRows(z: Float32Array, e: Float32Array, n: number, out = new Float32Array(n * this.latentDim)): Float32Array {
    const { zdim, textDim: E, latentDim: w } = this;
    for (let i = 0; i < n; i++) {
      out.set(z.subarray(i * zdim, (i + 1) * zdim), i * w);
      out.set(e.subarray(i * E, (i + 1) * E), i * w + zdim);
    }
    return out;
  }

  private sized<T>(what: string, n: number, run: () => T): T {
    return sizedRequest(what, n, 4 * this.latentDim + 4 * CANVAS_DIM * 8, run);
  }

  /**
   * G's images [n, 3600] in [0, 1] for input rows [n, zdim + E] (evaluation mode).
   * @internal used by the trainers and loaders, not part of the public API
   */
  imagesSync(rows: Float32Array, n: number, backend?: BackendName): Float32Array {
    const k = modelKernels(this.backend, backend);
    const prepared = this.prepared.get(k);
    if (prepared !== undefined) return prepared.forwardSync(rows, n, IMAGE_MAP);
    this.generator.setTraining(false);
    const y = this.generator.forward(k, rows, n).slice();
    for (let i = 0; i < y.length; i++) y[i] = Math.fround(y[i]! + 1) * 0.5;
    return y;
  }

  /** Images of a caption (n of them) or of each caption of a list, synchronously. */
  generateSync(captions: string | readonly string[], options?: GenerateOptions): GeneratedImages {
    const opts = checkOptions("TextToImage.generateSync", options, GENERATE_KEYS);
    const rows = captionRows("TextToImage.generateSync", captions, opts.n);
    const n = rows.length;
    return this.sized("TextToImage.generate", n, () => ({
      x: this.imagesSync(this.latentRows(rows, opts.seed ?? 0, opts.backend), n, opts.backend),
      n,
      captions: rows,
    }));
  }

  /** The same images as generateSync, drawn off the event loop (a native job; CUDA runs on the calling thread). */
  async generate(captions: string | readonly string[], options?: GenerateAsyncOptions): Promise<GeneratedImages> {
    const opts = checkOptions("TextToImage.generate", options, GENERATE_ASYNC_KEYS);
    const rows = captionRows("TextToImage.generate", captions, opts.n);
    const n = rows.length;
    return this.sized("TextToImage.generate", n, async () => {
      const latent = this.latentRows(rows, opts.seed ?? 0, opts.backend);
      const k = modelKernels(this.backend, opts.backend);
      const prepared = this.prepared.get(k);
      if (opts.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
      const x =
        prepared !== undefined
          ? await prepared.forward(latent, n, { signal: opts.signal, onProgress: opts.onProgress, map: IMAGE_MAP })
          : this.imagesSync(latent, n, opts.backend);
      return { x, n, captions: rows };
    });
  }

  /** Images of captions given as MNIST-Captions-60 records (the metrics' generator). */
  async generateCaptions(captions: readonly Caption[], options: { seed: Seed; signal?: AbortSignal }): Promise<Float32Array> {
    return (await this.generate(captions.map(captionText), { seed: options.seed, signal: options.signal })).x;
  }

  /**
   * Rows of `steps` images at fixed noise (row r: noise row r of the seed) whose caption
   * embeddings move linearly from captionA's to captionB's: [rows * steps, 3600], row-major.
   */
  interpolateCaptions(
    captionA: string,
    captionB: string,
    options: { steps?: number; rows?: number; seed?: Seed; backend?: BackendName } = {},
  ): Float32Array {
    const steps = checkInteger("steps", options.steps ?? 8, 2, 64);
    const rows = checkInteger("rows", options.rows ?? 1, 1, 64);
    const [ea, eb] = [this.encodeText(captionA, options), this.encodeText(captionB, options)];
    const z = new Float32Array(rows * this.zdim);
    modelKernels(this.backend, "js").philoxFill(z, options.seed ?? 0, T2I_SAMPLE_Z_STREAM, "normal");
    const E = this.textDim;
    const zs = new Float32Array(rows * steps * this.zdim);
    const es = new Float32Array(rows * steps * E);
    for (let r = 0; r < rows; r++) {
      for (let s = 0; s < steps; s++) {
        const i = r * steps + s;
        const f = s / (steps - 1);
        zs.set(z.subarray(r * this.zdim, (r + 1) * this.zdim), i * this.zdim);
        for (let c = 0; c < E; c++) es[i * E + c] = (1 - f) * ea[c]! + f * eb[c]!;
      }
    }
    return this.imagesSync(this.joinRows(zs, es, rows * steps), rows * steps, options.backend);
  }

  /** After changing weights in place: drops the prepared copy of the generator. */
  weightsChanged(): void {
    this.prepared.invalidate();
  }

  async fit(options?: TextToImageFitOptions): Promise<TextToImageFitResult> {
    return this.prepared.whileTraining(() => fitText2Image(this, options));
  }

  // ---- files ----

  /** Every parameter and buffer, by file name. */
  tensors(): Record<string, TensorToWrite> {
    const out = netTensors([this.generator, this.discriminator]);
    for (const net of [this.generator, this.discriminator])
      for (const [name, b] of Object.entries(net.buffers?.() ?? {})) out[name] = { shape: b.shape, data: b.data };
    for (const enc of [this.genText, this.discText]) {
      const shapes = enc.shapes();
      for (const [name, p] of Object.entries(enc.params())) out[name] = { shape: shapes[name]!, data: p };
    }
    return out;
  }

  /** Reads every parameter and buffer from a model or checkpoint file. */
  loadParams(file: ModelFile<unknown>): void {
    for (const [name, t] of Object.entries(this.tensors())) (t.data as Float32Array).set(requireF32(file, name, t.shape));
    this.prepared.invalidate();
  }

  async save(path: string, extraMetadata: Record<string, string> = {}): Promise<void> {
    await writeSafetensors(path, this.tensors(), modelMetadata(this.kind, this.config, extraMetadata));
  }

  static async load(path: string, options?: { backend?: BackendName }): Promise<TextToImage> {
    const opts = checkOptions("TextToImage.load", options, optionKeys<{ backend?: BackendName }>({ backend: true }));
    const { file, config } = await readModelFile<TextToImageConfig>(path, "text2image", TextToImage.checkConfig);
    const model = TextToImage.build(config, 0);
    model.loadParams(file);
    model.backend = opts.backend;
    return model;
  }
}
