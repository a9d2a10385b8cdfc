/**
 * The card of an explicit-likelihood model (NADE, RNADE, PixelRNN, the baselines): data
 * sizes, the test likelihood (evaluate.ts), the training run and its options; and its curve,
 * the train and validation NLL by epoch.
 */
import { type CardRun, type CardSource, cardHead, cardRunFields, type TrainingCurve } from "./card.js";
import type { LikelihoodReport } from "./evaluate.js";
import type { EpochRecord } from "./trainer.js";

export interface DensityCardRun extends CardRun {
  /** Images in the training split; of them, those a gradient-trained fit held out (absent for the closed-form baselines). */
  trainSplitSize: number;
  validationSize?: number;
  testSize: number;
  /** Absent when the run was stopped before or during the test evaluation. */
  likelihood?: LikelihoodReport;
}

export function densityCard(source: CardSource, run: DensityCardRun) {
  return {
    ...cardHead(source),
    train_split_size: run.trainSplitSize,
    ...(run.validationSize !== undefined
      ? { validation_size: run.validationSize, train_size: run.trainSplitSize - run.validationSize }
      : { train_size: run.trainSplitSize }),
    test_size: run.testSize,
    ...run.likelihood,
    ...cardRunFields(run),
  };
}

/** Train and validation NLL per image by epoch. */
export function densityCurve(family: string, history: readonly EpochRecord[]): TrainingCurve {
  return {
    series: [
      { name: "train", values: history.map((h) => h.train) },
      { name: "validation", values: history.map((h) => h.validation) },
    ],
    options: { xLabel: "epoch", yLabel: "nll (nats)", title: `${family}: nll per image by epoch` },
  };
}
