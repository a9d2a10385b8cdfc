/**
 * JS twin of native/kernels/cpu/reparam.cc: z = mu + exp(logvar / 2) * eps with k draws per
 * row. Draw (sample index s, dim j) is Box-Muller on the Philox block with counter
 * (floor(j / 4), s, stream, 0x52455041) and word j % 4 (pairs (0,1), (2,3)), s being
 * firstSample + r * k + i for output row r * k + i (see reparam.h).
 */
import { normalPair, philox4x32 } from "../../core/philox.js";
import type { FloatArray } from "./types.js";

export const REPARAM_TAG = 0x52455041;

export function reparamForward(
  z: FloatArray,
  eps: FloatArray,
  mu: FloatArray,
  logvar: FloatArray,
  rows: number,
  cols: number,
  k: number,
  key0: number,
  key1: number,
  stream: number,
  firstSample: number,
): void {
  const block = new Uint32Array(4);
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < k; i++) {
      const row = r * k + i;
      const s = firstSample + row;
      for (let q = 0; q * 4 < cols; q++) {
        philox4x32(q, s, stream, REPARAM_TAG, key0, key1, block);
        const end = Math.min(cols, q * 4 + 4);
        for (let j = q * 4; j < end; j++) {
          const w = j & 3;
          const n = normalPair(block[w & 2]!, block[(w & 2) + 1]!, (w & 1) === 1);
          eps[row * cols + j] = n;
          // computed in double, rounded once by a Float32Array store (as the C++ kernel)
          z[row * cols + j] = mu[r * cols + j]! + Math.exp(0.5 * logvar[r * cols + j]!) * n;
        }
      }
    }
  }
}

export function reparamBackward(
  dmu: FloatArray,
  dlogvar: FloatArray,
  dz: FloatArray,
  eps: FloatArray,
  logvar: FloatArray,
  rows: number,
  cols: number,
  k: number,
  accumulate: boolean,
): void {
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < cols; j++) {
      const at = r * cols + j;
      const sigmaHalf = 0.5 * Math.exp(0.5 * logvar[at]!);
      let gm = accumulate ? dmu[at]! : 0;
      let gl = 0;
      for (let i = 0; i < k; i++) {
        const e = (r * k + i) * cols + j;
        gm += dz[e]!;
        gl += dz[e]! * eps[e]!;
      }
      dmu[at] = gm;
      dlogvar[at] = accumulate ? dlogvar[at]! + gl * sigmaHalf : gl * sigmaHalf;
    }
  }
}
