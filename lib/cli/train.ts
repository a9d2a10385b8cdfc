/** deepgen train <family>: fits a model, writing the model, a checkpoint, a curve and a model card. */

import type { Command } from "commander";

import { checkOneOf } from "../core/check.js";
import type { BackendName } from "../kernels/kernels.js";
import { IndependentBernoulli, MarkovChain } from "../models/baselines.js";
import { writeCard, writeCurve } from "../models/card.js";
import type { DensityModel } from "../models/density.js";
import { densityCard, densityCurve } from "../models/density-card.js";
import { testLikelihood } from "../models/evaluate.js";
import { Nade, type Ordering } from "../models/nade.js";
import { Rnade } from "../models/rnade.js";
import { PixelRnn } from "../models/pixelrnn.js";
import type { EpochRecord, TrainingProgress, TrainingState } from "../models/trainer.js";
import { type DataOptions, floatOption, formatDuration, intOption, loadData, ProgressLine } from "./common.js";
import { printJson } from "./output.js";
import { checkedTrainingOutputs, TrainingStop } from "./training-run.js";
import { GAN_DEFAULTS, type GanTrainOptions, trainGan } from "./train-gan.js";
import { type LatentTrainOptions, trainLatent } from "./train-latent.js";
import { trainClassifier } from "./train-classifier.js";
import { trainJudge } from "./train-judge.js";
import { trainText2image } from "./train-text2image.js";
import { CVAE_DEFAULT_K, trainTextCvae } from "./train-text-cvae.js";

const FAMILIES = [
  "nade",
  "rnade",
  "bernoulli",
  "markov",
  "vae",
  "aae",
  "rowlstm",
  "diagbilstm",
  "gan",
  "dcgan",
  "classifier",
  "caption-judge",
  "text2image",
] as const;
type Family = (typeof FAMILIES)[number];

interface TrainOptions
  extends DataOptions,
    Omit<LatentTrainOptions, "hidden" | "json" | "backend" | "out">,
    Omit<GanTrainOptions, "hidden" | "json" | "backend" | "out" | "channels"> {
  hidden?: number;
  components: number;
  epochs: number;
  lr: number;
  batch: number;
  seed: number;
  patience: number;
  ordering: Ordering;
  shift: number;
  canvases: number;
  matchingAware: boolean;
  interpolation: boolean;
  judge?: string;
  judgeEvery: number;
  model: string;
  textDim: number;
  weightDecay: number;
  validation: number;
  out?: string;
  resume?: boolean;
  backend?: BackendName;
  json?: boolean;
}

