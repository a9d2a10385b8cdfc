/**
 * The one adapter from any sampler model to images in [0, 1] for the sample-quality metrics:
 * it draws n samples and maps them by the model kind's output domain. New sampler families
 * register their domain in SAMPLE_DOMAINS (one line).
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import type { BackendName } from "../kernels/kernels.js";
import type { SampleOptions, Samples } from "./density.js";

/** What sample-quality needs of a model: its kind and a seeded sample method (as Aae, Nade, Vae). */
export interface ImageSampler {
  readonly kind: string;
  /** A VAE's decoder: a continuous-Bernoulli VAE draws real values, not binary pixels. */
  readonly config?: object;
  sample(n: number, opts: SampleOptions): Promise<Samples>;
}

/**
 * How a family's samples map to [0, 1]:
 *   binary: 0/1 pixel draws (Bernoulli decoders, NADE, baselines), used as they are;
 *   unit:   real values meant to lie in [0, 1], clamped: RNADE's dequantized pixels, the draws
 *           of a continuous-Bernoulli VAE, and GAN images (Gan.sample already maps the
 *           generator's tanh output by (x + 1) / 2).
 */
export type SampleDomain = "binary" | "unit";

export const SAMPLE_DOMAINS: Record<string, SampleDomain> = {
  bernoulli: "binary",
  markov: "binary",
  nade: "binary",
  vae: "binary",
  aae: "binary",
  rowlstm: "binary",
  diagbilstm: "binary",
  rnade: "unit",
  gan: "unit",
};

export interface SampledImages {
  /** [n, D] in [0, 1]. */
  x: Float32Array;
  n: number;
  /** "means": the pixel probabilities behind binary draws (option `means`). */
  domain: SampleDomain | "means";
}

export async function sampleImages(
  model: ImageSampler,
  n: number,
  seed: Seed,
  opts: {
    backend?: BackendName;
    signal?: AbortSignal;
    onProgress?: (fraction: number) => void;
    /** Binary families: return the probabilities the draws used (the smooth "mean" images) instead of the draws. */
    means?: boolean;
  } = {},
): Promise<SampledImages> {
  checkInteger("n", n, 1, 1 << 20);
  const decoder = (model.config as { decoder?: unknown } | undefined)?.decoder;
  const domain = model.kind === "vae" && decoder === "cbernoulli" ? "unit" : SAMPLE_DOMAINS[model.kind];
  if (domain === undefined)
    throw new DeepgenError("E_ARG", `sample quality: a '${model.kind}' model has no image samples deepgen knows how to judge`);
  if (opts.means === true && domain !== "binary")
    throw new DeepgenError("E_ARG", `pixel means exist for models of binary pixels only, not for '${model.kind}'`);
  const s = await model.sample(n, {
    seed,
    backend: opts.backend,
    signal: opts.signal,
    onProgress: opts.onProgress,
    returnProbs: opts.means === true,
  });
  if (opts.means === true) {
    if (s.probs === undefined) throw new DeepgenError("E_ARG", `a '${model.kind}' model does not return pixel means`);
    return { x: s.probs, n: s.n, domain: "means" };
  }
  const x = s.x;
  if (domain === "unit") for (let i = 0; i < x.length; i++) x[i] = Math.min(1, Math.max(0, x[i]!));
  return { x, n: s.n, domain };
}
