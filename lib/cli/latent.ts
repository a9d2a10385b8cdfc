/**
 * deepgen interpolate / plot: the latent-space views of the VAE and the AAE.
 *   interpolate MODEL --from I --to J --steps S --out path.png   decodings along the segment
 *       between the codes of test images I and J (a row of S images, the originals at its ends);
 *       for a GAN: generations along the segment between the latent draws of samples I and J
 *       of --seed, --rows R rows (row r: samples I + 2r and J + 2r)
 *   plot MODEL --kind map|scatter|recon --out path.png           latent map (2-D: decodings of
 *       a grid of codes), scatter of the test codes coloured by digit (2-D; with prior draws
 *       for an AAE), or test images over their reconstructions
 */
import type { Command } from "commander";

import { checkOneOf } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { imageGrid, writePng } from "../io/png.js";
import type { BackendName } from "../kernels/kernels.js";
import { Aae } from "../models/aae.js";
import { Gan } from "../models/gan.js";
import { loadSampler } from "../models/registry.js";
import { Vae } from "../models/vae.js";
import { floatOption, imageShape, intOption, loadData, type DataOptions, seedOption, shapeOf } from "./common.js";
import { printJson } from "./output.js";
import { codeScatter, latentDataKind } from "../models/latent-card.js";

type Run = (json: boolean, fn: () => Promise<void>) => Promise<void>;

async function loadLatent(nameOrPath: string, backend?: BackendName): Promise<Vae | Aae> {
  const model = await loadSampler(nameOrPath, { backend });
  if (!(model instanceof Vae || model instanceof Aae))
    throw new DeepgenError("E_ARG", `${nameOrPath}: a '${model.kind}' model has no latent space (use a vae or aae model)`);
  return model;
}

interface InterpolateOptions extends DataOptions {
  seed: number;
  rows: number;
  from: number;
  to: number;
  steps: number;
  out: string;
  scale: number;
  backend?: BackendName;
  json?: boolean;
}

interface PlotOptions extends DataOptions {
  kind: string;
  out: string;
  size: number;
  range?: number;
  n: number;
  scale: number;
  backend?: BackendName;
  json?: boolean;
}

/** A grid of GAN generations along latent segments, one row per pair of samples. */
async function interpolateGan(model: Gan, opts: InterpolateOptions): Promise<void> {
  const [h, w] = imageShape(model as never);
  const rows: Float32Array[] = [];
  for (let r = 0; r < opts.rows; r++)
    rows.push(
      model.interpolateLatent({ seed: opts.seed, from: opts.from + 2 * r, to: opts.to + 2 * r, steps: opts.steps, backend: opts.backend }),
    );
  const all = new Float32Array(opts.rows * opts.steps * model.dim);
  rows.forEach((row, r) => {
    all.set(row, r * row.length);
  });
  if (model.config.output === "tanh") for (let i = 0; i < all.length; i++) all[i] = (all[i]! + 1) / 2;
  await writePng(opts.out, imageGrid(all, { n: opts.rows * opts.steps, height: h, width: w, cols: opts.steps, scale: opts.scale }));
  const result = { model: model.kind, seed: opts.seed, from: opts.from, to: opts.to, rows: opts.rows, steps: opts.steps, out: opts.out };
  if (opts.json) printJson(result);
  else process.stdout.write(`wrote ${opts.rows} latent interpolation row(s) of ${opts.steps} steps (seed ${opts.seed}) to ${opts.out}\n`);
}

