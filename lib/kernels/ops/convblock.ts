/**
 * Kernel group "convblock": the GAN conv block y = act(norm(conv(x) + bias)), forward and
 * backward in one call each (native: native/kernels/cpu/conv_block.cc, one N-API call per
 * block each way; JS twin: js/conv-block.ts, the composition of the conv, batchnorm and
 * activation twins).
 *
 * Semantics are exactly those of the composition of the existing kernels (ops/conv.ts, then
 * ops/norm.ts, then ops/activation.ts), within float32 rounding:
 *   pre = conv2d(x) + bias          (spec.transposed false; Conv2dShape, no mask)
 *   pre = convTranspose2d(x) + bias (spec.transposed true; ConvTranspose2dShape)
 *   norm "none":  y = act(pre)
 *   norm "train": y = act(batchNormForwardTrain(pre)) over [batch, outChannels, Ho*Wo];
 *                 saved.mean / saved.rstd written, p.runningMean / p.runningVar updated in
 *                 place (unbiased var, momentum, as PyTorch; see ops/norm.ts). Needs
 *                 batch * Ho * Wo >= 2 when outChannels > 0 (E_SHAPE otherwise).
 *   norm "eval":  y = act(batchNormForwardEval(pre)) with the running stats (read only).
 *   saved.pre always receives the conv output (before the norm).
 * Backward of a "train" or "none" forward ("eval" has none: E_ARG), from the same x, params,
 * saved and y:
 *   dy is OVERWRITTEN (scratch): on return it holds dL/dpre, the gradient at the conv output.
 *   dx (null: skipped) is overwritten; g.dweight, g.dbias (null: skipped), g.dgamma and
 *   g.dbeta (required with "train", untouched with "none") are overwritten, or added to when
 *   accumulate is true.
 *
 * Arrays: x [batch, inChannels, height, width]; weight [outC, inC, kH, kW] (conv) or
 * [inC, outC, kH, kW] (transposed); bias, gamma, beta, runningMean, runningVar, saved.mean,
 * saved.rstd and the matching gradients [outChannels]; pre, y, dy [batch, outChannels, Ho, Wo].
 * With norm "none", gamma, beta and the running stats may be null (they are ignored).
 * Wrong lengths: E_SHAPE. Arrays a call writes (y, saved.*, the running stats in the forward;
 * dy, dx and every gradient in the backward) must not share memory with any other argument
 * of the call: E_ARG. Shapes follow ops/conv.ts (E_ARG / E_SHAPE); activation kinds, slope
 * (leakyRelu, default 0.01: pass 0.2 for DCGAN), eps (default 1e-5) and momentum (default
 * 0.1) follow ops/activation.ts and ops/norm.ts and are rounded to float32 on every backend.
 */
import { checkFloat32Array, checkOneOf } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import type { NativeConvBlockSpec } from "../addon-types.js";
import { cudaAddon } from "../cuda.js";
import { type ConvBlockTwinSpec, convBlockBackward as twinBackward, convBlockForward as twinForward } from "../js/conv-block.js";
import { callNative } from "../native.js";
import { checkOutputsApart } from "../validate.js";
import { ACTIVATION_KINDS, type ActivationKind, DEFAULT_LEAKY_SLOPE } from "./activation.js";
import { checkConv2dShape, checkConvTranspose2dShape, type Conv2dShape, type ConvTranspose2dShape } from "./conv.js";
import { DEFAULT_BN_MOMENTUM, DEFAULT_NORM_EPS } from "./norm.js";

export type ConvBlockNorm = "none" | "train" | "eval";

export interface ConvBlockSpec {
  /** false: conv2d (Conv2dShape), true: convTranspose2d (ConvTranspose2dShape). */
  transposed: boolean;
  /** Batch, channels, sizes, kernel, stride, pad (masks are not supported here). */
  shape: Conv2dShape | ConvTranspose2dShape;
  /** Batch norm over [batch, outChannels, Ho * Wo] per channel. */
  norm: ConvBlockNorm;
  activation: ActivationKind;
  /** leakyRelu slope, default 0.01. */
  slope?: number;
  /** Batch norm eps, default 1e-5. */
  eps?: number;
  /** Running-stat momentum ("train"), default 0.1. */
  momentum?: number;
}

export interface ConvBlockParams {
  weight: Float32Array;
  /** Conv bias [outChannels] (usually null when norm != "none"). */
  bias: Float32Array | null;
  /** [outChannels], required when norm != "none". */
  gamma: Float32Array | null;
  beta: Float32Array | null;
  /** [outChannels], updated in place in "train", read in "eval". */
  runningMean: Float32Array | null;
  runningVar: Float32Array | null;
}

