/**
 * deepgen train gan|dcgan: adversarial training (lib/models/gan.ts) on grayscale MNIST in
 * [-1, 1], or (gan --data mog1d|mog2d|ring8) on toy data whose density is known. Writes,
 * beside the model file: per epoch a sample grid, or for toy data the discriminator against
 * the optimal one (<stem>.samples/epoch-NNN.png; the same latent draws every epoch); the two
 * losses by epoch (<stem>.curve.png); for toy data the two Jensen-Shannon estimates by epoch
 * (<stem>.jsd.png) and a final scatter of samples (2-D, <stem>.scatter.png); for MNIST every
 * --quality-every epochs the classifier-FID against the real train images (<stem>.fid.png:
 * training data only, so watching it or choosing by it never touches the test split) and at
 * the end the test-split FID and class coverage of `deepgen eval --quality`; a checkpoint
 * (<stem>.ckpt.safetensors, --resume) and a model card (<stem>.card.json) with the
 * diagnostics of every epoch.
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";

import { checkOneOf } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { MNIST_DIM } from "../data/mnist.js";
import { TOY_DATASETS, type ToyDistribution, toyDistribution } from "../data/toy.js";
import { writeImageGrid, writePng } from "../io/png.js";
import { writeCard, writeCurve } from "../models/card.js";
import { Gan, type GanEpochRecord, GAN_LOSSES } from "../models/gan.js";
import { codeDigits, epochQuality, ganCard, ganFidCurve, ganLossCurve, testQuality, toyDiagnostics } from "../models/gan-card.js";
import { discriminatorPlot, jsdCurvePlot, samplesPlot } from "../models/gan-diagnostic-plots.js";
import { diagnoseGan } from "../models/gan-diagnostics.js";
import { formatDuration, loadData, ProgressLine, type DataOptions } from "./common.js";
import { printJson } from "./output.js";
import { checkedTrainingOutputs, commandLine, type TrainingOutputs, TrainingStop } from "./training-run.js";
import { type FitOptions, fitLoop, type RunOptions } from "./train-options.js";

/** The options of `train gan` and `train dcgan` (lib/cli/train-gan-command.ts): each family reads its own. */
export interface GanTrainOptions extends DataOptions, FitOptions, RunOptions {
  /** mnist (default) or a toy distribution of lib/data/toy.ts (gan only). */
  data?: string;
  /** Toy data: the size of the training sample. */
  toyN: number;
  /** gan: width and number of the hidden layers. */
  hidden?: number;
  layers?: number;
  zdim?: number;
  /** dcgan: the networks' channels. */
  channels?: [number, number];
  discChannels?: [number, number];
  discNorm?: boolean;
  discStddev?: boolean;
  /** InfoGAN categorical code: K values (0: none). */
  codes: number;
  codeWeight: number;
  /** Class-conditional on the data's labels (MNIST digits; projection discriminator). */
  conditional?: boolean;
  loss: string;
  dSteps: number;
  beta1: number;
  ema: number;
  topK: number;
  /** Discriminator learning rate (default: --lr; e.g. 2-4x the generator's, as TTUR). */
  discLr?: number;
  lrDecay: number;
  /** MNIST: classifier-FID against the train images every this many epochs (0: off). */
  qualityEvery: number;
}

export const GAN_DATA = ["mnist", ...TOY_DATASETS] as const;

const GRID_SEED = 12345;
const GRID_N = 64;
const CODE_GRID_COLS = 10;
/** Seed of the toy diagnostics' fresh data and generator draws (never trained on). */
const TOY_EVAL_SEED = 777;
const TOY_EVAL_SAMPLES = 10000;

/** The training data in the generator's range, and what the card says about it. */
function trainingData(
  family: "gan" | "dcgan",
  opts: GanTrainOptions,
): {
  x: Float32Array;
  labels?: Uint8Array;
  toy?: ToyDistribution;
  source: string;
  shape: { dim: number; height?: number; width?: number };
} {
  const name = checkOneOf("--data", opts.data ?? "mnist", GAN_DATA);
  if (name === "mnist") {
    const data = loadData(opts, "grayscale");
    if (opts.conditional && data.train.labels === undefined)
      throw new DeepgenError("E_ARG", "--conditional needs class labels (with --idx-images, give --idx-labels)");
    return {
      x: data.train.x.map((v) => 2 * v - 1),
      labels: opts.conditional ? data.train.labels : undefined,
      source: `${data.source}; images scaled to [-1, 1]`,
      shape: { dim: data.train.dim, height: data.train.height, width: data.train.width },
    };
  }
  if (opts.conditional) throw new DeepgenError("E_ARG", `--conditional trains on labelled images; toy data (${name}) has no classes`);
  if (family === "dcgan") throw new DeepgenError("E_ARG", `the dcgan trains on images; toy data (${name}) is for 'train gan'`);
  const toy = toyDistribution(name);
  return {
    x: toy.sample(opts.toyN, opts.seed),
    toy,
    source: `${name}: ${opts.toyN} draws (seed ${opts.seed}) from the toy distribution of lib/data/toy.ts`,
    shape: { dim: toy.dim },
  };
}

