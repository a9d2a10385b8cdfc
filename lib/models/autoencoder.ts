/**
 * What the two autoencoders (VAE, lib/models/vae.ts; AAE, lib/models/aae.ts) share: the
 * encoder / decoder configuration and its checks, the networks (MLPs, or the conv networks of
 * lib/nn/conv-nets.ts), and the uses of a trained pair that only need codes and a decoder:
 * reconstruction, interpolation, the latent-space map, and the async twin of sampling.
 * Each model keeps what differs: how x becomes a code (the VAE's posterior mean, the AAE's
 * deterministic encoder), its decoder's likelihood, its prior, its training.
 */
import { checkInteger, checkOneOf, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { type ModelFile, readModelFile } from "../io/model-file.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import type { ActivationKind } from "../kernels/ops/activation.js";
import type { OutputMap } from "../kernels/ops/prepared-net.js";
import { ConvDecoder, ConvEncoder, type Net } from "../nn/conv-nets.js";
import { Mlp } from "../nn/dense.js";
import type { Seed } from "../core/philox.js";
import { BATCH_KEYS, type BatchSampleOptions, batchRowCount, concatRows, type SampleRequest } from "./batch.js";
import { finishedAsync, type InputDomain, inputRows, modelKernels, sizedRequest } from "./common.js";
import { PreparedNetCache } from "./prepared-cache.js";
import {
  SAMPLE_KEYS,
  type SampleOptions,
  type Samples,
  SYNC_INPUT_KEYS,
  SYNC_SAMPLE_KEYS,
  type SyncInputOptions,
  type SyncSampleOptions,
} from "./density.js";
import { gridCodes, interpolateCodes, loadNetParams, sigmoidInPlace } from "./latent.js";
import type { ModelCard } from "./card.js";

export const VAE_ACTIVATIONS = ["relu", "tanh", "softplus", "leakyRelu"] as const;
export type VaeActivation = (typeof VAE_ACTIVATIONS)[number];

export const VAE_ARCHS = ["mlp", "conv"] as const;
export type VaeArch = (typeof VAE_ARCHS)[number];

export interface AutoencoderConfig {
  dim: number;
  latent: number;
  /** Hidden widths of the encoder; the decoder mirrors them. */
  hidden: number[];
  activation: VaeActivation;
  /** Encoder / decoder networks: MLPs (default) or the conv networks of lib/nn/conv-nets.ts. */
  arch?: VaeArch;
  /** Conv channels (arch "conv"; default [32, 64]). */
  channels?: [number, number];
  height?: number;
  width?: number;
}

/** An array of at most 8 layer widths. */
export function checkWidths(source: string, name: string, a: unknown): number[] {
  if (!Array.isArray(a) || a.length > 8) throw new DeepgenError("E_ARG", `${source}: ${name} must be an array of at most 8 widths`);
  return a.map((h) => checkInteger(`${source}: ${name} width`, h, 1, 1 << 16));
}

/**
 * The conv architecture's fields ({} for "mlp"): the conv networks halve each side twice, so
 * the image's sides must be multiples of 4.
 */
export function checkConvArch(
  c: { arch?: unknown; channels?: unknown },
  shape: { height?: number; width?: number },
  source: string,
): { arch?: "conv"; channels?: [number, number] } {
  const arch = checkOneOf(`${source}: arch`, c.arch ?? "mlp", VAE_ARCHS);
  if (arch !== "conv") return {};
  if (shape.height === undefined || shape.width === undefined || shape.height % 4 !== 0 || shape.width % 4 !== 0) {
    throw new DeepgenError("E_ARG", `${source}: the conv architecture needs height and width, multiples of 4`);
  }
  const ch = c.channels ?? [32, 64];
  if (!Array.isArray(ch) || ch.length !== 2) throw new DeepgenError("E_ARG", `${source}: channels must be two integers`);
  return {
    arch: "conv",
    channels: [checkInteger(`${source}: channels[0]`, ch[0], 1, 4096), checkInteger(`${source}: channels[1]`, ch[1], 1, 4096)],
  };
}

/**
 * Fresh encoder and decoder of a configuration (Glorot-uniform from the seed, on the model's
 * own streams); the encoder outputs `codeWidth` values per image (the VAE: mean and log
 * variance, 2 * latent), the decoder reads `latent`.
 */
export function autoencoderNets(
  c: AutoencoderConfig,
  seed: number,
  streams: { encoder: number; decoder: number },
  codeWidth: number,
): { encoder: Net; decoder: Net } {
  const act: ActivationKind = c.activation;
  if (c.arch === "conv") {
    const base = { height: c.height!, width: c.width!, channels: c.channels!, activation: act };
    return {
      encoder: new ConvEncoder("enc", { ...base, latentSide: codeWidth }, { seed, stream: streams.encoder }),
      decoder: new ConvDecoder(
        "dec",
        { ...base, channels: [c.channels![1], c.channels![0]], latentSide: c.latent },
        { seed, stream: streams.decoder },
      ),
    };
  }
  return {
    encoder: new Mlp("enc", { sizes: [c.dim, ...c.hidden, codeWidth], hidden: act, output: "identity" }, { seed, stream: streams.encoder }),
    decoder: new Mlp(
      "dec",
      { sizes: [c.latent, ...[...c.hidden].reverse(), c.dim], hidden: act, output: "identity" },
      { seed, stream: streams.decoder },
    ),
  };
}

/** A model file's configuration (checked by `check`) and its encoder and decoder, parameters loaded. */
export async function loadAutoencoder<C extends AutoencoderConfig>(
  path: string,
  kind: string,
  check: (c: Partial<C>, source: string) => C,
  networks: (c: C, seed: number) => { encoder: Net; decoder: Net },
): Promise<{ file: ModelFile<C>; config: C; encoder: Net; decoder: Net }> {
  const { file, config } = await readModelFile(path, kind, check);
  const nets = networks(config, 0);
  loadNetParams(file, nets.encoder);
  loadNetParams(file, nets.decoder);
  return { file, config, ...nets };
}

/** interpolateImages: how many images on the segment between two codes, ends included (>= 2). */
export interface InterpolateImagesOptions extends SyncInputOptions {
  steps: number;
}

/** latentMap: the half-width of the square of codes (default: the model's own) and the backend. */
export interface LatentMapOptions {
  range?: number;
  backend?: BackendName;
}

const INTERPOLATE_KEYS = optionKeys<InterpolateImagesOptions>({ steps: true, backend: true, checkInput: true });
const LATENT_MAP_KEYS = optionKeys<LatentMapOptions>({ range: true, backend: true });

export abstract class Autoencoder<C extends AutoencoderConfig> {
  /** The model card beside the file it was loaded from (set by `load`), else null. */
  card: ModelCard | null = null;
  backend: BackendName | undefined;
  /** The decoder packed once for decoding and sampling (rebuilt after the weights change). */
  protected readonly preparedDecoder: PreparedNetCache;
  /** The encoder, likewise, for encoding and evaluation (not for training's forward passes). */
  protected readonly preparedEncoder: PreparedNetCache;

  constructor(
    readonly config: C,
    readonly encoder: Net,
    readonly decoder: Net,
  ) {
    this.preparedDecoder = new PreparedNetCache(decoder);
    this.preparedEncoder = new PreparedNetCache(encoder);
  }

  /** Call after changing the networks' parameter arrays in place (fit need not): encoding and decoding re-pack them. */
  weightsChanged(): void {
    this.preparedDecoder.invalidate();
    this.preparedEncoder.invalidate();
  }

  /** Runs `fit` with the prepared copies dropped while the weights move. */
  protected training<T>(fit: () => Promise<T>): Promise<T> {
    return this.preparedEncoder.whileTraining(() => this.preparedDecoder.whileTraining(fit));
  }

  /** The encoder's output [n, width] for images x [n, D] (evaluation mode). */
  protected encoderOutput(x: Float32Array, n: number, backend?: BackendName): Float32Array {
    const k = this.kernels(backend);
    const prepared = this.preparedEncoder.get(k);
    if (prepared !== undefined) return prepared.forwardSync(x, n);
    return this.encoder.forward(k, x, n).slice();
  }

  /** The same off the event loop where the encoder can be prepared (a conv encoder runs here). */
  protected async encoderOutputAsync(
    x: Float32Array,
    n: number,
    opts: { backend?: BackendName; signal?: AbortSignal },
  ): Promise<Float32Array> {
    const prepared = this.preparedEncoder.get(this.kernels(opts.backend));
    if (prepared !== undefined) return prepared.forward(x, n, { signal: opts.signal });
    return finishedAsync(opts, () => this.encoderOutput(x, n, opts.backend));
  }

  /**
   * The decoder's output [n, D] for codes z [n, latent]: its logits, or with { activation:
   * "sigmoid" } their probabilities (computed by the prepared network's output pass).
   */
  protected decoderLogits(z: Float32Array, n: number, backend?: BackendName, map?: OutputMap): Float32Array {
    const k = this.kernels(backend);
    const prepared = this.preparedDecoder.get(k);
    if (prepared !== undefined) return prepared.forwardSync(z, n, map);
    const logits = this.decoder.forward(k, z, n).slice();
    return map?.activation === "sigmoid" ? sigmoidInPlace(logits) : logits;
  }

  /** What the samplers take from the decoder: probabilities (sigmoid) or logits (undefined). */
  protected abstract readonly sampleMap: OutputMap | undefined;

  /** The latent draws [n, latent] of sample(n, {seed}): row i the same for any n. */
  protected abstract latentDraws(n: number, seed: Seed, backend: BackendName | undefined): Float32Array;

  /** Samples from the decoder's output (sampleMap) of latentDraws(n, seed) (its own uniforms from the seed). */
  protected abstract samplesOf(out: Float32Array, n: number, seed: Seed, backend: BackendName | undefined, returnProbs: boolean): Samples;

  /** Bytes a sample allocates per row (sizedRequest). */
  protected abstract sampleBytesPerRow(): number;

  get dim(): number {
    return this.config.dim;
  }

  get latent(): number {
    return this.config.latent;
  }

  /** Half the side of latentMap's default square: where the model's codes mostly lie. */
  protected abstract readonly mapRange: number;

  /** The values its images may hold, as its decoder's likelihood models them. */
  abstract get inputDomain(): InputDomain;

  /** Model name for messages ("Vae", "Aae"). */
  protected abstract readonly className: string;

  /** The code [n, latent] that stands for each image of x [n, D] (reconstruction, interpolation). */
  protected abstract codeOf(x: Float32Array, opts: { backend?: BackendName }): Float32Array;

  /** Pixel means [n, D] of codes z [n, latent]. */
  abstract decode(z: Float32Array, opts?: { backend?: BackendName }): Float32Array;

  protected kernels(backend?: BackendName): Kernels {
    return modelKernels(this.backend, backend);
  }

  /** Rows of images x, its options and values checked (E_ARG naming the first bad value). */
  protected inputOf(method: string, x: Float32Array, opts: SyncInputOptions | undefined): { n: number; backend?: BackendName } {
    const o = checkOptions(`${this.className}.${method}`, opts, SYNC_INPUT_KEYS);
    return { n: inputRows(`${this.className}.${method}`, x, this.dim, this.inputDomain, o), backend: o.backend };
  }

  /** Decoded codes of x: pixel means [n, D]. */
  reconstruct(x: Float32Array, opts?: SyncInputOptions): Float32Array {
    const { backend } = this.inputOf("reconstruct", x, opts);
    return this.decode(this.codeOf(x, { backend }), { backend });
  }

  /**
   * Linear interpolation between the codes of two images a [D] and b [D]: `steps` (>= 2) codes
   * from code(a) to code(b), decoded; returns pixel means [steps, D].
   */
  interpolateImages(a: Float32Array, b: Float32Array, options: InterpolateImagesOptions): Float32Array {
    const { steps, ...opts } = checkOptions(`${this.className}.interpolateImages`, options, INTERPOLATE_KEYS, ["steps"]);
    if (!(a instanceof Float32Array) || !(b instanceof Float32Array) || a.length !== this.dim || b.length !== this.dim) {
      throw new DeepgenError("E_SHAPE", `interpolateImages: a and b must each be one image of D = ${this.dim}`);
    }
    const both = new Float32Array(2 * this.dim);
    both.set(a);
    both.set(b, this.dim);
    const { backend } = this.inputOf("interpolateImages", both, opts);
    return this.decode(interpolateCodes(this.codeOf(both, { backend }), this.latent, steps), { backend });
  }

  /** Images decoded on a regular grid of codes in [-range, range]^2 (2-D latents): [size^2, D], row-major, y down. */
  latentMap(size: number, options?: LatentMapOptions): Float32Array {
    const { range, ...o } = checkOptions(`${this.className}.latentMap`, options, LATENT_MAP_KEYS);
    if (this.latent !== 2) throw new DeepgenError("E_ARG", `a latent-space map needs a 2-D latent space, this model has ${this.latent}`);
    return this.decode(gridCodes(size, range ?? this.mapRange), o);
  }

  sampleSync(n: number, options: SyncSampleOptions): Samples {
    const opts = checkOptions(`${this.className}.sampleSync`, options, SYNC_SAMPLE_KEYS, ["seed"]);
    return sizedRequest(`${this.className}.sample`, n, this.sampleBytesPerRow(), () =>
      this.samplesOf(
        this.decoderLogits(this.latentDraws(n, opts.seed, opts.backend), n, opts.backend, this.sampleMap),
        n,
        opts.seed,
        opts.backend,
        opts.returnProbs ?? false,
      ),
    );
  }

  /** The same samples as sampleSync, drawn off the event loop. */
  async sample(n: number, opts: SampleOptions): Promise<Samples> {
    const { seed, ...batchOpts } = checkOptions(`${this.className}.sample`, opts, SAMPLE_KEYS, ["seed"]);
    const [part] = await this.sampleBatch([{ n, seed }], batchOpts);
    return part!;
  }

  /**
   * The samples of many requests in one decoder forward: each request draws its codes and
   * uniforms from its own seed and the decoder's rows do not depend on each other, so each
   * result is bit for bit its lone sample (lib/models/batch.ts).
   */
  async sampleBatch(requests: readonly SampleRequest[], opts?: BatchSampleOptions): Promise<Samples[]> {
    const o = checkOptions(`${this.className}.sampleBatch`, opts, BATCH_KEYS);
    const total = batchRowCount(requests);
    return sizedRequest(`${this.className}.sample`, total, this.sampleBytesPerRow(), async () => {
      const z = concatRows(requests.map((r) => this.latentDraws(r.n, r.seed, o.backend)));
      const prepared = this.preparedDecoder.get(this.kernels(o.backend));
      const out =
        prepared !== undefined
          ? await prepared.forward(z, total, { ...o, map: this.sampleMap })
          : await finishedAsync(o, () => this.decoderLogits(z, total, o.backend, this.sampleMap));
      let row = 0;
      return requests.map((r) => {
        const part = out.subarray(row * this.dim, (row + r.n) * this.dim);
        row += r.n;
        return this.samplesOf(part, r.n, r.seed, o.backend, o.returnProbs ?? false);
      });
    });
  }

  paramCount(): number {
    return this.encoder.paramCount() + this.decoder.paramCount();
  }
}
