/**
 * The card of a GAN (lib/models/gan.ts): no likelihood, so the figures are the sample quality
 * on the test split (classifier-FID and class coverage, as `deepgen eval --quality` reports
 * them), what each code value draws, the classifier-FID against the train images by epoch
 * (training data only, so watching it never touches the test split), and on toy data the
 * per-epoch Jensen-Shannon and mode diagnostics; and its curves, the two losses and the FID
 * by epoch.
 */
import type { BackendName } from "../kernels/kernels.js";
import { type CardSource, cardFooter, cardHead, type TrainingCurve } from "./card.js";
import type { Gan, GanEpochRecord } from "./gan.js";
import { classCoverage, featureLayer, qualityClassifier, sampleQuality } from "./sample-quality.js";

/** Images and seed of the per-epoch classifier-FID against the train images. */
const QUALITY_EPOCH_N = 5000;
const QUALITY_EPOCH_SEED = 4321;
/** Images and seed of the final test-split quality, as `eval --quality -n 10000 --seed 0`. */
const QUALITY_FINAL_N = 10000;
const QUALITY_FINAL_SEED = 0;
/** Samples per code value of the code report. */
const CODE_REPORT_N = 1000;

/** A toy-data epoch's diagnostics as the card lists them. */
export interface ToyEpoch {
  epoch: number;
  jsdValue: number;
  jsdValueStdErr: number;
  jsdNumeric: number;
  jsdCurrent: number;
  modesHit: number;
  modes: number;
  highQualityFraction: number;
}

/**
 * The per-epoch sample quality against the train images (QUALITY_EPOCH_N samples): the
 * record's diagnostics (kept in checkpoints and the card) and the full measurement.
 */
export async function epochQuality(model: Gan, backend?: BackendName) {
  const q = await sampleQuality(model.sampleSync(QUALITY_EPOCH_N, { seed: QUALITY_EPOCH_SEED, backend }).x, {
    reference: "train",
    backend,
  });
  return {
    diagnostics: { fidTrain: q.fid, coverageMin: q.coverage.min, coverageMax: q.coverage.max, confident: q.confident.fraction },
    quality: q,
  };
}

/** The test-split sample quality of the final model, as `deepgen eval --quality -n 10000 --seed 0` reports it. */
export async function testQuality(model: Gan, backend?: BackendName) {
  const q = await sampleQuality(model.sampleSync(QUALITY_FINAL_N, { seed: QUALITY_FINAL_SEED, backend }).x, { backend });
  return {
    command: `deepgen eval <model> --quality -n ${QUALITY_FINAL_N} --seed ${QUALITY_FINAL_SEED}`,
    classifier_fid: q.fid,
    floor_fid: q.floorFid,
    feature_layer: featureLayer(await qualityClassifier(undefined, backend)),
    reference: q.reference,
    class_fractions: q.coverage.fractions,
    coverage_min: q.coverage.min,
    coverage_max: q.coverage.max,
    within_5_15_percent: q.coverage.within5to15,
    confident_fraction: q.confident.fraction,
    confident_reference_fraction: q.confident.referenceFraction,
  };
}

/**
 * What each code value draws, by the classifier: the digit most of CODE_REPORT_N samples with
 * that code are classified as, and that share (1 for a code that is one digit class).
 */
export async function codeDigits(
  model: Gan,
  backend?: BackendName,
): Promise<{ n: number; seed: number; codes: { code: number; digit: number; share: number }[] }> {
  const codes = [];
  for (let c = 0; c < model.codes; c++) {
    const cov = await classCoverage(model.sampleSync(CODE_REPORT_N, { seed: QUALITY_FINAL_SEED, code: c, backend }).x, { backend });
    const digit = cov.fractions.indexOf(cov.max);
    codes.push({ code: c, digit, share: cov.max });
  }
  return { n: CODE_REPORT_N, seed: QUALITY_FINAL_SEED, codes };
}

/** The epochs whose records carry a classifier-FID against train (epochQuality). */
function fidByEpoch(history: readonly GanEpochRecord[]): { epoch: number; fidTrain: number }[] {
  return history.flatMap((h) => (h.diagnostics?.fidTrain === undefined ? [] : [{ epoch: h.epoch, fidTrain: h.diagnostics.fidTrain }]));
}

/** The toy-data diagnostics of the epochs that have them. */
export function toyDiagnostics(history: readonly GanEpochRecord[]): ToyEpoch[] {
  return history.flatMap((h) => (h.diagnostics === undefined ? [] : [{ epoch: h.epoch, ...(h.diagnostics as Omit<ToyEpoch, "epoch">) }]));
}

export interface GanCardRun {
  trainSize: number;
  history: GanEpochRecord[];
  interrupted: boolean;
  /** The signal that stopped the run, when one did. */
  signal?: string;
  trainSeconds: number;
  /** Toy data: every epoch's diagnostics (toyDiagnostics). */
  toyDiagnostics: ToyEpoch[];
  /** Images: the final test-split quality (testQuality) and what each code draws (codeDigits). */
  quality?: Awaited<ReturnType<typeof testQuality>>;
  codeDigits?: Awaited<ReturnType<typeof codeDigits>>;
  options: Record<string, unknown>;
}

export function ganCard(source: CardSource, model: Gan, run: GanCardRun) {
  const fids = fidByEpoch(run.history);
  const last = run.toyDiagnostics[run.toyDiagnostics.length - 1];
  return {
    ...cardHead(source),
    train_size: run.trainSize,
    param_count: model.paramCount(),
    generator_param_count: model.generator.paramCount(),
    epochs_run: run.history.length,
    ...(run.interrupted ? { interrupted: true, ...(run.signal === undefined ? {} : { stopped_by: run.signal }) } : {}),
    train_seconds: run.trainSeconds,
    ...(last === undefined ? {} : { final_diagnostics: last, diagnostics: run.toyDiagnostics }),
    ...(run.quality === undefined ? {} : { sample_quality: run.quality }),
    ...(run.codeDigits === undefined ? {} : model.conditional ? { class_digits: run.codeDigits } : { code_digits: run.codeDigits }),
    ...(fids.length === 0 ? {} : { fid_vs_train_by_epoch: { n: QUALITY_EPOCH_N, seed: QUALITY_EPOCH_SEED, epochs: fids } }),
    config: model.config,
    history: run.history,
    options: run.options,
    ...cardFooter(),
  };
}

/** The discriminator's and the generator's loss by epoch. */
export function ganLossCurve(family: string, history: readonly GanEpochRecord[]): TrainingCurve {
  return {
    series: [
      { name: "discriminator loss", values: history.map((h) => h.terms.discriminatorLoss) },
      { name: "generator loss", values: history.map((h) => h.terms.generatorLoss) },
    ],
    options: { xLabel: "epoch", yLabel: "BCE (nats)", title: `${family}: losses by epoch` },
  };
}

/** The classifier-FID against the train images by epoch (undefined when no epoch measured it). */
export function ganFidCurve(family: string, history: readonly GanEpochRecord[]): TrainingCurve | undefined {
  const fids = fidByEpoch(history);
  if (fids.length === 0) return undefined;
  return {
    series: [{ name: "classifier-FID vs train images", values: fids.map((f) => f.fidTrain), x: fids.map((f) => f.epoch) }],
    options: { xLabel: "epoch", yLabel: "FID", title: `${family}: sample quality by epoch (${QUALITY_EPOCH_N} samples)` },
  };
}
