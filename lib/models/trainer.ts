/**
 * The minibatch training loop shared by the gradient-trained models: seeded epochs, early
 * stopping on a validation objective, per-epoch checkpoints, progress and cancellation.
 * Each model supplies how to train on one batch, how to evaluate, and how to snapshot,
 * restore and checkpoint its state.
 */
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import type { BackendName } from "../kernels/kernels.js";
import { epochBatches, splitValidation } from "../data/batching.js";
import { type Dataset, makeDataset } from "../data/dataset.js";
import { batchRows, type InputCheckOptions, type InputDomain, inputRows } from "./common.js";

export interface EpochRecord {
  epoch: number;
  /** Mean training objective over the epoch's batches (for NADE: NLL in nats per image). */
  train: number;
  /** Validation objective after the epoch, when a validation set is used. */
  validation?: number;
  seconds: number;
}

export interface TrainingState {
  /** Epochs completed so far. */
  epoch: number;
  history: EpochRecord[];
  bestValidation: number;
  bestEpoch: number;
}

/** The options of every minibatch fit; each model's own options extend them. */
export interface FitOptions<R extends EpochRecord = EpochRecord> extends InputCheckOptions {
  epochs?: number;
  batchSize?: number;
  /** Adam learning rate. */
  lr?: number;
  seed?: Seed;
  backend?: BackendName;
  signal?: AbortSignal;
  /** Write a checkpoint here after every epoch (atomic). */
  checkpointPath?: string;
  /** Continue from this checkpoint (same data and options): the run continues exactly. */
  resumeFrom?: string;
  onBatch?: (p: TrainingProgress) => void;
  /** After each epoch (and its checkpoint), with the epoch's record and the whole run's state. */
  onEpoch?: (r: R, state: TrainingState) => void | Promise<void>;
}

/** A fit that holds images out and stops early when their objective stops improving. */
export interface ValidatedFitOptions<R extends EpochRecord = EpochRecord> extends FitOptions<R> {
  /** Validation images ([n, D]) or a fraction of the training set to carve out (default 0.1). */
  validation?: Float32Array | number;
  /** Epochs without validation improvement before stopping. */
  patience?: number;
}

/** The keys of FitOptions and ValidatedFitOptions, for each model's list of its fit's options (optionKeys). */
export const FIT_FIELDS = {
  epochs: true,
  batchSize: true,
  lr: true,
  seed: true,
  backend: true,
  signal: true,
  checkpointPath: true,
  resumeFrom: true,
  onBatch: true,
  onEpoch: true,
  checkInput: true,
} as const satisfies { [K in keyof Required<FitOptions>]: true };

export const VALIDATED_FIT_FIELDS = { ...FIT_FIELDS, validation: true, patience: true } as const satisfies {
  [K in keyof Required<ValidatedFitOptions>]: true;
};

export interface TrainingProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  /** Running mean of the training objective in this epoch. */
  loss: number;
}

export interface LoopOptions {
  n: number;
  batchSize: number;
  epochs: number;
  seed: Seed;
  /** Stop after this many epochs without a validation improvement (Infinity: never). */
  patience: number;
  signal?: AbortSignal;
  onBatch?: (p: TrainingProgress) => void;
  onEpoch?: (r: EpochRecord, state: TrainingState) => void | Promise<void>;
}

export interface LoopHooks {
  /** Trains on the listed examples; returns the summed objective over them. */
  trainBatch(indices: Uint32Array): Promise<number>;
  /** Validation objective (lower is better), or undefined without a validation set. */
  validate(): Promise<number | undefined>;
  /** Remembers the current parameters as the best so far. */
  keepBest(): void;
  /** Puts the best parameters back (at the end of training). */
  restoreBest(): void;
  /** Persists everything needed to resume after `state.epoch` epochs. */
  checkpoint?(state: TrainingState): Promise<void>;
}

/**
 * The training and validation images of a fit on `train` [n, dim]: `validation` is a set of
 * its own [m, dim], or the fraction of `train` to hold out (a split seeded by `seed`). With
 * `nonEmpty`, an empty validation set of its own is E_ARG (early stopping needs one). With
 * `domain`, the values of both are checked against it (unless `checkInput` is false).
 */
export function trainValidationSplit(
  train: Float32Array | Dataset,
  dim: number,
  validation: Float32Array | number,
  seed: Seed,
  opts: { nonEmpty?: boolean; domain?: InputDomain; checkInput?: boolean } = {},
): { trainX: Float32Array; validX: Float32Array; n: number } {
  const x = train instanceof Float32Array ? train : train.x;
  const rows = (what: string, a: Float32Array): number =>
    opts.domain === undefined ? batchRows(a, dim) : inputRows(what, a, dim, opts.domain, opts);
  rows("fit: training images", x);
  if (typeof validation === "number") {
    const split = splitValidation(makeDataset(x, undefined, 1, dim), validation, seed);
    return { trainX: split.train.x, validX: split.validation.x, n: split.train.x.length / dim };
  }
  if (rows("fit: validation images", validation) === 0 && opts.nonEmpty === true)
    throw new DeepgenError("E_ARG", "the validation set is empty");
  return { trainX: x, validX: validation, n: x.length / dim };
}

export function freshState(): TrainingState {
  return { epoch: 0, history: [], bestValidation: Infinity, bestEpoch: 0 };
}

export async function runTrainingLoop(opts: LoopOptions, hooks: LoopHooks, state: TrainingState = freshState()): Promise<TrainingState> {
  if (!(opts.patience >= 1)) throw new DeepgenError("E_ARG", `patience must be >= 1 (Infinity: never stop early), got ${opts.patience}`);
  try {
    await epochs(opts, hooks, state);
  } finally {
    // Also on abort or error: the model is left holding the best parameters seen so far.
    hooks.restoreBest();
  }
  return state;
}

async function epochs(opts: LoopOptions, hooks: LoopHooks, state: TrainingState): Promise<void> {
  const aborted = (): boolean => opts.signal?.aborted === true;
  while (state.epoch < opts.epochs) {
    const epoch = state.epoch + 1;
    const t0 = performance.now();
    const batches = epochBatches(opts.n, opts.batchSize, opts.seed, epoch);
    let total = 0;
    let seen = 0;
    for (let b = 0; b < batches.length; b++) {
      if (aborted()) throw new DeepgenError("E_ABORTED", `training aborted in epoch ${epoch}`);
      total += await hooks.trainBatch(batches[b]!);
      seen += batches[b]!.length;
      opts.onBatch?.({ epoch, epochs: opts.epochs, batch: b + 1, batches: batches.length, loss: total / seen });
      await yieldToEventLoop(); // keep timers, signals and I/O responsive between batches
    }
    const validation = await hooks.validate();
    const record: EpochRecord = { epoch, train: total / Math.max(1, seen), seconds: (performance.now() - t0) / 1000 };
    if (validation !== undefined) record.validation = validation;
    state.history.push(record);
    state.epoch = epoch;
    const score = validation ?? record.train;
    if (score < state.bestValidation) {
      state.bestValidation = score;
      state.bestEpoch = epoch;
      hooks.keepBest();
    }
    await hooks.checkpoint?.(state);
    await opts.onEpoch?.(record, state);
    if (epoch - state.bestEpoch >= opts.patience) break;
  }
}
