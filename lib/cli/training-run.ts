/**
 * What every `deepgen train` family shares around its fit: Ctrl-C handling and the model
 * card's machine description and file.
 */
import os from "node:os";

import { DeepgenError } from "../core/errors.js";
import { atomicWriteFile } from "../io/atomic-write.js";

/**
 * The first SIGINT aborts `signal`, so the fit stops at the next batch and the command still
 * saves what it has (and writes its card); `release()` removes the handler again.
 */
export class SigintStop {
  private readonly controller = new AbortController();
  private stopped = false;
  private readonly onSigint = (): void => {
    this.stopped = true;
    this.controller.abort();
    process.stderr.write(`\ninterrupt: stopping at the next batch (${this.what})\n`);
  };

  constructor(private readonly what: string) {
    process.once("SIGINT", this.onSigint);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get interrupted(): boolean {
    return this.stopped;
  }

  /** Rethrows e unless it is the abort this SIGINT caused. */
  swallow(e: unknown): void {
    if (!(e instanceof DeepgenError && e.code === "E_ABORTED" && this.stopped)) throw e;
  }

  release(): void {
    process.removeListener("SIGINT", this.onSigint);
  }
}

/** The machine a model was trained on, for its card. */
export function machineInfo(): { cpu: string; cores: number; platform: string; node: string } {
  return { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, platform: `${process.platform}-${process.arch}`, node: process.versions.node };
}

/** Writes a model card as indented JSON, atomically (a failed write keeps the old card). */
export async function writeCard(path: string, card: unknown): Promise<void> {
  await atomicWriteFile(path, [new TextEncoder().encode(`${JSON.stringify(card, null, 2)}\n`)]);
}
