/**
 * Philox4x32-10 in TypeScript, bit-identical to native/common/philox.h (and so to the CPU and
 * CUDA kernels). A counter-based generator: every draw is a pure function of (counter, key),
 * which is what lets JS, CPU and CUDA paths and any batch size or thread count agree.
 *
 * Conventions: the key is the user's seed (64 bits: key0 = low word, key1 = high word);
 * the counter is (a, b, stream, 0), where (a, b) index the draw (e.g. step and sample) and
 * `stream` separates independent uses (see lib/kernels/js/philox-fill.ts for fills).
 */
import { DeepgenError } from "./errors.js";

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** A seed accepted by every deepgen API: a safe non-negative integer or a bigint < 2^64. */
export type Seed = number | bigint;

export interface PhiloxKey {
  readonly key0: number;
  readonly key1: number;
}

export function seedToKey(seed: Seed): PhiloxKey {
  if (typeof seed === "bigint") {
    if (seed < 0n || seed >= 1n << 64n) throw new DeepgenError("E_ARG", `seed must be in [0, 2^64), got ${seed}`);
    return { key0: Number(seed & 0xffffffffn), key1: Number(seed >> 32n) };
  }
  if (typeof seed !== "number" || !Number.isSafeInteger(seed) || seed < 0) {
    throw new DeepgenError("E_ARG", `seed must be a non-negative safe integer or a bigint, got ${String(seed)}`);
  }
  return { key0: seed % 0x100000000, key1: Math.floor(seed / 0x100000000) };
}

/** The high 32 bits of the 64-bit product a * b (both uint32), exact in doubles. */
function mulhi(a: number, b: number): number {
  const aL = a & 0xffff;
  const aH = a >>> 16;
  const bL = b & 0xffff;
  const bH = b >>> 16;
  const ll = aL * bL;
  const m1 = aH * bL + (ll >>> 16);
  const m2 = aL * bH + (m1 & 0xffff);
  return (aH * bH + Math.floor(m1 / 65536) + Math.floor(m2 / 65536)) >>> 0;
}

/** One Philox4x32-10 block; writes 4 uint32 words to `out` (reused to avoid allocation). */
export function philox4x32(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  key0: number,
  key1: number,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  let k0 = key0 >>> 0;
  let k1 = key1 >>> 0;
  c0 >>>= 0;
  c1 >>>= 0;
  c2 >>>= 0;
  c3 >>>= 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/** Uniform in (0, 1), an odd multiple of 2^-24: exact in float32, same as the C++ version. */
export function uniformF32(word: number): number {
  return ((word >>> 9) + 0.5) * 2 ** -23;
}

/** Uniform in (0, 1) with 32-bit resolution, (u + 0.5) * 2^-32: for Bernoulli draws. */
export function uniformF64(word: number): number {
  return ((word >>> 0) + 0.5) * 2 ** -32;
}

/** Box-Muller on two uniform words, rounded once to float32 like the C++ kernel. */
export function normalPair(word1: number, word2: number, second: boolean): number {
  const r = Math.sqrt(-2 * Math.log(uniformF32(word1)));
  const t = 2 * Math.PI * uniformF32(word2);
  return Math.fround(second ? r * Math.sin(t) : r * Math.cos(t));
}
