/**
 * Small random affine warps of 28x28 digit images (rotation, scale, shear), bilinear, about
 * the image centre: the training augmentation of the caption judge, which must read digits
 * written by hands it has never seen from 7,204 training digits. The canonical data itself
 * is never warped.
 */
import { philox4x32, type Seed, seedToKey, uniformF64 } from "../core/philox.js";
import { MNIST_SIDE } from "./mnist.js";

export interface WarpRange {
  /** Largest rotation, radians. */
  rotation: number;
  /** Largest relative change of scale. */
  scale: number;
  /** Largest horizontal shear. */
  shear: number;
}

export const JUDGE_WARP: WarpRange = { rotation: 0.2, scale: 0.12, shear: 0.2 };
const WARP_STREAM = 0x5741_5250; // "WARP"

/** `src` warped into `out` (both 28x28) by the transform drawn from Philox(seed) at counters (row, stream, slot). */
export function warpDigit(
  src: Float32Array,
  out: Float32Array,
  range: WarpRange,
  seed: Seed,
  row: number,
  stream: number,
  slot: number,
): void {
  const { key0, key1 } = seedToKey(seed);
  const w = philox4x32(row, stream, WARP_STREAM, slot, key0, key1);
  const u = (i: number) => 2 * uniformF64(w[i]!) - 1;
  const angle = range.rotation * u(0);
  const scale = 1 + range.scale * u(1);
  const shear = range.shear * u(2);
  // Inverse map: output pixel (y, x) about the centre reads source point A^-1 (y, x),
  // A = scale * rotation * shear.
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  const c = (MNIST_SIDE - 1) / 2;
  for (let y = 0; y < MNIST_SIDE; y++) {
    for (let x = 0; x < MNIST_SIDE; x++) {
      const dy = y - c;
      const dx = x - c;
      const ry = cos * dy - sin * dx;
      const rx = sin * dy + cos * dx;
      const sy = ry + c;
      const sx = rx - shear * ry + c;
      out[y * MNIST_SIDE + x] = bilinear(src, sy, sx);
    }
  }
}

function bilinear(src: Float32Array, y: number, x: number): number {
  const y0 = Math.floor(y);
  const x0 = Math.floor(x);
  const fy = y - y0;
  const fx = x - x0;
  const at = (yy: number, xx: number) => (yy >= 0 && yy < MNIST_SIDE && xx >= 0 && xx < MNIST_SIDE ? src[yy * MNIST_SIDE + xx]! : 0);
  const v = (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) + fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
  return Math.min(1, Math.max(0, v));
}
