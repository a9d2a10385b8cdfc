/**
 * Kernel group "conv": Conv2d (with PixelCNN masks A/B) and ConvTranspose2d, forward and
 * backward. Native: native/kernels/cpu/conv2d.cc, conv_transpose2d.cc (im2col + SGEMM per
 * chunk of images); JS twins: js/conv2d.ts, js/conv-transpose2d.ts (plain loops).
 *
 * Layout NCHW, float32, dilation 1, groups 1. Strides and pads are given per axis.
 *
 * Sizes: batch, inChannels and outChannels may be 0 (empty work; with inChannels = 0 the
 * forward output is the bias, or 0). height, width = 0, or an output smaller than 1 x 1, is
 * refused with E_SHAPE. Kernel sizes and strides must be >= 1, pads >= 0, output pads in
 * [0, stride): E_ARG otherwise.
 *
 * Gradients: *BackwardData overwrites dx. *BackwardWeight overwrites dweight and dbias, or adds
 * to them when `accumulate` is true (gradients summed over several calls, e.g. time steps).
 *
 * Arrays must have exactly the sizes the shape implies (E_SHAPE), and outputs must not share
 * memory with any other argument of the call (E_ARG).
 */
import { checkFloat32Array, checkInteger, checkOneOf } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import { noCudaKernel } from "../cuda.js";
import { arraysOverlap } from "../validate.js";
import {
  conv2dBackwardData as jsConv2dBackwardData,
  conv2dBackwardWeight as jsConv2dBackwardWeight,
  conv2dForward as jsConv2dForward,
  conv2dMaskWeights as jsConv2dMaskWeights,
  type Conv2dSpec,
  type MaskCode,
} from "../js/conv2d.js";
import {
  convTranspose2dBackwardData as jsConvT2dBackwardData,
  convTranspose2dBackwardWeight as jsConvT2dBackwardWeight,
  convTranspose2dForward as jsConvT2dForward,
  type ConvTranspose2dSpec,
} from "../js/conv-transpose2d.js";
import { callNative } from "../native.js";

/**
 * PixelCNN / PixelRNN spatial masks. With the kernel centre at (floor(kH/2), floor(kW/2)),
 * every weight position after the centre in raster order (rows below it, and positions right
 * of it in its row) is masked; "A" also masks the centre, "B" keeps it. The mask is the same
 * for every (out, in) channel pair. Masked weights are never read by any backend.
 */
export type ConvMask = "none" | "A" | "B";

/** Conv2d geometry: x [batch, inChannels, height, width], weight [outChannels, inChannels, kernelH, kernelW]. */
export interface Conv2dShape {
  batch: number;
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  /** Default 1. */
  strideH?: number;
  strideW?: number;
  /** Zero padding on each side; default 0. */
  padH?: number;
  padW?: number;
  /** Default "none". */
  mask?: ConvMask;
}

/** ConvTranspose2d geometry (PyTorch semantics): x [batch, inChannels, height, width], weight [inChannels, outChannels, kernelH, kernelW]. */
export interface ConvTranspose2dShape {
  batch: number;
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  kernelH: number;
  kernelW: number;
  /** Default 1. */
  strideH?: number;
  strideW?: number;
  /** Default 0: removes padH rows from each side of the full output. */
  padH?: number;
  padW?: number;
  /** Extra rows / columns on the bottom / right, in [0, stride); default 0. */
  outputPadH?: number;
  outputPadW?: number;
}

