/**
 * The card of a latent-variable model (VAE, AAE): the test-set reports that `deepgen train`
 * and `deepgen eval` print for them (the VAE's ELBO terms and IWAE NLL, the AAE's
 * reconstruction and prior-matching accuracies), the card itself, its training curves, and
 * the scatter of 2-D test codes.
 */
import { DeepgenError } from "../core/errors.js";
import type { Dataset } from "../data/dataset.js";
import { discreteNllNats } from "../data/dequantize.js";
import { scatterPlot, TAB10, type PointGroup } from "../io/scatter.js";
import type { BackendName } from "../kernels/kernels.js";
import { Aae, type AaeEpochRecord } from "./aae.js";
import { type CardRun, type CardSource, cardHead, cardRunFields, type TrainingCurve } from "./card.js";
import { Vae, type VaeEpochRecord } from "./vae.js";

export interface VaeReport {
  elbo_nats: number;
  reconstruction_nats: number;
  kl_nats: number;
  neg_elbo_nats: number;
  iwae_nll_nats: number;
  /** -ELBO minus the IWAE NLL: how much the bound is loose (>= 0 up to noise). */
  gap_nats: number;
  bits_per_dim: number;
  k: number;
  /**
   * "discrete": NLLs of binarized images; "continuous": -log densities of
   * dequantized grayscale images on [0, 1]^D (cbernoulli decoder), not comparable to binary
   * NLLs; bits_per_dim then comes from the bound on the 8-bit images, discrete_nll_bound_nats.
   */
  density: "discrete" | "continuous";
  discrete_nll_bound_nats?: number;
}

/** The data a latent model is trained and evaluated on: dequantized grayscale for the continuous Bernoulli. */
export function latentDataKind(model: Vae | Aae): "binary" | "dequantized" {
  return model instanceof Vae && model.config.decoder === "cbernoulli" ? "dequantized" : "binary";
}

/** ELBO terms (one draw per image) and the IWAE NLL with k draws, means over the test images. */
export async function vaeReport(
  model: Vae,
  x: Float32Array,
  o: { k: number; backend?: BackendName; onProgress?: (f: number) => void; signal?: AbortSignal },
): Promise<VaeReport> {
  const terms = model.elbo(x, { backend: o.backend });
  const ll = await model.logLikelihood(x, { k: o.k, backend: o.backend, onProgress: o.onProgress, signal: o.signal, checkInput: false });
  let s = 0;
  for (const v of ll) s += v;
  const nll = -s / Math.max(1, ll.length);
  const continuous = model.config.decoder === "cbernoulli";
  const discrete = continuous ? discreteNllNats(-nll, model.dim) : nll;
  return {
    elbo_nats: terms.elbo,
    reconstruction_nats: terms.reconstruction,
    kl_nats: terms.kl,
    neg_elbo_nats: -terms.elbo,
    iwae_nll_nats: nll,
    gap_nats: -terms.elbo - nll,
    bits_per_dim: discrete / Math.LN2 / model.dim,
    k: o.k,
    density: continuous ? "continuous" : "discrete",
    ...(continuous ? { discrete_nll_bound_nats: discrete } : {}),
  };
}

export interface AaeReport {
  reconstruction_nats: number;
  /** The trained discriminator's accuracy on the test codes against as many fresh prior draws. */
  discriminator_accuracy: number;
  /**
   * A fresh discriminator trained (REFIT_STEPS minibatches) on training-set codes of the final
   * encoder against prior draws, then scored on the test codes against fresh prior draws.
   */
  refit_discriminator_accuracy: number;
  refit_steps: number;
}

const REFIT_STEPS = 2000;

export function aaeReport(model: Aae, test: Float32Array, train: Float32Array, backend?: BackendName): AaeReport {
  return {
    reconstruction_nats: model.reconstructionError(test, { backend }),
    discriminator_accuracy: model.discriminatorAccuracy(test, { backend }),
    refit_discriminator_accuracy: model.refitDiscriminatorAccuracy(train, test, { backend, steps: REFIT_STEPS }),
    refit_steps: REFIT_STEPS,
  };
}

/** Scatter of test codes coloured by digit, with prior draws (grey, behind) for an AAE. */
export function codeScatter(model: Vae | Aae, test: Dataset, title: string, backend?: BackendName): ReturnType<typeof scatterPlot> {
  if (model.latent !== 2)
    throw new DeepgenError("E_ARG", `a scatter plot of codes needs a 2-D latent space, this model has ${model.latent}`);
  const codes = model instanceof Vae ? model.encode(test.x, { backend }).mu : model.encode(test.x, { backend });
  const groups: PointGroup[] = [];
  if (model instanceof Aae) groups.push({ name: "prior", points: model.samplePrior(test.n, { seed: 0 }), color: [205, 205, 205] });
  for (let d = 0; d < 10; d++) {
    const pts: number[] = [];
    for (let i = 0; i < test.n; i++) {
      if (test.labels !== undefined && test.labels[i] !== d) continue;
      if (test.labels === undefined && d > 0) continue;
      pts.push(codes[i * 2]!, codes[i * 2 + 1]!);
    }
    if (pts.length > 0) groups.push({ name: test.labels === undefined ? "codes" : `digit ${d}`, points: pts, color: TAB10[d]! });
  }
  return scatterPlot(groups, { title });
}

/** A latent model's card (bestEpoch: the VAE's best, the AAE's selected or last epoch). */
export interface LatentCardRun extends CardRun {
  trainSplitSize: number;
  /** Images of the train split the fit held out for validation. */
  validationSize: number;
  testSize: number;
  /** Absent when the run was stopped before or during the test evaluation. */
  testReport?: VaeReport | AaeReport;
}

export function latentCard(source: CardSource, run: LatentCardRun) {
  return {
    ...cardHead(source),
    train_split_size: run.trainSplitSize,
    validation_size: run.validationSize,
    train_size: run.trainSplitSize - run.validationSize,
    test_size: run.testSize,
    ...run.testReport,
    ...cardRunFields(run),
  };
}

/** The VAE's train and validation -ELBO and train KL, or the AAE's train and validation reconstruction, by epoch. */
export function latentCurve(model: Vae | Aae, history: readonly unknown[]): TrainingCurve {
  const series =
    model instanceof Vae
      ? [
          { name: "train -ELBO", values: (history as VaeEpochRecord[]).map((h) => h.train) },
          { name: "validation -ELBO", values: (history as VaeEpochRecord[]).map((h) => h.validation) },
          { name: "train KL", values: (history as VaeEpochRecord[]).map((h) => h.terms.kl) },
        ]
      : [
          { name: "train reconstruction", values: (history as AaeEpochRecord[]).map((h) => h.terms.reconstruction) },
          { name: "validation reconstruction", values: (history as AaeEpochRecord[]).map((h) => h.validationTerms?.reconstruction) },
        ];
  return { series, options: { xLabel: "epoch", yLabel: "nats per image", title: `${model.kind}: training curves` } };
}
