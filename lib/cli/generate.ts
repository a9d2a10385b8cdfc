/**
 * deepgen generate "the digit 3 is at the top of the digit 5 ." -n 16 --seed 1 --out grid.png:
 * images of captions from a text-to-image model (default: the shipped one), each with its
 * caption under it; --interpolate "caption A" "caption B" --steps 8 draws rows whose caption
 * embedding moves from A to B at fixed noise.
 */
import type { Command } from "commander";

import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { CANVAS_SIDE } from "../data/mnist-captions.js";
import { labelledGrid } from "../io/labelled-grid.js";
import { imageGrid, writePng } from "../io/png.js";
import type { BackendName } from "../kernels/kernels.js";
import { resolveModelPath } from "../models/registry.js";
import { TextToImage } from "../models/text2image.js";
import { intOption, seedOption } from "./common.js";
import { printJson } from "./output.js";

interface GenerateCliOptions {
  model: string;
  n: number;
  seed: Seed;
  out: string;
  interpolate?: boolean;
  steps: number;
  scale: number;
  backend?: BackendName;
  json?: boolean;
}

const MAX_IMAGES = 1024;

export function registerGenerate(program: Command, run: (json: boolean, fn: () => Promise<void>) => Promise<void>): void {
  program
    .command("generate")
    .description("draw images of captions with a text-to-image model into a PNG grid")
    .argument("<captions...>", 'one or more captions, e.g. "the digit 3 is at the top of the digit 5 ."')
    .option("--model <file>", "text-to-image model file (default: the shipped 'text2image')", "text2image")
    .option("-n <n>", "images per caption", intOption("-n", 1), 8)
    .option("--seed <n>", "Philox seed of the noise", seedOption("--seed"), 0)
    .option("--out <path>", "PNG file", "generated.png")
    .option("--interpolate", "two captions: rows of images whose caption embedding moves from the first to the second")
    .option("--steps <k>", "--interpolate: images per row", intOption("--steps", 2), 8)
    .option("--scale <k>", "pixel upscaling of the grid", intOption("--scale", 1), 2)
    .option("--backend <name>", "native, js or cuda")
    .option("--json", "print one JSON object")
    .action((captions: string[], opts: GenerateCliOptions) =>
      run(Boolean(opts.json), async () => {
        const model = await TextToImage.load(resolveModelPath(opts.model), { backend: opts.backend });
        if (opts.interpolate) {
          if (captions.length !== 2) throw new DeepgenError("E_ARG", `--interpolate takes exactly two captions, got ${captions.length}`);
          if (opts.n * opts.steps > MAX_IMAGES) throw new DeepgenError("E_ARG", `-n x --steps must be at most ${MAX_IMAGES}`);
          const x = model.interpolateSync(captions[0]!, captions[1]!, {
            steps: opts.steps,
            rows: opts.n,
            seed: opts.seed,
            backend: opts.backend,
          });
          await writePng(opts.out, imageGrid(x, opts.n * opts.steps, CANVAS_SIDE, CANVAS_SIDE, { cols: opts.steps, scale: opts.scale }));
          if (opts.json)
            printJson({
              out: opts.out,
              model: opts.model,
              from: captions[0],
              to: captions[1],
              rows: opts.n,
              steps: opts.steps,
              seed: String(opts.seed),
            });
          else process.stdout.write(`wrote ${opts.n} rows of ${opts.steps} interpolation steps to ${opts.out}\n`);
          return;
        }
        if (captions.length * opts.n > MAX_IMAGES) throw new DeepgenError("E_ARG", `captions x -n must be at most ${MAX_IMAGES}`);
        const rows = captions.flatMap((c) => new Array<string>(opts.n).fill(c));
        const images = await model.generate(rows, { seed: opts.seed, backend: opts.backend });
        const cols = opts.n <= 16 ? opts.n : Math.ceil(Math.sqrt(images.n));
        await writePng(opts.out, labelledGrid(images.x, images.n, CANVAS_SIDE, CANVAS_SIDE, images.captions, { cols, scale: opts.scale }));
        if (opts.json)
          printJson({ out: opts.out, model: opts.model, n: images.n, seed: String(opts.seed), captions: [...new Set(images.captions)] });
        else
          process.stdout.write(`wrote ${images.n} images of ${captions.length} caption${captions.length > 1 ? "s" : ""} to ${opts.out}\n`);
      }),
    );
}