/** What the forward saves for the backward. pre [batch, outC, Ho, Wo]; mean, rstd [outC] (unused with norm "none"). */
export interface ConvBlockSaved {
  pre: Float32Array;
  mean: Float32Array;
  rstd: Float32Array;
}

export interface ConvBlockGrads {
  dweight: Float32Array;
  dbias: Float32Array | null;
  dgamma: Float32Array | null;
  dbeta: Float32Array | null;
}

export interface ConvBlockKernels {
  /** y = act(norm(conv(x) + bias)); writes saved.pre / mean / rstd for the backward (train mode). */
  convBlockForward(spec: ConvBlockSpec, x: Float32Array, p: ConvBlockParams, saved: ConvBlockSaved, y: Float32Array): void;
  /**
   * Backward of the forward just run ("train" or "none" mode). dy is overwritten (scratch:
   * it ends holding dL/dpre). dx may be null (skipped). Gradients overwritten, or added to
   * when accumulate.
   */
  convBlockBackward(
    spec: ConvBlockSpec,
    x: Float32Array,
    p: ConvBlockParams,
    saved: ConvBlockSaved,
    y: Float32Array,
    dy: Float32Array,
    dx: Float32Array | null,
    g: ConvBlockGrads,
    accumulate?: boolean,
  ): void;
}

/** Output height and width of a block (throws like the kernels on a bad spec). */
export function convBlockOutputSize(spec: ConvBlockSpec): { height: number; width: number } {
  const s = checkConvBlockSpec("convBlockOutputSize", spec, false);
  return { height: s.conv.outH, width: s.conv.outW };
}

// ---- argument checks -------------------------------------------------------------------------

const NORMS: readonly ConvBlockNorm[] = ["none", "train", "eval"];
const NORM_CODES: Record<ConvBlockNorm, 0 | 1 | 2> = { none: 0, train: 1, eval: 2 };

function checkNumber(fn: string, name: string, v: unknown, dflt: number, ok: (f: number) => boolean, rule: string): number {
  if (v === undefined) return Math.fround(dflt);
  const f = typeof v === "number" ? Math.fround(v) : NaN;
  if (typeof v !== "number" || !Number.isFinite(v) || !Number.isFinite(f) || !ok(f)) {
    throw new DeepgenError("E_ARG", `${fn}: ${name} must be ${rule}, got ${String(v)}`);
  }
  return f;
}

/**
 * Validates a block spec (E_ARG / E_SHAPE) and resolves defaults and the output size: the
 * spec the JS twin runs on (tests drive the twin in float64 with it).
 */
export function checkConvBlockSpec(fn: string, spec: ConvBlockSpec, backward = false): ConvBlockTwinSpec {
  if (typeof spec !== "object" || spec === null) throw new DeepgenError("E_ARG", `${fn}: spec must be an object`);
  if (typeof spec.transposed !== "boolean") throw new DeepgenError("E_ARG", `${fn}: spec.transposed must be a boolean`);
  const norm = checkOneOf(`${fn} norm`, spec.norm, NORMS);
  const activation = checkOneOf(`${fn} activation`, spec.activation, ACTIVATION_KINDS);
  // the same bounds as the native binding (bind_convblock.cc), so every backend accepts the same values
  const slope = checkNumber(fn, "slope", spec.slope, DEFAULT_LEAKY_SLOPE, (f) => f >= 0 && f <= 1e30, "a number in [0, 1e30]");
  const eps = checkNumber(fn, "eps", spec.eps, DEFAULT_NORM_EPS, (f) => f > 0 && f <= 1e30, "a number in (0, 1e30] (in float32)");
  const momentum = checkNumber(fn, "momentum", spec.momentum, DEFAULT_BN_MOMENTUM, (f) => f >= 0 && f <= 1, "a number in [0, 1]");
  if (backward && norm === "eval") {
    throw new DeepgenError("E_ARG", `${fn}: an eval-mode forward has no backward (run the forward with norm "train")`);
  }
  const common = { norm, activation, slope, eps, momentum };
  let s: ConvBlockTwinSpec;
  if (spec.transposed) {
    s = { transposed: true, conv: checkConvTranspose2dShape(spec.shape as ConvTranspose2dShape, fn), ...common };
  } else {
    const shape = spec.shape as Conv2dShape & { outputPadH?: unknown; outputPadW?: unknown };
    if (shape !== null && typeof shape === "object") {
      if ((shape.mask ?? "none") !== "none") throw new DeepgenError("E_ARG", `${fn}: conv blocks take no mask`);
      if ((shape.outputPadH ?? 0) !== 0 || (shape.outputPadW ?? 0) !== 0) {
        throw new DeepgenError("E_ARG", `${fn}: output padding is for transposed convolutions only`);
      }
    }
    s = { transposed: false, conv: checkConv2dShape(shape, fn), ...common };
  }
  const m = s.conv.batch * s.conv.outH * s.conv.outW;
  if (norm === "train" && s.conv.outC > 0 && m < 2) {
    throw new DeepgenError(
      "E_SHAPE",
      `${fn}: batch norm training needs more than one value per channel (batch * Ho * Wo = ${m}; use eval mode for a single value)`,
    );
  }
  return s;
}

