/**
 * What every `deepgen train` family shares around its fit: Ctrl-C handling (the cards
 * themselves are built by lib/models/card.ts and its family builders).
 */
import { DeepgenError } from "../core/errors.js";

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