function createModel(
  family: "gan" | "dcgan",
  shape: { dim: number; height?: number; width?: number },
  toy: boolean,
  opts: GanTrainOptions,
  labels?: Uint8Array,
): Gan {
  if (opts.conditional && opts.codes > 0)
    throw new DeepgenError("E_ARG", "--conditional and --codes both feed the generator a one-hot code; pick one");
  // a conditional model's code is the class label: as many codes as classes
  const codes = labels === undefined ? { codes: opts.codes } : { codes: Math.max(1, ...labels) + 1, conditional: true };
  if (family === "dcgan") {
    return Gan.create({
      arch: "dcgan",
      ...shape,
      // the dcgan's options have defaults
      zdim: opts.zdim!,
      channels: opts.channels!,
      discChannels: opts.discChannels!,
      discNorm: Boolean(opts.discNorm),
      discStddev: Boolean(opts.discStddev),
      ...codes,
      initSeed: opts.seed,
      backend: opts.backend,
    });
  }
  const hidden = Array.from({ length: opts.layers! }, () => opts.hidden ?? (toy ? 128 : 256));
  return Gan.create({
    arch: "mlp",
    ...shape,
    zdim: opts.zdim ?? (toy ? 8 : 64),
    output: toy ? "identity" : "tanh",
    hidden,
    discHidden: hidden,
    ...codes,
    initSeed: opts.seed,
    backend: opts.backend,
  });
}

export async function trainGan(family: "gan" | "dcgan", opts: GanTrainOptions): Promise<void> {
  const out = opts.out;
  const paths = checkedTrainingOutputs(out, ["fid.png", "codes.png", "jsd.png", "scatter.png"]);
  const stop = new TrainingStop("the checkpoint of the last epoch is kept");
  try {
    await trainAndReport(family, opts, out, paths, stop);
  } finally {
    stop.finish();
  }
}

