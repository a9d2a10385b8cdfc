/** deepgen train vae|aae: the latent-variable families (lib/models/vae.ts, aae.ts). */
import type { Command } from "commander";

import { checkOneOf } from "../core/check.js";
import type { BackendName } from "../kernels/kernels.js";
import { writePng } from "../io/png.js";
import { AAE_SELECT, Aae } from "../models/aae.js";
import { writeCard, writeCurve } from "../models/card.js";
import { type AaeReport, aaeReport, codeScatter, latentCard, latentCurve, type VaeReport, vaeReport } from "../models/latent-card.js";
import { PRIORS, type PriorKind } from "../models/priors.js";
import { VAE_ACTIVATIONS, VAE_ARCHS, VAE_DECODERS, Vae, type VaeActivation } from "../models/vae.js";
import { formatDuration, intOption, loadData, ProgressLine, type DataOptions } from "./common.js";
import { printJson, type Run } from "./output.js";
import { checkedTrainingOutputs, commandLine, TrainingStop } from "./training-run.js";
import {
  choiceOption,
  dataOptions,
  type FitOptions,
  fitLoop,
  fitOptions,
  intListOption,
  LIKELIHOOD_FIT,
  numberOption,
  type RunOptions,
  runOptions,
  trainAction,
} from "./train-options.js";

export interface LatentTrainOptions extends DataOptions, RunOptions, FitOptions {
  hidden: number;
  layers: number;
  arch: string;
  channels: [number, number];
  latent: number;
  activation: string;
  validation: number;
  /** vae */
  decoder?: string;
  warmup?: number;
  freeBits?: number;
  k?: number;
  patience?: number;
  /** aae */
  prior?: string;
  advLr?: number;
  inputDropout?: number;
  lrDecay?: number;
  discSteps?: number;
  select?: string;
  weightDecay?: number;
}

/** The encoder and decoder options both families share. */
function autoencoderOptions(cmd: Command, latent: number): Command {
  return cmd
    .option("--latent <n>", "latent dimension", intOption("--latent", 1), latent)
    .addOption(choiceOption("--arch <kind>", "encoder and decoder: MLPs or convolutional", VAE_ARCHS, "mlp"))
    .option("--hidden <n>", "--arch mlp: units of each hidden layer", intOption("--hidden", 1), 500)
    .option("--layers <n>", "--arch mlp: hidden layers of the encoder and decoder", intOption("--layers", 0), 2)
    .addOption(intListOption("--channels <c0,c1>", "--arch conv: channels of the two conv layers", [32, 64], 2))
    .addOption(choiceOption("--activation <kind>", "hidden activation", VAE_ACTIVATIONS, "relu"));
}

export function registerLatentFamilies(train: Command, run: Run): void {
  const vae = autoencoderOptions(train.command("vae").description("VAE: ELBO training, importance-weighted test NLL"), 32)
    .addOption(
      choiceOption(
        "--decoder <kind>",
        "bernoulli (binarized data) or cbernoulli (continuous Bernoulli, dequantized grayscale)",
        VAE_DECODERS,
        "bernoulli",
      ),
    )
    .addOption(numberOption("--warmup <epochs>", "KL warm-up epochs (0: off)", 0))
    .addOption(numberOption("--free-bits <nats>", "free bits per latent dimension (0: off)", 0))
    .option("--k <n>", "importance samples of the test IWAE NLL", intOption("--k", 1), 5000);
  runOptions(dataOptions(fitOptions(vae, LIKELIHOOD_FIT)), "vae");
  trainAction(vae, run, (opts: LatentTrainOptions) => trainLatent("vae", opts));
  const aae = autoencoderOptions(
    train.command("aae").description("adversarial autoencoder: prior fitting by a discriminator on the codes, any prior"),
    2,
  )
    .addOption(choiceOption("--prior <kind>", "prior of the codes", PRIORS, "gaussian"))
    .addOption(numberOption("--adv-lr <x>", "Adam learning rate of the discriminator and generator phases", 1e-3))
    .addOption(numberOption("--input-dropout <p>", "zero each encoder input pixel with probability p while training (0: off)", 0))
    .option("--disc-steps <n>", "discriminator updates per minibatch", intOption("--disc-steps", 1), 1)
    .addOption(numberOption("--lr-decay <f>", "learning rates fall linearly to f times their start by the last epoch (1: constant)", 1))
    .addOption(
      choiceOption(
        "--select <how>",
        "keep the last epoch, or the one chosen on validation (D accuracy within 0.5 +- 0.05, then lowest reconstruction)",
        AAE_SELECT,
        "last",
      ),
    );
  const { patience: _, ...aaeFit } = LIKELIHOOD_FIT;
  runOptions(dataOptions(fitOptions(aae, { ...aaeFit, weightDecay: true })), "aae");
  trainAction(aae, run, (opts: LatentTrainOptions) => trainLatent("aae", opts));
}

