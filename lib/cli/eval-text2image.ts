/**
 * deepgen eval text2image: the text-to-image scores of MNIST-Captions-60 per caption set
 * (lib/models/text2image-metrics.ts), read by the caption judge. With --real it scores the
 * real test canvases themselves: the ceiling of every score and the FID floor, which any
 * model's figures are read against.
 */
import { DeepgenError } from "../core/errors.js";
import { CAPTION_SETS } from "../data/mnist-captions.js";
import { TEST_CANVASES } from "../data/mnist-captions-split.js";
import type { BackendName } from "../kernels/kernels.js";
import { CaptionJudge } from "../models/caption-judge.js";
import { resolveModelPath } from "../models/registry.js";
import { judgeCeiling } from "../models/text2image-metrics.js";
import { printJson } from "./output.js";

export interface Text2ImageEvalOptions {
  judge?: string;
  real?: boolean;
  canvases?: number;
  backend?: BackendName;
  json?: boolean;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

export async function evalText2image(opts: Text2ImageEvalOptions): Promise<void> {
  if (!opts.real) {
    throw new DeepgenError(
      "E_ARG",
      "deepgen eval text2image scores the real test canvases (--real) with the caption judge; no text-to-image model is shipped with this version",
    );
  }
  const judgeName = opts.judge ?? "caption-judge";
  const judge = await CaptionJudge.load(resolveModelPath(judgeName), { backend: opts.backend });
  const n = opts.canvases ?? TEST_CANVASES;
  const t0 = performance.now();
  const sets = CAPTION_SETS.map((set) => judgeCeiling(judge, set, { n, backend: opts.backend }));
  const result = { model: "real test canvases", judge: judgeName, sets, seconds: (performance.now() - t0) / 1000 };
  if (opts.json) return printJson(result);
  for (const s of sets) {
    process.stdout.write(
      `${s.set}: strict accuracy ${pct(s.strict_accuracy)}, digits ${pct(s.digit_accuracy)}, layout ${pct(s.layout_accuracy)}, R-precision@1 ${pct(s.r_precision)}, FID floor ${s.fid_floor.toFixed(3)} (${s.canvases} real test canvases)\n`,
    );
  }
}