async function trainAndReport(
  family: "gan" | "dcgan",
  opts: GanTrainOptions,
  out: string,
  paths: TrainingOutputs,
  stop: TrainingStop,
): Promise<void> {
  const loss = checkOneOf("--loss", opts.loss, GAN_LOSSES);
  const data = trainingData(family, opts);
  const toy = data.toy;
  const model = createModel(family, data.shape, toy !== undefined, opts, data.labels);
  // the classifier judges 28x28 digits: other --idx-images sizes train without the FID
  const judgeable = toy === undefined && data.shape.dim === MNIST_DIM;
  const samplesDir = `${paths.stem}.samples`;
  await mkdir(samplesDir, { recursive: true });
  const progress = new ProgressLine();
  // the whole run's records, earlier runs of a resumed one included (the state's history)
  let history: GanEpochRecord[] = [];
  const t0 = performance.now();
  const epochPng = (epoch: number): string => join(samplesDir, `epoch-${String(epoch).padStart(3, "0")}.png`);
  try {
    const r = await model.fit(data.x, {
      ...fitLoop(opts, paths.checkpoint),
      discriminatorLr: opts.discLr,
      lrDecay: opts.lrDecay,
      beta1: opts.beta1,
      discriminatorSteps: opts.dSteps,
      ema: opts.ema,
      topK: opts.topK,
      codeWeight: opts.codeWeight,
      labels: data.labels,
      loss,
      backend: opts.backend,
      // the images were scaled from [0, 1] or drawn from the toy distribution: in range
      checkInput: false,
      signal: stop.signal,
      onBatch: (p) => progress.update(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} D loss ${p.loss.toFixed(3)}`),
      onEpoch: async (e, st) => {
        history = st.history as GanEpochRecord[];
        let extra = "";
        if (toy === undefined) {
          const grid = model.sampleSync(GRID_N, { seed: GRID_SEED });
          await writeImageGrid(epochPng(e.epoch), grid.x, { n: GRID_N, height: data.shape.height!, width: data.shape.width!, scale: 2 });
          if (judgeable && opts.qualityEvery > 0 && e.epoch % opts.qualityEvery === 0) {
            const { diagnostics, quality: q } = await epochQuality(model, opts.backend);
            e.diagnostics = diagnostics;
            extra = `; classifier-FID vs train ${q.fid.toFixed(2)}, classes ${(100 * q.coverage.min).toFixed(1)}-${(100 * q.coverage.max).toFixed(1)}%, confident ${(100 * q.confident.fraction).toFixed(1)}%`;
          }
        } else {
          const discriminator = (x: Float32Array): Float32Array => model.discriminate(x, { backend: opts.backend });
          const d = diagnoseGan({
            data: toy,
            generatorSamples: model.generateSamples(TOY_EVAL_SAMPLES, { seed: TOY_EVAL_SEED, backend: opts.backend }),
            discriminator,
            seed: TOY_EVAL_SEED,
          });
          const c = d.coverage;
          // on the record itself, so later checkpoints (and a resumed run's card) keep it
          e.diagnostics = {
            jsdValue: d.jsdValue,
            jsdValueStdErr: d.jsdValueStdErr,
            jsdNumeric: d.jsdNumeric,
            jsdCurrent: d.jsdCurrent,
            modesHit: c.modesHit,
            modes: c.modes,
            highQualityFraction: c.highQualityFraction,
          };
          await writePng(
            epochPng(e.epoch),
            discriminatorPlot(toy, d.pg, discriminator, { title: `${toy.name} epoch ${e.epoch}: d vs optimal d*` }),
          );
          extra = `; JSD from V(D*,G) ${d.jsdValue.toFixed(4)}, numeric ${d.jsdNumeric.toFixed(4)} nats; modes ${c.modesHit}/${c.modes}, high quality ${(100 * c.highQualityFraction).toFixed(1)}%`;
        }
        progress.done(
          `epoch ${e.epoch}: D loss ${e.terms.discriminatorLoss.toFixed(3)}, G loss ${e.terms.generatorLoss.toFixed(3)}, D(x) ${e.terms.dReal.toFixed(3)}, D(G(z)) ${e.terms.dFake.toFixed(3)}${e.terms.codeLoss === undefined ? "" : `, code CE ${e.terms.codeLoss.toFixed(3)}`}${extra} (${e.seconds.toFixed(1)} s)`,
        );
      },
    });
    history = r.history;
  } catch (e) {
    stop.swallow(e);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  await model.save(out);
  const quality = judgeable && history.length > 0 ? await stop.evaluate(() => testQuality(model, opts.backend)) : undefined;
  const codes = judgeable && model.codes > 0 && history.length > 0 ? await stop.evaluate(() => codeDigits(model, opts.backend)) : undefined;
  // the epochs' diagnostics: the toy data's JSD and modes (MNIST's FID against train is on the records)
  const diagnostics = toy === undefined ? [] : toyDiagnostics(history);
  const last = diagnostics[diagnostics.length - 1];
  const result = ganCard({ model: family, file: out, command: commandLine(), data: data.source }, model, {
    trainSize: data.x.length / data.shape.dim,
    history,
    interrupted: stop.interrupted,
    signal: stop.signalName,
    trainSeconds,
    toyDiagnostics: diagnostics,
    quality,
    codeDigits: codes,
    options: {
      loss,
      d_steps: opts.dSteps,
      lr: opts.lr,
      disc_lr: opts.discLr ?? opts.lr,
      lr_decay: opts.lrDecay,
      beta1: opts.beta1,
      ema: opts.ema,
      top_k: opts.topK,
      ...(model.codes > 0 && !model.conditional ? { code_weight: opts.codeWeight } : {}),
      batch: opts.batch,
      seed: opts.seed,
    },
  });
  await writeCard(paths.card, result);
  if (history.length > 0) await writeCurve(paths.curve, ganLossCurve(family, history));
  const fidCurve = ganFidCurve(family, history);
  if (fidCurve !== undefined) await writeCurve(`${paths.stem}.fid.png`, fidCurve);
  if (toy === undefined && model.codes > 0 && !stop.interrupted) {
    // one row per code value, the same noise down each column
    const rows = Array.from({ length: model.codes }, (_, c) => model.sampleSync(CODE_GRID_COLS, { seed: GRID_SEED, code: c }).x);
    const all = new Float32Array(rows.reduce((a, r) => a + r.length, 0));
    rows.forEach((r, i) => {
      all.set(r, i * r.length);
    });
    await writeImageGrid(`${paths.stem}.codes.png`, all, {
      n: model.codes * CODE_GRID_COLS,
      height: data.shape.height!,
      width: data.shape.width!,
      scale: 2,
      cols: CODE_GRID_COLS,
    });
  }
  if (toy !== undefined && diagnostics.length > 0) {
    await writePng(`${paths.stem}.jsd.png`, jsdCurvePlot(diagnostics, { title: `${toy.name}: Jensen-Shannon divergence by epoch` }));
    if (toy.dim === 2 && !stop.interrupted)
      await writePng(`${paths.stem}.scatter.png`, samplesPlot(toy, model.generateSamples(2000, { seed: TOY_EVAL_SEED }), TOY_EVAL_SEED));
  }
  if (stop.interrupted)
    progress.done(
      `interrupted (${stop.signalName}) after ${history.length} epochs: the model is in ${out} (card and curve written); resume with --resume`,
    );
  if (opts.json) printJson(result);
  else {
    const fidText =
      quality === undefined
        ? ""
        : `; classifier-FID ${quality.classifier_fid.toFixed(2)} vs test (floor ${quality.floor_fid.toFixed(2)}), classes ${(100 * quality.coverage_min).toFixed(1)}-${(100 * quality.coverage_max).toFixed(1)}%`;
    const diag =
      last === undefined
        ? fidText
        : `; final JSD ${last.jsdValue.toFixed(4)} (value function) / ${last.jsdNumeric.toFixed(4)} (numeric) nats, modes ${last.modesHit}/${last.modes}`;
    process.stdout.write(
      `${family}: ${history.length} epochs, ${result.param_count} parameters, ${formatDuration(trainSeconds)}${diag}; wrote ${out}, per-epoch images in ${samplesDir}/\n`,
    );
  }
}
