// Argument checks shared by every backend's implementation of the Kernels interface, so
// the three paths reject the same inputs with the same DeepgenError.
import { checkFloat32Array, checkInteger, checkOneOf } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import { type PhiloxKey, type Seed, seedToKey } from "../core/philox.js";
import type { Distribution } from "./js/philox-fill.js";

export interface PhiloxFillArgs extends PhiloxKey {
  readonly stream: number;
  readonly dist: Distribution;
  readonly distCode: 0 | 1;
}

export function checkPhiloxFill(out: unknown, seed: Seed, stream: unknown, dist: unknown): PhiloxFillArgs {
  checkFloat32Array("out", out);
  const key = seedToKey(seed);
  const s = checkInteger("stream", stream, 0, 0xffffffff);
  const d = checkOneOf("dist", dist, ["uniform", "normal"] as const);
  return { ...key, stream: s, dist: d, distCode: d === "uniform" ? 0 : 1 };
}

/** True when two arrays share at least one byte of memory. */
export function arraysOverlap(a: Float32Array, b: Float32Array): boolean {
  if (a.length === 0 || b.length === 0 || a.buffer !== b.buffer) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** True when two arrays are the very same view (in-place use). */
export function sameArray(a: Float32Array, b: Float32Array): boolean {
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length;
}

/**
 * Each [name, array, length]: a Float32Array (E_ARG) of exactly that length (E_SHAPE). An
 * output (its name in `outputs`) may not overlap any other array (E_ARG), except the pairs in
 * `sameOk`, which may be the very same array (in place). Inputs may share memory.
 */
export function checkArraysInPlace(
  fn: string,
  arrays: ReadonlyArray<readonly [string, unknown, number]>,
  outputs: readonly string[],
  sameOk: ReadonlyArray<readonly [string, string]> = [],
): void {
  for (const [name, a, len] of arrays) {
    const arr = checkFloat32Array(`${fn} ${name}`, a);
    if (arr.length !== len) throw new DeepgenError("E_SHAPE", `${fn}: ${name} has ${arr.length} elements, expected ${len}`);
  }
  for (let i = 0; i < arrays.length; i++) {
    for (let j = i + 1; j < arrays.length; j++) {
      const [ni, ai] = arrays[i]!;
      const [nj, aj] = arrays[j]!;
      if (!outputs.includes(ni) && !outputs.includes(nj)) continue;
      if (!arraysOverlap(ai as Float32Array, aj as Float32Array)) continue;
      const allowed = sameOk.some(([p, q]) => (p === ni && q === nj) || (p === nj && q === ni));
      if (!allowed || !sameArray(ai as Float32Array, aj as Float32Array)) {
        throw new DeepgenError("E_ARG", `${fn}: ${ni} and ${nj} overlap${allowed ? " (only the very same array is allowed)" : ""}`);
      }
    }
  }
}

/**
 * Checks that every array is a Float32Array (E_ARG) of exactly the given length (E_SHAPE),
 * null entries being absent optional arrays, and that no output overlaps another argument
 * (E_ARG): the kernels read inputs while writing outputs.
 */
export function checkDisjointArrays(
  fn: string,
  outputs: ReadonlyArray<readonly [string, Float32Array | null, number]>,
  inputs: ReadonlyArray<readonly [string, Float32Array | null, number]>,
): void {
  const all = [...outputs, ...inputs];
  for (const [name, arr, len] of all) {
    if (arr === null) continue;
    checkFloat32Array(`${fn} ${name}`, arr);
    if (arr.length !== len) {
      throw new DeepgenError("E_SHAPE", `${fn}: ${name} has ${arr.length} elements, expected ${len}`);
    }
  }
  checkOutputsApart(
    fn,
    outputs.map(([name, arr]) => [name, arr] as const),
    inputs.map(([name, arr]) => [name, arr] as const),
  );
}

/**
 * E_ARG if an output shares memory with another output or with an input (null entries are
 * absent optional arrays). Kernels read inputs while writing outputs, so aliasing would give
 * different results on different backends.
 */
export function checkOutputsApart(
  fn: string,
  outputs: ReadonlyArray<readonly [string, Float32Array | null]>,
  inputs: ReadonlyArray<readonly [string, Float32Array | null]>,
): void {
  const all = [...outputs, ...inputs];
  for (let i = 0; i < outputs.length; i++) {
    const out = outputs[i]![1];
    if (out === null) continue;
    for (let j = 0; j < all.length; j++) {
      const other = all[j]![1];
      if (j !== i && other !== null && arraysOverlap(out, other)) {
        throw new DeepgenError("E_ARG", `${fn}: ${outputs[i]![0]} must not overlap ${all[j]![0]}`);
      }
    }
  }
}