export interface ConvKernels {
  /**
   * y = conv2d(x, weight) + bias.
   *   x [N, Cin, H, W], weight [Cout, Cin, kH, kW], bias [Cout] | null -> y [N, Cout, Ho, Wo]
   *   Ho = floor((H + 2 padH - kH) / strideH) + 1, Wo likewise (see conv2dOutputSize).
   * Masked weight positions are skipped, whatever they hold.
   */
  conv2dForward(shape: Conv2dShape, x: Float32Array, weight: Float32Array, bias: Float32Array | null, y: Float32Array): void;
  /**
   * dx = gradient of <y, dy> with respect to x.
   *   dy [N, Cout, Ho, Wo], weight [Cout, Cin, kH, kW] -> dx [N, Cin, H, W] (overwritten)
   */
  conv2dBackwardData(shape: Conv2dShape, dy: Float32Array, weight: Float32Array, dx: Float32Array): void;
  /**
   * dweight = gradient of <y, dy> with respect to weight, dbias = sum of dy per channel.
   *   x [N, Cin, H, W], dy [N, Cout, Ho, Wo] -> dweight [Cout, Cin, kH, kW], dbias [Cout] | null
   * Overwrites, or adds when accumulate. Masked positions get 0 (or are left as they are
   * when accumulating).
   */
  conv2dBackwardWeight(
    shape: Conv2dShape,
    x: Float32Array,
    dy: Float32Array,
    dweight: Float32Array,
    dbias: Float32Array | null,
    accumulate?: boolean,
  ): void;
  /** Zeroes the masked positions of weight [outChannels, inChannels, kernelH, kernelW] in place. */
  conv2dMaskWeights(shape: Conv2dMaskShape, weight: Float32Array): void;
  /**
   * y = convTranspose2d(x, weight) + bias: each input pixel adds weight[ci, :, :, :] * x at
   * (iy*strideH - padH, ix*strideW - padW); the adjoint of conv2d.
   *   x [N, Cin, H, W], weight [Cin, Cout, kH, kW], bias [Cout] | null -> y [N, Cout, Ho, Wo]
   *   Ho = (H - 1) * strideH - 2 padH + kH + outputPadH, Wo likewise.
   */
  convTranspose2dForward(
    shape: ConvTranspose2dShape,
    x: Float32Array,
    weight: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
  ): void;
  /**
   * dx = gradient of <y, dy> with respect to x (a conv2d of dy with the same weight).
   *   dy [N, Cout, Ho, Wo], weight [Cin, Cout, kH, kW] -> dx [N, Cin, H, W] (overwritten)
   */
  convTranspose2dBackwardData(shape: ConvTranspose2dShape, dy: Float32Array, weight: Float32Array, dx: Float32Array): void;
  /**
   * x [N, Cin, H, W], dy [N, Cout, Ho, Wo] -> dweight [Cin, Cout, kH, kW], dbias [Cout] | null.
   * Overwrites, or adds when accumulate.
   */
  convTranspose2dBackwardWeight(
    shape: ConvTranspose2dShape,
    x: Float32Array,
    dy: Float32Array,
    dweight: Float32Array,
    dbias: Float32Array | null,
    accumulate?: boolean,
  ): void;
}

/** What conv2dMaskWeights needs of a shape. */
export type Conv2dMaskShape = Pick<Conv2dShape, "outChannels" | "inChannels" | "kernelH" | "kernelW" | "mask">;

const MAX_DIM = 2147483647;
const MASK_CODES: Record<ConvMask, MaskCode> = { none: 0, A: 1, B: 2 };

function checkObject(name: string, v: unknown): void {
  if (typeof v !== "object" || v === null) throw new DeepgenError("E_ARG", `${name}: shape must be an object`);
}

/** Validates a Conv2d shape (E_ARG / E_SHAPE) and resolves defaults and the output size. */
export function checkConv2dShape(shape: Conv2dShape, fn = "conv2d"): Conv2dSpec {
  checkObject(fn, shape);
  const s: Conv2dSpec = {
    batch: checkInteger(`${fn} batch`, shape.batch, 0, MAX_DIM),
    inC: checkInteger(`${fn} inChannels`, shape.inChannels, 0, MAX_DIM),
    inH: checkInteger(`${fn} height`, shape.height, 0, MAX_DIM),
    inW: checkInteger(`${fn} width`, shape.width, 0, MAX_DIM),
    outC: checkInteger(`${fn} outChannels`, shape.outChannels, 0, MAX_DIM),
    kH: checkInteger(`${fn} kernelH`, shape.kernelH, 1, MAX_DIM),
    kW: checkInteger(`${fn} kernelW`, shape.kernelW, 1, MAX_DIM),
    strideH: checkInteger(`${fn} strideH`, shape.strideH ?? 1, 1, MAX_DIM),
    strideW: checkInteger(`${fn} strideW`, shape.strideW ?? 1, 1, MAX_DIM),
    padH: checkInteger(`${fn} padH`, shape.padH ?? 0, 0, MAX_DIM),
    padW: checkInteger(`${fn} padW`, shape.padW ?? 0, 0, MAX_DIM),
    mask: MASK_CODES[checkOneOf(`${fn} mask`, shape.mask ?? "none", ["none", "A", "B"] as const)],
    outH: 0,
    outW: 0,
  };
  if (s.inH === 0 || s.inW === 0) throw new DeepgenError("E_SHAPE", `${fn}: empty image (${s.inH}x${s.inW})`);
  const spanH = s.inH + 2 * s.padH - s.kH;
  const spanW = s.inW + 2 * s.padW - s.kW;
  if (spanH < 0 || spanW < 0) {
    throw new DeepgenError(
      "E_SHAPE",
      `${fn}: kernel ${s.kH}x${s.kW} is larger than the padded input ${s.inH + 2 * s.padH}x${s.inW + 2 * s.padW}`,
    );
  }
  s.outH = Math.floor(spanH / s.strideH) + 1;
  s.outW = Math.floor(spanW / s.strideW) + 1;
  return s;
}

