/**
 * deepgen train nade|rnade|rowlstm|diagbilstm|bernoulli|markov: the explicit-likelihood
 * families. The first four are fitted by gradient with early stopping on a validation slice of
 * train; the two baselines are counted in closed form. Each writes the model, its card with
 * the exact test NLL, and (gradient-trained) a checkpoint and a curve.
 */
import type { Command } from "commander";

import { IndependentBernoulli, MarkovChain } from "../models/baselines.js";
import { writeCard, writeCurve } from "../models/card.js";
import type { DensityModel } from "../models/density.js";
import { densityCard, densityCurve } from "../models/density-card.js";
import { testLikelihood } from "../models/evaluate.js";
import { Nade, type Ordering } from "../models/nade.js";
import { PixelRnn } from "../models/pixelrnn.js";
import { Rnade } from "../models/rnade.js";
import type { EpochRecord, TrainingProgress, TrainingState } from "../models/trainer.js";
import { type DataOptions, formatDuration, intOption, loadData, ProgressLine } from "./common.js";
import { printJson, type Run } from "./output.js";
import { checkedTrainingOutputs, commandLine, TrainingStop } from "./training-run.js";
import {
  choiceOption,
  dataOptions,
  type FitOptions,
  fitLoop,
  fitOptions,
  LIKELIHOOD_FIT,
  type RunOptions,
  runOptions,
  trainAction,
} from "./train-options.js";

type GradientFamily = "nade" | "rnade" | "rowlstm" | "diagbilstm";
type Family = GradientFamily | "bernoulli" | "markov";

interface DensityTrainOptions extends DataOptions, RunOptions {}

interface GradientTrainOptions extends DensityTrainOptions, FitOptions {
  hidden: number;
  patience: number;
  validation: number;
  /** nade */
  ordering?: Ordering;
  weightDecay?: number;
  /** rnade */
  components?: number;
  /** rowlstm, diagbilstm */
  layers?: number;
}

export function registerDensityFamilies(train: Command, run: Run): void {
  const nade = train
    .command("nade")
    .description("NADE: binarized pixels, exact likelihood")
    .option("--hidden <n>", "hidden units", intOption("--hidden", 1), 500)
    .addOption(choiceOption("--ordering <kind>", "pixel ordering (random: drawn with --seed)", ["natural", "random"], "natural"));
  gradientFamily(nade, "nade", run, { weightDecay: true });
  const rnade = train
    .command("rnade")
    .description("RNADE: dequantized grayscale, a mixture of Gaussians per pixel")
    .option("--hidden <n>", "hidden units", intOption("--hidden", 1), 100)
    .option("--components <k>", "Gaussians per conditional", intOption("--components", 1), 5);
  gradientFamily(rnade, "rnade", run);
  for (const [family, what] of [
    ["rowlstm", "PixelRNN with Row LSTM layers: binarized pixels, exact likelihood"],
    ["diagbilstm", "PixelRNN with Diagonal BiLSTM layers: binarized pixels, exact likelihood"],
  ] as const) {
    const cmd = train
      .command(family)
      .description(what)
      .option("--layers <n>", "recurrent layers", intOption("--layers", 1), 2)
      .option("--hidden <n>", "channels of each layer", intOption("--hidden", 1), 32);
    gradientFamily(cmd, family, run);
  }
  for (const [family, what] of [
    ["bernoulli", "independent Bernoulli pixels: the n-parameter baseline, fitted in closed form"],
    ["markov", "first-order Markov chain over the pixels: the 2n-1-parameter baseline, fitted in closed form"],
  ] as const) {
    const cmd = train.command(family).description(what);
    runOptions(dataOptions(cmd), family, false);
    trainAction(cmd, run, (opts: DensityTrainOptions) => trainDensity(family, opts));
  }
}

function gradientFamily(cmd: Command, family: GradientFamily, run: Run, extra: { weightDecay?: boolean } = {}): void {
  runOptions(dataOptions(fitOptions(cmd, { ...LIKELIHOOD_FIT, ...extra })), family);
  trainAction(cmd, run, (opts: GradientTrainOptions) => trainDensity(family, opts));
}

/** Fitted by gradient on a train slice, the rest of train held out for validation. */
function gradientTrained(family: Family): family is GradientFamily {
  return family !== "bernoulli" && family !== "markov";
}

