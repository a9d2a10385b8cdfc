/** deepgen sample MODEL -n 64 --seed S --out grid.png: an image grid of samples (or their means). */
import type { Command } from "commander";

import { DeepgenError } from "../core/errors.js";
import type { ImageLayout, ImageRange } from "../onnx/metadata.js";
import { imageGrid, writeImageGrid, writePng } from "../io/png.js";
import type { BackendName } from "../kernels/kernels.js";
import { sizedRequest } from "../models/common.js";
import { loadSampler, resolveModelPath } from "../models/registry.js";
import { imageShape, intOption, seedOption } from "./common.js";
import { printJson } from "./output.js";

interface SampleCliOptions {
  n: number;
  seed: number;
  out: string;
  probs?: boolean;
  scale: number;
  backend?: BackendName;
  json?: boolean;
  layout?: string;
  range?: string;
  threads?: number;
  input?: string;
  output?: string;
  code?: number;
}

/** Image side of a model over D pixels: its config's height/width, else a square. */
export function registerSample(program: Command, run: (json: boolean, fn: () => Promise<void>) => Promise<void>): void {
  program
    .command("sample")
    .description("draw samples from a model into a PNG grid")
    .argument("<model>", "model file or shipped model name (e.g. nade)")
    .option("-n <n>", "number of samples", intOption("-n", 1), 64)
    .option("--seed <n>", "Philox seed", seedOption("--seed"), 0)
    .option("--out <path>", "PNG file", "samples.png")
    .option("--probs", "draw the conditional probabilities (smooth 'mean' images) instead of the binary samples")
    .option("--scale <k>", "pixel upscaling of the grid", intOption("--scale", 1), 2)
    .option("--backend <name>", "native, js or cuda")
    .option("--layout <NCHW|NHWC>", "ONNX: layout of the image output (default: detected)")
    .option("--range <0,1|-1,1>", "ONNX: range of the image output (default: detected)")
    .option("--threads <n>", "ONNX: onnxruntime intra-op threads (default: onnxruntime's)", intOption("--threads", 1))
    .option("--input <name>", "ONNX: name of the z input (default: the only input)")
    .option("--output <name>", "ONNX: name of the image output (default: 'images', else the first)")
    .option(
      "--code <c>",
      "gan/dcgan trained with --codes or --conditional: draw every sample with this code or class (0..K-1)",
      intOption("--code", 0),
    )
    .option("--json", "print one JSON object")
    .action((modelArg: string, opts: SampleCliOptions) =>
      run(Boolean(opts.json), async () => {
        if (opts.code !== undefined && modelArg.endsWith(".onnx"))
          throw new DeepgenError("E_ARG", "--code needs the model's safetensors file (the ONNX graph takes z with the code in it)");
        if (modelArg.endsWith(".onnx")) return sampleOnnx(modelArg, opts);
        const model = await loadSampler(modelArg, { backend: opts.backend });
        if (opts.code !== undefined && model.kind !== "gan")
          throw new DeepgenError("E_ARG", `--code is for GANs trained with --codes or --conditional, not ${model.kind}`);
        const [h, w] = imageShape(model);
        const t0 = performance.now();
        const sampleOpts = { seed: opts.seed, returnProbs: Boolean(opts.probs), backend: opts.backend };
        // beside the model's own request (checked by the model), the command holds the samples
        // and their means while it draws the grid and its PNG encoding
        const s = await sizedRequest("deepgen sample", opts.n, 8 * h * w + gridBytesPerImage(h, w, opts.scale), () =>
          model.kind === "gan" ? model.sample(opts.n, { ...sampleOpts, code: opts.code }) : model.sample(opts.n, sampleOpts),
        );
        const ms = performance.now() - t0;
        await sizedRequest("deepgen sample", opts.n, gridBytesPerImage(h, w, opts.scale), () =>
          writeImageGrid(opts.out, opts.probs ? s.probs! : s.x, { n: opts.n, height: h, width: w, scale: opts.scale }),
        );
        const result = { model: model.kind, n: opts.n, seed: opts.seed, out: opts.out, sample_ms: ms };
        if (opts.json) printJson(result);
        else process.stdout.write(`wrote ${opts.n} samples of ${model.kind} to ${opts.out} (${ms.toFixed(1)} ms)\n`);
      }),
    );
}

