/**
 * Many callers' samples in one call: what a server's dynamic batching needs of a model. The
 * contract is exact: result i is bit for bit what a lone `sample(requests[i].n, { seed, code })`
 * returns, so coalescing requests never changes an answer.
 */
import { checkInteger, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import type { JobOptions } from "../kernels/job.js";
import type { BackendName } from "../kernels/kernels.js";
import { requestRowStreams } from "../kernels/ops/row-streams.js";
import { allocRows, autoregressiveBytesPerRow, sizedRequest } from "./common.js";
import type { Samples } from "./density.js";

/** One caller's share of a batched call. */
export interface SampleRequest {
  n: number;
  seed: Seed;
  /** A GAN's categorical code or class (models without one reject it). */
  code?: number;
}

export interface BatchSampleOptions extends JobOptions {
  backend?: BackendName;
  returnProbs?: boolean;
}

export const BATCH_KEYS = optionKeys<BatchSampleOptions>({ backend: true, returnProbs: true, signal: true, onProgress: true });

/** A model that draws the samples of many requests in one call. */
export interface BatchSampler {
  sampleBatch(requests: readonly SampleRequest[], opts?: BatchSampleOptions): Promise<Samples[]>;
}

/** The requests' row counts checked, and their total; a code is E_ARG for a model that has none. */
export function batchRowCount(requests: readonly SampleRequest[], takesCode = false): number {
  if (!Array.isArray(requests) || requests.length === 0)
    throw new DeepgenError("E_ARG", "sampleBatch: requests must be a non-empty array of { n, seed }");
  let total = 0;
  for (const r of requests) {
    total += checkInteger("n", r?.n, 1);
    if (!takesCode && r.code !== undefined) throw new DeepgenError("E_ARG", "sampleBatch: this model has no code to fix");
  }
  return total;
}

/** Splits rows [total, dim] (and probs) into the requests' shares, in order (copies, so each share owns its buffer; one request keeps the arrays). */
export function splitSamples(requests: readonly SampleRequest[], dim: number, x: Float32Array, probs?: Float32Array): Samples[] {
  if (requests.length === 1) return [probs === undefined ? { x, n: requests[0]!.n } : { x, probs, n: requests[0]!.n }];
  let row = 0;
  return requests.map((r) => {
    const begin = row * dim;
    const end = (row + r.n) * dim;
    row += r.n;
    const part: Samples = { x: x.slice(begin, end), n: r.n };
    if (probs !== undefined) part.probs = probs.slice(begin, end);
    return part;
  });
}

/** The requests' rows (e.g. latent draws) one after another (one part is returned as it is). */
export function concatRows(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * The plain form of sampleBatch for samplers whose kernels draw one seed per call: each
 * request in turn (exact by construction, no coalescing).
 */
export async function sampleEachInTurn(
  requests: readonly SampleRequest[],
  opts: BatchSampleOptions | undefined,
  takesCode: boolean,
  sample: (r: SampleRequest, opts: BatchSampleOptions) => Promise<Samples>,
): Promise<Samples[]> {
  const total = batchRowCount(requests, takesCode);
  const out: Samples[] = [];
  let done = 0;
  for (const r of requests) {
    const part = await sample(r, {
      backend: opts?.backend,
      returnProbs: opts?.returnProbs,
      signal: opts?.signal,
      onProgress: opts?.onProgress && ((f) => opts.onProgress?.((done + f * r.n) / total)),
    });
    done += r.n;
    out.push(part);
  }
  return out;
}

/** One sampler kernel call over `total` rows, each drawn on its own stream (rowStreams [total, 4]). */
export type CoalescedDraw = (total: number, rowStreams: Uint32Array, x: Float32Array, probs: Float32Array | undefined) => Promise<void>;

/**
 * sampleBatch of an autoregressive sampler as ONE kernel call: every request's rows in one
 * batch, each row keyed by its request's seed at its index within the request
 * (ops/row-streams.ts), which is what a lone sample() draws for it. The memory check covers
 * the total rows.
 */
export function sampleCoalesced(
  what: string,
  requests: readonly SampleRequest[],
  opts: BatchSampleOptions | undefined,
  dim: number,
  draw: CoalescedDraw,
): Promise<Samples[]> {
  const total = batchRowCount(requests);
  const returnProbs = opts?.returnProbs === true;
  return sizedRequest(what, total, autoregressiveBytesPerRow("sample", dim, returnProbs), async () => {
    const rowStreams = requestRowStreams(requests);
    const x = allocRows(total, dim);
    const probs = returnProbs ? allocRows(total, dim) : undefined;
    await draw(total, rowStreams, x, probs);
    return splitSamples(requests, dim, x, probs);
  });
}