/** " (continuous: ...)" after a report of the continuous-Bernoulli VAE, "" for binary data. */
export function continuousNote(r: VaeReport): string {
  return r.density === "continuous"
    ? ` (continuous densities of dequantized grayscale, not comparable to binarized NLLs; bound on the 8-bit images ${r.discrete_nll_bound_nats!.toFixed(1)} nats, ${r.bits_per_dim.toFixed(3)} bits/dim)`
    : "";
}

export async function trainLatent(family: "vae" | "aae", opts: LatentTrainOptions): Promise<void> {
  const out = opts.out;
  const paths = checkedTrainingOutputs(out, ["codes.png"]);
  // the aae has a Bernoulli decoder and takes any prior; the vae's KL term is closed form for the gaussian one
  const decoder = checkOneOf("--decoder", opts.decoder ?? "bernoulli", VAE_DECODERS);
  // the continuous Bernoulli models grayscale: dequantized pixels (byte + u) / 256 in [0, 1)
  const data = loadData(opts, decoder === "cbernoulli" ? "dequantized" : "binary");
  const prior = checkOneOf("--prior", opts.prior ?? "gaussian", PRIORS) as PriorKind;
  const activation = checkOneOf("--activation", opts.activation, VAE_ACTIVATIONS) as VaeActivation;
  const hidden = Array.from({ length: opts.layers }, () => opts.hidden);
  const latent = opts.latent;
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
      const vae = Vae.create({ ...common, arch, channels: opts.channels, decoder });
      model = vae;
      const r = await vae.fit(data.train.x, {
        ...fitLoop(opts, paths.checkpoint),
        validation: opts.validation,
        patience: opts.patience,
        warmupEpochs: opts.warmup,
        freeBits: opts.freeBits,
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
      const aae = Aae.create({ ...common, prior, discHidden: hidden, arch, channels: opts.channels });
      model = aae;
      const r = await aae.fit(data.train.x, {
        ...fitLoop(opts, paths.checkpoint),
        adversarialLr: opts.advLr,
        inputDropout: opts.inputDropout,
        weightDecay: opts.weightDecay,
        lrDecay: opts.lrDecay,
        discSteps: opts.discSteps,
        select: checkOneOf("--select", opts.select ?? "last", AAE_SELECT),
        validation: opts.validation,
        checkInput: false,
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
          k: opts.k!, // the vae takes --k
          backend: opts.backend,
          signal,
          onProgress: (f) => progress.update(`IWAE k=${opts.k}: ${(100 * f).toFixed(1)}%`),
        })
      : aaeReport(trained, data.test.x, data.train.x, opts.backend),
  );
  progress.done();
  const nVal = Math.max(1, Math.round(data.train.n * opts.validation));
  const result = latentCard(
    { model: family, file: out, command: commandLine(), data: data.source },
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
          : { decoder, warmup_epochs: opts.warmup, free_bits: opts.freeBits, iwae_k: opts.k, patience: opts.patience }),
        lr: opts.lr,
        batch: opts.batch,
        seed: opts.seed,
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