/** Validates a ConvTranspose2d shape and resolves defaults and the output size. */
export function checkConvTranspose2dShape(shape: ConvTranspose2dShape, fn = "convTranspose2d"): ConvTranspose2dSpec {
  checkObject(fn, shape);
  const s: ConvTranspose2dSpec = {
    batch: checkInteger(`${fn} batch`, shape.batch, 0, MAX_DIM),
    inC: checkInteger(`${fn} inChannels`, shape.inChannels, 0, MAX_DIM),
    inH: checkInteger(`${fn} height`, shape.height, 0, MAX_DIM),
    inW: checkInteger(`${fn} width`, shape.width, 0, MAX_DIM),
    outC: checkInteger(`${fn} outChannels`, shape.outChannels, 0, MAX_DIM),
    kH: checkInteger(`${fn} kernelH`, shape.kernelH, 1, MAX_DIM),
    kW: checkInteger(`${fn} kernelW`, shape.kernelW, 1, MAX_DIM),
    strideH: checkInteger(`${fn} strideH`, shape.strideH ?? 1, 1, MAX_DIM),
    strideW: checkInteger(`${fn} strideW`, shape.strideW ?? 1, 1, MAX_DIM),
    padH: checkInteger(`${fn} padH`, shape.padH ?? 0, 0, MAX_DIM),
    padW: checkInteger(`${fn} padW`, shape.padW ?? 0, 0, MAX_DIM),
    outputPadH: 0,
    outputPadW: 0,
    outH: 0,
    outW: 0,
  };
  s.outputPadH = checkInteger(`${fn} outputPadH`, shape.outputPadH ?? 0, 0, s.strideH - 1);
  s.outputPadW = checkInteger(`${fn} outputPadW`, shape.outputPadW ?? 0, 0, s.strideW - 1);
  if (s.inH === 0 || s.inW === 0) throw new DeepgenError("E_SHAPE", `${fn}: empty image (${s.inH}x${s.inW})`);
  s.outH = (s.inH - 1) * s.strideH - 2 * s.padH + s.kH + s.outputPadH;
  s.outW = (s.inW - 1) * s.strideW - 2 * s.padW + s.kW + s.outputPadW;
  if (s.outH < 1 || s.outW < 1) {
    throw new DeepgenError("E_SHAPE", `${fn}: padding ${s.padH}x${s.padW} leaves an empty ${s.outH}x${s.outW} output`);
  }
  return s;
}

/** Output height and width of a Conv2d (throws like the kernels on a bad shape). */
export function conv2dOutputSize(shape: Conv2dShape): { height: number; width: number } {
  const s = checkConv2dShape(shape);
  return { height: s.outH, width: s.outW };
}

/** Output height and width of a ConvTranspose2d (throws like the kernels on a bad shape). */
export function convTranspose2dOutputSize(shape: ConvTranspose2dShape): { height: number; width: number } {
  const s = checkConvTranspose2dShape(shape);
  return { height: s.outH, width: s.outW };
}

function checkArray(fn: string, name: string, a: unknown, length: number): Float32Array {
  const arr = checkFloat32Array(`${fn} ${name}`, a);
  if (arr.length !== length) {
    throw new DeepgenError("E_SHAPE", `${fn}: ${name} has ${arr.length} elements, the shape needs ${length}`);
  }
  return arr;
}

function checkOptionalArray(fn: string, name: string, a: unknown, length: number): Float32Array | null {
  return a === null || a === undefined ? null : checkArray(fn, name, a, length);
}

function checkAccumulate(fn: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new DeepgenError("E_ARG", `${fn}: accumulate must be a boolean`);
  return v;
}

/** Throws E_ARG if the output `out` shares memory with any of `others`. */
function checkDisjoint(fn: string, outName: string, out: Float32Array | null, others: Array<[string, Float32Array | null]>): void {
  if (out === null) return;
  for (const [name, o] of others) {
    if (o !== null && arraysOverlap(out, o)) throw new DeepgenError("E_ARG", `${fn}: ${outName} and ${name} overlap`);
  }
}

const xSize = (s: { batch: number; inC: number; inH: number; inW: number }): number => s.batch * s.inC * s.inH * s.inW;
const ySize = (s: { batch: number; outC: number; outH: number; outW: number }): number => s.batch * s.outC * s.outH * s.outW;
const wSize = (s: { inC: number; outC: number; kH: number; kW: number }): number => s.outC * s.inC * s.kH * s.kW;

