// Argument checks shared by every backend's implementation of the Kernels interface, so
// the three paths reject the same inputs with the same DeepgenError.
import { checkFloat32Array, checkInteger, checkOneOf } from "../core/check.js";
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
