/**
 * deepgen train vae|aae: the latent-variable families (lib/models/vae.ts, aae.ts), and the
 * test-set reports that `train` and `eval` print for them.
 */

import { checkOneOf } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { packageVersion } from "../core/package-root.js";
import type { Dataset } from "../data/dataset.js";
import { discreteNllNats } from "../data/dequantize.js";
import { linePlot } from "../io/plot.js";
import { writePng } from "../io/png.js";
import { scatterPlot, TAB10, type PointGroup } from "../io/scatter.js";
import type { BackendName } from "../kernels/kernels.js";
import { AAE_SELECT, Aae } from "../models/aae.js";
import { PRIORS, type PriorKind } from "../models/priors.js";
import { VAE_ACTIVATIONS, VAE_ARCHS, VAE_DECODERS, Vae, type VaeActivation } from "../models/vae.js";
import { formatDuration, loadData, ProgressLine, type DataOptions } from "./common.js";
import { printJson } from "./output.js";
import { machineInfo, SigintStop, writeCard } from "./training-run.js";

export interface LatentTrainOptions extends DataOptions {
  hidden?: number;
  layers: number;
  arch: string;
  channels: string;
  latent?: number;
  prior: string;
  activation: string;
  warmup: number;
  freeBits: number;
  k: number;
  advLr: number;
  inputDropout: number;
  lrDecay: number;
  discSteps: number;
  select: string;
  weightDecay: number;
  decoder: string;
  epochs: number;
  lr: number;
  batch: number;
  seed: number;
  patience: number;
  validation: number;
  out?: string;
  resume?: boolean;
  backend?: BackendName;
  json?: boolean;
}

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
/** " (continuous: ...)" after a report of the continuous-Bernoulli VAE, "" for binary data. */
export function continuousNote(r: VaeReport): string {
  return r.density === "continuous"
    ? ` (continuous densities of dequantized grayscale, not comparable to binarized NLLs; bound on the 8-bit images ${r.discrete_nll_bound_nats!.toFixed(1)} nats, ${r.bits_per_dim.toFixed(3)} bits/dim)`
    : "";
}

export function latentDataKind(model: Vae | Aae): "binary" | "dequantized" {
  return model instanceof Vae && model.config.decoder === "cbernoulli" ? "dequantized" : "binary";
}