// Argument checks shared by the backends: each returns the validated spec and arrays. The
// array checks depend only on the sizes, the same for a conv and a transposed conv.

type Sizes = Parameters<typeof xSize>[0] & Parameters<typeof ySize>[0] & Parameters<typeof wSize>[0];

function forwardArrays(fn: string, spec: Sizes, x: unknown, w: unknown, b: unknown, y: unknown) {
  const xa = checkArray(fn, "x", x, xSize(spec));
  const wa = checkArray(fn, "weight", w, wSize(spec));
  const ba = checkOptionalArray(fn, "bias", b, spec.outC);
  const ya = checkArray(fn, "y", y, ySize(spec));
  checkDisjoint(fn, "y", ya, [
    ["x", xa],
    ["weight", wa],
    ["bias", ba],
  ]);
  return { x: xa, w: wa, b: ba, y: ya };
}

function backwardDataArrays(fn: string, spec: Sizes, dy: unknown, w: unknown, dx: unknown) {
  const dya = checkArray(fn, "dy", dy, ySize(spec));
  const wa = checkArray(fn, "weight", w, wSize(spec));
  const dxa = checkArray(fn, "dx", dx, xSize(spec));
  checkDisjoint(fn, "dx", dxa, [
    ["dy", dya],
    ["weight", wa],
  ]);
  return { dy: dya, w: wa, dx: dxa };
}

function backwardWeightArrays(fn: string, spec: Sizes, x: unknown, dy: unknown, dw: unknown, db: unknown, acc: unknown) {
  const xa = checkArray(fn, "x", x, xSize(spec));
  const dya = checkArray(fn, "dy", dy, ySize(spec));
  const dwa = checkArray(fn, "dweight", dw, wSize(spec));
  const dba = checkOptionalArray(fn, "dbias", db, spec.outC);
  const accumulate = checkAccumulate(fn, acc);
  checkDisjoint(fn, "dweight", dwa, [
    ["x", xa],
    ["dy", dya],
    ["dbias", dba],
  ]);
  checkDisjoint(fn, "dbias", dba, [
    ["x", xa],
    ["dy", dya],
  ]);
  return { x: xa, dy: dya, dw: dwa, db: dba, accumulate };
}

function checkConvForward(fn: string, shape: Conv2dShape, x: unknown, w: unknown, b: unknown, y: unknown) {
  const spec = checkConv2dShape(shape, fn);
  return { spec, ...forwardArrays(fn, spec, x, w, b, y) };
}

function checkConvBackwardData(fn: string, shape: Conv2dShape, dy: unknown, w: unknown, dx: unknown) {
  const spec = checkConv2dShape(shape, fn);
  return { spec, ...backwardDataArrays(fn, spec, dy, w, dx) };
}

function checkConvBackwardWeight(fn: string, shape: Conv2dShape, x: unknown, dy: unknown, dw: unknown, db: unknown, acc: unknown) {
  const spec = checkConv2dShape(shape, fn);
  return { spec, ...backwardWeightArrays(fn, spec, x, dy, dw, db, acc) };
}

function checkConvTForward(fn: string, shape: ConvTranspose2dShape, x: unknown, w: unknown, b: unknown, y: unknown) {
  const spec = checkConvTranspose2dShape(shape, fn);
  return { spec, ...forwardArrays(fn, spec, x, w, b, y) };
}

function checkConvTBackwardData(fn: string, shape: ConvTranspose2dShape, dy: unknown, w: unknown, dx: unknown) {
  const spec = checkConvTranspose2dShape(shape, fn);
  return { spec, ...backwardDataArrays(fn, spec, dy, w, dx) };
}

function checkConvTBackwardWeight(
  fn: string,
  shape: ConvTranspose2dShape,
  x: unknown,
  dy: unknown,
  dw: unknown,
  db: unknown,
  acc: unknown,
) {
  const spec = checkConvTranspose2dShape(shape, fn);
  return { spec, ...backwardWeightArrays(fn, spec, x, dy, dw, db, acc) };
}

function checkMaskWeights(shape: Conv2dMaskShape, w: unknown) {
  const fn = "conv2dMaskWeights";
  checkObject(fn, shape);
  const outC = checkInteger(`${fn} outChannels`, shape.outChannels, 0, MAX_DIM);
  const inC = checkInteger(`${fn} inChannels`, shape.inChannels, 0, MAX_DIM);
  const kH = checkInteger(`${fn} kernelH`, shape.kernelH, 1, MAX_DIM);
  const kW = checkInteger(`${fn} kernelW`, shape.kernelW, 1, MAX_DIM);
  const mask = MASK_CODES[checkOneOf(`${fn} mask`, shape.mask ?? "none", ["none", "A", "B"] as const)];
  const wa = checkArray(fn, "weight", w, outC * inC * kH * kW);
  return { outC, inC, kH, kW, mask, w: wa };
}