export function registerLatent(program: Command, run: Run): void {
  program
    .command("interpolate")
    .description("decode the segment between the latent codes of two test images (vae, aae) or two samples (gan)")
    .argument("<model>", "model file or shipped model name (vae, aae, or a gan file)")
    .option("--from <i>", "index of the first test image (gan: sample)", intOption("--from", 0), 0)
    .option("--to <j>", "index of the second test image (gan: sample)", intOption("--to", 0), 1)
    .option("--seed <n>", "gan: Philox seed of the latent draws", seedOption("--seed"), 0)
    .option("--rows <n>", "gan: rows of the grid (row r: samples from + 2r and to + 2r)", intOption("--rows", 1), 1)
    .option("--steps <n>", "images along the segment, endpoints included", intOption("--steps", 2), 10)
    .option("--out <path>", "PNG file", "interpolation.png")
    .option("--scale <k>", "pixel upscaling", intOption("--scale", 1), 2)
    .option("--backend <name>", "native, js or cuda")
    .option("--idx-images <path>", "take the images from an IDX file instead of the canonical test split")
    .option("--idx-labels <path>", "IDX labels file for --idx-images")
    .option("--json", "print one JSON object")
    .action((modelArg: string, opts: InterpolateOptions) =>
      run(Boolean(opts.json), async () => {
        const any = await loadSampler(modelArg, { backend: opts.backend });
        if (any instanceof Gan) return interpolateGan(any, opts);
        const model = await loadLatent(modelArg, opts.backend);
        const test = loadData(opts, latentDataKind(model), shapeOf(model as never)).test;
        for (const i of [opts.from, opts.to])
          if (i >= test.n) throw new DeepgenError("E_ARG", `image index ${i} is out of range (the test set has ${test.n})`);
        const [h, w] = imageShape(model as never);
        const a = test.x.subarray(opts.from * test.dim, (opts.from + 1) * test.dim);
        const b = test.x.subarray(opts.to * test.dim, (opts.to + 1) * test.dim);
        const path = model.interpolateImages(a, b, { steps: opts.steps, backend: opts.backend });
        // the two originals at the ends of the row
        const row = new Float32Array((opts.steps + 2) * test.dim);
        row.set(a);
        row.set(path, test.dim);
        row.set(b, (opts.steps + 1) * test.dim);
        await writePng(opts.out, imageGrid(row, { n: opts.steps + 2, height: h, width: w, cols: opts.steps + 2, scale: opts.scale }));
        const result = { model: model.kind, from: opts.from, to: opts.to, steps: opts.steps, out: opts.out };
        if (opts.json) printJson(result);
        else
          process.stdout.write(
            `wrote the ${opts.steps}-step interpolation between test images ${opts.from} and ${opts.to} (originals at both ends) to ${opts.out}\n`,
          );
      }),
    );
  program
    .command("plot")
    .description("latent-space views of a vae or aae: map (2-D), scatter (2-D) or recon")
    .argument("<model>", "model file or shipped model name (vae, aae)")
    .option("--kind <kind>", "map, scatter or recon", "scatter")
    .option("--out <path>", "PNG file", "plot.png")
    .option("--size <n>", "map: decodings per side of the grid", intOption("--size", 2), 20)
    .option("--range <r>", "map: codes in [-r, r]^2 (default: vae 3, aae 6)", floatOption("--range"))
    .option("-n <n>", "recon: test images shown", intOption("-n", 1), 32)
    .option("--scale <k>", "pixel upscaling (map, recon)", intOption("--scale", 1), 1)
    .option("--backend <name>", "native, js or cuda")
    .option("--idx-images <path>", "use an IDX file instead of the canonical test split")
    .option("--idx-labels <path>", "IDX labels file for --idx-images")
    .option("--json", "print one JSON object")
    .action((modelArg: string, opts: PlotOptions) =>
      run(Boolean(opts.json), async () => {
        const kind = checkOneOf("--kind", opts.kind, ["map", "scatter", "recon"] as const);
        const model = await loadLatent(modelArg, opts.backend);
        const [h, w] = imageShape(model as never);
        if (kind === "map") {
          const range = opts.range ?? (model instanceof Vae ? 3 : 6);
          const images = model.latentMap(opts.size, { range, backend: opts.backend });
          await writePng(
            opts.out,
            imageGrid(images, { n: opts.size * opts.size, height: h, width: w, cols: opts.size, pad: 0, scale: opts.scale }),
          );
        } else if (kind === "scatter") {
          const test = loadData(opts, latentDataKind(model), shapeOf(model as never)).test;
          await writePng(
            opts.out,
            codeScatter(
              model,
              test,
              `${model.kind}: ${test.n} test codes${model instanceof Aae ? ` vs ${model.config.prior} prior` : ""}`,
              opts.backend,
            ),
          );
        } else {
          const test = loadData(opts, latentDataKind(model), shapeOf(model as never)).test;
          const n = Math.min(opts.n, test.n);
          const x = test.x.subarray(0, n * test.dim);
          const rec = model.reconstruct(x, { backend: opts.backend });
          const both = new Float32Array(2 * n * test.dim);
          both.set(x);
          both.set(rec, n * test.dim);
          await writePng(opts.out, imageGrid(both, { n: 2 * n, height: h, width: w, cols: n, scale: opts.scale }));
        }
        const result = { model: model.kind, kind, out: opts.out, latent: model.latent };
        if (opts.json) printJson(result);
        else process.stdout.write(`wrote the ${kind} plot of ${model.kind} to ${opts.out}\n`);
      }),
    );
}