const sizes = (s: ConvBlockTwinSpec) => {
  const c = s.conv;
  return { x: c.batch * c.inC * c.inH * c.inW, w: c.inC * c.outC * c.kH * c.kW, y: c.batch * c.outC * c.outH * c.outW, c: c.outC };
};

/** A Float32Array of exactly `len` (E_ARG / E_SHAPE), or null when allowed. */
function arr(fn: string, name: string, v: unknown, len: number, required: boolean): Float32Array | null {
  if (v === null || v === undefined) {
    if (required) throw new DeepgenError("E_ARG", `${fn}: ${name} is required`);
    return null;
  }
  const a = checkFloat32Array(`${fn} ${name}`, v);
  if (a.length !== len) throw new DeepgenError("E_SHAPE", `${fn}: ${name} has ${a.length} elements, expected ${len}`);
  return a;
}

function checkObj(fn: string, name: string, v: unknown): void {
  if (typeof v !== "object" || v === null) throw new DeepgenError("E_ARG", `${fn}: ${name} must be an object`);
}

function checkForward(spec: ConvBlockSpec, x: unknown, p: ConvBlockParams, saved: ConvBlockSaved, y: unknown) {
  const fn = "convBlockForward";
  const s = checkConvBlockSpec(fn, spec, false);
  checkObj(fn, "params", p);
  checkObj(fn, "saved", saved);
  const n = sizes(s);
  const norm = s.norm !== "none";
  const a = {
    x: arr(fn, "x", x, n.x, true)!,
    weight: arr(fn, "weight", p.weight, n.w, true)!,
    bias: arr(fn, "bias", p.bias, n.c, false),
    gamma: norm ? arr(fn, "gamma", p.gamma, n.c, true) : null,
    beta: norm ? arr(fn, "beta", p.beta, n.c, true) : null,
    runningMean: norm ? arr(fn, "runningMean", p.runningMean, n.c, true) : null,
    runningVar: norm ? arr(fn, "runningVar", p.runningVar, n.c, true) : null,
    pre: arr(fn, "saved.pre", saved.pre, n.y, true)!,
    mean: arr(fn, "saved.mean", saved.mean, n.c, true)!,
    rstd: arr(fn, "saved.rstd", saved.rstd, n.c, true)!,
    y: arr(fn, "y", y, n.y, true)!,
  };
  checkOutputsApart(
    fn,
    [
      ["y", a.y],
      ["saved.pre", a.pre],
      ["saved.mean", a.mean],
      ["saved.rstd", a.rstd],
      ["runningMean", a.runningMean],
      ["runningVar", a.runningVar],
    ],
    [
      ["x", a.x],
      ["weight", a.weight],
      ["bias", a.bias],
      ["gamma", a.gamma],
      ["beta", a.beta],
    ],
  );
  return { s, a };
}

function checkBackward(
  spec: ConvBlockSpec,
  x: unknown,
  p: ConvBlockParams,
  saved: ConvBlockSaved,
  y: unknown,
  dy: unknown,
  dx: unknown,
  g: ConvBlockGrads,
  accumulate: unknown,
) {
  const fn = "convBlockBackward";
  const s = checkConvBlockSpec(fn, spec, true);
  checkObj(fn, "params", p);
  checkObj(fn, "saved", saved);
  checkObj(fn, "grads", g);
  if (accumulate !== undefined && typeof accumulate !== "boolean") throw new DeepgenError("E_ARG", `${fn}: accumulate must be a boolean`);
  const n = sizes(s);
  const train = s.norm === "train";
  const a = {
    x: arr(fn, "x", x, n.x, true)!,
    weight: arr(fn, "weight", p.weight, n.w, true)!,
    gamma: train ? arr(fn, "gamma", p.gamma, n.c, true) : null,
    pre: arr(fn, "saved.pre", saved.pre, n.y, true)!,
    mean: train ? arr(fn, "saved.mean", saved.mean, n.c, true) : null,
    rstd: train ? arr(fn, "saved.rstd", saved.rstd, n.c, true) : null,
    y: arr(fn, "y", y, n.y, true)!,
    dy: arr(fn, "dy", dy, n.y, true)!,
    dx: arr(fn, "dx", dx, n.x, false),
    dweight: arr(fn, "dweight", g.dweight, n.w, true)!,
    dbias: arr(fn, "dbias", g.dbias, n.c, false),
    dgamma: train ? arr(fn, "dgamma", g.dgamma, n.c, true) : null,
    dbeta: train ? arr(fn, "dbeta", g.dbeta, n.c, true) : null,
  };
  checkOutputsApart(
    fn,
    [
      ["dy", a.dy],
      ["dx", a.dx],
      ["dweight", a.dweight],
      ["dbias", a.dbias],
      ["dgamma", a.dgamma],
      ["dbeta", a.dbeta],
    ],
    [
      ["x", a.x],
      ["weight", a.weight],
      ["gamma", a.gamma],
      ["saved.pre", a.pre],
      ["saved.mean", a.mean],
      ["saved.rstd", a.rstd],
      ["y", a.y],
    ],
  );
  return { s, a, accumulate: accumulate === true };
}

