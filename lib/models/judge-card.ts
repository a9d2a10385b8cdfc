/**
 * The card of the caption judge (lib/models/caption-judge.ts): how it was trained, and its
 * reading of the real test canvases of each caption set, the ceiling of every text-to-image
 * score; and its curve, the cross-entropies and the validation error by epoch.
 */
import type { CaptionJudge, CaptionJudgeEpochRecord } from "./caption-judge.js";
import { type CardRun, type CardSource, cardHead, cardRunFields, type TrainingCurve } from "./card.js";
import type { CeilingReport } from "./text2image-metrics.js";

export interface JudgeCardRun extends Omit<CardRun, "paramCount"> {
  canvasesPerEpoch: number;
  validationCanvases: number;
  /** The judge on each set's real test canvases (undefined when a stop signal skipped them). */
  ceilings: CeilingReport[] | undefined;
  featureLayer: string;
}

export function judgeCard(source: CardSource, judge: CaptionJudge, run: JudgeCardRun) {
  return {
    ...cardHead(source),
    canvases_per_epoch: run.canvasesPerEpoch,
    validation_canvases: run.validationCanvases,
    feature_layer: run.featureLayer,
    ceiling: run.ceilings,
    ...cardRunFields({ ...run, paramCount: judge.paramCount() }),
  };
}

/** Train and validation cross-entropy (three heads summed) and the validation strict error by epoch. */
export function judgeCurve(history: readonly CaptionJudgeEpochRecord[]): TrainingCurve {
  return {
    series: [
      { name: "train cross-entropy", values: history.map((h) => h.train) },
      { name: "validation cross-entropy", values: history.map((h) => h.validation) },
      {
        name: "validation strict error",
        values: history.map((h) => (h.validationAccuracy === undefined ? undefined : 1 - h.validationAccuracy)),
      },
    ],
    options: { xLabel: "epoch", yLabel: "nats per canvas / error rate", title: "caption judge: training curves" },
  };
}
