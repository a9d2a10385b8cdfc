/**
 * What every `deepgen train` family shares around its fit: where its files go, that they can
 * be written before the first epoch, and how a stop signal ends the run (the cards themselves
 * are built by lib/models/card.ts and its family builders).
 */
import { constants } from "node:os";

import { DeepgenError } from "../core/errors.js";
import { checkWritable } from "../io/atomic-write.js";

/** The command line a model card records: how to train the model again. */
export function commandLine(): string {
  return `deepgen ${process.argv.slice(2).join(" ")}`;
}

/** The files a training run writes beside its model file. */
export interface TrainingOutputs {
  model: string;
  /** The model path without .safetensors: other outputs are named <stem>.<what>. */
  stem: string;
  checkpoint: string;
  card: string;
  curve: string;
}

export function trainingOutputs(out: string): TrainingOutputs {
  const stem = out.replace(/\.safetensors$/, "");
  return { model: out, stem, checkpoint: `${stem}.ckpt.safetensors`, card: `${stem}.card.json`, curve: `${stem}.curve.png` };
}

/**
 * The outputs of a run that is about to train, each checked writable (E_IO naming it), so a
 * bad --out (a directory, a missing or read-only folder) fails at once instead of after the
 * last epoch. `extra` names further files of the family (<stem>.<suffix>).
 */
export function checkedTrainingOutputs(out: string, extra: readonly string[] = []): TrainingOutputs {
  const outputs = trainingOutputs(out);
  for (const path of [
    outputs.model,
    outputs.checkpoint,
    outputs.card,
    outputs.curve,
    ...extra.map((suffix) => `${outputs.stem}.${suffix}`),
  ])
    checkWritable(path);
  return outputs;
}

/** The signals that ask a run to stop: Ctrl-C, a kill or a service manager, a closed terminal. */
const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
type StopSignal = (typeof STOP_SIGNALS)[number];

/**
 * The one place the training commands handle stop signals. The first SIGINT, SIGTERM or SIGHUP
 * aborts `signal`: the fit stops at the next batch, a test evaluation in progress stops, and
 * the command still writes the model, its card and its curve; finish() then sets the exit
 * code 128 + the signal's number, as a shell reports a process the signal ended. A second
 * signal ends the process at once (the default action).
 */
export class TrainingStop {
  private readonly controller = new AbortController();
  private received: StopSignal | undefined;
  private installed = true;
  private readonly onSignal = (signal: StopSignal): void => {
    if (this.received !== undefined) {
      this.release();
      process.kill(process.pid, signal);
      return;
    }
    this.received = signal;
    this.controller.abort();
    process.stderr.write(
      `\n${signal}: stopping (${this.what}); the model, its card and curve are written before exiting (${signal} again to quit at once)\n`,
    );
  };

  constructor(private readonly what: string) {
    for (const s of STOP_SIGNALS) process.on(s, this.onSignal);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get interrupted(): boolean {
    return this.received !== undefined;
  }

  /** The signal that stopped the run, if one did. */
  get signalName(): StopSignal | undefined {
    return this.received;
  }

  /** Rethrows e unless it is the abort a stop signal caused. */
  swallow(e: unknown): void {
    if (!(e instanceof DeepgenError && e.code === "E_ABORTED" && this.interrupted)) throw e;
  }

  /**
   * A test-set evaluation: skipped (undefined) once the run has been stopped, and ended
   * (undefined) by a stop signal during it, so the card is written without it.
   */
  async evaluate<T>(fn: (signal: AbortSignal) => Promise<T> | T): Promise<T | undefined> {
    if (this.interrupted) return undefined;
    try {
      return await fn(this.signal);
    } catch (e) {
      this.swallow(e);
      return undefined;
    }
  }

  private release(): void {
    if (!this.installed) return;
    this.installed = false;
    for (const s of STOP_SIGNALS) process.removeListener(s, this.onSignal);
  }

  /** After the last output is written: removes the handlers; a stopped run exits with 128 + the signal's number. */
  finish(): void {
    this.release();
    if (this.received !== undefined) process.exitCode = 128 + constants.signals[this.received];
  }
}
