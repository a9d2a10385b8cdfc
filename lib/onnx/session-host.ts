/**
 * Where an onnxruntime session runs. onnxruntime-node's `run` returns a Promise but computes
 * on the calling thread, so a session on the main thread blocks the event loop for the whole
 * run (a server stops answering while one request computes). The default host therefore
 * keeps each session on a worker thread of its own: the main thread posts feeds and awaits
 * the outputs, and the event loop keeps turning. A loader installed with
 * setOnnxRuntimeLoader hands over a module object, which cannot cross to a worker: its
 * sessions run on the calling thread.
 */
import { Worker } from "node:worker_threads";

import { DeepgenError } from "../core/errors.js";
import { type OrtModule, type OrtSession, loadOnnxRuntime, onnxRuntimeLoaderIsCustom, resolveOnnxRuntime } from "./runtime.js";

/** Float32 values, or int64 ones (token ids, indices); the array's type names the tensor's. */
export interface HostFeed {
  data: Float32Array | BigInt64Array;
  dims: number[];
}

export interface HostOutput {
  data: unknown;
  dims: number[];
  type: string;
}

export interface SessionHost {
  run(feeds: Record<string, HostFeed>, signal?: AbortSignal): Promise<Record<string, HostOutput>>;
  release(): Promise<void>;
}

/** Thrown by a host when onnxruntime refuses to create the session (model.ts maps it to E_FORMAT / E_BACKEND). */
export class SessionCreateError extends Error {}

/**
 * A session on a worker thread; on this thread when `isolate` is false (code that already runs
 * on a worker, or a benchmark of onnxruntime itself), when the runtime came from a custom
 * loader, or when the runtime is a module that only `import` can load (the worker requires it).
 */
export async function openSession(bytes: Uint8Array, options: Record<string, unknown>, isolate = true): Promise<SessionHost> {
  const modulePath = isolate && !onnxRuntimeLoaderIsCustom() ? resolveOnnxRuntime() : undefined;
  // Not resolvable by require: the loader either loads it (in-thread) or throws its own error.
  if (modulePath === undefined) return inThreadHost(await loadOnnxRuntime(), bytes, options);
  return WorkerHost.open(modulePath, bytes, options);
}

async function inThreadHost(ort: OrtModule, bytes: Uint8Array, options: Record<string, unknown>): Promise<SessionHost> {
  let session: OrtSession;
  try {
    session = await ort.InferenceSession.create(bytes, options);
  } catch (e) {
    throw new SessionCreateError((e as Error).message, { cause: e });
  }
  return {
    async run(feeds, signal) {
      abortIfAborted(signal);
      const tensors: Record<string, ReturnType<typeof tensorOf>> = {};
      for (const [name, f] of Object.entries(feeds)) tensors[name] = tensorOf(ort, f);
      const out = await runOrFail(() => session.run(tensors));
      const result: Record<string, HostOutput> = {};
      for (const [name, t] of Object.entries(out)) result[name] = { data: t.data, dims: [...t.dims], type: t.type };
      return result;
    },
    release: () => session.release(),
  };
}

function tensorOf(ort: OrtModule, f: HostFeed) {
  return new ort.Tensor(f.data instanceof BigInt64Array ? "int64" : "float32", f.data, f.dims);
}

async function runOrFail<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new DeepgenError("E_BACKEND", `onnxruntime failed to run the model: ${(e as Error).message}`, { cause: e });
  }
}

function abortIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
}

/**
 * The worker's program, plain CommonJS (a worker cannot load the TypeScript sources under a
 * loader hook on Node 20): load the runtime by its resolved path, create the session, then
 * answer each run message with the outputs (copied: onnxruntime's buffers stay its own).
 */
const WORKER_SOURCE = `(() => {
const { parentPort, workerData } = require("node:worker_threads");
const message = (e) => String((e && e.message) || e);
let ort;
try {
  ort = require(workerData.modulePath);
  if (!ort.InferenceSession && ort.default) ort = ort.default;
  if (!ort.InferenceSession || typeof ort.InferenceSession.create !== "function" || typeof ort.Tensor !== "function") {
    throw new Error("it does not look like onnxruntime-node (no InferenceSession / Tensor)");
  }
} catch (e) {
  parentPort.postMessage({ type: "failed", stage: "load", message: message(e) });
  return;
}
ort.InferenceSession.create(workerData.bytes, workerData.options).then(
  (session) => {
    parentPort.on("message", async (m) => {
      try {
        const feeds = {};
        for (const [name, f] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(f.data instanceof BigInt64Array ? "int64" : "float32", f.data, f.dims);
        const out = await session.run(feeds);
        const result = {};
        for (const [name, t] of Object.entries(out)) result[name] = { data: t.data, dims: Array.from(t.dims), type: t.type };
        parentPort.postMessage({ type: "result", id: m.id, result });
      } catch (e) {
        parentPort.postMessage({ type: "result", id: m.id, error: message(e) });
      }
    });
    parentPort.postMessage({ type: "ready" });
  },
  (e) => parentPort.postMessage({ type: "failed", stage: "create", message: message(e) }),
);
})();
`;