export function registerTrain(program: Command, run: (json: boolean, fn: () => Promise<void>) => Promise<void>): void {
  program
    .command("train")
    .description("train a model on the canonical MNIST split (or --idx-images)")
    .argument("<family>", `one of ${FAMILIES.join(", ")}`)
    .option(
      "--hidden <n>",
      "hidden units (default: nade 500, rnade 100, rowlstm/diagbilstm 32 channels; vae/aae, text2image --model cvae: per layer, 500; gan: per layer, 256; classifier: feature width, 128)",
      intOption("--hidden", 1),
    )
    .option(
      "--layers <n>",
      "vae/aae/gan: hidden layers of the MLPs (text2image --model cvae: default 1); rowlstm/diagbilstm: recurrent layers",
      intOption("--layers", 0),
      2,
    )
    .option(
      "--latent <n>",
      "vae/aae, text2image --model cvae: latent dimension (default: vae and cvae 32, aae 2)",
      intOption("--latent", 1),
    )
    .option("--arch <kind>", "vae/aae: mlp or conv encoder/decoder", "mlp")
    .option(
      "--channels <c0,c1>",
      "vae/aae --arch conv, classifier: channels of the two conv layers (32,64); dcgan: generator channels (128,64)",
      "32,64",
    )
    .option("--decoder <kind>", "vae: bernoulli (binarized data) or cbernoulli (continuous Bernoulli, dequantized grayscale)", "bernoulli")
    .option("--data <name>", "gan: mnist, or toy data with a known density: mog1d, mog2d, ring8", "mnist")
    .option("--toy-n <n>", "gan on toy data: size of the training sample", intOption("--toy-n", 2), 20000)
    .option("--zdim <n>", "gan/dcgan: noise dimension (default: gan 64, on toy data 8; dcgan 100)", intOption("--zdim", 1))
    .option("--disc-channels <d0,d1>", "dcgan: discriminator channels", "64,128")
    .option("--disc-norm", "dcgan: batch norm on the discriminator's second conv")
    .option("--disc-stddev", "dcgan: a minibatch standard deviation feature before the discriminator's logit (against too-alike samples)")
    .option("--codes <k>", "gan/dcgan: an InfoGAN categorical code of k values (Chen et al. 2016; 0: none)", intOption("--codes", 0), 0)
    .option(
      "--conditional",
      "gan/dcgan on MNIST: class-conditional on the digit labels (one-hot label into G, projection discriminator; Miyato & Koyama 2018)",
    )
    .option(
      "--code-weight <x>",
      "gan/dcgan with --codes: weight of the code's cross-entropy in both objectives",
      floatOption("--code-weight"),
      1,
    )
    .option("--loss <kind>", "gan/dcgan: generator loss, nonsaturating or minimax", "nonsaturating")
    .option("--d-steps <k>", "gan/dcgan: discriminator updates per generator update", intOption("--d-steps", 1), 1)
    .option("--beta1 <x>", "gan/dcgan: Adam beta1", floatOption("--beta1"), 0.5)
    .option("--disc-lr <x>", "gan/dcgan: discriminator learning rate (default: --lr)", floatOption("--disc-lr"))
    .option(
      "--quality-every <n>",
      "gan/dcgan on MNIST: classifier-FID against the train images every n epochs (0: off)",
      intOption("--quality-every", 0),
      5,
    )
    .option(
      "--ema <decay>",
      "gan/dcgan: keep (and ship) a moving average of the generator's weights with this decay, e.g. 0.999 (0: off)",
      floatOption("--ema"),
      0,
    )
    .option(
      "--top-k <f>",
      "gan/dcgan: the generator learns from the fraction of its batch D rates most real, falling 1% per epoch from 1 to f (Sinha et al. 2020; 1: off)",
      floatOption("--top-k"),
      1,
    )
    .option("--model <kind>", "text2image: gan (GAN-INT-CLS) or cvae (the conditional VAE baseline)", "gan")
    .option("--text-dim <n>", "text2image --model cvae: width of the caption embedding", intOption("--text-dim", 1), 64)
    .option("--no-matching-aware", "text2image: drop the matching-aware term (real image, mismatched caption) from D's loss (ablation)")
    .option("--no-interpolation", "text2image: no GAN-INT interpolated captions in G's loss (ablation)")
    .option(
      "--judge <model>",
      "text2image: caption judge that selects the epoch and scores the model (default: the shipped one; none: no judge)",
    )
    .option("--judge-every <n>", "text2image: epochs between the judge's validation scores", intOption("--judge-every", 1), 1)
    .option("--canvases <n>", "caption-judge, text2image: fresh training canvases per epoch", intOption("--canvases", 1), 10000)
    .option("--shift <pixels>", "classifier: random shifts of the training images by up to this many pixels", intOption("--shift", 0), 0)
    .option("--prior <kind>", "aae: gaussian, mog10, swissroll or uniform (vae: gaussian only)", "gaussian")
    .option("--activation <kind>", "vae/aae: hidden activation (relu, tanh, softplus, leakyRelu)", "relu")
    .option("--warmup <epochs>", "vae: KL warm-up epochs (0: off)", floatOption("--warmup"), 0)
    .option("--free-bits <nats>", "vae: free bits per latent dimension (0: off)", floatOption("--free-bits"), 0)
    .option(
      "--k <n>",
      `vae, text2image --model cvae: importance samples of the test IWAE NLL (default: vae 5000, cvae ${CVAE_DEFAULT_K})`,
      intOption("--k", 1),
      5000,
    )
    .option("--adv-lr <x>", "aae: Adam learning rate of the discriminator and generator phases", floatOption("--adv-lr"), 1e-3)
    .option(
      "--input-dropout <p>",
      "aae: zero each encoder input pixel with probability p while training (0: off)",
      floatOption("--input-dropout"),
      0,
    )
    .option(
      "--select <how>",
      "aae: keep the last epoch, or the epoch chosen on validation (D accuracy within 0.5 +- 0.05, then lowest reconstruction)",
      "last",
    )
    .option("--disc-steps <n>", "aae: discriminator updates per minibatch", intOption("--disc-steps", 1), 1)
    .option(
      "--lr-decay <f>",
      "aae, gan, dcgan: learning rates fall linearly to f times their start by the last epoch (1: constant)",
      floatOption("--lr-decay"),
      1,
    )
    .option("--components <k>", "Gaussians per conditional (rnade)", intOption("--components", 1), 5)
    .option("--epochs <n>", "maximum epochs (gan/dcgan default 25)", intOption("--epochs", 0), 100)
    .option("--lr <x>", "Adam learning rate (gan/dcgan default 2e-4)", floatOption("--lr"), 1e-3)
    .option("--batch <n>", "minibatch size (gan/dcgan default 64)", intOption("--batch", 1), 100)
    .option("--seed <n>", "seed of initialization, shuffling and validation split", intOption("--seed", 0), 0)
    .option("--patience <n>", "early stopping: epochs without validation improvement", intOption("--patience", 1), 10)
    .option("--ordering <kind>", "pixel ordering: natural or random", "natural")
    .option("--weight-decay <x>", "decoupled weight decay (AdamW)", floatOption("--weight-decay"), 0)
    .option("--validation <fraction>", "fraction of train held out for early stopping", floatOption("--validation"), 0.1)
    .option("--out <path>", "model file to write (default <family>.safetensors)")
    .option("--resume", "continue from <out>.ckpt.safetensors")
    .option("--backend <name>", "native, js or cuda")
    .option("--idx-images <path>", "train on an IDX images file instead of the bundled digits")
    .option("--idx-labels <path>", "IDX labels file for --idx-images")
    .option("--json", "print one JSON object with the result")
    .action((familyArg: string, opts: TrainOptions, cmd: Command) =>
      run(Boolean(opts.json), async () => {
        const family = checkOneOf("family", familyArg, FAMILIES);
        if (family === "text2image") {
          const given = (key: string) => cmd.getOptionValueSource(key) !== "default";
          if (checkOneOf("--model", opts.model, ["gan", "cvae"] as const) === "cvae")
            return trainTextCvae({
              ...opts,
              hidden: opts.hidden ?? 500,
              layers: given("layers") ? opts.layers : 1,
              latent: opts.latent ?? 32,
              k: given("k") ? opts.k : CVAE_DEFAULT_K,
            });
          return trainText2image({
            ...opts,
            channels: given("channels") ? opts.channels : undefined,
            discChannels: given("discChannels") ? opts.discChannels : undefined,
            epochs: given("epochs") ? opts.epochs : 25,
            lr: given("lr") ? opts.lr : 2e-4,
            batch: given("batch") ? opts.batch : 64,
          });
        }
        if (family === "caption-judge") {
          const channels = cmd.getOptionValueSource("channels") === "default" ? undefined : opts.channels;
          return trainJudge({
            ...opts,
            channels,
            hidden: opts.hidden ?? 256,
            batch: cmd.getOptionValueSource("batch") === "default" ? 64 : opts.batch,
          });
        }
        if (family !== "gan" && family !== "dcgan") return train(family, opts);
        // the shared options' defaults are those of the likelihood models
        for (const key of ["epochs", "lr", "batch"] as const)
          if (cmd.getOptionValueSource(key) === "default") opts[key] = GAN_DEFAULTS[key];
        const channels = cmd.getOptionValueSource("channels") === "default" ? undefined : opts.channels;
        return trainGan(family, { ...opts, channels });
      }),
    );
}

