/**
 * Kernel group "activation": elementwise activations, the fused bias + activation of dense
 * layers and conv blocks, and elementwise exp / log (native/kernels/cpu/activation.cc,
 * vmath.cc; JS twins js/activation.ts, js/vmath.ts).
 *
 * Kinds and derivatives (every backward reads the forward OUTPUT y, never x, so every
 * forward may run in place with y === x):
 *   identity  x                           dx = dy
 *   relu      x < 0 ? 0 : x               dx = y > 0 ? dy : 0   (0 at x = 0, as PyTorch)
 *   leakyRelu x < 0 ? slope x : x         dx = y > 0 ? dy : slope dy
 *   tanh      tanh(x)                     dx = dy (1 - y^2)
 *   sigmoid   1 / (1 + exp(-x))           dx = dy y (1 - y)
 *   softplus  max(x,0) + log1p(exp(-|x|)) dx = dy sigmoid(x) = dy (1 - exp(-y))
 * `slope` (leakyRelu only; default 0.01, as PyTorch) must be finite and >= 0: with a negative
 * slope y > 0 would no longer mean x > 0. It is rounded to float32 on every backend.
 *
 * Layout of the bias forms: [n, c, s] with s the spatial size (s = 1 for a dense [n, c]),
 * bias [c]. Outputs are overwritten, never accumulated; dx may be dy.
 * Accuracy (native): identity / relu / leakyRelu exact; tanh, sigmoid, softplus, exp, log
 * within 2 ulp of the correctly rounded float32 result (AVX2 polynomials; measured in
 * test/native/test_activation.cc); the JS path rounds the double Math.* result once.
 * Zero sizes are valid and do nothing (dbias of an empty batch is all zeros).
 */
import { checkFloat32Array, checkInteger, checkOneOf } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import { cudaAddon, noCudaKernel } from "../cuda.js";
import { checkArraysInPlace } from "../validate.js";
import * as twin from "../js/activation.js";
import { ACTIVATION_KINDS, type ActivationKind } from "../js/activation.js";
import * as vm from "../js/vmath.js";
import { callNative } from "../native.js";

export type { ActivationKind };
export { ACTIVATION_KINDS };

export const DEFAULT_LEAKY_SLOPE = 0.01;

export interface ActivationKernels {
  /** x, y: [len] (equal lengths). y = f(x). y may be x. */
  activationForward(kind: ActivationKind, x: Float32Array, y: Float32Array, slope?: number): void;
  /** y, dy, dx: [len]. dx = dy * f'(x), computed from y = f(x). dx may be dy. */
  activationBackward(kind: ActivationKind, y: Float32Array, dy: Float32Array, dx: Float32Array, slope?: number): void;
  /** x, y: [n, c, s]; bias: [c]. y[n, c, s] = f(x[n, c, s] + bias[c]). y may be x. */
  biasActivationForward(
    kind: ActivationKind,
    x: Float32Array,
    bias: Float32Array,
    y: Float32Array,
    n: number,
    c: number,
    s: number,
    slope?: number,
  ): void;
  /**
   * y, dy, dx: [n, c, s]; dbias: [c]. dx = dy * f'(x + bias) from y; dbias[c] = sum over n, s
   * of dx, summed in double in a fixed order (independent of the thread count).
   */
  biasActivationBackward(
    kind: ActivationKind,
    y: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dbias: Float32Array,
    n: number,
    c: number,
    s: number,
    slope?: number,
  ): void;
  /**
   * y = exp(x) elementwise; y may be x. exp underflows to 0 below about -103.97 (denormal
   * results kept), overflows to +Infinity above about 88.72; exp(NaN) = NaN.
   */
  vexp(x: Float32Array, y: Float32Array): void;
  /** y = log(x) elementwise; y may be x. log(+-0) = -Infinity, log(x < 0) = NaN. */
  vlog(x: Float32Array, y: Float32Array): void;
}

// ---- argument checks -------------------------------------------------------------------------

function checkSlope(fn: string, slope: unknown): number {
  if (slope === undefined) return Math.fround(DEFAULT_LEAKY_SLOPE);
  if (typeof slope !== "number" || !Number.isFinite(slope) || slope < 0 || Math.fround(slope) === Infinity) {
    throw new DeepgenError("E_ARG", `${fn}: slope must be a finite number >= 0, got ${String(slope)}`);
  }
  return Math.fround(slope);
}

function checkKind(fn: string, kind: unknown, slope: unknown): { kind: ActivationKind; code: number; slope: number } {
  const k = checkOneOf(`${fn} kind`, kind, ACTIVATION_KINDS);
  return { kind: k, code: ACTIVATION_KINDS.indexOf(k), slope: checkSlope(fn, slope) };
}

/** The length of x, once x is known to be a Float32Array. */
function lengthOf(fn: string, name: string, x: unknown): number {
  return checkFloat32Array(`${fn} ${name}`, x).length;
}

function checkNcs(fn: string, n: unknown, c: unknown, s: unknown): { n: number; c: number; s: number; total: number } {
  const nn = checkInteger(`${fn} n`, n, 0);
  const cc = checkInteger(`${fn} c`, c, 0);
  const ss = checkInteger(`${fn} s`, s, 0);
  return { n: nn, c: cc, s: ss, total: nn * cc * ss };
}

type Args<M extends keyof ActivationKernels> = Parameters<ActivationKernels[M]>;

