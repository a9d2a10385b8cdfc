/** deepgen train vae|aae: the latent-variable families (lib/models/vae.ts, aae.ts). */

import { checkOneOf } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { writePng } from "../io/png.js";
import type { BackendName } from "../kernels/kernels.js";
import { AAE_SELECT, Aae } from "../models/aae.js";
import { writeCard, writeCurve } from "../models/card.js";
import { type AaeReport, aaeReport, codeScatter, latentCard, latentCurve, type VaeReport, vaeReport } from "../models/latent-card.js";
import { PRIORS, type PriorKind } from "../models/priors.js";
import { VAE_ACTIVATIONS, VAE_ARCHS, VAE_DECODERS, Vae, type VaeActivation } from "../models/vae.js";
import { formatDuration, loadData, ProgressLine, type DataOptions } from "./common.js";
import { printJson } from "./output.js";
import { checkedTrainingOutputs, TrainingStop } from "./training-run.js";

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

/** " (continuous: ...)" after a report of the continuous-Bernoulli VAE, "" for binary data. */
export function continuousNote(r: VaeReport): string {
  return r.density === "continuous"
    ? ` (continuous densities of dequantized grayscale, not comparable to binarized NLLs; bound on the 8-bit images ${r.discrete_nll_bound_nats!.toFixed(1)} nats, ${r.bits_per_dim.toFixed(3)} bits/dim)`
    : "";
}

function parseChannels(text: string): [number, number] {
  const channels = text.split(",").map(Number);
  if (channels.length !== 2 || !channels.every((c) => Number.isInteger(c) && c >= 1))
    throw new DeepgenError("E_ARG", `--channels must be two positive integers like 32,64, got ${text}`);
  return channels as [number, number];
}

export async function trainLatent(family: "vae" | "aae", opts: LatentTrainOptions): Promise<void> {
  const out = opts.out ?? `${family}.safetensors`;
  const paths = checkedTrainingOutputs(out, ["codes.png"]);
  const decoder = checkOneOf("--decoder", opts.decoder, VAE_DECODERS);
  if (family === "aae" && decoder !== "bernoulli")
    throw new DeepgenError("E_ARG", "the aae has a Bernoulli decoder only (--decoder bernoulli)");
  // the continuous Bernoulli models grayscale: dequantized pixels (byte + u) / 256 in [0, 1)
  const data = loadData(opts, decoder === "cbernoulli" ? "dequantized" : "binary");
  const prior = checkOneOf("--prior", opts.prior, PRIORS) as PriorKind;
  if (family === "vae" && prior !== "gaussian") {
    throw new DeepgenError("E_ARG", `the VAE's KL term is closed form for the gaussian prior only; use 'train aae --prior ${prior}'`);
  }
  const activation = checkOneOf("--activation", opts.activation, VAE_ACTIVATIONS) as VaeActivation;
  const hidden = Array.from({ length: opts.layers }, () => opts.hidden ?? 500);
  const latent = opts.latent ?? (family === "vae" ? 32 : 2);
  const common = {
    dim: data.train.dim,
    latent,
    hidden,
    activation,
    initSeed: opts.seed,
    height: data.train.height,
    width: data.train.width,
    backend: opts.backend,
  };
  const progress = new ProgressLine();
  const stop = new TrainingStop(family === "vae" ? "the best model so far is saved" : "the model so far is saved");
  try {
    await trainAndReport(family, opts, { out, paths, data, prior, activation, hidden, latent, decoder, common, progress, stop });
  } finally {
    stop.finish();
  }
}

