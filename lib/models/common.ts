/** Small pieces shared by the model classes. */
import { getKernels, resolveBackendName } from "../kernels/backend.js";
import { checkFloat32Array, checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";

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
