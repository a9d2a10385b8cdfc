/**
 * Uniform dequantization of 8-bit images for continuous density models (RNADE): a pixel
 * with byte value v becomes (v + u) / 256 with u ~ U(0, 1) from Philox, so x lies in [0, 1).
 * A density p on [0,1)^D then bounds the discrete model of the bytes:
 *   log P(bytes) >= E_u[log p(x)] - D log 256,
 * which is how deepgen reports RNADE in discrete nats and bits per dimension.
 */
import { type Seed, seedToKey } from "../core/philox.js";
import { PixelUniforms } from "../core/pixel-uniforms.js";
import { type Dataset, makeDataset } from "./dataset.js";

export const DEQUANT_LEVELS = 256;
/** Stream tag of the dequantization noise. */
const DEQUANT_STREAM = 0x4451; // "DQ"

/** Bytes of an image in [0, 1] (the bundled digits store byte / 255 rounded to 3 decimals). */
export function toBytes(v: number): number {
  return Math.min(255, Math.max(0, Math.round(v * 255)));
}

export function dequantize(d: Dataset, seed: Seed): Dataset {
  const u = new PixelUniforms(seedToKey(seed), DEQUANT_STREAM);
  const x = new Float32Array(d.x.length);
  for (let i = 0; i < d.n; i++) {
    for (let j = 0; j < d.dim; j++) x[i * d.dim + j] = (toBytes(d.x[i * d.dim + j]!) + u.at(i, j)) / DEQUANT_LEVELS;
  }
  return makeDataset(x, d.labels, d.height, d.width);
}

/** -log P(bytes) upper bound in nats per image from a continuous log-likelihood (see above). */
export function discreteNllNats(continuousLogLik: number, dim: number): number {
  return -continuousLogLik + dim * Math.log(DEQUANT_LEVELS);
}
