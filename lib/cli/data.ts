/**
 * deepgen data mnist-captions -n 64 --out grid.png [--set seen|banned|unseen] [--split test|train]
 * [--seed S]: a PNG grid of MNIST-Captions-60 canvases with each caption printed under its
 * canvas, to see what the text-to-image models are trained and judged on.
 */
import type { Command } from "commander";

import { checkInteger, checkOneOf } from "../core/check.js";
import type { Seed } from "../core/philox.js";
import { captionDigits, testCanvases } from "../data/mnist-captions-split.js";
import {
  CANVAS_SIDE,
  CAPTION_SETS,
  type CaptionedCanvases,
  type CaptionSet,
  captionText,
  renderCanvases,
  sampleCanvasRecords,
} from "../data/mnist-captions.js";
import { labelledGrid } from "../io/labelled-grid.js";
import { writePng } from "../io/png.js";
import { groupJsonOption, intOption, seedOption } from "./common.js";
import { printJson } from "./output.js";

const SPLITS = ["test", "train"] as const;
type Split = (typeof SPLITS)[number];

/** Past a 16x16 grid the picture is too large to look at, which is all this command is for. */
const MAX_CANVASES = 256;

/** Fresh draws use their own stream, apart from those of the fixed test sets. */
const FRESH_STREAM = 0;

interface CaptionsCliOptions {
  n: number;
  out: string;
  set: string;
  split: string;
  seed?: Seed;
  cols?: number;
  scale: number;
  json?: boolean;
}

/**
 * The canvases to show: the fixed test set of `set` when no seed is given on the test split,
 * else fresh records drawn with `seed` (0 on the train split when none is given) from the
 * split's digits.
 */
function pickCanvases(set: CaptionSet, split: Split, n: number, seed: Seed | undefined): CaptionedCanvases {
  if (split === "test" && seed === undefined) return testCanvases(set, n);
  const digits = captionDigits()[split];
  return renderCanvases(digits, sampleCanvasRecords(digits, set, n, seed ?? 0, FRESH_STREAM));
}

export function registerData(program: Command, run: (json: boolean, fn: () => Promise<void>) => Promise<void>): void {
  const data = groupJsonOption(program.command("data").description("look at the data sets"));
  data
    .command("mnist-captions")
    .description("write a PNG grid of MNIST-Captions-60 canvases, each with its caption under it")
    .option("-n <n>", `number of canvases (1..${MAX_CANVASES})`, intOption("-n", 1), 64)
    .option("--out <path>", "PNG file", "captions.png")
    .option("--set <set>", "caption set: seen, banned or unseen", "seen")
    .option("--split <split>", "digits the canvases are made of: test or train", "test")
    .option("--seed <n>", "draw fresh canvases with this Philox seed (default: the fixed test canvases)", seedOption("--seed"))
    .option("--cols <k>", "canvases per row (default: a square grid)", intOption("--cols", 1))
    .option("--scale <k>", "pixel upscaling of the canvases", intOption("--scale", 1), 3)
    .option("--json", "print one JSON object")
    .action((opts: CaptionsCliOptions) =>
      run(Boolean(opts.json), async () => {
        const n = checkInteger("-n", opts.n, 1, MAX_CANVASES);
        const set = checkOneOf("--set", opts.set, CAPTION_SETS);
        const split = checkOneOf("--split", opts.split, SPLITS);
        checkInteger("--scale", opts.scale, 1, 16);
        // Columns past n would only widen the picture with empty cells.
        const cols = opts.cols === undefined ? undefined : Math.min(n, opts.cols);
        const canvases = pickCanvases(set, split, n, opts.seed);
        const captions = canvases.records.map((r) => captionText(r.caption));
        const grid = labelledGrid(canvases.x, n, CANVAS_SIDE, CANVAS_SIDE, captions, { cols, scale: opts.scale });
        await writePng(opts.out, grid);
        const fixed = split === "test" && opts.seed === undefined;
        if (opts.json) {
          printJson({
            out: opts.out,
            n,
            set,
            split,
            seed: fixed ? null : (opts.seed ?? 0),
            width: grid.width,
            height: grid.height,
            captions,
          });
          return;
        }
        const source = fixed ? "the fixed test set" : `seed ${String(opts.seed ?? 0)}`;
        process.stdout.write(`wrote ${n} ${set} canvases (${split} digits, ${source}) to ${opts.out} (${grid.width}x${grid.height})\n`);
      }),
    );
}
