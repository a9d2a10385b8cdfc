/**
 * deepgen train text-cvae: the conditional VAE baseline (lib/models/text-cvae.ts)
 * on fresh binarized MNIST-Captions-60 canvases each epoch, the epoch selected by the -ELBO of
 * the fixed validation canvases. Writes the model, checkpoint, curve, sample grids of seen,
 * banned and unseen-pair captions, and a card with, per caption set on its fixed test canvases
 * (binarized), the ELBO terms and the IWAE estimate of -log p(x | t), and, with a caption judge
 * (the shipped one, or --judge), the same text-to-image scores as the GAN's.
 */
import type { Command } from "commander";

import { CAPTION_SETS, type CaptionSet, captionText } from "../data/mnist-captions.js";
import { testCanvases } from "../data/mnist-captions-split.js";
import { type CardSource, cardHead, cardRunFields, writeCard, writeCurve } from "../models/card.js";
import type { GeneratedReport } from "../models/text2image-metrics.js";
import { binarizedCanvases, TextCvae, type TextCvaeEpochRecord } from "../models/text-cvae.js";
import { formatDuration, intOption, ProgressLine } from "./common.js";
import { printJson, type Run } from "./output.js";
import { judgeScores, loadJudge, SAMPLE_GRID_FILES, scoreLine, writeSampleGrids } from "./text2image-outputs.js";
import { checkedTrainingOutputs, commandLine, TrainingStop } from "./training-run.js";
import { captionOptions, type FitOptions, fitLoop, fitOptions, type RunOptions, runOptions, trainAction } from "./train-options.js";

interface TextCvaeTrainOptions extends FitOptions, RunOptions {
  hidden: number;
  layers: number;
  latent: number;
  textDim: number;
  canvases: number;
  patience: number;
  /** Importance samples per test canvas of the IWAE estimate. */
  k: number;
  judge?: string;
}

export function registerTextCvae(train: Command, run: Run): void {
  const cmd = train
    .command("text-cvae")
    .description("conditional VAE on MNIST-Captions-60: the likelihood baseline beside the text2image GAN")
    .option("--latent <n>", "latent dimension", intOption("--latent", 1), 32)
    .option("--hidden <n>", "units of each hidden layer", intOption("--hidden", 1), 500)
    .option("--layers <n>", "hidden layers of the encoder and decoder", intOption("--layers", 0), 1)
    .option("--text-dim <n>", "width of the caption embedding", intOption("--text-dim", 1), 64)
    // 100 keeps the three sets' estimates under a minute on two cores
    .option("--k <n>", "importance samples per test canvas of the IWAE NLL", intOption("--k", 1), 100);
  captionOptions(cmd, "scores the model");
  runOptions(fitOptions(cmd, { epochs: 100, lr: 1e-3, batch: 100, patience: 10 }), "text-cvae");
  trainAction(cmd, run, trainTextCvae);
}

interface SetLikelihood {
  set: CaptionSet;
  canvases: number;
  reconstruction_nats: number;
  kl_nats: number;
  neg_elbo_nats: number;
  iwae_nll_nats: number;
  iwae_k: number;
}

