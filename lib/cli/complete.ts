/**
 * deepgen complete MODEL --rows 14 -n 8 --out completions.png: shows test digits, their top
 * rows, and NADE's completions of the rest (one row of the grid per digit).
 */
import type { Command } from "commander";

import { DeepgenError } from "../core/errors.js";
import { writeImageGrid } from "../io/png.js";
import type { BackendName } from "../kernels/kernels.js";
import { Nade } from "../models/nade.js";
import { loadModel } from "../models/registry.js";
import { type DataOptions, imageShape, intOption, loadData, seedOption } from "./common.js";
import { printJson } from "./output.js";

interface CompleteOptions extends DataOptions {
  rows: number;
  n: number;
  k: number;
  seed: number;
  out: string;
  scale: number;
  backend?: BackendName;
  json?: boolean;
}

export function registerComplete(program: Command, run: (json: boolean, fn: () => Promise<void>) => Promise<void>): void {
  program
    .command("complete")
    .description("complete test digits from their top rows (NADE with the natural ordering)")
    .argument("<model>", "model file or shipped model name (e.g. nade)")
    .option("--rows <r>", "rows given to the model", intOption("--rows", 0), 14)
    .option("-n <n>", "number of test digits", intOption("-n", 1), 8)
    .option("-k <k>", "completions per digit", intOption("-k", 1), 6)
    .option("--seed <n>", "Philox seed", seedOption("--seed"), 0)
    .option("--out <path>", "PNG file", "completions.png")
    .option("--scale <k>", "pixel upscaling of the grid", intOption("--scale", 1), 2)
    .option("--backend <name>", "native, js or cuda")
    .option("--idx-images <path>", "take digits from an IDX images file instead of the canonical test split")
    .option("--idx-labels <path>", "IDX labels file for --idx-images")
    .option("--json", "print one JSON object")
    .action((modelArg: string, opts: CompleteOptions) =>
      run(Boolean(opts.json), async () => {
        const model = await loadModel(modelArg, { backend: opts.backend });
        if (!(model instanceof Nade)) throw new DeepgenError("E_ARG", `complete needs a NADE model, got '${model.kind}'`);
        if (model.config.ordering !== "natural")
          throw new DeepgenError("E_ARG", "complete by rows needs a NADE trained with the natural ordering");
        const [h, w] = imageShape(model);
        if (opts.rows > h) throw new DeepgenError("E_ARG", `--rows ${opts.rows} exceeds the image height ${h}`);
        const test = loadData(opts, "binary", { height: h, width: w }).test;
        const n = Math.min(opts.n, test.n);
        // Digits spread over the test set (it is ordered by class), not just the first few zeros.
        const picks = Array.from({ length: n }, (_, i) => Math.floor((i * test.n) / n));
        const digitAt = (i: number): Float32Array => test.x.subarray(picks[i]! * model.dim, (picks[i]! + 1) * model.dim);
        const known = opts.rows * w;
        const cols = opts.k + 2;
        // Row r of the grid: the digit, its known rows (rest grey), then k completions.
        const inputs = new Float32Array(n * opts.k * model.dim);
        for (let i = 0; i < n; i++) for (let j = 0; j < opts.k; j++) inputs.set(digitAt(i), (i * opts.k + j) * model.dim);
        const done = await model.complete(inputs, { known, seed: opts.seed, backend: opts.backend });
        const grid = new Float32Array(n * cols * model.dim);
        for (let i = 0; i < n; i++) {
          const digit = digitAt(i);
          grid.set(digit, i * cols * model.dim);
          const masked = digit.slice();
          masked.fill(0.5, known);
          grid.set(masked, (i * cols + 1) * model.dim);
          for (let j = 0; j < opts.k; j++)
            grid.set(done.x.subarray((i * opts.k + j) * model.dim, (i * opts.k + j + 1) * model.dim), (i * cols + 2 + j) * model.dim);
        }
        await writeImageGrid(opts.out, grid, { n: n * cols, height: h, width: w, cols, scale: opts.scale });
        const result = { model: model.kind, digits: n, completions_per_digit: opts.k, rows_given: opts.rows, out: opts.out };
        if (opts.json) printJson(result);
        else process.stdout.write(`wrote ${n} digits x ${opts.k} completions from ${opts.rows} rows to ${opts.out}\n`);
      }),
    );
}