async function trainAndReport(
  family: "vae" | "aae",
  opts: LatentTrainOptions,
  run: {
    out: string;
    paths: ReturnType<typeof checkedTrainingOutputs>;
    data: ReturnType<typeof loadData>;
    prior: PriorKind;
    activation: VaeActivation;
    hidden: number[];
    latent: number;
    decoder: (typeof VAE_DECODERS)[number];
    common: {
      dim: number;
      latent: number;
      hidden: number[];
      activation: VaeActivation;
      initSeed: number;
      height: number;
      width: number;
      backend?: BackendName;
    };
    progress: ProgressLine;
    stop: TrainingStop;
  },
): Promise<void> {
  const { out, paths, data, prior, activation, hidden, latent, decoder, common, progress, stop } = run;
  const t0 = performance.now();
  const onBatch = (p: { epoch: number; epochs: number; batch: number; batches: number; loss: number }): void =>
    progress.update(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(2)}`);
  let model: Vae | Aae;
  let history: unknown[] = [];
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
        checkpointPath: paths.checkpoint,
        resumeFrom: opts.resume ? paths.checkpoint : undefined,
        signal: stop.signal,
        checkInput: false,
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
        checkpointPath: paths.checkpoint,
        resumeFrom: opts.resume ? paths.checkpoint : undefined,
        checkInput: false,
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
    }
  } catch (e) {
    stop.swallow(e);
    model = model!;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  await model.save(out);
  const trained = model;
  const testReport = await stop.evaluate<VaeReport | AaeReport>((signal) =>
    trained instanceof Vae
      ? vaeReport(trained, data.test.x, {
          k: opts.k,
          backend: opts.backend,
          signal,
          onProgress: (f) => progress.update(`IWAE k=${opts.k}: ${(100 * f).toFixed(1)}%`),
        })
      : aaeReport(trained, data.test.x, data.train.x, opts.backend),
  );
  progress.done();
  const nVal = Math.max(1, Math.round(data.train.n * opts.validation));
  const result = latentCard(
    { model: family, file: out, command: `deepgen ${process.argv.slice(2).join(" ")}`, data: data.source },
    {
      trainSplitSize: data.train.n,
      validationSize: nVal,
      testSize: data.test.n,
      testReport,
      paramCount: model.paramCount(),
      history,
      bestEpoch,
      interrupted: stop.interrupted,
      signal: stop.signalName,
      trainSeconds,
      options: {
        latent,
        ...(model.config.arch === "conv" ? { arch: "conv", channels: model.config.channels } : { hidden }),
        activation,
        ...(family === "aae"
          ? {
              prior,
              adversarial_lr: opts.advLr,
              input_dropout: opts.inputDropout,
              weight_decay: opts.weightDecay,
              lr_decay: opts.lrDecay,
              disc_steps: opts.discSteps,
              select: opts.select,
            }
          : { decoder, warmup_epochs: opts.warmup, free_bits: opts.freeBits, iwae_k: opts.k }),
        lr: opts.lr,
        batch: opts.batch,
        seed: opts.seed,
        patience: opts.patience,
        validation: opts.validation,
      },
    },
  );
  await writeCard(paths.card, result);
  if (history.length > 0) await writeCurve(paths.curve, latentCurve(model, history));
  if (model.latent === 2 && !stop.interrupted)
    await writePng(`${paths.stem}.codes.png`, codeScatter(model, data.test, `${family}: test codes`, opts.backend));
  if (stop.interrupted)
    progress.done(
      `interrupted (${stop.signalName}) after ${history.length} epochs: the model is in ${out} (card and curve written${testReport === undefined ? ", without the test report" : ""})`,
    );
  if (opts.json) printJson(result);
  else if (testReport === undefined) {
    process.stdout.write(
      `${family}: test report not measured; ${result.param_count} parameters, ${formatDuration(trainSeconds)}; wrote ${out}\n`,
    );
  } else if (model instanceof Vae) {
    const r = testReport as VaeReport;
    process.stdout.write(
      `vae: test -ELBO ${r.neg_elbo_nats.toFixed(2)} (reconstruction ${(-r.reconstruction_nats).toFixed(2)}, KL ${r.kl_nats.toFixed(2)}), IWAE NLL (k=${r.k}) ${r.iwae_nll_nats.toFixed(2)} nats, gap ${r.gap_nats.toFixed(2)}${continuousNote(r)}; ${result.param_count} parameters, ${formatDuration(trainSeconds)}; wrote ${out}\n`,
    );
  } else {
    const r = testReport as AaeReport;
    process.stdout.write(
      `aae: test reconstruction ${r.reconstruction_nats.toFixed(2)} nats, discriminator accuracy ${r.discriminator_accuracy.toFixed(3)} (a fresh discriminator refit for ${r.refit_steps} steps: ${r.refit_discriminator_accuracy.toFixed(3)}); ${result.param_count} parameters, ${formatDuration(trainSeconds)}; wrote ${out}\n`,
    );
  }
}
