/**
 * The option groups of the `deepgen train <family>` subcommands, each defined once here. A
 * family adds the groups it reads, with its own defaults, so its --help lists only the options
 * that family uses, with the defaults it really has; any other option is a usage error.
 */
import { type Command, InvalidArgumentError, Option } from "commander";

import type { BackendName } from "../kernels/kernels.js";
import { floatOption, intOption } from "./common.js";
import type { Run } from "./output.js";

/** What every training run takes: where its files go and how it reports. */
export interface RunOptions {
  out: string;
  resume?: boolean;
  backend?: BackendName;
  json?: boolean;
}

/** The loop of a gradient-trained family. */
export interface FitOptions {
  epochs: number;
  lr: number;
  batch: number;
  seed: number;
}

/**
 * What every fit takes from the command: its loop, the checkpoint it writes each epoch, and
 * (--resume) the checkpoint it continues from.
 */
export function fitLoop(
  opts: FitOptions & RunOptions,
  checkpointPath: string,
): { epochs: number; batchSize: number; lr: number; seed: number; checkpointPath: string; resumeFrom: string | undefined } {
  return {
    epochs: opts.epochs,
    batchSize: opts.batch,
    lr: opts.lr,
    seed: opts.seed,
    checkpointPath,
    resumeFrom: opts.resume ? checkpointPath : undefined,
  };
}

/** A number as one would type it in help: 2e-4 rather than 0.0002. */
function shown(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x);
}

/** A number option whose help shows its default (if any) as typed: 2e-4, not 0.0002. */
export function numberOption(flags: string, description: string, value?: number): Option {
  const option = new Option(flags, description).argParser(floatOption(flags.split(" ")[0]!));
  return value === undefined ? option : option.default(value, shown(value));
}

/** An option taking one of `values`, checked when the command line is read. */
export function choiceOption(flags: string, description: string, values: readonly string[], value: string): Option {
  return new Option(flags, description).choices(values).default(value);
}

/**
 * A comma-separated list of `count` positive integers (any count when undefined), e.g.
 * --channels 32,64; its help shows `value`.
 */
export function intListOption(flags: string, description: string, value: readonly number[] | undefined, count?: number): Option {
  const name = flags.split(" ")[0]!;
  const option = new Option(flags, description).argParser((v: string) => {
    const list = v.split(",").map(Number);
    if ((count !== undefined && list.length !== count) || !list.every((c) => Number.isInteger(c) && c >= 1 && c <= 4096))
      throw new InvalidArgumentError(
        `${name} must be ${count === 2 ? "two" : "comma-separated"} positive integers like ${(value ?? [32, 64]).join(",")}, got ${v}`,
      );
    return list;
  });
  return value === undefined ? option : option.default(value, value.join(","));
}

/**
 * --epochs, --lr, --batch and --seed with the family's defaults; with `patience`,
 * --patience (early stopping on validation); with `validation`, the held-out fraction of train;
 * with `weightDecay`, decoupled weight decay.
 */
export function fitOptions(
  cmd: Command,
  defaults: { epochs: number; lr: number; batch: number; patience?: number; validation?: boolean; weightDecay?: boolean },
): Command {
  cmd
    .option("--epochs <n>", "maximum epochs", intOption("--epochs", 0), defaults.epochs)
    .addOption(numberOption("--lr <x>", "Adam learning rate", defaults.lr))
    .option("--batch <n>", "minibatch size", intOption("--batch", 1), defaults.batch)
    .option("--seed <n>", "seed of initialization and of every random draw of training", intOption("--seed", 0), 0);
  if (defaults.patience !== undefined)
    cmd.option("--patience <n>", "early stopping: epochs without validation improvement", intOption("--patience", 1), defaults.patience);
  if (defaults.validation)
    cmd.addOption(numberOption("--validation <fraction>", "fraction of train held out for early stopping and selection", 0.1));
  if (defaults.weightDecay) cmd.addOption(numberOption("--weight-decay <x>", "decoupled weight decay (AdamW)", 0));
  return cmd;
}

/** The defaults of the likelihood-trained families' loop. */
export const LIKELIHOOD_FIT = { epochs: 100, lr: 1e-3, batch: 100, patience: 10, validation: true } as const;

/** --idx-images and --idx-labels: the user's MNIST-format files instead of the canonical split. */
export function dataOptions(cmd: Command): Command {
  return cmd
    .option("--idx-images <path>", "train on an IDX images file instead of the canonical MNIST split")
    .option("--idx-labels <path>", "IDX labels file for --idx-images");
}

/**
 * --out (default <family>.safetensors) and --json; a gradient-trained family also takes
 * --resume and --backend (`fitted`).
 */
export function runOptions(cmd: Command, family: string, fitted = true): Command {
  cmd.option("--out <path>", "model file to write; the checkpoint, card and curve go beside it", `${family}.safetensors`);
  if (fitted) cmd.option("--resume", "continue from <out>.ckpt.safetensors").option("--backend <name>", "native, js or cuda");
  return cmd.option("--json", "print the model card as one JSON object (errors too)");
}

/**
 * --canvases of the families trained on MNIST-Captions-60; a text-to-image family also takes
 * --judge, `judge` saying what the judge does there.
 */
export function captionOptions(cmd: Command, judge?: string): Command {
  cmd.option("--canvases <n>", "fresh training canvases per epoch", intOption("--canvases", 1), 10000);
  if (judge !== undefined) cmd.option("--judge <model>", `caption judge that ${judge} (default: the shipped one; none: no judge)`);
  return cmd;
}

/** Runs `fn` as the command's action, under the error contract of every command. */
export function trainAction<T extends { json?: boolean }>(cmd: Command, run: Run, fn: (opts: T) => Promise<void>): void {
  cmd.action((opts: T) => run(Boolean(opts.json), () => fn(opts)));
}