interface Pending {
  resolve(result: Record<string, HostOutput>): void;
  reject(e: unknown): void;
}

class WorkerHost implements SessionHost {
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private dead: DeepgenError | undefined;
  /**
   * Runs posted whose results have not come back, the dropped ones (aborted or disposed
   * callers) included. The worker stays referenced while any is in flight, and is terminated
   * only when none is: ending a thread inside onnxruntime's run aborts the whole process.
   */
  private inFlight = 0;
  private whenIdle: (() => void) | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on("message", (m: { type: string; id?: number; result?: Record<string, HostOutput>; error?: string }) => {
      if (m.type !== "result" || m.id === undefined) return;
      if (--this.inFlight === 0) {
        this.worker.unref();
        this.whenIdle?.();
      }
      const p = this.pending.get(m.id);
      if (p === undefined) return; // aborted by its caller: the result is dropped
      this.settle(m.id);
      if (m.error !== undefined) p.reject(new DeepgenError("E_BACKEND", `onnxruntime failed to run the model: ${m.error}`));
      else p.resolve(m.result!);
    });
    const fail = (e: DeepgenError) => {
      this.dead ??= e;
      this.inFlight = 0;
      this.whenIdle?.();
      for (const [id, p] of this.pending) {
        this.settle(id);
        p.reject(e);
      }
    };
    worker.on("error", (e) => fail(new DeepgenError("E_BACKEND", `the onnxruntime worker failed: ${e.message}`, { cause: e })));
    worker.on("exit", (code) => fail(new DeepgenError("E_BACKEND", `the onnxruntime worker exited (code ${code})`)));
    // An idle session must not keep the process alive; a run in flight does (see run).
    worker.unref();
  }

  static open(modulePath: string, bytes: Uint8Array, options: Record<string, unknown>): Promise<WorkerHost> {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { modulePath, bytes, options } });
    return new Promise((resolve, reject) => {
      const settle = () => {
        worker.off("message", onMessage);
        worker.off("error", onError);
        worker.off("exit", onExit);
      };
      const onMessage = (m: { type: string; stage?: string; message?: string }) => {
        if (m.type === "ready") {
          settle();
          resolve(new WorkerHost(worker));
        } else if (m.type === "failed") {
          settle();
          void worker.terminate();
          reject(
            m.stage === "create"
              ? new SessionCreateError(m.message ?? "")
              : new DeepgenError("E_BACKEND", `onnxruntime-node (${modulePath}) failed to load: ${m.message}`),
          );
        }
      };
      const onError = (e: Error) => {
        settle();
        reject(new DeepgenError("E_BACKEND", `the onnxruntime worker failed to start: ${e.message}`, { cause: e }));
      };
      // A runtime whose start-up ends the thread would otherwise leave this promise pending.
      const onExit = (code: number) => {
        settle();
        reject(new DeepgenError("E_BACKEND", `the onnxruntime worker exited while starting (code ${code})`));
      };
      worker.on("message", onMessage);
      worker.on("error", onError);
      worker.on("exit", onExit);
    });
  }

  run(feeds: Record<string, HostFeed>, signal?: AbortSignal): Promise<Record<string, HostOutput>> {
    abortIfAborted(signal);
    if (this.dead !== undefined) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // onnxruntime cannot stop a run midway: an abort frees the caller at once and the
      // worker's result, when it comes, is dropped.
      const onAbort = () => {
        this.settle(id);
        reject(new DeepgenError("E_ABORTED", "operation aborted"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.pending.set(id, {
        resolve: (r) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(r);
        },
        reject: (e) => {
          signal?.removeEventListener("abort", onAbort);
          reject(e);
        },
      });
      if (++this.inFlight === 1) this.worker.ref();
      // Feeds are copied to the worker (not transferred): the caller keeps its arrays. A view
      // is sliced first, since a message copies a typed array's whole underlying buffer.
      const own: Record<string, HostFeed> = {};
      for (const [name, f] of Object.entries(feeds)) {
        own[name] = { data: f.data.byteLength === f.data.buffer.byteLength ? f.data : f.data.slice(), dims: f.dims };
      }
      this.worker.postMessage({ type: "run", id, feeds: own });
    });
  }

  private settle(id: number): void {
    this.pending.delete(id);
  }

  async release(): Promise<void> {
    this.dead ??= new DeepgenError("E_ARG", "the model was disposed");
    for (const [id, p] of this.pending) {
      this.settle(id);
      p.reject(this.dead);
    }
    // The callers are free now; the thread ends once onnxruntime has finished its runs.
    if (this.inFlight > 0)
      await new Promise<void>((resolve) => {
        this.whenIdle = resolve;
      });
    await this.worker.terminate();
  }
}
