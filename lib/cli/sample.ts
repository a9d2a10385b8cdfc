/** deepgen sample MODEL -n 64 --seed S --out grid.png: an image grid of samples (or their means). */
import type { Command } from "commander";

import { DeepgenError } from "../core/errors.js";
import { writeImageGrid } from "../io/png.js";
import type { BackendName } from "../kernels/kernels.js";
import { loadSampler } from "../models/registry.js";
import { intOption } from "./common.js";
import { printJson } from "./output.js";

interface SampleCliOptions {
  n: number;
  seed: number;
  out: string;
  probs?: boolean;
  scale: number;
  backend?: BackendName;
  json?: boolean;
}

/** Image side of a model over D pixels: its config's height/width, else a square. */
export function imageShape(model: { dim: number; config?: { height?: number; width?: number } }): [number, number] {
  const h = model.config?.height;
  const w = model.config?.width;
  if (h !== undefined && w !== undefined) return [h, w];
  const side = Math.round(Math.sqrt(model.dim));
  if (side * side !== model.dim) throw new DeepgenError("E_ARG", `cannot lay out vectors of length ${model.dim} as images`);
  return [side, side];
}

export function registerSample(program: Command, run: (json: boolean, fn: () => Promise<void>) => Promise<void>): void {
  program
    .command("sample")
    .description("draw samples from a model into a PNG grid")
    .argument("<model>", "model file or shipped model name (e.g. nade)")
    .option("-n <n>", "number of samples", intOption("-n", 1), 64)
    .option("--seed <n>", "Philox seed", intOption("--seed", 0), 0)
    .option("--out <path>", "PNG file", "samples.png")
    .option("--probs", "draw the conditional probabilities (smooth 'mean' images) instead of the binary samples")
    .option("--scale <k>", "pixel upscaling of the grid", intOption("--scale", 1), 2)
    .option("--backend <name>", "native, js or cuda")
    .option("--json", "print one JSON object")
    .action((modelArg: string, opts: SampleCliOptions) =>
      run(Boolean(opts.json), async () => {
        const model = await loadSampler(modelArg, { backend: opts.backend });
        const [h, w] = imageShape(model as never);
        const t0 = performance.now();
        const s = await model.sample(opts.n, { seed: opts.seed, returnProbs: Boolean(opts.probs), backend: opts.backend });
        const ms = performance.now() - t0;
        await writeImageGrid(opts.out, opts.probs ? s.probs! : s.x, opts.n, h, w, { scale: opts.scale });
        const result = { model: model.kind, n: opts.n, seed: opts.seed, out: opts.out, sample_ms: ms };
        if (opts.json) printJson(result);
        else process.stdout.write(`wrote ${opts.n} samples of ${model.kind} to ${opts.out} (${ms.toFixed(1)} ms)\n`);
      }),
    );
}
