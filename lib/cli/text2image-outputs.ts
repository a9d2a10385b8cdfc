/**
 * What both text-to-image training commands (the GAN, lib/cli/train-text2image.ts, and the
 * conditional VAE, lib/cli/train-text-cvae.ts) write after training: a sample grid per caption
 * set and the caption judge's scores per caption set, so that the two models' outputs are
 * made, named and printed alike and can be read side by side.
 */
import type { Seed } from "../core/philox.js";
import { DeepgenError } from "../core/errors.js";
import { CAPTION_SETS, CANVAS_SIDE, captionText } from "../data/mnist-captions.js";
import { testCanvases } from "../data/mnist-captions-split.js";
import { labelledGrid } from "../io/labelled-grid.js";
import { writePng } from "../io/png.js";
import type { BackendName } from "../kernels/kernels.js";
import { CaptionJudge } from "../models/caption-judge.js";
import { resolveModelPath } from "../models/registry.js";
import { type GeneratedReport, scoreGenerator } from "../models/text2image-metrics.js";
import type { CaptionModel } from "../models/text2image-loader.js";
import type { ProgressLine } from "./common.js";
import type { TrainingStop } from "./training-run.js";

/** Captions per sample grid: the first test canvases of the set. */
const GRID_CAPTIONS = 16;

/** The sample grids' file names after the output's stem, one per caption set (for checkedTrainingOutputs). */
export const SAMPLE_GRID_FILES: readonly string[] = CAPTION_SETS.map((s) => `${s}.png`);

/**
 * The caption judge a training run scores with: `name` (a file or registry name), or the
 * shipped one when none is named, which may be missing (then no scores); "none" skips it.
 */
export async function loadJudge(name: string | undefined, backend: BackendName | undefined): Promise<CaptionJudge | undefined> {
  if (name === "none") return undefined;
  try {
    return await CaptionJudge.load(resolveModelPath(name ?? "caption-judge"), { backend });
  } catch (e) {
    if (name === undefined && e instanceof DeepgenError && e.code === "E_IO") return undefined;
    throw e;
  }
}

/** Writes <stem>.<set>.png for each caption set: one image of each of the set's first test captions, labelled. */
export async function writeSampleGrids(stem: string, model: CaptionModel, seed: Seed): Promise<void> {
  for (const set of CAPTION_SETS) {
    const captions = testCanvases(set, GRID_CAPTIONS).records.map((r) => captionText(r.caption));
    const images = await model.generate(captions, { seed });
    await writePng(`${stem}.${set}.png`, labelledGrid(images.x, images.n, CANVAS_SIDE, CANVAS_SIDE, captions, { cols: 4, scale: 2 }));
  }
}

/**
 * The judge's scores of the model on each caption set's test captions; undefined when the run
 * was stopped before or during them. With `progress`, each set is announced as it starts.
 */
export function judgeScores(
  judge: CaptionJudge,
  model: CaptionModel,
  seed: Seed,
  stop: TrainingStop,
  progress?: ProgressLine,
): Promise<GeneratedReport[] | undefined> {
  return stop.evaluate(async (signal) => {
    const reports: GeneratedReport[] = [];
    for (const set of CAPTION_SETS) {
      progress?.update(`${set}: judge scores`);
      reports.push(await scoreGenerator(judge, (c, o) => model.generateCaptions(c, o), set, { seed, signal }));
    }
    progress?.done();
    return reports;
  });
}

/** One caption set's judge scores as a line of a training summary. */
export function scoreLine(s: GeneratedReport): string {
  return `  ${s.set}: strict accuracy ${(100 * s.strict_accuracy).toFixed(1)}% (real canvases: ${(100 * s.ceiling.strict_accuracy).toFixed(1)}%), R-precision ${(100 * s.r_precision).toFixed(1)}%, FID ${s.fid.toFixed(2)} (floor ${s.ceiling.fid_floor.toFixed(2)}), diversity ${s.diversity.toFixed(2)}`;
}