async function trainTextCvae(opts: TextCvaeTrainOptions): Promise<void> {
  const out = opts.out;
  const paths = checkedTrainingOutputs(out, SAMPLE_GRID_FILES);
  const model = TextCvae.create({
    latent: opts.latent,
    textDim: opts.textDim,
    hidden: new Array<number>(opts.layers).fill(opts.hidden),
    initSeed: opts.seed,
    backend: opts.backend,
  });
  const judge = await loadJudge(opts.judge, opts.backend);
  const stop = new TrainingStop("the best model so far is saved");
  try {
    const progress = new ProgressLine();
    let history: TextCvaeEpochRecord[] = [];
    let bestEpoch = 0;
    const t0 = performance.now();
    try {
      await model.fit({
        ...fitLoop(opts, paths.checkpoint),
        patience: opts.patience,
        canvasesPerEpoch: opts.canvases,
        signal: stop.signal,
        onBatch: (p) => progress.update(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} -ELBO ${p.loss.toFixed(2)}`),
        onEpoch: (e, st) => {
          history = st.history as TextCvaeEpochRecord[];
          bestEpoch = st.bestEpoch;
          const v = e.validationTerms;
          progress.done(
            `epoch ${e.epoch}: train -ELBO ${e.terms.negElbo.toFixed(2)} (reconstruction ${e.terms.reconstruction.toFixed(2)}, KL ${e.terms.kl.toFixed(2)}), validation -ELBO ${v?.negElbo.toFixed(2) ?? "-"} nats (${e.seconds.toFixed(1)} s)${st.bestEpoch === e.epoch ? " *" : ""}`,
          );
        },
      });
    } catch (e) {
      stop.swallow(e);
    }
    const trainSeconds = (performance.now() - t0) / 1000;
    await model.save(out);
    await writeSampleGrids(paths.stem, model, opts.seed);
    const likelihood = await stop.evaluate(async (signal) => {
      const sets: SetLikelihood[] = [];
      for (const set of CAPTION_SETS) {
        const test = testCanvases(set);
        const x = binarizedCanvases(test.x);
        const captions = test.records.map((r) => captionText(r.caption));
        const terms = model.elbo(x, captions, { seed: opts.seed, checkInput: false });
        const iwae = await model.iwae(x, captions, {
          k: opts.k,
          seed: opts.seed,
          checkInput: false,
          signal,
          onProgress: (f) => progress.update(`${set}: IWAE k=${opts.k} ${(100 * f).toFixed(1)}%`),
        });
        sets.push({
          set,
          canvases: test.n,
          reconstruction_nats: terms.reconstruction,
          kl_nats: terms.kl,
          neg_elbo_nats: terms.negElbo,
          iwae_nll_nats: iwae,
          iwae_k: opts.k,
        });
      }
      progress.done();
      return sets;
    });
    const scores = judge === undefined ? undefined : await judgeScores(judge, model, opts.seed, stop, progress);
    const source: CardSource = {
      model: "text-cvae",
      file: out,
      command: commandLine(),
      data: "MNIST-Captions-60, binarized (pixel > 0.5): fresh canvases of seen captions on the canonical train digits (less a 10% validation slice) each epoch; the epoch selected by the -ELBO of the fixed validation canvases; tested on the fixed test canvases of the test digits",
    };
    const card = {
      ...cardHead(source),
      arch: "conditional VAE (Sohn et al. 2015): MLP encoder q(z | x, e(t)) and Bernoulli MLP decoder p(x | z, e(t)) on a learned caption embedding e(t); images are the decoder's pixel probabilities",
      likelihood: likelihood ?? null,
      judge: judge === undefined ? null : (opts.judge ?? "caption-judge"),
      test: scores ?? null,
      ...cardRunFields({
        paramCount: model.paramCount(),
        history,
        bestEpoch,
        interrupted: stop.interrupted,
        signal: stop.signalName,
        trainSeconds,
        options: {
          latent: model.latent,
          text_dim: model.textDim,
          hidden: model.config.hidden,
          activation: model.config.activation,
          canvases_per_epoch: opts.canvases,
          lr: opts.lr,
          batch: opts.batch,
          patience: opts.patience,
          seed: opts.seed,
          iwae_k: opts.k,
        },
      }),
    };
    await writeCard(paths.card, card);
    if (history.length > 0) await writeCurve(paths.curve, textCvaeCurve(history));
    if (stop.interrupted)
      progress.done(`interrupted (${stop.signalName}) after ${history.length} epochs: best model so far in ${out}; resume with --resume`);
    if (opts.json) printJson(card);
    else process.stdout.write(summary(model.paramCount(), trainSeconds, out, likelihood, scores));
  } finally {
    stop.finish();
  }
}

function summary(
  params: number,
  seconds: number,
  out: string,
  likelihood: SetLikelihood[] | undefined,
  scores: GeneratedReport[] | undefined,
): string {
  const lines = [`text-cvae: ${params} parameters, ${formatDuration(seconds)}; wrote ${out}`];
  for (const l of likelihood ?? [])
    lines.push(
      `  ${l.set}: test -ELBO ${l.neg_elbo_nats.toFixed(2)} (reconstruction ${l.reconstruction_nats.toFixed(2)}, KL ${l.kl_nats.toFixed(2)}), IWAE NLL (k=${l.iwae_k}) ${l.iwae_nll_nats.toFixed(2)} nats`,
    );
  for (const s of scores ?? []) lines.push(scoreLine(s));
  return `${lines.join("\n")}\n`;
}

function textCvaeCurve(history: readonly TextCvaeEpochRecord[]) {
  return {
    series: [
      { name: "train -ELBO", values: history.map((h) => h.terms.negElbo) },
      { name: "validation -ELBO", values: history.map((h) => h.validationTerms?.negElbo) },
      { name: "validation KL", values: history.map((h) => h.validationTerms?.kl) },
    ],
    options: { xLabel: "epoch", yLabel: "nats per canvas", title: "text-cvae: ELBO" },
  };
}
