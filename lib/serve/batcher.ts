/**
 * The dynamic batcher of one model: requests wait in a bounded FIFO queue and leave it in
 * batches of one kind of work (sample, logprob, ...) of up to `maxBatch` rows, at most
 * `maxDelayMs` after the oldest one arrived. One batch runs at a time per model: the work runs
 * on the native thread pool, which a second concurrent batch would only share, while the queue
 * behind it fills the next batch. Knows nothing of HTTP; the routes map its errors to statuses.
 */
import { DeepgenError } from "../core/errors.js";
import { ServeError } from "./errors.js";

export interface BatcherOptions {
  /** Rows per batch (a single request of more rows runs alone). */
  maxBatch: number;
  /** How long the oldest queued request may wait for the batch to fill. */
  maxDelayMs: number;
  /** Requests waiting (not counting the running batch); one more is refused at once. */
  maxQueue: number;
  /** Queue time after which a request is dropped with 504 (0: no limit). */
  timeoutMs: number;
}

/** Runs one batch of payloads of one kind; result i answers payload i (an Error fails that request alone). */
export type BatchRunner<P, R> = (payloads: P[], signal: AbortSignal) => Promise<(R | Error)[]>;

/** What the batcher reports of every batch it runs (for metrics). */
export interface BatchEvents {
  onQueueDepth?(depth: number): void;
  onDequeue?(queuedMs: number): void;
  onBatch?(kind: string, requests: number, rows: number, computeMs: number): void;
}

interface Item<P, R> {
  kind: string;
  rows: number;
  payload: P;
  enqueued: number;
  signal: AbortSignal | undefined;
  resolve(r: R): void;
  reject(e: unknown): void;
  cleanup(): void;
  /** Set once the item left the queue (run, dropped or timed out). */
  settled: boolean;
}

export class Batcher<P, R> {
  private readonly queue: Item<P, R>[] = [];
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    readonly options: BatcherOptions,
    private readonly runners: Record<string, BatchRunner<P, R>>,
    private readonly events: BatchEvents = {},
  ) {}

  /** Requests waiting, not counting the running batch. */
  get depth(): number {
    return this.queue.length;
  }

  /** Whether a batch is running or any request waits. */
  get busy(): boolean {
    return this.running || this.queue.length > 0;
  }

  /**
   * Queues one request of `rows` rows. Rejects with ServeError 503 when the queue is full, 504
   * when it waited past timeoutMs, and E_ABORTED when `signal` fired before it ran (it then
   * leaves the queue) or while its batch ran with no other live request in it.
   */
  submit(kind: string, rows: number, payload: P, signal?: AbortSignal): Promise<R> {
    if (this.runners[kind] === undefined) throw new DeepgenError("E_ARG", `no runner for work of kind '${kind}'`);
    if (signal?.aborted) return Promise.reject(new DeepgenError("E_ABORTED", "the request was aborted before it was queued"));
    if (this.queue.length >= this.options.maxQueue)
      return Promise.reject(new ServeError(503, "E_QUEUE_FULL", `the queue is full (maxQueue ${this.options.maxQueue})`));
    return new Promise<R>((resolve, reject) => {
      const item: Item<P, R> = {
        kind,
        rows,
        payload,
        enqueued: performance.now(),
        signal,
        resolve,
        reject,
        cleanup: () => {},
        settled: false,
      };
      const onAbort = (): void => {
        if (!item.settled && this.remove(item))
          item.reject(new DeepgenError("E_ABORTED", "the client went away while the request was queued"));
      };
      let timeout: NodeJS.Timeout | undefined;
      if (this.options.timeoutMs > 0) {
        timeout = setTimeout(() => {
          if (!item.settled && this.remove(item))
            item.reject(
              new ServeError(504, "E_TIMEOUT", `the request waited longer than timeoutMs ${this.options.timeoutMs} in the queue`),
            );
        }, this.options.timeoutMs);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      item.cleanup = () => {
        clearTimeout(timeout);
        signal?.removeEventListener("abort", onAbort);
      };
      this.queue.push(item);
      this.events.onQueueDepth?.(this.queue.length);
      this.schedule();
    });
  }

  /** Resolves when no batch runs and nothing waits (for a drain). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private remove(item: Item<P, R>): boolean {
    const i = this.queue.indexOf(item);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    item.settled = true;
    item.cleanup();
    this.events.onQueueDepth?.(this.queue.length);
    this.events.onDequeue?.(performance.now() - item.enqueued);
    this.schedule();
    return true;
  }

  /** Starts a batch now if one is due, else arms the timer for when the oldest request's delay ends. */
  private schedule(): void {
    if (this.running) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    const head = this.queue[0];
    if (head === undefined) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    const waited = performance.now() - head.enqueued;
    let rows = 0;
    for (const it of this.queue) if (it.kind === head.kind) rows += it.rows;
    if (rows >= this.options.maxBatch || waited >= this.options.maxDelayMs) {
      void this.runBatch();
      return;
    }
    this.timer = setTimeout(() => this.schedule(), Math.max(0, this.options.maxDelayMs - waited));
  }

  /** The head request and the later ones of its kind, in order, while they fit in maxBatch rows. */
  private take(): Item<P, R>[] {
    const head = this.queue[0]!;
    const batch = [head];
    let rows = head.rows;
    for (let i = 1; i < this.queue.length && rows < this.options.maxBatch; i++) {
      const it = this.queue[i]!;
      if (it.kind !== head.kind || rows + it.rows > this.options.maxBatch) continue;
      batch.push(it);
      rows += it.rows;
    }
    const taken = new Set(batch);
    const rest = this.queue.filter((it) => !taken.has(it));
    this.queue.length = 0;
    this.queue.push(...rest);
    const now = performance.now();
    for (const it of batch) {
      it.settled = true;
      it.cleanup();
      this.events.onDequeue?.(now - it.enqueued);
    }
    this.events.onQueueDepth?.(this.queue.length);
    return batch;
  }

  private async runBatch(): Promise<void> {
    this.running = true;
    const batch = this.take();
    const controller = new AbortController();
    // The batch's work stops only when every caller in it has gone: one live caller keeps it.
    const live = new Set(batch.filter((it) => !it.signal?.aborted));
    const listeners = batch.map((it) => {
      const onAbort = (): void => {
        live.delete(it);
        it.reject(new DeepgenError("E_ABORTED", "the client went away while its batch ran"));
        if (live.size === 0) controller.abort();
      };
      it.signal?.addEventListener("abort", onAbort, { once: true });
      return () => it.signal?.removeEventListener("abort", onAbort);
    });
    if (live.size === 0) controller.abort();
    const start = performance.now();
    try {
      const results = await this.runners[batch[0]!.kind]!(
        batch.map((it) => it.payload),
        controller.signal,
      );
      batch.forEach((it, i) => {
        const r = results[i]!;
        if (r instanceof Error) it.reject(r);
        else it.resolve(r);
      });
    } catch (e) {
      for (const it of batch) it.reject(e);
    } finally {
      for (const off of listeners) off();
      const rows = batch.reduce((s, it) => s + it.rows, 0);
      this.events.onBatch?.(batch[0]!.kind, batch.length, rows, performance.now() - start);
      this.running = false;
      this.schedule();
    }
  }
}