export const jsConv: ConvKernels = {
  conv2dForward(shape, x, weight, bias, y) {
    const a = checkConvForward("conv2dForward", shape, x, weight, bias, y);
    jsConv2dForward(a.spec, a.x, a.w, a.b, a.y);
  },
  conv2dBackwardData(shape, dy, weight, dx) {
    const a = checkConvBackwardData("conv2dBackwardData", shape, dy, weight, dx);
    jsConv2dBackwardData(a.spec, a.dy, a.w, a.dx);
  },
  conv2dBackwardWeight(shape, x, dy, dweight, dbias, accumulate) {
    const a = checkConvBackwardWeight("conv2dBackwardWeight", shape, x, dy, dweight, dbias, accumulate);
    jsConv2dBackwardWeight(a.spec, a.x, a.dy, a.dw, a.db, a.accumulate);
  },
  conv2dMaskWeights(shape, weight) {
    const a = checkMaskWeights(shape, weight);
    jsConv2dMaskWeights(a.w, a.outC, a.inC, a.kH, a.kW, a.mask);
  },
  convTranspose2dForward(shape, x, weight, bias, y) {
    const a = checkConvTForward("convTranspose2dForward", shape, x, weight, bias, y);
    jsConvT2dForward(a.spec, a.x, a.w, a.b, a.y);
  },
  convTranspose2dBackwardData(shape, dy, weight, dx) {
    const a = checkConvTBackwardData("convTranspose2dBackwardData", shape, dy, weight, dx);
    jsConvT2dBackwardData(a.spec, a.dy, a.w, a.dx);
  },
  convTranspose2dBackwardWeight(shape, x, dy, dweight, dbias, accumulate) {
    const a = checkConvTBackwardWeight("convTranspose2dBackwardWeight", shape, x, dy, dweight, dbias, accumulate);
    jsConvT2dBackwardWeight(a.spec, a.x, a.dy, a.dw, a.db, a.accumulate);
  },
};

export const nativeConv: ConvKernels = {
  conv2dForward(shape, x, weight, bias, y) {
    const a = checkConvForward("conv2dForward", shape, x, weight, bias, y);
    callNative((addon) => addon.conv2dForward(a.spec, a.x, a.w, a.b, a.y));
  },
  conv2dBackwardData(shape, dy, weight, dx) {
    const a = checkConvBackwardData("conv2dBackwardData", shape, dy, weight, dx);
    callNative((addon) => addon.conv2dBackwardData(a.spec, a.dy, a.w, a.dx));
  },
  conv2dBackwardWeight(shape, x, dy, dweight, dbias, accumulate) {
    const a = checkConvBackwardWeight("conv2dBackwardWeight", shape, x, dy, dweight, dbias, accumulate);
    callNative((addon) => addon.conv2dBackwardWeight(a.spec, a.x, a.dy, a.dw, a.db, a.accumulate));
  },
  conv2dMaskWeights(shape, weight) {
    const a = checkMaskWeights(shape, weight);
    callNative((addon) => addon.conv2dMaskWeights(a, a.w));
  },
  convTranspose2dForward(shape, x, weight, bias, y) {
    const a = checkConvTForward("convTranspose2dForward", shape, x, weight, bias, y);
    callNative((addon) => addon.convTranspose2dForward(a.spec, a.x, a.w, a.b, a.y));
  },
  convTranspose2dBackwardData(shape, dy, weight, dx) {
    const a = checkConvTBackwardData("convTranspose2dBackwardData", shape, dy, weight, dx);
    callNative((addon) => addon.convTranspose2dBackwardData(a.spec, a.dy, a.w, a.dx));
  },
  convTranspose2dBackwardWeight(shape, x, dy, dweight, dbias, accumulate) {
    const a = checkConvTBackwardWeight("convTranspose2dBackwardWeight", shape, x, dy, dweight, dbias, accumulate);
    callNative((addon) => addon.convTranspose2dBackwardWeight(a.spec, a.x, a.dy, a.dw, a.db, a.accumulate));
  },
};

export const cudaConv: ConvKernels = noCudaKernel<ConvKernels>("conv", [
  "conv2dForward",
  "conv2dBackwardData",
  "conv2dBackwardWeight",
  "conv2dMaskWeights",
  "convTranspose2dForward",
  "convTranspose2dBackwardData",
  "convTranspose2dBackwardWeight",
]);
