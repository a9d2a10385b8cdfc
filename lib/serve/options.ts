/** The options of a deepgen server and their defaults. */
import { checkInteger } from "../core/check.js";
import type { BackendName } from "../kernels/kernels.js";
import type { ModelSource } from "./models.js";

export interface ServeOptions {
  /** What to serve: a model folder, shipped names / paths, or models in memory. */
  models: ModelSource;
  backend?: BackendName;
  /** Rows one batch may hold (default 64; 1 turns batching off). */
  maxBatch?: number;
  /**
   * How long the oldest queued request waits for others while no batch runs (default 0: it runs
   * at once, and the requests that arrive while a batch computes form the next batch).
   */
  maxDelayMs?: number;
  /** Requests a model's queue holds; one more is answered 503 at once (default 256). */
  maxQueue?: number;
  /** Queue time after which a request is answered 504 (default 30000 ms; 0: none). */
  timeoutMs?: number;
  /** Rows (images) one request may ask for or send (default 256; more is 413). */
  maxN?: number;
  /** Largest IWAE k of a VAE logprob request (default 5000; more is 413). */
  maxK?: number;
  /** Bearer token that enables POST /admin/reload (default: DEEPGEN_ADMIN_TOKEN; unset: no such route). */
  adminToken?: string;
  /** Also export the process metrics (CPU, memory, event loop lag) on /metrics (default true). */
  processMetrics?: boolean;
}

export type ResolvedServeOptions = Required<Omit<ServeOptions, "backend" | "adminToken">> & Pick<ServeOptions, "backend" | "adminToken">;

export function resolveServeOptions(o: ServeOptions): ResolvedServeOptions {
  const token = o.adminToken ?? process.env["DEEPGEN_ADMIN_TOKEN"];
  return {
    models: o.models,
    backend: o.backend,
    maxBatch: checkInteger("maxBatch", o.maxBatch ?? 64, 1, 1 << 16),
    maxDelayMs: checkInteger("maxDelayMs", o.maxDelayMs ?? 0, 0, 60_000),
    maxQueue: checkInteger("maxQueue", o.maxQueue ?? 256, 0, 1 << 20),
    timeoutMs: checkInteger("timeoutMs", o.timeoutMs ?? 30_000, 0, 3_600_000),
    maxN: checkInteger("maxN", o.maxN ?? 256, 1, 1 << 20),
    maxK: checkInteger("maxK", o.maxK ?? 5000, 1, 100_000),
    adminToken: token === "" ? undefined : token,
    processMetrics: o.processMetrics ?? true,
  };
}