/** ELBO terms (one draw per image) and the IWAE NLL with k draws, means over the test images. */
export async function vaeReport(model: Vae, x: Float32Array, o: { k: number; backend?: BackendName; onProgress?: (f: number) => void }): Promise<VaeReport> {
  const terms = model.elbo(x, { backend: o.backend });
  const ll = await model.logLikelihood(x, { k: o.k, backend: o.backend, onProgress: o.onProgress });
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
  if (model.latent !== 2) throw new DeepgenError("E_ARG", `a scatter plot of codes needs a 2-D latent space, this model has ${model.latent}`);
  const codes = model instanceof Vae ? model.encode(test.x, { backend }).mu : model.encode(test.x, { backend });
  const groups: PointGroup[] = [];
  if (model instanceof Aae) groups.push({ name: "prior", points: model.samplePrior(test.n, 0), color: [205, 205, 205] });
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

function parseChannels(text: string): [number, number] {
  const channels = text.split(",").map(Number);
  if (channels.length !== 2 || !channels.every((c) => Number.isInteger(c) && c >= 1)) throw new DeepgenError("E_ARG", `--channels must be two positive integers like 32,64, got ${text}`);
  return channels as [number, number];
}

function stem(path: string): string {
  return path.replace(/\.safetensors$/, "");
}

export async function trainLatent(family: "vae" | "aae", opts: LatentTrainOptions): Promise<void> {
  const out = opts.out ?? `${family}.safetensors`;
  const decoder = checkOneOf("--decoder", opts.decoder, VAE_DECODERS);
  if (family === "aae" && decoder !== "bernoulli") throw new DeepgenError("E_ARG", "the aae has a Bernoulli decoder only (--decoder bernoulli)");
  // the continuous Bernoulli models grayscale: dequantized pixels (byte + u) / 256 in [0, 1)
  const data = loadData(opts, decoder === "cbernoulli" ? "dequantized" : "binary");
  const prior = checkOneOf("--prior", opts.prior, PRIORS) as PriorKind;
  if (family === "vae" && prior !== "gaussian") {
    throw new DeepgenError("E_ARG", `the VAE's KL term is closed form for the gaussian prior only; use 'train aae --prior ${prior}'`);
  }
  const activation = checkOneOf("--activation", opts.activation, VAE_ACTIVATIONS) as VaeActivation;
  const hidden = Array.from({ length: opts.layers }, () => opts.hidden ?? 500);
  const latent = opts.latent ?? (family === "vae" ? 32 : 2);
  const common = { dim: data.train.dim, latent, hidden, activation, initSeed: opts.seed, height: data.train.height, width: data.train.width, backend: opts.backend };
  const progress = new ProgressLine();
  const stop = new SigintStop("the model so far is saved");
  const t0 = performance.now();
  const onBatch = (p: { epoch: number; epochs: number; batch: number; batches: number; loss: number }): void =>
    progress.update(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(2)}`);
  let model: Vae | Aae;
  let history: unknown[] = [];
  let curve: Array<{ name: string; values: Array<number | undefined> }> = [];
  let bestEpoch = 0;
  try {
    if (family === "vae") {
      const arch = checkOneOf("--arch", opts.arch, VAE_ARCHS);
      const vae = Vae.create({ ...common, arch, channels: parseChannels(opts.channels), decoder });
      model = vae;
      const r = await vae.fit(data.train.x, {
        epochs: opts.epochs,
        batchSize: opts.batch,
        lr: opts.lr,
        validation: opts.validation,
        patience: opts.patience,
        seed: opts.seed,
        warmupEpochs: opts.warmup,
        freeBits: opts.freeBits,
        checkpointPath: `${stem(out)}.ckpt.safetensors`,
        resumeFrom: opts.resume ? `${stem(out)}.ckpt.safetensors` : undefined,
        signal: stop.signal,
        onBatch,
        onEpoch: (e, st) => {
          history.push(e);
          const v = e.validationTerms;
          progress.done(
            `epoch ${e.epoch}: train -ELBO ${e.train.toFixed(2)} (rec ${(-e.terms.reconstruction).toFixed(2)}, KL ${e.terms.kl.toFixed(2)}, beta ${e.beta.toFixed(2)}), validation -ELBO ${v ? (-v.elbo).toFixed(2) : "-"} nats (${e.seconds.toFixed(1)} s)${st.bestEpoch === e.epoch ? " *" : ""}`,
          );
        },
      });
      history = r.history;
      bestEpoch = r.bestEpoch;
      curve = [
        { name: "train -ELBO", values: r.history.map((h) => h.train) },
        { name: "validation -ELBO", values: r.history.map((h) => h.validation) },
        { name: "train KL", values: r.history.map((h) => h.terms.kl) },
      ];
    } else {
      const arch = checkOneOf("--arch", opts.arch, VAE_ARCHS);
      const aae = Aae.create({ ...common, prior, discHidden: hidden, arch, channels: parseChannels(opts.channels) });
      model = aae;
      const r = await aae.fit(data.train.x, {
        epochs: opts.epochs,
        batchSize: opts.batch,
        lr: opts.lr,
        adversarialLr: opts.advLr,
        inputDropout: opts.inputDropout,
        weightDecay: opts.weightDecay,
        lrDecay: opts.lrDecay,
        discSteps: opts.discSteps,
        select: checkOneOf("--select", opts.select, AAE_SELECT),
        validation: opts.validation,
        checkpointPath: `${stem(out)}.ckpt.safetensors`,
        resumeFrom: opts.resume ? `${stem(out)}.ckpt.safetensors` : undefined,
        seed: opts.seed,
        backend: opts.backend,
        signal: stop.signal,
        onBatch,
        onEpoch: (e) => {
          history.push(e);
          progress.done(
            `epoch ${e.epoch}: reconstruction ${e.terms.reconstruction.toFixed(2)} nats, D loss ${e.terms.discriminatorLoss.toFixed(3)}, D accuracy ${e.terms.discriminatorAccuracy.toFixed(3)}, G loss ${e.terms.generatorLoss.toFixed(3)}; validation rec ${e.validationTerms?.reconstruction.toFixed(2) ?? "-"}, D acc ${e.validationTerms?.discriminatorAccuracy.toFixed(3) ?? "-"} (${e.seconds.toFixed(1)} s)`,
          );
        },
      });
      history = r.history;
      bestEpoch = r.selectedEpoch;
      curve = [
        { name: "train reconstruction", values: r.history.map((h) => h.terms.reconstruction) },
        { name: "validation reconstruction", values: r.history.map((h) => h.validationTerms?.reconstruction) },
      ];
    }
  } catch (e) {
    stop.swallow(e);
    model = model!;
  } finally {
    stop.release();
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  await model.save(out);
  if (stop.interrupted) {
    progress.done(`interrupted: the parameters so far are in ${out}`);
    process.exitCode = 130;
    return;
  }
  const testReport =
    model instanceof Vae
      ? await vaeReport(model, data.test.x, { k: opts.k, backend: opts.backend, onProgress: (f) => progress.update(`IWAE k=${opts.k}: ${(100 * f).toFixed(1)}%`) })
      : aaeReport(model, data.test.x, data.train.x, opts.backend);
  progress.done();
  const nVal = Math.max(1, Math.round(data.train.n * opts.validation));
  const result = {
    model: family,
    file: out,
    command: `deepgen ${process.argv.slice(2).join(" ")}`,
    data: data.source,
    train_split_size: data.train.n,
    validation_size: nVal,
    train_size: data.train.n - nVal,
    test_size: data.test.n,
    ...testReport,
    param_count: model.paramCount(),
    epochs_run: history.length,
    best_epoch: bestEpoch,
    train_seconds: trainSeconds,
    history,
    options: {
      latent,
      ...(model.config.arch === "conv" ? { arch: "conv", channels: model.config.channels } : { hidden }),
      activation,
      ...(family === "aae" ? { prior, adversarial_lr: opts.advLr, input_dropout: opts.inputDropout, weight_decay: opts.weightDecay, lr_decay: opts.lrDecay, disc_steps: opts.discSteps, select: opts.select } : { decoder, warmup_epochs: opts.warmup, free_bits: opts.freeBits, iwae_k: opts.k }),
      lr: opts.lr,
      batch: opts.batch,
      seed: opts.seed,
      patience: opts.patience,
      validation: opts.validation,
    },
    deepgen_version: packageVersion,
    machine: machineInfo(),
    date: new Date().toISOString(),
  };
  await writeCard(`${stem(out)}.card.json`, result);
  if (history.length > 0) {
    await writePng(`${stem(out)}.curve.png`, linePlot(curve, { xLabel: "epoch", yLabel: "nats per image", title: `${family}: training curves` }));
  }
  if (model.latent === 2) await writePng(`${stem(out)}.codes.png`, codeScatter(model, data.test, `${family}: test codes`, opts.backend));
  if (opts.json) printJson(result);
  else if (model instanceof Vae) {
    const r = testReport as VaeReport;
    process.stdout.write(
      `vae: test -ELBO ${r.neg_elbo_nats.toFixed(2)} (reconstruction ${(-r.reconstruction_nats).toFixed(2)}, KL ${r.kl_nats.toFixed(2)}), IWAE NLL (k=${r.k}) ${r.iwae_nll_nats.toFixed(2)} nats, gap ${r.gap_nats.toFixed(2)}${continuousNote(r)}; ${result.param_count} parameters, ${formatDuration(trainSeconds)}; wrote ${out}\n`,
    );
  } else {
    const r = testReport as AaeReport;
    process.stdout.write(`aae: test reconstruction ${r.reconstruction_nats.toFixed(2)} nats, discriminator accuracy ${r.discriminator_accuracy.toFixed(3)} (a fresh discriminator refit for ${r.refit_steps} steps: ${r.refit_discriminator_accuracy.toFixed(3)}); ${result.param_count} parameters, ${formatDuration(trainSeconds)}; wrote ${out}\n`);
  }
}
