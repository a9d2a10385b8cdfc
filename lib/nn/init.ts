/** Weight initialisation shared by every layer and model. */
import { getKernels } from "../kernels/backend.js";

/** Glorot-uniform weights U(-r, r) from Philox uniforms (bit-identical on every backend). */
export function uniformInit(n: number, seed: number, stream: number, r: number): Float32Array {
  const a = new Float32Array(n);
  getKernels("js").philoxFill(a, seed, stream, "uniform");
  for (let i = 0; i < n; i++) a[i] = (2 * a[i]! - 1) * r;
  return a;
}
