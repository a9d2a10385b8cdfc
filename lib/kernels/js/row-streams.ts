/**
 * JS twin of native/kernels/cpu/row_streams.h: where row i of a sampler call draws its Philox
 * numbers. A lone call keys every row with the call's key at index sampleOffset + i; a
 * coalesced call (requests with their own seeds in one batch) gives each row its request's
 * key and its index within that request, so the row draws what it draws in a call of its own.
 */

export interface StreamSpec {
  /** Index of row 0 when rowStreams is absent. */
  sampleOffset: number;
  key0: number;
  key1: number;
  /** [n, 4] per row: key0, key1, index mod 2^32, index / 2^32; absent: the call's key for every row. */
  rowStreams?: Uint32Array | null;
}

/** Row i's key and the two counter words of its index. */
export interface RowDraw {
  lo: number;
  hi: number;
  key0: number;
  key1: number;
}

export function rowDraw(spec: StreamSpec, i: number): RowDraw {
  const rows = spec.rowStreams;
  if (rows) return { key0: rows[4 * i]!, key1: rows[4 * i + 1]!, lo: rows[4 * i + 2]!, hi: rows[4 * i + 3]! };
  const index = spec.sampleOffset + i;
  return { key0: spec.key0, key1: spec.key1, lo: index % 0x100000000, hi: Math.floor(index / 0x100000000) };
}
