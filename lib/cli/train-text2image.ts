/**
 * deepgen train text2image: the caption-conditioned GAN (lib/models/text2image.ts) on fresh
 * MNIST-Captions-60 canvases each epoch. With a caption judge (the shipped one, or --judge),
 * every --judge-every epochs the generator draws one image per caption of a fixed validation
 * set (seen captions, canvases of validation digits) and the judge's strict accuracy on them
 * selects the model that is kept; banned and unseen-pair captions are never looked at. Writes
 * the model, checkpoint, curve, a card, and sample grids of seen, banned and unseen-pair
 * captions.
 */
import { DeepgenError } from "../core/errors.js";
import { validationCanvases } from "../data/mnist-captions-split.js";
import type { BackendName } from "../kernels/kernels.js";
import { type CardSource, cardHead, cardRunFields, writeCard, writeCurve } from "../models/card.js";
import { readingScores } from "../models/text2image-metrics.js";
import { TextToImage, type TextToImageEpochRecord } from "../models/text2image.js";
import { formatDuration, ProgressLine } from "./common.js";
import { printJson } from "./output.js";
import { judgeScores, loadJudge, SAMPLE_GRID_FILES, scoreLine, writeSampleGrids } from "./text2image-outputs.js";
import { checkedTrainingOutputs, TrainingStop } from "./training-run.js";

export interface Text2ImageTrainOptions {
  zdim?: number;
  hidden?: number;
  channels?: string;
  discChannels?: string;
  canvases: number;
  epochs: number;
  lr: number;
  beta1: number;
  batch: number;
  seed: number;
  matchingAware: boolean;
  interpolation: boolean;
  judge?: string;
  judgeEvery: number;
  out?: string;
  resume?: boolean;
  backend?: BackendName;
  json?: boolean;
}

const VALIDATION_CAPTIONS = 500;

function channelPair(flag: string, value: string | undefined): [number, number] | undefined {
  if (value === undefined) return undefined;
  const c = value.split(",").map(Number);
  if (c.length !== 2 || !c.every((v) => Number.isInteger(v) && v >= 1))
    throw new DeepgenError("E_ARG", `${flag} must be two positive integers like 128,64, got ${value}`);
  return c as [number, number];
}

export async function trainText2image(opts: Text2ImageTrainOptions): Promise<void> {
  const out = opts.out ?? "text2image.safetensors";
  const paths = checkedTrainingOutputs(out, SAMPLE_GRID_FILES);
  const model = TextToImage.create({
    zdim: opts.zdim,
    textDim: opts.hidden,
    channels: channelPair("--channels", opts.channels),
    discChannels: channelPair("--disc-channels", opts.discChannels),
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
        epochs: opts.epochs,
        batchSize: opts.batch,
        lr: opts.lr,
        beta1: opts.beta1,
        canvasesPerEpoch: opts.canvases,
        matchingAware: opts.matchingAware,
        interpolation: opts.interpolation,
        seed: opts.seed,
        checkpointPath: paths.checkpoint,
        resumeFrom: opts.resume ? paths.checkpoint : undefined,
        signal: stop.signal,
        onBatch: (p) => progress.update(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} D loss ${p.loss.toFixed(4)}`),
        onEpoch: async (e, st) => {
          history = st.history as TextToImageEpochRecord[];
          let note = "";
          if (judge !== undefined && (e.epoch % opts.judgeEvery === 0 || e.epoch === opts.epochs)) {
            const images = await model.generateCaptions(validCaptions, opts.seed);
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
      command: `deepgen ${process.argv.slice(2).join(" ")}`,
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
