/**
 * The card of the digit classifier (lib/models/classifier.ts) that judges samples: data sizes,
 * test accuracy and cross-entropy, the feature layer the quality metrics read; and its curve,
 * the cross-entropies and the validation error by epoch.
 */
import { type CardRun, type CardSource, cardHead, cardRunFields, type TrainingCurve } from "./card.js";
import type { Classifier, ClassifierEpochRecord } from "./classifier.js";

export interface ClassifierCardRun extends Omit<CardRun, "paramCount"> {
  trainSplitSize: number;
  /** Images the fit trained on and held out for validation. */
  trainSize: number;
  validationSize: number;
  testSize: number;
  test: { accuracy: number; loss: number };
  /** The layer the sample-quality metrics read, in words. */
  featureLayer: string;
}

export function classifierCard(source: CardSource, model: Classifier, run: ClassifierCardRun) {
  return {
    ...cardHead(source),
    train_split_size: run.trainSplitSize,
    train_size: run.trainSize,
    validation_size: run.validationSize,
    test_size: run.testSize,
    test_accuracy: run.test.accuracy,
    test_errors: Math.round((1 - run.test.accuracy) * run.testSize),
    test_cross_entropy_nats: run.test.loss,
    feature_layer: run.featureLayer,
    ...cardRunFields({ ...run, paramCount: model.paramCount() }),
  };
}

/** Train and validation cross-entropy and the validation error rate by epoch. */
export function classifierCurve(history: readonly ClassifierEpochRecord[]): TrainingCurve {
  return {
    series: [
      { name: "train cross-entropy", values: history.map((h) => h.train) },
      { name: "validation cross-entropy", values: history.map((h) => h.validation) },
      { name: "validation error", values: history.map((h) => (h.validationAccuracy === undefined ? undefined : 1 - h.validationAccuracy)) },
    ],
    options: { xLabel: "epoch", yLabel: "nats per image / error rate", title: "classifier: training curves" },
  };
}
