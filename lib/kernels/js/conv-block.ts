/**
 * JS twin of native/kernels/cpu/conv_block.cc: a GAN conv block y = act(norm(conv(x) + bias)),
 * written as the composition of the JS twins it stands for (conv2d / convTranspose2d,
 * batchnorm, activation), so its semantics are theirs by construction. Generic over
 * FloatArray: float64 gradient checks run through the same code.
 *
 * Backward (of a "train" or "none" forward): dy is overwritten with dL/dpre (activation and
 * norm backward run in place in it); dx (if not null) is overwritten; dweight, dbias (if not
 * null), dgamma, dbeta ("train" only) are overwritten or, when accumulate, added to.
 * Sizes and modes are validated by the caller (lib/kernels/ops/convblock.ts).
 */
import { activationBackward, activationForward, type ActivationKind } from "./activation.js";
import { batchNormBackward, batchNormForwardEval, batchNormForwardTrain } from "./batchnorm.js";
import { conv2dBackwardData, conv2dBackwardWeight, conv2dForward, type Conv2dSpec } from "./conv2d.js";
import {
  convTranspose2dBackwardData,
  convTranspose2dBackwardWeight,
  convTranspose2dForward,
  type ConvTranspose2dSpec,
} from "./conv-transpose2d.js";
import type { FloatArray } from "./types.js";

export type ConvBlockNormMode = "none" | "train" | "eval";

/** A validated block: the conv's resolved spec plus the norm and activation settings. */
export type ConvBlockTwinSpec = ({ transposed: false; conv: Conv2dSpec } | { transposed: true; conv: ConvTranspose2dSpec }) & {
  norm: ConvBlockNormMode;
  activation: ActivationKind;
  slope: number;
  eps: number;
  momentum: number;
};

/** Arrays of a block forward; the norm ones may be null with norm "none". */
export interface ConvBlockTwinForward<T extends FloatArray> {
  x: T;
  weight: T;
  bias: T | null;
  gamma: T | null;
  beta: T | null;
  runningMean: T | null;
  runningVar: T | null;
  pre: T;
  mean: T | null;
  rstd: T | null;
  y: T;
}

export interface ConvBlockTwinBackward<T extends FloatArray> {
  x: T;
  weight: T;
  gamma: T | null;
  pre: T;
  mean: T | null;
  rstd: T | null;
  y: T;
  dy: T;
  dx: T | null;
  dweight: T;
  dbias: T | null;
  dgamma: T | null;
  dbeta: T | null;
}

function spatial(s: ConvBlockTwinSpec): number {
  return s.conv.outH * s.conv.outW;
}

/** pre = conv(x) + bias; y = act(norm(pre)); train mode writes mean, rstd and the running stats. */
export function convBlockForward<T extends FloatArray>(s: ConvBlockTwinSpec, a: ConvBlockTwinForward<T>): void {
  if (s.transposed) convTranspose2dForward(s.conv, a.x, a.weight, a.bias, a.pre);
  else conv2dForward(s.conv, a.x, a.weight, a.bias, a.pre);
  const n = s.conv.batch;
  const c = s.conv.outC;
  const sp = spatial(s);
  if (s.norm === "train") {
    batchNormForwardTrain(a.pre, a.gamma!, a.beta!, a.y, a.mean!, a.rstd!, a.runningMean!, a.runningVar!, n, c, sp, s.eps, s.momentum);
  } else if (s.norm === "eval") {
    batchNormForwardEval(a.pre, a.gamma!, a.beta!, a.runningMean!, a.runningVar!, a.y, n, c, sp, s.eps);
  } else {
    a.y.set(a.pre);
  }
  activationForward(s.activation, a.y, a.y, s.slope);
}

/** Backward of the forward just run ("train" or "none"); see the file comment for what is written. */
export function convBlockBackward<T extends FloatArray>(s: ConvBlockTwinSpec, a: ConvBlockTwinBackward<T>, accumulate: boolean): void {
  activationBackward(s.activation, a.y, a.dy, a.dy, s.slope);
  const c = s.conv.outC;
  if (s.norm === "train" && c > 0) {
    const make = (): T => new (a.dy.constructor as new (n: number) => T)(c);
    const dg = make();
    const db = make();
    batchNormBackward(a.pre, a.dy, a.gamma!, a.mean!, a.rstd!, a.dy, dg, db, s.conv.batch, c, spatial(s));
    for (let i = 0; i < c; i++) {
      a.dgamma![i] = accumulate ? a.dgamma![i]! + dg[i]! : dg[i]!;
      a.dbeta![i] = accumulate ? a.dbeta![i]! + db[i]! : db[i]!;
    }
  }
  if (s.transposed) {
    convTranspose2dBackwardWeight(s.conv, a.x, a.dy, a.dweight, a.dbias, accumulate);
    if (a.dx !== null) convTranspose2dBackwardData(s.conv, a.dy, a.weight, a.dx);
  } else {
    conv2dBackwardWeight(s.conv, a.x, a.dy, a.dweight, a.dbias, accumulate);
    if (a.dx !== null) conv2dBackwardData(s.conv, a.dy, a.weight, a.dx);
  }
}