async function train(family: Exclude<Family, "gan" | "dcgan" | "caption-judge" | "text2image">, opts: TrainOptions): Promise<void> {
  if (family === "vae" || family === "aae") return trainLatent(family, opts);
  if (family === "classifier") return trainClassifier(opts);
  const out = opts.out ?? `${family}.safetensors`;
  const paths = checkedTrainingOutputs(out);
  const kind = family === "rnade" ? "dequantized" : "binary";
  const data = loadData(opts, kind);
  const stop = new TrainingStop(gradientTrained(family) ? "the checkpoint of the last epoch is kept" : "the fitted model is saved");
  try {
    await trainDensity(family, opts, out, paths, data, kind, stop);
  } finally {
    stop.finish();
  }
}

async function trainDensity(
  family: Exclude<Family, "gan" | "dcgan" | "vae" | "aae" | "classifier">,
  opts: TrainOptions,
  out: string,
  paths: ReturnType<typeof checkedTrainingOutputs>,
  data: ReturnType<typeof loadData>,
  kind: "binary" | "dequantized",
  stop: TrainingStop,
): Promise<void> {
  const t0 = performance.now();
  const progress = new ProgressLine();
  let model: DensityModel;
  let history: EpochRecord[] = [];
  let bestEpoch = 0;
  // loadData binarized or dequantized the images: the models need not check them again
  if (family === "bernoulli") {
    model = IndependentBernoulli.fit(data.train.x, data.train.dim, { checkInput: false });
  } else if (family === "markov") {
    model = MarkovChain.fit(data.train.x, data.train.dim, { checkInput: false });
  } else {
    const checkpointPath = paths.checkpoint;
    const common = {
      checkInput: false,
      epochs: opts.epochs,
      batchSize: opts.batch,
      lr: opts.lr,
      validation: opts.validation,
      patience: opts.patience,
      seed: opts.seed,
      checkpointPath,
      resumeFrom: opts.resume ? checkpointPath : undefined,
    };
    const unit = family === "rnade" ? "nats of -log density" : "nats";
    let fitModel: Nade | Rnade | PixelRnn;
    let fit: (hooks: FitHooks) => Promise<TrainingState>;
    if (family === "rowlstm" || family === "diagbilstm") {
      const prnn = PixelRnn.create({
        kind: family,
        layers: opts.layers,
        hidden: opts.hidden ?? 32,
        height: data.train.height,
        width: data.train.width,
        initSeed: opts.seed,
        backend: opts.backend,
      });
      fitModel = prnn;
      fit = (hooks) => prnn.fit(data.train.x, { ...common, ...hooks });
    } else if (family === "rnade") {
      const rnade = Rnade.create({
        dim: data.train.dim,
        hidden: opts.hidden ?? 100,
        components: opts.components,
        initSeed: opts.seed,
        height: data.train.height,
        width: data.train.width,
        backend: opts.backend,
      });
      fitModel = rnade;
      fit = (hooks) => rnade.fit(data.train.x, { ...common, ...hooks });
    } else {
      const nade = Nade.create({
        dim: data.train.dim,
        hidden: opts.hidden ?? 500,
        ordering: checkOneOf("--ordering", opts.ordering, ["natural", "random"] as const),
        orderingSeed: opts.seed,
        initSeed: opts.seed,
        height: data.train.height,
        width: data.train.width,
        backend: opts.backend,
      });
      fitModel = nade;
      fit = (hooks) => nade.fit(data.train.x, { ...common, weightDecay: opts.weightDecay, ...hooks });
    }
    const outcome = await fitInterruptibly(fit, progress, unit, stop);
    history = outcome.history;
    bestEpoch = outcome.bestEpoch;
    model = fitModel;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  await model.save(out);
  const likelihood = await stop.evaluate((signal) =>
    testLikelihood(model, data.test.x, kind === "dequantized", { signal, checkInput: false }),
  );
  const interrupted = stop.interrupted;
  const nVal = Math.max(1, Math.round(data.train.n * opts.validation));
  const result = densityCard(
    { model: family, file: out, command: `deepgen ${process.argv.slice(2).join(" ")}`, data: data.source },
    {
      trainSplitSize: data.train.n,
      // gradient-trained models hold out a validation fraction of the train split
      validationSize: gradientTrained(family) ? nVal : undefined,
      testSize: data.test.n,
      likelihood,
      paramCount: model.paramCount(),
      history,
      bestEpoch,
      interrupted,
      signal: stop.signalName,
      trainSeconds,
      options:
        family === "nade" || family === "rnade"
          ? {
              hidden: opts.hidden ?? (family === "nade" ? 500 : 100),
              ...(family === "rnade" ? { components: opts.components } : { ordering: opts.ordering, weight_decay: opts.weightDecay }),
              lr: opts.lr,
              batch: opts.batch,
              seed: opts.seed,
              patience: opts.patience,
              validation: opts.validation,
            }
          : family === "rowlstm" || family === "diagbilstm"
            ? {
                layers: opts.layers,
                hidden: opts.hidden ?? 32,
                lr: opts.lr,
                batch: opts.batch,
                seed: opts.seed,
                patience: opts.patience,
                validation: opts.validation,
              }
            : {},
    },
  );
  await writeCard(paths.card, result);
  if (history.length > 0) await writeCurve(paths.curve, densityCurve(family, history));
  if (interrupted) {
    progress.done(
      `interrupted (${stop.signalName}) after ${history.length} epochs: best model so far in ${out} (card and curve written${likelihood === undefined ? ", without the test likelihood" : ""}); resume with --resume`,
    );
  }
  if (opts.json) printJson(result);
  else {
    const test =
      likelihood === undefined
        ? "test NLL not measured"
        : `test NLL ${likelihood.test_nll_nats.toFixed(2)} nats (${likelihood.bits_per_dim.toFixed(4)} bits/dim)`;
    process.stdout.write(`${family}: ${test}, ${result.param_count} parameters, ${formatDuration(trainSeconds)}; wrote ${out}\n`);
  }
}

function gradientTrained(family: Family): boolean {
  return family === "nade" || family === "rnade" || family === "rowlstm" || family === "diagbilstm";
}

type FitHooks = {
  signal: AbortSignal;
  onBatch: (p: TrainingProgress) => void;
  onEpoch: (r: EpochRecord, state: TrainingState) => void;
};

/**
 * Runs a fit with progress on stderr, stopped by `stop` at the next batch; the fit then leaves
 * the best parameters in the model, and the checkpoint of the last completed epoch stays on
 * disk for --resume.
 */
async function fitInterruptibly(
  fit: (hooks: FitHooks) => Promise<TrainingState>,
  progress: ProgressLine,
  unit: string,
  stop: TrainingStop,
): Promise<{ history: EpochRecord[]; bestEpoch: number }> {
  let last: TrainingState | undefined;
  let epochStart = performance.now();
  try {
    last = await fit({
      signal: stop.signal,
      onBatch: (p) => {
        const elapsed = (performance.now() - epochStart) / 1000;
        const eta = (elapsed / p.batch) * (p.batches - p.batch);
        progress.update(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(2)} eta ${formatDuration(eta)}`);
      },
      onEpoch: (r, state) => {
        epochStart = performance.now();
        last = state;
        progress.done(
          `epoch ${r.epoch}: train ${r.train.toFixed(2)}, validation ${r.validation?.toFixed(2) ?? "-"} ${unit} (${r.seconds.toFixed(1)} s)${state.bestEpoch === r.epoch ? " *" : ""}`,
        );
      },
    });
  } catch (e) {
    stop.swallow(e);
  }
  return { history: last?.history ?? [], bestEpoch: last?.bestEpoch ?? 0 };
}
