/**
 * Per-row Philox streams of the autoregressive samplers (native/kernels/cpu/row_streams.h,
 * js/row-streams.ts): a Uint32Array [n, 4] holding, per row, key0, key1 and the row's sample
 * index as two words (mod 2^32, / 2^32). A server coalesces requests with different seeds into
 * one call this way, and each row still draws exactly what it draws in a call of its own.
 */
import { DeepgenError } from "../../core/errors.js";
import { type Seed, seedToKey } from "../../core/philox.js";

/** The streams of consecutive requests: each request's rows on its own seed, at indices 0..n-1 of it. */
export function requestRowStreams(requests: readonly { n: number; seed: Seed }[]): Uint32Array {
  let total = 0;
  for (const r of requests) total += r.n;
  const rows = new Uint32Array(4 * total);
  let row = 0;
  for (const r of requests) {
    const { key0, key1 } = seedToKey(r.seed);
    for (let i = 0; i < r.n; i++, row++) {
      rows[4 * row] = key0;
      rows[4 * row + 1] = key1;
      rows[4 * row + 2] = i; // n < 2^31: the high word stays 0
    }
  }
  return rows;
}

/** rowStreams of a sampler call of n rows checked (E_ARG for another type, E_SHAPE for another length); null when absent. */
export function checkRowStreams(fn: string, rowStreams: Uint32Array | undefined, n: number): Uint32Array | null {
  if (rowStreams === undefined) return null;
  if (!(rowStreams instanceof Uint32Array)) throw new DeepgenError("E_ARG", `${fn}: rowStreams must be a Uint32Array [n, 4]`);
  if (rowStreams.length !== 4 * n)
    throw new DeepgenError("E_SHAPE", `${fn}: rowStreams has ${rowStreams.length} elements, needs n * 4 = ${4 * n}`);
  return rowStreams;
}

/** The streams of rows [begin, end) of a call (for the JS twins' slices). */
export function rowStreamSlice(rowStreams: Uint32Array | null, begin: number, end: number): Uint32Array | null {
  return rowStreams === null ? null : rowStreams.subarray(4 * begin, 4 * end);
}
