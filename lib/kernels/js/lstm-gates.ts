/**
 * JS twin of native/kernels/cpu/lstm_gates.cc: the elementwise half of an LSTM step.
 * Pre-activations and gates are [B, 4H], four blocks of H per row in the order o, f, i, g
 * (PixelRNN). Arithmetic is float64 (Math.*), rounded when stored: on Float32Array it agrees
 * with the native float kernel to float rounding, on Float64Array it is the float64 reference
 * the gradient checks differentiate.
 */
import type { FloatArray } from "./types.js";

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * pre [B, 4H], cPrev [B, H] -> h [B, H], c [B, H], gates [B, 4H]
 *   o = sigmoid(pre_o), f = sigmoid(pre_f), i = sigmoid(pre_i), g = tanh(pre_g)
 *   c = f * cPrev + i * g;  h = o * tanh(c);  gates = [o, f, i, g]
 */
export function lstmGatesForward(
  h: FloatArray,
  c: FloatArray,
  gates: FloatArray,
  pre: FloatArray,
  cPrev: FloatArray,
  batch: number,
  hidden: number,
): void {
  const H = hidden;
  for (let b = 0; b < batch; b++) {
    const p = b * 4 * H;
    for (let j = 0; j < H; j++) {
      const k = b * H + j;
      const o = sigmoid(pre[p + j]!);
      const f = sigmoid(pre[p + H + j]!);
      const i = sigmoid(pre[p + 2 * H + j]!);
      const g = Math.tanh(pre[p + 3 * H + j]!);
      const cn = f * cPrev[k]! + i * g;
      c[k] = cn;
      h[k] = o * Math.tanh(cn);
      gates[p + j] = o;
      gates[p + H + j] = f;
      gates[p + 2 * H + j] = i;
      gates[p + 3 * H + j] = g;
    }
  }
}

/**
 * dh [B, H], dc [B, H] or null (zeros), gates [B, 4H], cPrev [B, H], c [B, H]
 *   -> dpre [B, 4H], dcPrev [B, H]   (see lstm_gates.h for the formulas)
 */
export function lstmGatesBackward(
  dpre: FloatArray,
  dcPrev: FloatArray,
  dh: FloatArray,
  dc: FloatArray | null,
  gates: FloatArray,
  cPrev: FloatArray,
  c: FloatArray,
  batch: number,
  hidden: number,
): void {
  const H = hidden;
  for (let b = 0; b < batch; b++) {
    const p = b * 4 * H;
    for (let j = 0; j < H; j++) {
      const k = b * H + j;
      const o = gates[p + j]!;
      const f = gates[p + H + j]!;
      const i = gates[p + 2 * H + j]!;
      const g = gates[p + 3 * H + j]!;
      const tc = Math.tanh(c[k]!);
      const dhk = dh[k]!;
      const dct = (dc !== null ? dc[k]! : 0) + dhk * o * (1 - tc * tc);
      dpre[p + j] = dhk * tc * o * (1 - o);
      dpre[p + H + j] = dct * cPrev[k]! * f * (1 - f);
      dpre[p + 2 * H + j] = dct * g * i * (1 - i);
      dpre[p + 3 * H + j] = dct * i * (1 - g * g);
      dcPrev[k] = dct * f;
    }
  }
}
