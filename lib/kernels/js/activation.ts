/**
 * JS twin of native/kernels/cpu/activation.cc: elementwise activations and the fused
 * bias + activation over [n, c, s] (bias [c]). Generic over FloatArray so gradient checks run
 * in float64 through the same code.
 *
 * Every backward reads the forward OUTPUT y (so forwards may run in place):
 *   relu      dx = y > 0 ? dy : 0          leakyRelu dx = y > 0 ? dy : slope dy (slope >= 0)
 *   tanh      dx = dy (1 - y^2)            sigmoid   dx = dy y (1 - y)
 *   softplus  dx = dy (1 - exp(-y)) = dy sigmoid(x), as -expm1(-y)
 *   identity  dx = dy
 * Outputs are overwritten; dbias[c] = sum over n, s of the stored dx, added in double.
 */
import { sigmoid, softplus } from "./vmath.js";
import type { FloatArray } from "./types.js";

export type ActivationKind = "identity" | "relu" | "leakyRelu" | "tanh" | "sigmoid" | "softplus";

/** The kinds in native code order (native/kernels/cpu/activation.h: Activation). */
export const ACTIVATION_KINDS: readonly ActivationKind[] = ["identity", "relu", "leakyRelu", "tanh", "sigmoid", "softplus"];

export function activate(kind: ActivationKind, x: number, slope: number): number {
  switch (kind) {
    case "identity":
      return x;
    case "relu":
      // biome-ignore lint/complexity/useMathMinMax: keeps -0 as -0, as the native kernel does
      return x < 0 ? 0 : x;
    case "leakyRelu":
      return x < 0 ? slope * x : x;
    case "tanh":
      return Math.tanh(x);
    case "sigmoid":
      return sigmoid(x);
    case "softplus":
      return softplus(x);
  }
}

/** dy * f'(x), written in terms of y = f(x). */
export function activationGrad(kind: ActivationKind, y: number, dy: number, slope: number): number {
  switch (kind) {
    case "identity":
      return dy;
    case "relu":
      return y > 0 ? dy : 0;
    case "leakyRelu":
      return y > 0 ? dy : slope * dy;
    case "tanh":
      return dy * (1 - y * y);
    case "sigmoid":
      return dy * (y * (1 - y));
    case "softplus":
      return dy * -Math.expm1(-y);
  }
}

/** x, y: [len]. y = f(x); y may be x. */
export function activationForward(kind: ActivationKind, x: FloatArray, y: FloatArray, slope: number): void {
  for (let i = 0; i < x.length; i++) y[i] = activate(kind, x[i]!, slope);
}

/** y, dy, dx: [len]. dx = dy * f'(x) from y; dx may be dy. */
export function activationBackward(kind: ActivationKind, y: FloatArray, dy: FloatArray, dx: FloatArray, slope: number): void {
  for (let i = 0; i < y.length; i++) dx[i] = activationGrad(kind, y[i]!, dy[i]!, slope);
}

/**
 * x, y: [n, c, s]; bias: [c]. y[n, c, s] = f(x[n, c, s] + bias[c]). The sum is stored in y
 * first (rounded to y's precision, as the native kernel does) and activated in place.
 */
export function biasActivationForward(
  kind: ActivationKind,
  x: FloatArray,
  bias: FloatArray,
  y: FloatArray,
  n: number,
  c: number,
  s: number,
  slope: number,
): void {
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const base = (i * c + ch) * s;
      for (let k = 0; k < s; k++) {
        y[base + k] = x[base + k]! + bias[ch]!;
        y[base + k] = activate(kind, y[base + k]!, slope);
      }
    }
  }
}

/** y, dy, dx: [n, c, s]; dbias: [c]. dx = dy * f'(pre) from y; dbias[c] = sum over n, s of dx. */
export function biasActivationBackward(
  kind: ActivationKind,
  y: FloatArray,
  dy: FloatArray,
  dx: FloatArray,
  dbias: FloatArray,
  n: number,
  c: number,
  s: number,
  slope: number,
): void {
  const total = n * c * s;
  for (let i = 0; i < total; i++) dx[i] = activationGrad(kind, y[i]!, dy[i]!, slope);
  for (let ch = 0; ch < c; ch++) {
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const base = (i * c + ch) * s;
      for (let k = 0; k < s; k++) sum += dx[base + k]!;
    }
    dbias[ch] = sum;
  }
}