async function trainDensity(family: Family, opts: DensityTrainOptions | GradientTrainOptions): Promise<void> {
  const paths = checkedTrainingOutputs(opts.out);
  const kind = family === "rnade" ? "dequantized" : "binary";
  const data = loadData(opts, kind);
  const stop = new TrainingStop(gradientTrained(family) ? "the checkpoint of the last epoch is kept" : "the fitted model is saved");
  try {
    await trainAndReport(family, opts, paths, data, stop);
  } finally {
    stop.finish();
  }
}

/** The model of a gradient-trained family and its fit (loadData checked the images: the model need not). */
function createFit(
  family: GradientFamily,
  opts: GradientTrainOptions,
  data: ReturnType<typeof loadData>,
  checkpointPath: string,
): { model: Nade | Rnade | PixelRnn; fit: (hooks: FitHooks) => Promise<TrainingState> } {
  const x = data.train.x;
  const shape = { height: data.train.height, width: data.train.width, backend: opts.backend };
  const common = {
    checkInput: false,
    ...fitLoop(opts, checkpointPath),
    validation: opts.validation,
    patience: opts.patience,
  };
  if (family === "rowlstm" || family === "diagbilstm") {
    const model = PixelRnn.create({ kind: family, layers: opts.layers!, hidden: opts.hidden, initSeed: opts.seed, ...shape });
    return { model, fit: (hooks) => model.fit(x, { ...common, ...hooks }) };
  }
  if (family === "rnade") {
    const model = Rnade.create({ dim: data.train.dim, hidden: opts.hidden, components: opts.components!, initSeed: opts.seed, ...shape });
    return { model, fit: (hooks) => model.fit(x, { ...common, ...hooks }) };
  }
  const model = Nade.create({
    dim: data.train.dim,
    hidden: opts.hidden,
    ordering: opts.ordering!,
    orderingSeed: opts.seed,
    initSeed: opts.seed,
    ...shape,
  });
  return { model, fit: (hooks) => model.fit(x, { ...common, weightDecay: opts.weightDecay, ...hooks }) };
}

/** The options a family's card records: those the family read. */
function cardOptions(family: Family, opts: DensityTrainOptions | GradientTrainOptions): Record<string, unknown> {
  if (!gradientTrained(family)) return {};
  const o = opts as GradientTrainOptions;
  const own =
    family === "nade"
      ? { hidden: o.hidden, ordering: o.ordering, weight_decay: o.weightDecay }
      : family === "rnade"
        ? { hidden: o.hidden, components: o.components }
        : { layers: o.layers, hidden: o.hidden };
  return { ...own, lr: o.lr, batch: o.batch, seed: o.seed, patience: o.patience, validation: o.validation };
}

async function trainAndReport(
  family: Family,
  opts: DensityTrainOptions | GradientTrainOptions,
  paths: ReturnType<typeof checkedTrainingOutputs>,
  data: ReturnType<typeof loadData>,
  stop: TrainingStop,
): Promise<void> {
  const t0 = performance.now();
  const progress = new ProgressLine();
  const out = opts.out;
  let model: DensityModel;
  let history: EpochRecord[] = [];
  let bestEpoch = 0;
  if (family === "bernoulli") model = IndependentBernoulli.fit(data.train.x, data.train.dim, { checkInput: false });
  else if (family === "markov") model = MarkovChain.fit(data.train.x, data.train.dim, { checkInput: false });
  else {
    const created = createFit(family, opts as GradientTrainOptions, data, paths.checkpoint);
    const outcome = await fitInterruptibly(created.fit, progress, family === "rnade" ? "nats of -log density" : "nats", stop);
    history = outcome.history;
    bestEpoch = outcome.bestEpoch;
    model = created.model;
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  await model.save(out);
  const dequantized = family === "rnade";
  const likelihood = await stop.evaluate((signal) => testLikelihood(model, data.test.x, dequantized, { signal, checkInput: false }));
  const interrupted = stop.interrupted;
  const result = densityCard(
    { model: family, file: out, command: commandLine(), data: data.source },
    {
      trainSplitSize: data.train.n,
      // gradient-trained models hold out a validation fraction of the train split
      validationSize: gradientTrained(family)
        ? Math.max(1, Math.round(data.train.n * (opts as GradientTrainOptions).validation))
        : undefined,
      testSize: data.test.n,
      likelihood,
      paramCount: model.paramCount(),
      history,
      bestEpoch,
      interrupted,
      signal: stop.signalName,
      trainSeconds,
      options: cardOptions(family, opts),
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
