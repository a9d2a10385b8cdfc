/**
 * deepgen train caption-judge: the CNN that reads MNIST-Captions-60 canvases back
 * (lib/models/caption-judge.ts), trained on fresh canvases of the train digits each epoch;
 * writes the model, checkpoint, curve and a card with its ceiling on each caption set's real
 * test canvases.
 */
import type { Command } from "commander";

import { CAPTION_SETS } from "../data/mnist-captions.js";
import { CaptionJudge, type CaptionJudgeEpochRecord } from "../models/caption-judge.js";
import { writeCard, writeCurve } from "../models/card.js";
import { judgeCard, judgeCurve } from "../models/judge-card.js";
import { type CeilingReport, judgeCeiling } from "../models/text2image-metrics.js";
import { formatDuration, intOption, ProgressLine } from "./common.js";
import { printJson, type Run } from "./output.js";
import { checkedTrainingOutputs, commandLine, TrainingStop } from "./training-run.js";
import {
  captionOptions,
  type FitOptions,
  fitLoop,
  fitOptions,
  intListOption,
  type RunOptions,
  runOptions,
  trainAction,
} from "./train-options.js";

interface JudgeTrainOptions extends FitOptions, RunOptions {
  hidden: number;
  /** Channels of the halving convs. */
  channels: number[];
  canvases: number;
  patience: number;
  weightDecay: number;
}

const VALIDATION_CANVASES = 1000;

export function registerCaptionJudge(train: Command, run: Run): void {
  const cmd = train
    .command("caption-judge")
    .description("the CNN that reads MNIST-Captions-60 canvases back: the judge of the text-to-image models")
    .addOption(intListOption("--channels <list>", "channels of the halving convs, one per conv", [32, 64, 128, 256]))
    .option("--hidden <n>", "width of the feature layer", intOption("--hidden", 1), 256);
  captionOptions(cmd);
  runOptions(fitOptions(cmd, { epochs: 100, lr: 1e-3, batch: 64, patience: 10, weightDecay: true }), "caption-judge");
  trainAction(cmd, run, trainJudge);
}

async function trainJudge(opts: JudgeTrainOptions): Promise<void> {
  const out = opts.out;
  const paths = checkedTrainingOutputs(out);
  const judge = CaptionJudge.create({ channels: opts.channels, features: opts.hidden, initSeed: opts.seed, backend: opts.backend });
  const stop = new TrainingStop("the best model so far is saved");
  try {
    const progress = new ProgressLine();
    const history: CaptionJudgeEpochRecord[] = [];
    let bestEpoch = 0;
    const t0 = performance.now();
    try {
      await judge.fit({
        ...fitLoop(opts, paths.checkpoint),
        weightDecay: opts.weightDecay,
        canvasesPerEpoch: opts.canvases,
        validationCanvases: VALIDATION_CANVASES,
        patience: opts.patience,
        signal: stop.signal,
        onBatch: (p) => progress.update(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} loss ${p.loss.toFixed(4)}`),
        onEpoch: (e, st) => {
          history.splice(0, history.length, ...(st.history as CaptionJudgeEpochRecord[]));
          bestEpoch = st.bestEpoch;
          const accuracy = e.validationAccuracy === undefined ? "-" : `${(100 * e.validationAccuracy).toFixed(2)}%`;
          progress.done(
            `epoch ${e.epoch}: train cross-entropy ${e.train.toFixed(4)}, validation ${e.validation?.toFixed(4) ?? "-"} (strict accuracy ${accuracy}) (${e.seconds.toFixed(1)} s)${st.bestEpoch === e.epoch ? " *" : ""}`,
          );
        },
      });
    } catch (e) {
      stop.swallow(e);
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    const ceilings = await stop.evaluate(() =>
      CAPTION_SETS.map((set): CeilingReport => judgeCeiling(judge, set, { backend: opts.backend })),
    );
    await judge.save(out);
    const card = judgeCard(
      {
        model: "caption-judge",
        file: out,
        command: commandLine(),
        data: "MNIST-Captions-60 canvases of the canonical train digits (less a 10% validation slice); ceilings on the fixed test canvases of the test digits",
      },
      judge,
      {
        canvasesPerEpoch: opts.canvases,
        validationCanvases: VALIDATION_CANVASES,
        ceilings,
        featureLayer: `dense ${judge.featureDim} + ${judge.config.activation} after halving convs of ${judge.config.channels.join(", ")} channels`,
        history,
        bestEpoch,
        interrupted: stop.interrupted,
        signal: stop.signalName,
        trainSeconds,
        options: {
          channels: judge.config.channels,
          features: judge.featureDim,
          lr: opts.lr,
          batch: opts.batch,
          weight_decay: opts.weightDecay,
          seed: opts.seed,
          patience: opts.patience,
        },
      },
    );
    await writeCard(paths.card, card);
    if (history.length > 0) await writeCurve(paths.curve, judgeCurve(history));
    if (stop.interrupted)
      progress.done(`interrupted (${stop.signalName}) after ${history.length} epochs: best model so far in ${out}; resume with --resume`);
    if (opts.json) printJson(card);
    else {
      const lines = (ceilings ?? []).map(
        (c) =>
          `  ${c.set}: strict accuracy ${(100 * c.strict_accuracy).toFixed(2)}%, digits ${(100 * c.digit_accuracy).toFixed(2)}%, R-precision ${(100 * c.r_precision).toFixed(2)}%, FID floor ${c.fid_floor.toFixed(3)}`,
      );
      process.stdout.write(
        `caption-judge: ${judge.paramCount()} parameters, ${formatDuration(trainSeconds)}; wrote ${out}\n${lines.join("\n")}\n`,
      );
    }
  } finally {
    stop.finish();
  }
}
