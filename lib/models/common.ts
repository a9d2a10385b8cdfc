/** Small pieces shared by the model classes. */
import os from "node:os";
import { setImmediate as yieldToEventLoop } from "node:timers/promises";

import { getKernels, resolveBackendName } from "../kernels/backend.js";
import { checkFloat32Array, checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import type { Net } from "../nn/conv-nets.js";

/** Number of rows of x as a batch of D-vectors; E_SHAPE unless x.length is a multiple of D. */
export function batchRows(x: Float32Array, dim: number): number {
  checkFloat32Array("x", x);
  if (x.length % dim !== 0) throw new DeepgenError("E_SHAPE", `x has ${x.length} values, not a multiple of D = ${dim}`);
  return x.length / dim;
}

/** A zeroed [n, dim] buffer; E_ARG (not a RangeError) when n is not a count that fits. */
export function allocRows(n: number, dim: number): Float32Array {
  checkInteger("n", n, 0, Math.floor((2 ** 31 - 1) / dim));
  return new Float32Array(n * dim);
}

/** The kernels of a call: its own backend option, else the model's, else the configured default. */
export function modelKernels(modelBackend: BackendName | undefined, callBackend?: BackendName): Kernels {
  return getKernels(callBackend ?? modelBackend ?? resolveBackendName());
}

/** The async twin of a quick synchronous call: an aborted signal stops it first, onProgress hears its end. */
export async function finishedAsync<T>(opts: { signal?: AbortSignal; onProgress?: (fraction: number) => void }, run: () => T): Promise<T> {
  if (opts.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
  const out = run();
  opts.onProgress?.(1);
  return out;
}

/** The image shape of a configuration, when it gives both sides (height x width must equal dim). */
export function checkImageShape(c: { height?: number; width?: number }, dim: number, source: string): { height?: number; width?: number } {
  if (c.height === undefined || c.width === undefined) return {};
  if (c.height * c.width !== dim) throw new DeepgenError("E_ARG", `${source}: height x width must equal dim`);
  return { height: c.height, width: c.width };
}

/**
 * The values a model's images may hold: "binary" {0, 1}; "unit" [0, 1] (continuous
 * Bernoulli, grayscale); "unitHalfOpen" [0, 1) (dequantized pixels); "finite" any finite
 * number. A value outside them (2, NaN) would still give a number, just a meaningless one.
 */
export type InputDomain = "binary" | "unit" | "unitHalfOpen" | "finite";

const DOMAIN_TEXT: Record<InputDomain, string> = {
  binary: "0 or 1",
  unit: "in [0, 1]",
  unitHalfOpen: "in [0, 1) (dequantized pixels)",
  finite: "a finite number",
};

/** The option of every call that takes images: false skips the value check for data the caller has checked. */
export interface InputCheckOptions {
  checkInput?: boolean;
}

/** Index of the first value of x[from, to) outside the domain, or -1: one pass, no call per value. */
function firstOutside(x: Float32Array, domain: InputDomain, from: number, to: number): number {
  switch (domain) {
    case "binary":
      for (let i = from; i < to; i++) if (x[i] !== 0 && x[i] !== 1) return i;
      return -1;
    case "unit":
      for (let i = from; i < to; i++) if (!(x[i]! >= 0 && x[i]! <= 1)) return i;
      return -1;
    case "unitHalfOpen":
      for (let i = from; i < to; i++) if (!(x[i]! >= 0 && x[i]! < 1)) return i;
      return -1;
    case "finite":
      for (let i = from; i < to; i++) if (!Number.isFinite(x[i]!)) return i;
      return -1;
  }
}

/**
 * E_ARG naming the first value of x (rows of `dim`) outside the model's domain; rows
 * [fromRow, toRow) only when given (async calls check in slices between yields).
 */
export function checkInputValues(
  what: string,
  x: Float32Array,
  dim: number,
  domain: InputDomain,
  fromRow = 0,
  toRow = x.length / dim,
): void {
  const i = firstOutside(x, domain, fromRow * dim, toRow * dim);
  if (i < 0) return;
  throw new DeepgenError(
    "E_ARG",
    `${what}: x[${i}] (row ${Math.floor(i / dim)}, value ${i % dim}) = ${x[i]} is not ${DOMAIN_TEXT[domain]}; this model takes values ${DOMAIN_TEXT[domain]}`,
  );
}

/** Rows of x as batchRows, its values checked against the domain unless opts.checkInput is false. */
export function inputRows(what: string, x: Float32Array, dim: number, domain: InputDomain, opts: InputCheckOptions = {}): number {
  const n = batchRows(x, dim);
  if (opts.checkInput !== false) checkInputValues(what, x, dim, domain);
  return n;
}

// Values checked between two yields by inputRowsAsync: a fraction of a millisecond each.
const CHECK_SLICE_VALUES = 1 << 18;

/**
 * inputRows for async calls: the values of a large x are checked in slices with a yield to
 * the event loop between them, so that the O(n D) check of many concurrent calls does not
 * hold up timers and I/O in one stretch.
 */
export async function inputRowsAsync(
  what: string,
  x: Float32Array,
  dim: number,
  domain: InputDomain,
  opts: InputCheckOptions = {},
): Promise<number> {
  const n = batchRows(x, dim);
  if (opts.checkInput === false) return n;
  const rows = Math.max(1, Math.floor(CHECK_SLICE_VALUES / dim));
  for (let begin = 0; begin < n; begin += rows) {
    if (begin > 0) await yieldToEventLoop();
    checkInputValues(what, x, dim, domain, begin, Math.min(n, begin + rows));
  }
  return n;
}

const MIB = 1024 * 1024;

/**
 * The most memory one sample or log-probability request may ask for: DEEPGEN_MAX_REQUEST_MB,
 * else half the machine's memory (or of the cgroup's limit, when lower).
 */
function requestLimit(): { bytes: number; source: string } {
  const env = process.env.DEEPGEN_MAX_REQUEST_MB;
  if (env !== undefined && env !== "") {
    const mb = Number(env);
    if (!Number.isFinite(mb) || mb <= 0)
      throw new DeepgenError("E_ARG", `DEEPGEN_MAX_REQUEST_MB must be a positive number of MiB, got '${env}'`);
    return { bytes: mb * MIB, source: "DEEPGEN_MAX_REQUEST_MB" };
  }
  return { bytes: machineMemory() / 2, source: "half the memory; DEEPGEN_MAX_REQUEST_MB sets another" };
}

// The memory the process may use, read once: each read costs a few file reads (/proc, cgroup),
// too much for every request of a server.
let memoryBytes: number | undefined;
function machineMemory(): number {
  if (memoryBytes === undefined) {
    const constrained = process.constrainedMemory?.() ?? 0;
    memoryBytes = constrained > 0 && constrained < os.totalmem() ? constrained : os.totalmem();
  }
  return memoryBytes;
}

function mib(bytes: number): string {
  return bytes >= 10 * MIB ? `${Math.round(bytes / MIB)} MiB` : `${(bytes / MIB).toFixed(2)} MiB`;
}

/** A RangeError of V8 running out of room for an array, as E_BACKEND; anything else unchanged. */
function outOfMemory(e: unknown, what: string): unknown {
  if (e instanceof RangeError && /allocation failed|invalid (typed )?array( buffer)? length/i.test(e.message)) {
    return new DeepgenError("E_BACKEND", `out of memory in ${what}: ${e.message}`, { cause: e });
  }
  return e;
}

/**
 * Bytes per row of a request to an autoregressive sampler or log-probability (NADE, RNADE,
 * PixelRNN): only its outputs, since the kernels work through the rows in blocks of a fixed
 * size and their working memory does not grow with n.
 */
export function autoregressiveBytesPerRow(op: "sample" | "logProb", dim: number, returnProbs = false): number {
  return op === "sample" ? 4 * dim * (returnProbs ? 2 : 1) : 4;
}

/**
 * Runs a request of `rows` rows that needs about `bytesPerRow` each (its outputs and the
 * model's working memory): refused up front with E_ARG when the estimate is over
 * requestLimit(), so a huge n fails at once with the numbers instead of as an
 * allocation failure midway; an allocation that still fails is E_BACKEND.
 */
export function sizedRequest<T>(what: string, rows: number, bytesPerRow: number, run: () => T): T {
  checkInteger("n", rows, 0);
  const need = rows * bytesPerRow;
  const limit = requestLimit();
  if (need > limit.bytes) {
    throw new DeepgenError(
      "E_ARG",
      `${what} of ${rows} rows needs about ${mib(need)} (${bytesPerRow} bytes per row), over the limit of ${mib(limit.bytes)} (${limit.source})`,
    );
  }
  let out: T;
  try {
    out = run();
  } catch (e) {
    throw outOfMemory(e, what);
  }
  if (out instanceof Promise) {
    return out.catch((e: unknown) => {
      throw outOfMemory(e, what);
    }) as T;
  }
  return out;
}

/** Bytes a forward pass of `net` allocates per row (for sizedRequest's estimates). */
export function netBytesPerRow(net: Net): number {
  return 4 * (net.forwardFloatsPerRow?.() ?? 2 * (net.inDim + net.outDim));
}