/** The spec object of the native calls: the resolved geometry plus the block's codes. */
function nativeSpec(s: ConvBlockTwinSpec): NativeConvBlockSpec {
  const c = s.conv;
  // Field by field: an object spread here costs more than the whole native call on small blocks.
  return {
    batch: c.batch,
    inC: c.inC,
    inH: c.inH,
    inW: c.inW,
    outC: c.outC,
    kH: c.kH,
    kW: c.kW,
    strideH: c.strideH,
    strideW: c.strideW,
    padH: c.padH,
    padW: c.padW,
    outputPadH: s.transposed ? s.conv.outputPadH : 0,
    outputPadW: s.transposed ? s.conv.outputPadW : 0,
    transposed: s.transposed,
    norm: NORM_CODES[s.norm],
    activation: ACTIVATION_KINDS.indexOf(s.activation),
    slope: s.slope,
    eps: s.eps,
    momentum: s.momentum,
  };
}

// ---- implementations -----------------------------------------------------------------------

export const jsConvBlock: ConvBlockKernels = {
  convBlockForward(spec, x, p, saved, y) {
    const { s, a } = checkForward(spec, x, p, saved, y);
    twinForward(s, a);
  },
  convBlockBackward(spec, x, p, saved, y, dy, dx, g, accumulate) {
    const { s, a, accumulate: acc } = checkBackward(spec, x, p, saved, y, dy, dx, g, accumulate);
    twinBackward(s, a, acc);
  },
};

export const nativeConvBlock: ConvBlockKernels = {
  convBlockForward(spec, x, p, saved, y) {
    const { s, a } = checkForward(spec, x, p, saved, y);
    callNative((addon) =>
      addon.convBlockForward(
        nativeSpec(s),
        a.x,
        a.weight,
        a.bias,
        a.gamma,
        a.beta,
        a.runningMean,
        a.runningVar,
        a.pre,
        a.mean,
        a.rstd,
        a.y,
      ),
    );
  },
  convBlockBackward(spec, x, p, saved, y, dy, dx, g, accumulate) {
    const { s, a, accumulate: acc } = checkBackward(spec, x, p, saved, y, dy, dx, g, accumulate);
    callNative((addon) =>
      addon.convBlockBackward(
        nativeSpec(s),
        a.x,
        a.weight,
        a.gamma,
        a.pre,
        a.mean,
        a.rstd,
        a.y,
        a.dy,
        a.dx,
        a.dweight,
        a.dbias,
        a.dgamma,
        a.dbeta,
        acc,
      ),
    );
  },
};

/** Forward and backward on the CUDA kernels (native/kernels/cuda/conv_block*.cu). */
export const cudaConvBlock: ConvBlockKernels = {
  convBlockBackward(spec, x, p, saved, y, dy, dx, g, accumulate) {
    const { s, a, accumulate: acc } = checkBackward(spec, x, p, saved, y, dy, dx, g, accumulate);
    callNative(() =>
      cudaAddon().cudaConvBlockBackward(
        nativeSpec(s),
        a.x,
        a.weight,
        a.gamma,
        a.pre,
        a.mean,
        a.rstd,
        a.y,
        a.dy,
        a.dx,
        a.dweight,
        a.dbias,
        a.dgamma,
        a.dbeta,
        acc,
      ),
    );
  },
  convBlockForward(spec, x, p, saved, y) {
    const { s, a } = checkForward(spec, x, p, saved, y);
    callNative(() =>
      cudaAddon().cudaConvBlockForward(
        nativeSpec(s),
        a.x,
        a.weight,
        a.bias,
        a.gamma,
        a.beta,
        a.runningMean,
        a.runningVar,
        a.pre,
        a.mean,
        a.rstd,
        a.y,
      ),
    );
  },
};
