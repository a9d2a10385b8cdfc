/**
 * deepgen eval text2image [--model file]: the text-to-image scores of MNIST-Captions-60 per
 * caption set (lib/models/text2image-metrics.ts), read by the caption judge, of a model (the
 * GAN or the conditional VAE; default: the shipped GAN) beside the judge's ceiling on the real
 * test canvases of the same captions. With --real it scores only the real test canvases: the
 * ceiling of every score and the FID floor, which any model's figures are read against.
 */
import { DeepgenError } from "../core/errors.js";
import { CAPTION_SETS } from "../data/mnist-captions.js";
import { TEST_CANVASES } from "../data/mnist-captions-split.js";
import type { BackendName } from "../kernels/kernels.js";
import { CaptionJudge } from "../models/caption-judge.js";
import { resolveModelPath } from "../models/registry.js";
import { judgeCeiling, scoreGenerator } from "../models/text2image-metrics.js";
import { loadCaptionModel } from "../models/text2image-loader.js";
import type { Seed } from "../core/philox.js";
import { ProgressLine } from "./common.js";
import { printJson } from "./output.js";

export interface Text2ImageEvalOptions {
  model?: string;
  seed?: Seed;
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
  if (opts.real && opts.model !== undefined) throw new DeepgenError("E_ARG", "--real scores the real canvases; leave out --model");
  const judgeName = opts.judge ?? "caption-judge";
  const judge = await CaptionJudge.load(resolveModelPath(judgeName), { backend: opts.backend });
  const n = opts.canvases ?? TEST_CANVASES;
  const t0 = performance.now();
  if (!opts.real) {
    const modelName = opts.model ?? "text2image";
    const model = await loadCaptionModel(resolveModelPath(modelName), { backend: opts.backend });
    const progress = new ProgressLine();
    const sets = [];
    for (const set of CAPTION_SETS) {
      progress.update(`scoring ${set} captions`);
      sets.push(
        await scoreGenerator(judge, (c, o) => model.generateCaptions(c, o), set, {
          n,
          seed: opts.seed ?? 0,
          backend: opts.backend,
        }),
      );
    }
    progress.done();
    const result = { model: modelName, judge: judgeName, seed: String(opts.seed ?? 0), sets, seconds: (performance.now() - t0) / 1000 };
    if (opts.json) return printJson(result);
    for (const s of sets) {
      const c = s.ceiling;
      process.stdout.write(
        `${s.set}: strict accuracy ${pct(s.strict_accuracy)} (real: ${pct(c.strict_accuracy)}), digits ${pct(s.digit_accuracy)} (${pct(c.digit_accuracy)}), R-precision@1 ${pct(s.r_precision)} (${pct(c.r_precision)}), FID ${s.fid.toFixed(3)} (floor ${c.fid_floor.toFixed(3)}), diversity ${s.diversity.toFixed(3)} of real (${s.canvases} canvases)\n`,
      );
    }
    return;
  }
  const sets = CAPTION_SETS.map((set) => judgeCeiling(judge, set, { n, backend: opts.backend }));
  const result = { model: "real test canvases", judge: judgeName, sets, seconds: (performance.now() - t0) / 1000 };
  if (opts.json) return printJson(result);
  for (const s of sets) {
    process.stdout.write(
      `${s.set}: strict accuracy ${pct(s.strict_accuracy)}, digits ${pct(s.digit_accuracy)}, layout ${pct(s.layout_accuracy)}, R-precision@1 ${pct(s.r_precision)}, FID floor ${s.fid_floor.toFixed(3)} (${s.canvases} real test canvases)\n`,
    );
  }
}
