/**
 * Generation of the conditional VAE of captions (lib/models/text-cvae.ts): image i decodes
 * [z_i, e(caption i)], z_i row i of the seed's normal fill on CVAE_SAMPLE_Z_STREAM, so image i
 * depends only on caption i and the seed. Images are the decoder's pixel probabilities (the
 * mean image of p(x | z, t)), drawn by the prepared decoder, as a native job off the event loop
 * in the async form (CUDA, which has no prepared copy, runs the layers on the calling thread).
 */
import { checkInteger, checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { captionRows } from "../data/caption-tokens.js";
import { CANVAS_DIM } from "../data/mnist-captions.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import type { OutputMap } from "../kernels/ops/prepared-net.js";
import type { Mlp } from "../nn/dense.js";
import { sizedRequest } from "./common.js";
import { sigmoidInPlace } from "./latent.js";
import type { PreparedNetCache } from "./prepared-cache.js";
import type { GenerateAsyncOptions, GeneratedImages, GenerateOptions } from "./text2image.js";
import { joinColumns } from "./text-cvae-elbo.js";

/** The Philox stream of generation's z ("CVZ0"). */
export const CVAE_SAMPLE_Z_STREAM = 0x4356_5a30;

const GENERATE_KEYS = optionKeys<GenerateOptions>({ n: true, seed: true, backend: true });
const GENERATE_ASYNC_KEYS = optionKeys<GenerateAsyncOptions>({ n: true, seed: true, backend: true, signal: true, onProgress: true });
const SIGMOID: OutputMap = { activation: "sigmoid" };

/** The decoder side of a TextCvae: what its generate, interpolate and IWAE calls run. */
export class CvaeDecoding {
  constructor(
    private readonly decoder: Mlp,
    private readonly prepared: PreparedNetCache,
    private readonly latent: number,
    private readonly textDim: number,
    /** The model's kernels for a call's backend (the model's own backend can change after construction). */
    private readonly kernels: (backend?: BackendName) => Kernels,
    private readonly encodeText: (captions: string | readonly string[]) => Float32Array,
  ) {}

  /** The decoder's output [n, 3600] of input rows [z, e] [n, latent + E]: logits, or with `map` their probabilities. */
  output(rows: Float32Array, n: number, backend?: BackendName, map?: OutputMap): Float32Array {
    const k = this.kernels(backend);
    const prepared = this.prepared.get(k);
    if (prepared !== undefined) return prepared.forwardSync(rows, n, map);
    const y = this.decoder.forward(k, rows, n).slice();
    return map === undefined ? y : sigmoidInPlace(y);
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

  /** TextCvae.generateSync. */
  generateSync(captions: string | readonly string[], options?: GenerateOptions): GeneratedImages {
    const opts = checkOptions("TextCvae.generateSync", options, GENERATE_KEYS);
    const rows = captionRows("TextCvae.generateSync", captions, opts.n);
    const n = rows.length;
    return this.sized("TextCvae.generate", n, () => ({
      x: this.output(this.latentRows(rows, opts.seed ?? 0), n, opts.backend, SIGMOID),
      n,
      captions: rows,
    }));
  }

  /** TextCvae.generate. */
  async generate(captions: string | readonly string[], options?: GenerateAsyncOptions): Promise<GeneratedImages> {
    const opts = checkOptions("TextCvae.generate", options, GENERATE_ASYNC_KEYS);
    const rows = captionRows("TextCvae.generate", captions, opts.n);
    const n = rows.length;
    return this.sized("TextCvae.generate", n, async () => {
      const latent = this.latentRows(rows, opts.seed ?? 0);
      const prepared = this.prepared.get(this.kernels(opts.backend));
      if (opts.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
      const x =
        prepared !== undefined
          ? await prepared.forward(latent, n, { signal: opts.signal, onProgress: opts.onProgress, map: SIGMOID })
          : this.output(latent, n, opts.backend, SIGMOID);
      return { x, n, captions: rows };
    });
  }

  /** TextCvae.interpolateCaptions. */
  interpolateCaptions(
    captionA: string,
    captionB: string,
    options: { steps?: number; rows?: number; seed?: Seed; backend?: BackendName },
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
    return this.output(input, n, options.backend, SIGMOID);
  }
}
