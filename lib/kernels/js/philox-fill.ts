/**
 * JS twin of native/kernels/cpu/philox_fill.cc. Element i uses Philox block j = floor(i / 4)
 * with counter (j mod 2^32, floor(j / 2^32), stream, 0) and word i % 4:
 *   uniform: uniformF32(word);  normal: Box-Muller on the word pair (0,1) or (2,3).
 */
import { normalPair, philox4x32, uniformF32 } from "../../core/philox.js";

export type Distribution = "uniform" | "normal";

export function philoxFillRange(
  out: Float32Array,
  begin: number,
  end: number,
  key0: number,
  key1: number,
  stream: number,
  dist: Distribution,
): void {
  const block = new Uint32Array(4);
  let i = begin;
  while (i < end) {
    const j = Math.floor(i / 4);
    philox4x32(j % 0x100000000, Math.floor(j / 0x100000000), stream, 0, key0, key1, block);
    const blockEnd = Math.min(end, (j + 1) * 4);
    for (; i < blockEnd; i++) {
      const word = i & 3;
      out[i] = dist === "uniform" ? uniformF32(block[word]!) : normalPair(block[word & 2]!, block[(word & 2) + 1]!, (word & 1) === 1);
    }
  }
}
