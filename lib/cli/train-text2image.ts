/**
 * deepgen train text2image: the caption-conditioned GAN (lib/models/text2image.ts) on fresh
 * MNIST-Captions-60 canvases each epoch. With a caption judge (the shipped one, or --judge),
 * every --judge-every epochs the generator draws one image per caption of a fixed validation
 * set (seen captions, canvases of validation digits) and the judge's strict accuracy on them
 * selects the model that is kept; banned and unseen-pair captions are never looked at. Writes
 * the model, checkpoint, curve, a card, and sample grids of seen, banned and unseen-pair
 * captions.
 */
import type { Command } from "commander";

import { validationCanvases } from "../data/mnist-captions-split.js";
import { type CardSource, cardHead, cardRunFields, writeCard, writeCurve } from "../models/card.js";
import { readingScores } from "../models/text2image-metrics.js";
import { TextToImage, type TextToImageEpochRecord } from "../models/text2image.js";
import { formatDuration, intOption, ProgressLine } from "./common.js";
import { printJson, type Run } from "./output.js";
import { judgeScores, loadJudge, SAMPLE_GRID_FILES, scoreLine, writeSampleGrids } from "./text2image-outputs.js";
import { checkedTrainingOutputs, commandLine, TrainingStop } from "./training-run.js";
import {
  captionOptions,
  type FitOptions,
  fitLoop,
  fitOptions,
  intListOption,
  numberOption,
  type RunOptions,
  runOptions,
  trainAction,
} from "./train-options.js";

interface Text2ImageTrainOptions extends FitOptions, RunOptions {
  zdim: number;
  hidden: number;
  channels: [number, number];
  discChannels: [number, number];
  canvases: number;
  beta1: number;
  matchingAware: boolean;
  interpolation: boolean;
  judge?: string;
  judgeEvery: number;
}

const VALIDATION_CAPTIONS = 500;

export function registerText2image(train: Command, run: Run): void {
  const cmd = train
    .command("text2image")
    .description("caption-conditioned GAN (GAN-INT-CLS) on MNIST-Captions-60, the epoch selected by a caption judge")
    .option("--zdim <n>", "noise dimension", intOption("--zdim", 1), 100)
    .option("--hidden <n>", "width of the caption embedding", intOption("--hidden", 1), 128)
    .addOption(intListOption("--channels <c0,c1>", "generator channels", [128, 64], 2))
    .addOption(intListOption("--disc-channels <d0,d1>", "discriminator channels", [64, 128], 2))
    .option("--no-matching-aware", "drop the matching-aware term (real image, mismatched caption) from D's loss (ablation)")
    .option("--no-interpolation", "no GAN-INT interpolated captions in G's loss (ablation)");
  captionOptions(cmd, "selects the epoch and scores the model").option(
    "--judge-every <n>",
    "epochs between the judge's validation scores",
    intOption("--judge-every", 1),
    1,
  );
  fitOptions(cmd, { epochs: 25, lr: 2e-4, batch: 64 }).addOption(numberOption("--beta1 <x>", "Adam beta1", 0.5));
  runOptions(cmd, "text2image");
  trainAction(cmd, run, trainText2image);
}