// Validation shared by every backend; returns what the implementations need.
const check = {
  forward(...[kind, x, y, slope]: Args<"activationForward">) {
    const fn = "activationForward";
    const k = checkKind(fn, kind, slope);
    const len = lengthOf(fn, "x", x);
    checkArraysInPlace(
      fn,
      [
        ["x", x, len],
        ["y", y, len],
      ],
      ["y"],
      [["x", "y"]],
    );
    return k;
  },
  backward(...[kind, y, dy, dx, slope]: Args<"activationBackward">) {
    const fn = "activationBackward";
    const k = checkKind(fn, kind, slope);
    const len = lengthOf(fn, "y", y);
    checkArraysInPlace(
      fn,
      [
        ["y", y, len],
        ["dy", dy, len],
        ["dx", dx, len],
      ],
      ["dx"],
      [
        ["dx", "dy"],
        ["dx", "y"],
      ],
    );
    return k;
  },
  biasForward(...[kind, x, bias, y, n, c, s, slope]: Args<"biasActivationForward">) {
    const fn = "biasActivationForward";
    const k = checkKind(fn, kind, slope);
    const d = checkNcs(fn, n, c, s);
    checkArraysInPlace(
      fn,
      [
        ["x", x, d.total],
        ["bias", bias, d.c],
        ["y", y, d.total],
      ],
      ["y"],
      [["x", "y"]],
    );
    return k;
  },
  biasBackward(...[kind, y, dy, dx, dbias, n, c, s, slope]: Args<"biasActivationBackward">) {
    const fn = "biasActivationBackward";
    const k = checkKind(fn, kind, slope);
    const d = checkNcs(fn, n, c, s);
    checkArraysInPlace(
      fn,
      [
        ["y", y, d.total],
        ["dy", dy, d.total],
        ["dx", dx, d.total],
        ["dbias", dbias, d.c],
      ],
      ["dx", "dbias"],
      [
        ["dx", "dy"],
        ["dx", "y"],
      ],
    );
    return k;
  },
  unary(fn: string, ...[x, y]: Args<"vexp">) {
    const len = lengthOf(fn, "x", x);
    checkArraysInPlace(
      fn,
      [
        ["x", x, len],
        ["y", y, len],
      ],
      ["y"],
      [["x", "y"]],
    );
  },
};

// ---- implementations -----------------------------------------------------------------------

export const jsActivation: ActivationKernels = {
  activationForward(kind, x, y, slope) {
    const k = check.forward(kind, x, y, slope);
    twin.activationForward(k.kind, x, y, k.slope);
  },
  activationBackward(kind, y, dy, dx, slope) {
    const k = check.backward(kind, y, dy, dx, slope);
    twin.activationBackward(k.kind, y, dy, dx, k.slope);
  },
  biasActivationForward(kind, x, bias, y, n, c, s, slope) {
    const k = check.biasForward(kind, x, bias, y, n, c, s, slope);
    twin.biasActivationForward(k.kind, x, bias, y, n, c, s, k.slope);
  },
  biasActivationBackward(kind, y, dy, dx, dbias, n, c, s, slope) {
    const k = check.biasBackward(kind, y, dy, dx, dbias, n, c, s, slope);
    twin.biasActivationBackward(k.kind, y, dy, dx, dbias, n, c, s, k.slope);
  },
  vexp(x, y) {
    check.unary("vexp", x, y);
    vm.vexp(x, y);
  },
  vlog(x, y) {
    check.unary("vlog", x, y);
    vm.vlog(x, y);
  },
};

export const nativeActivation: ActivationKernels = {
  activationForward(kind, x, y, slope) {
    const k = check.forward(kind, x, y, slope);
    callNative((a) => a.activationForward(k.code, x, y, k.slope));
  },
  activationBackward(kind, y, dy, dx, slope) {
    const k = check.backward(kind, y, dy, dx, slope);
    callNative((a) => a.activationBackward(k.code, y, dy, dx, k.slope));
  },
  biasActivationForward(kind, x, bias, y, n, c, s, slope) {
    const k = check.biasForward(kind, x, bias, y, n, c, s, slope);
    callNative((a) => a.biasActivationForward(k.code, x, bias, y, n, c, s, k.slope));
  },
  biasActivationBackward(kind, y, dy, dx, dbias, n, c, s, slope) {
    const k = check.biasBackward(kind, y, dy, dx, dbias, n, c, s, slope);
    callNative((a) => a.biasActivationBackward(k.code, y, dy, dx, dbias, n, c, s, k.slope));
  },
  vexp(x, y) {
    check.unary("vexp", x, y);
    callNative((a) => a.vexp(x, y));
  },
  vlog(x, y) {
    check.unary("vlog", x, y);
    callNative((a) => a.vlog(x, y));
  },
};

/** The forward kernels on the GPU (native/kernels/cuda/activation.cu); the backward and vexp/vlog have no CUDA kernel yet. */
export const cudaActivation: ActivationKernels = {
  ...noCudaKernel<ActivationKernels>("activation", ["activationBackward", "biasActivationBackward", "vexp", "vlog"]),
  activationForward(kind, x, y, slope) {
    const k = check.forward(kind, x, y, slope);
    callNative(() => cudaAddon().cudaActivationForward(k.code, x, y, k.slope));
  },
  biasActivationForward(kind, x, bias, y, n, c, s, slope) {
    const k = check.biasForward(kind, x, bias, y, n, c, s, slope);
    callNative(() => cudaAddon().cudaBiasActivationForward(k.code, x, bias, y, n, c, s, k.slope));
  },
};
