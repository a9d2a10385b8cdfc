/**
 * deepgen generate "the digit 3 is at the top of the digit 5 ." -n 16 --seed 1 --out grid.png:
 * images of captions from a text-to-image model (default: the shipped one), each with its
 * caption under it; --interpolate "caption A" "caption B" --steps 8 draws rows whose caption
 * embedding moves from A to B at fixed noise. The model is the GAN or the conditional VAE (a
 * text-cvae file draws its decoder's pixel probabilities). --model file.onnx draws through
 * onnxruntime-node from deepgen's ONNX export (the same images for the same seed).
 */
import type { Command } from "commander";

import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { CANVAS_SIDE } from "../data/mnist-captions.js";
import { labelledGrid } from "../io/labelled-grid.js";
import { imageGrid, writePng } from "../io/png.js";
import type { BackendName } from "../kernels/kernels.js";
import { resolveModelPath } from "../models/registry.js";
import { loadCaptionModel } from "../models/text2image-loader.js";
import type { OnnxTextToImageImages } from "../onnx/text2image.js";
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
  threads?: number;
  json?: boolean;
}

const MAX_IMAGES = 1024;

export function registerGenerate(program: Command, run: (json: boolean, fn: () => Promise<void>) => Promise<void>): void {
  program
    .command("generate")
    .description("draw images of captions with a text-to-image model into a PNG grid")
    .argument("<captions...>", 'one or more captions, e.g. "the digit 3 is at the top of the digit 5 ."')
    .option(
      "--model <file>",
      "text-to-image model file (GAN or conditional VAE), the GAN's ONNX export (.onnx), or the shipped 'text2image'",
      "text2image",
    )
    .option("-n <n>", "images per caption", intOption("-n", 1), 8)
    .option("--seed <n>", "Philox seed of the noise", seedOption("--seed"), 0)
    .option("--out <path>", "PNG file", "generated.png")
    .option("--interpolate", "two captions: rows of images whose caption embedding moves from the first to the second")
    .option("--steps <k>", "--interpolate: images per row", intOption("--steps", 2), 8)
    .option("--scale <k>", "pixel upscaling of the grid", intOption("--scale", 1), 2)
    .option("--backend <name>", "native, js or cuda")
    .option("--threads <n>", "ONNX: onnxruntime intra-op threads (default: onnxruntime's)", intOption("--threads", 1))
    .option("--json", "print one JSON object")
    .action((captions: string[], opts: GenerateCliOptions) =>
      run(Boolean(opts.json), async () => {
        const onnx = opts.model.endsWith(".onnx");
        checkOnnxOptions(onnx, opts);
        if (opts.interpolate) {
          const model = await loadCaptionModel(resolveModelPath(opts.model), { backend: opts.backend });
          if (captions.length !== 2) throw new DeepgenError("E_ARG", `--interpolate takes exactly two captions, got ${captions.length}`);
          if (opts.n * opts.steps > MAX_IMAGES) throw new DeepgenError("E_ARG", `-n x --steps must be at most ${MAX_IMAGES}`);
          const x = model.interpolateCaptions(captions[0]!, captions[1]!, {
            steps: opts.steps,
            rows: opts.n,
            seed: opts.seed,
            backend: opts.backend,
          });
          await writePng(
            opts.out,
            imageGrid(x, { n: opts.n * opts.steps, height: CANVAS_SIDE, width: CANVAS_SIDE, cols: opts.steps, scale: opts.scale }),
          );
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
        const images = onnx
          ? await generateOnnx(rows, opts)
          : await (await loadCaptionModel(resolveModelPath(opts.model), { backend: opts.backend })).generate(rows, {
              seed: opts.seed,
              backend: opts.backend,
            });
        await writeImages(captions, images, opts);
      }),
    );
}

/** Options that belong to one kind of model file only. */
function checkOnnxOptions(onnx: boolean, opts: GenerateCliOptions): void {
  if (onnx && opts.interpolate)
    throw new DeepgenError(
      "E_ARG",
      "--interpolate needs the native model: the ONNX export reads token ids, so it cannot take an embedding between two captions",
    );
  if (onnx && opts.backend !== undefined)
    throw new DeepgenError("E_ARG", "--backend does not apply to an ONNX model: onnxruntime-node runs it (--threads sets its threads)");
  if (!onnx && opts.threads !== undefined) throw new DeepgenError("E_ARG", "--threads applies to ONNX models only");
}

/** Images of the rows' captions from an ONNX export (the ONNX code, and onnxruntime-node, load only on this path). */
async function generateOnnx(rows: string[], opts: GenerateCliOptions): Promise<OnnxTextToImageImages> {
  const { OnnxTextToImage } = await import("../onnx/text2image.js");
  const model = await OnnxTextToImage.load(opts.model, { threads: opts.threads });
  try {
    return await model.generate(rows, { seed: opts.seed });
  } finally {
    await model.dispose();
  }
}

async function writeImages(
  captions: string[],
  images: { x: Float32Array; n: number; captions: string[] },
  opts: GenerateCliOptions,
): Promise<void> {
  const cols = opts.n <= 16 ? opts.n : Math.ceil(Math.sqrt(images.n));
  await writePng(opts.out, labelledGrid(images.x, images.n, CANVAS_SIDE, CANVAS_SIDE, images.captions, { cols, scale: opts.scale }));
  if (opts.json)
    printJson({ out: opts.out, model: opts.model, n: images.n, seed: String(opts.seed), captions: [...new Set(images.captions)] });
  else process.stdout.write(`wrote ${images.n} images of ${captions.length} caption${captions.length > 1 ? "s" : ""} to ${opts.out}\n`);
}