async function trainText2image(opts: Text2ImageTrainOptions): Promise<void> {
  const out = opts.out;
  const paths = checkedTrainingOutputs(out, SAMPLE_GRID_FILES);
  const model = TextToImage.create({
    zdim: opts.zdim,
    textDim: opts.hidden,
    channels: opts.channels,
    discChannels: opts.discChannels,
    initSeed: opts.seed,
    backend: opts.backend,
  });
  const judge = await loadJudge(opts.judge, opts.backend);
  const valid = validationCanvases(VALIDATION_CAPTIONS);
  const validCaptions = valid.records.map((r) => r.caption);
  const stop = new TrainingStop("the best model so far is saved");
  try {
    const progress = new ProgressLine();
    let history: TextToImageEpochRecord[] = [];
    let best: { epoch: number; accuracy: number; tensors: Map<string, Float32Array> } | undefined;
    const t0 = performance.now();
    try {
      await model.fit({
        ...fitLoop(opts, paths.checkpoint),
        beta1: opts.beta1,
        canvasesPerEpoch: opts.canvases,
        matchingAware: opts.matchingAware,
        interpolation: opts.interpolation,
        signal: stop.signal,
        onBatch: (p) => progress.update(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} D loss ${p.loss.toFixed(4)}`),
        onEpoch: async (e, st) => {
          history = st.history as TextToImageEpochRecord[];
          let note = "";
          if (judge !== undefined && (e.epoch % opts.judgeEvery === 0 || e.epoch === opts.epochs)) {
            const images = await model.generateCaptions(validCaptions, { seed: opts.seed });
            const scores = readingScores(judge.read(images), validCaptions);
            e.validationScores = { strictAccuracy: scores.strict_accuracy, digitAccuracy: scores.digit_accuracy };
            if (best === undefined || scores.strict_accuracy > best.accuracy) {
              const tensors = new Map(Object.entries(model.tensors()).map(([name, t]) => [name, (t.data as Float32Array).slice()]));
              best = { epoch: e.epoch, accuracy: scores.strict_accuracy, tensors };
            }
            note = `, validation strict accuracy ${(100 * scores.strict_accuracy).toFixed(1)}%${best.epoch === e.epoch ? " *" : ""}`;
          }
          const t = e.terms;
          progress.done(
            `epoch ${e.epoch}: D loss ${t.discriminatorLoss.toFixed(4)}, G loss ${t.generatorLoss.toFixed(4)}, D(real) ${t.dReal.toFixed(3)}, D(mismatched) ${t.dMismatched.toFixed(3)}, D(fake) ${t.dFake.toFixed(3)} (${e.seconds.toFixed(1)} s)${note}`,
          );
        },
      });
    } catch (e) {
      stop.swallow(e);
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    if (best !== undefined) {
      for (const [name, t] of Object.entries(model.tensors())) (t.data as Float32Array).set(best.tensors.get(name)!);
      model.weightsChanged();
    }
    await model.save(out);
    await writeSampleGrids(paths.stem, model, opts.seed);
    const scores = judge === undefined ? undefined : await judgeScores(judge, model, opts.seed, stop);
    const source: CardSource = {
      model: "text2image",
      file: out,
      command: commandLine(),
      data: "MNIST-Captions-60: fresh canvases of seen captions on the canonical train digits (less a 10% validation slice) each epoch; scored on the fixed test canvases of the test digits",
    };
    const card = {
      ...cardHead(source),
      arch: "GAN-INT-CLS (Reed et al. 2016) with a projection discriminator on learned caption embeddings",
      matching_aware: opts.matchingAware,
      interpolation: opts.interpolation,
      judge: judge === undefined ? null : (opts.judge ?? "caption-judge"),
      selected_epoch: best?.epoch ?? history.length,
      validation_strict_accuracy: best?.accuracy ?? null,
      test: scores ?? null,
      ...cardRunFields({
        paramCount: model.paramCount(),
        history,
        bestEpoch: best?.epoch ?? history.length,
        interrupted: stop.interrupted,
        signal: stop.signalName,
        trainSeconds,
        options: {
          zdim: model.zdim,
          text_dim: model.textDim,
          text_hidden: model.config.textHidden,
          channels: model.config.channels,
          disc_channels: model.config.discChannels,
          canvases_per_epoch: opts.canvases,
          lr: opts.lr,
          beta1: opts.beta1,
          batch: opts.batch,
          seed: opts.seed,
        },
      }),
    };
    await writeCard(paths.card, card);
    if (history.length > 0) await writeCurve(paths.curve, text2imageCurve(history));
    if (stop.interrupted)
      progress.done(`interrupted (${stop.signalName}) after ${history.length} epochs: best model so far in ${out}; resume with --resume`);
    if (opts.json) printJson(card);
    else {
      const lines = (scores ?? []).map(scoreLine);
      process.stdout.write(
        `text2image: ${model.paramCount()} parameters, ${formatDuration(trainSeconds)}; wrote ${out}\n${lines.join("\n")}\n`,
      );
    }
  } finally {
    stop.finish();
  }
}

function text2imageCurve(history: readonly TextToImageEpochRecord[]) {
  return {
    series: [
      { name: "D loss", values: history.map((h) => h.terms.discriminatorLoss) },
      { name: "G loss", values: history.map((h) => h.terms.generatorLoss) },
      {
        name: "validation strict error",
        values: history.map((h) => (h.validationScores?.strictAccuracy === undefined ? undefined : 1 - h.validationScores.strictAccuracy)),
      },
    ],
    options: { xLabel: "epoch", yLabel: "nats / error rate", title: "text2image GAN: training curves" },
  };
}