/** Bytes a grid needs per image: its pixels at the scale, and as much again for the PNG's filtered rows. */
function gridBytesPerImage(h: number, w: number, scale: number): number {
  return 2 * h * w * scale * scale;
}

/** The ONNX path of `deepgen sample`: any generator with one z input [N, zdim], through onnxruntime-node. */
async function sampleOnnx(modelArg: string, opts: SampleCliOptions): Promise<void> {
  if (opts.layout !== undefined && opts.layout !== "NCHW" && opts.layout !== "NHWC")
    throw new DeepgenError("E_ARG", `--layout must be NCHW or NHWC, got '${opts.layout}'`);
  if (opts.range !== undefined && opts.range !== "0,1" && opts.range !== "-1,1")
    throw new DeepgenError("E_ARG", `--range must be 0,1 or -1,1, got '${opts.range}'`);
  if (opts.probs)
    throw new DeepgenError(
      "E_ARG",
      "--probs does not apply to ONNX generators: they output images (a deepgen VAE / AAE export outputs the probabilities that --probs draws)",
    );
  const { OnnxGenerator } = await import("../onnx/generator.js");
  const gen = await OnnxGenerator.load(resolveModelPath(modelArg), {
    layout: opts.layout as ImageLayout | undefined,
    range: opts.range as ImageRange | undefined,
    threads: opts.threads,
    input: opts.input,
    output: opts.output,
  });
  try {
    const t0 = performance.now();
    const s = await gen.sample(opts.n, { seed: opts.seed });
    const ms = performance.now() - t0;
    const plane = s.height * s.width;
    if (s.channels === 1) await writeImageGrid(opts.out, s.images, { n: s.n, height: s.height, width: s.width, scale: opts.scale });
    else {
      // Colour: one grid per channel (R, G, B; alpha dropped), interleaved.
      const grids = [0, 1, 2].map((ch) => {
        const one = new Float32Array(s.n * plane);
        for (let i = 0; i < s.n; i++)
          one.set(
            s.images.subarray(
              (i * s.channels + Math.min(ch, s.channels - 1)) * plane,
              (i * s.channels + Math.min(ch, s.channels - 1) + 1) * plane,
            ),
            i * plane,
          );
        return imageGrid(one, { n: s.n, height: s.height, width: s.width, scale: opts.scale });
      });
      const data = new Uint8Array(grids[0]!.data.length * 3);
      for (let i = 0; i < grids[0]!.data.length; i++) for (let ch = 0; ch < 3; ch++) data[3 * i + ch] = grids[ch]!.data[i]!;
      await writePng(opts.out, { width: grids[0]!.width, height: grids[0]!.height, channels: 3, data });
    }
    const result = {
      model: gen.model.deepgen?.model ?? "onnx",
      file: modelArg,
      n: opts.n,
      seed: opts.seed,
      out: opts.out,
      z_dim: gen.zDim,
      image: { channels: s.channels, height: s.height, width: s.width, layout: gen.layout, range: s.range, range_source: s.rangeSource },
      sample_ms: ms,
    };
    if (opts.json) printJson(result);
    else
      process.stdout.write(
        `wrote ${opts.n} samples of ${modelArg} (onnxruntime, z ${gen.zDim}, ${s.channels}x${s.height}x${s.width} ${gen.layout}, range [${s.range}] from ${s.rangeSource}) to ${opts.out} (${ms.toFixed(1)} ms)\n`,
      );
  } finally {
    await gen.dispose();
  }
}
