// Conv2d (with PixelCNN masks) and ConvTranspose2d: native vs JS parity on odd shapes,
// float64 finite-difference checks of every backward, hand-computed cases, the mask
// guarantees (masked weights never read, no dependence on future pixels), bad input and
// zero sizes.
import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { isDeepgenError } from "../lib/core/errors.js";
import { nativeAddon } from "../lib/kernels/native.js";
import {
  conv2dBackwardData as tConvBackwardData,
  conv2dBackwardWeight as tConvBackwardWeight,
  conv2dForward as tConvForward,
  convTapMasked,
} from "../lib/kernels/js/conv2d.js";
import {
  convTranspose2dBackwardData as tConvTBackwardData,
  convTranspose2dBackwardWeight as tConvTBackwardWeight,
  convTranspose2dForward as tConvTForward,
} from "../lib/kernels/js/conv-transpose2d.js";
import {
  checkConv2dShape,
  checkConvTranspose2dShape,
  type Conv2dShape,
  conv2dOutputSize,
  type ConvMask,
  type ConvTranspose2dShape,
  convTranspose2dOutputSize,
  cudaConv,
} from "../lib/kernels/ops/conv.js";
import { dot, maxRelDiff, numericGradient, randomNormal, randomUniform, to64 } from "./helpers/numeric.js";

const native = getKernels("native");
const js = getKernels("js");
const BACKENDS = [
  ["js", js],
  ["native", native],
] as const;

function sizes(shape: Conv2dShape) {
  const s = checkConv2dShape(shape);
  return {
    x: s.batch * s.inC * s.inH * s.inW,
    w: s.outC * s.inC * s.kH * s.kW,
    y: s.batch * s.outC * s.outH * s.outW,
    b: s.outC,
  };
}

function tSizes(shape: ConvTranspose2dShape) {
  const s = checkConvTranspose2dShape(shape);
  return {
    x: s.batch * s.inC * s.inH * s.inW,
    w: s.outC * s.inC * s.kH * s.kW,
    y: s.batch * s.outC * s.outH * s.outW,
    b: s.outC,
  };
}

const describe = (s: object): string => JSON.stringify(s);

// Float32 sums of up to a few thousand products of O(1) values: native (float accumulators,
// GEMM blocking order) vs JS (double accumulators) agree to well within these bounds, max
// |a - b| / max(1, |b|) per element.
const TOL_FORWARD = 1e-4;
const TOL_WEIGHT = 3e-4;

function convParity(t: import("ava").ExecutionContext, shape: Conv2dShape, seed: number): void {
  const n = sizes(shape);
  const x = randomNormal(n.x, seed);
  const w = randomUniform(n.w, seed + 1);
  const b = randomUniform(n.b, seed + 2);
  const dy = randomNormal(n.y, seed + 3);
  const yN = new Float32Array(n.y).fill(NaN);
  const yJ = new Float32Array(n.y).fill(NaN);
  native.conv2dForward(shape, x, w, b, yN);
  js.conv2dForward(shape, x, w, b, yJ);
  const e1 = maxRelDiff(yN, yJ);
  const dxN = new Float32Array(n.x).fill(NaN);
  const dxJ = new Float32Array(n.x).fill(NaN);
  native.conv2dBackwardData(shape, dy, w, dxN);
  js.conv2dBackwardData(shape, dy, w, dxJ);
  const e2 = maxRelDiff(dxN, dxJ);
  const dwN = new Float32Array(n.w).fill(NaN);
  const dwJ = new Float32Array(n.w).fill(NaN);
  const dbN = new Float32Array(n.b).fill(NaN);
  const dbJ = new Float32Array(n.b).fill(NaN);
  native.conv2dBackwardWeight(shape, x, dy, dwN, dbN);
  js.conv2dBackwardWeight(shape, x, dy, dwJ, dbJ);
  const e3 = maxRelDiff(dwN, dwJ);
  const e4 = maxRelDiff(dbN, dbJ);
  if (!(e1 <= TOL_FORWARD && e2 <= TOL_FORWARD && e3 <= TOL_WEIGHT && e4 <= TOL_WEIGHT)) {
    t.fail(`${describe(shape)}: forward ${e1}, data ${e2}, weight ${e3}, bias ${e4}`);
  }
}

function convTParity(t: import("ava").ExecutionContext, shape: ConvTranspose2dShape, seed: number): void {
  const n = tSizes(shape);
  const x = randomNormal(n.x, seed);
  const w = randomUniform(n.w, seed + 1);
  const b = randomUniform(n.b, seed + 2);
  const dy = randomNormal(n.y, seed + 3);
  const yN = new Float32Array(n.y).fill(NaN);
  const yJ = new Float32Array(n.y).fill(NaN);
  native.convTranspose2dForward(shape, x, w, b, yN);
  js.convTranspose2dForward(shape, x, w, b, yJ);
  const e1 = maxRelDiff(yN, yJ);
  const dxN = new Float32Array(n.x).fill(NaN);
  const dxJ = new Float32Array(n.x).fill(NaN);
  native.convTranspose2dBackwardData(shape, dy, w, dxN);
  js.convTranspose2dBackwardData(shape, dy, w, dxJ);
  const e2 = maxRelDiff(dxN, dxJ);
  const dwN = new Float32Array(n.w).fill(NaN);
  const dwJ = new Float32Array(n.w).fill(NaN);
  const dbN = new Float32Array(n.b).fill(NaN);
  const dbJ = new Float32Array(n.b).fill(NaN);
  native.convTranspose2dBackwardWeight(shape, x, dy, dwN, dbN);
  js.convTranspose2dBackwardWeight(shape, x, dy, dwJ, dbJ);
  const e3 = maxRelDiff(dwN, dwJ);
  const e4 = maxRelDiff(dbN, dbJ);
  if (!(e1 <= TOL_FORWARD && e2 <= TOL_FORWARD && e3 <= TOL_WEIGHT && e4 <= TOL_WEIGHT)) {
    t.fail(`${describe(shape)}: forward ${e1}, data ${e2}, weight ${e3}, bias ${e4}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Parity

test("conv2d: native matches the JS twin over odd channels, sizes, kernels, strides, pads, batches", (t) => {
  const kernels = [
    [1, 1],
    [1, 3],
    [3, 3],
    [4, 4],
    [7, 7],
  ] as const;
  const planes = [
    [1, 1],
    [5, 5],
    [7, 7],
    [28, 28],
    [5, 7],
    [28, 5],
  ] as const;
  // 16 and 64 output channels take the native direct-tile path when Cin * taps >= 128.
  const outs = [1, 16, 3, 17, 64];
  let seed = 1;
  let cases = 0;
  for (const batch of [1, 3]) {
    for (const inChannels of [1, 3, 17]) {
      for (const [height, width] of planes) {
        for (const [kernelH, kernelW] of kernels) {
          for (const stride of [1, 2]) {
            for (const pad of [0, 1, 3]) {
              if (height + 2 * pad < kernelH || width + 2 * pad < kernelW) continue;
              const outChannels = outs[seed % 5]!;
              // Keep the JS twin's time down: skip the biggest combinations.
              if (batch * inChannels * outChannels * kernelH * kernelW * height * width > 1.5e7) continue;
              seed += 7;
              convParity(
                t,
                { batch, inChannels, height, width, outChannels, kernelH, kernelW, strideH: stride, strideW: stride, padH: pad, padW: pad },
                seed,
              );
              cases++;
            }
          }
        }
      }
    }
  }
  // Mixed per-axis strides and pads.
  convParity(
    t,
    { batch: 2, inChannels: 3, height: 9, width: 8, outChannels: 5, kernelH: 3, kernelW: 2, strideH: 1, strideW: 3, padH: 0, padW: 2 },
    9001,
  );
  convParity(
    t,
    { batch: 3, inChannels: 17, height: 7, width: 28, outChannels: 3, kernelH: 1, kernelW: 3, strideH: 2, strideW: 1, padH: 3, padW: 1 },
    9002,
  );
  t.true(cases > 300, `${cases} cases`);
});

test("conv2d with masks A and B: native matches the JS twin", (t) => {
  let seed = 500;
  for (const mask of ["A", "B"] as const) {
    const shapes: Conv2dShape[] = [
      { batch: 3, inChannels: 1, height: 28, width: 28, outChannels: 17, kernelH: 7, kernelW: 7, padH: 3, padW: 3, mask },
      { batch: 1, inChannels: 17, height: 7, width: 5, outChannels: 3, kernelH: 3, kernelW: 3, padH: 1, padW: 1, mask },
      { batch: 3, inChannels: 3, height: 5, width: 7, outChannels: 17, kernelH: 1, kernelW: 3, padH: 0, padW: 1, mask },
      { batch: 1, inChannels: 3, height: 1, width: 1, outChannels: 3, kernelH: 1, kernelW: 1, mask },
      {
        batch: 3,
        inChannels: 3,
        height: 7,
        width: 7,
        outChannels: 3,
        kernelH: 4,
        kernelW: 4,
        strideH: 2,
        strideW: 2,
        padH: 1,
        padW: 1,
        mask,
      },
      // Wide enough for the native direct-tile path.
      { batch: 2, inChannels: 32, height: 6, width: 7, outChannels: 16, kernelH: 3, kernelW: 3, padH: 1, padW: 1, mask },
      { batch: 1, inChannels: 8, height: 9, width: 9, outChannels: 64, kernelH: 7, kernelW: 7, padH: 3, padW: 3, mask },
    ];
    for (const s of shapes) {
      seed += 5;
      convParity(t, s, seed);
    }
  }
  t.pass();
});

test("convTranspose2d: native matches the JS twin over odd channels, sizes, kernels, strides, pads, batches", (t) => {
  let seed = 1000;
  let cases = 0;
  const outs = [1, 3, 17];
  for (const batch of [1, 3]) {
    for (const inChannels of [1, 3, 17]) {
      for (const [height, width] of [
        [1, 1],
        [5, 5],
        [7, 7],
        [5, 7],
        [14, 14],
      ] as const) {
        for (const k of [1, 3, 4, 7]) {
          for (const stride of [1, 2]) {
            for (const pad of [0, 1, 3]) {
              for (const outputPad of stride === 2 ? [0, 1] : [0]) {
                if ((Math.min(height, width) - 1) * stride - 2 * pad + k + outputPad < 1) continue;
                const outChannels = outs[seed % 3]!;
                if (height === 14 && (batch === 3 || inChannels * outChannels > 51)) continue;
                const shape = {
                  batch,
                  inChannels,
                  height,
                  width,
                  outChannels,
                  kernelH: k,
                  kernelW: k,
                  strideH: stride,
                  strideW: stride,
                  padH: pad,
                  padW: pad,
                  outputPadH: outputPad,
                  outputPadW: outputPad,
                };
                seed += 7;
                convTParity(t, shape, seed);
                cases++;
              }
            }
          }
        }
      }
    }
  }
  // DCGAN's generator layers, at a small batch, and a mixed-axis case.
  convTParity(
    t,
    { batch: 2, inChannels: 16, height: 7, width: 7, outChannels: 8, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 },
    77,
  );
  convTParity(
    t,
    { batch: 2, inChannels: 8, height: 14, width: 14, outChannels: 1, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 },
    78,
  );
  convTParity(
    t,
    {
      batch: 3,
      inChannels: 3,
      height: 5,
      width: 4,
      outChannels: 2,
      kernelH: 3,
      kernelW: 2,
      strideH: 1,
      strideW: 3,
      padH: 1,
      padW: 0,
      outputPadW: 2,
    },
    79,
  );
  // The native direct-tile path (Cout a multiple of 16 or >= 48, Cin * taps >= 128), whose weight
  // packing transposes 16-channel 4x4 slabs whole: full slabs, a partial last one (50 = 3 x 16
  // + 2), and 3x3 taps (packed value by value).
  convTParity(
    t,
    { batch: 2, inChannels: 32, height: 7, width: 7, outChannels: 32, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 },
    80,
  );
  convTParity(
    t,
    { batch: 1, inChannels: 32, height: 5, width: 6, outChannels: 50, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 },
    81,
  );
  convTParity(
    t,
    { batch: 2, inChannels: 16, height: 6, width: 5, outChannels: 16, kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1 },
    82,
  );
  t.true(cases > 200, `${cases} cases`);
});

test("native results do not depend on the thread count", (t) => {
  const addon = nativeAddon();
  const before = addon.threadLimit();
  // 32 output channels: the direct-tile path; 9 would take the GEMM path (checked below too).
  const shape: Conv2dShape = {
    batch: 33,
    inChannels: 17,
    height: 14,
    width: 14,
    outChannels: 32,
    kernelH: 4,
    kernelW: 4,
    strideH: 2,
    strideW: 2,
    padH: 1,
    padW: 1,
  };
  const tShape: ConvTranspose2dShape = {
    batch: 33,
    inChannels: 32,
    height: 7,
    width: 7,
    outChannels: 17,
    kernelH: 4,
    kernelW: 4,
    strideH: 2,
    strideW: 2,
    padH: 1,
    padW: 1,
  };
  const narrow: Conv2dShape = { ...shape, outChannels: 9 };
  const nn = sizes(narrow);
  const wNarrow = randomNormal(nn.w, 4);
  const n = sizes(shape);
  const x = randomNormal(n.x, 1);
  const w = randomNormal(n.w, 2);
  const dy = randomNormal(n.y, 3);
  const run = (threads: number): Float32Array[] => {
    addon.setThreadLimit(threads);
    const y = new Float32Array(n.y);
    const dx = new Float32Array(n.x);
    const dw = new Float32Array(n.w);
    const db = new Float32Array(n.b);
    native.conv2dForward(shape, x, w, null, y);
    native.conv2dBackwardData(shape, dy, w, dx);
    native.conv2dBackwardWeight(shape, x, dy, dw, db);
    // The transposed conv maps y's shape back to x's: reuse the arrays.
    const yt = new Float32Array(n.x);
    const dxt = new Float32Array(n.y);
    const dwt = new Float32Array(n.w);
    native.convTranspose2dForward(tShape, dy, w, null, yt);
    native.convTranspose2dBackwardData(tShape, x, w, dxt);
    native.convTranspose2dBackwardWeight(tShape, dy, x, dwt, null);
    const yNarrow = new Float32Array(nn.y);
    native.conv2dForward(narrow, x, wNarrow, null, yNarrow);
    return [y, dx, dw, db, yt, dxt, dwt, yNarrow];
  };
  try {
    const one = run(1);
    for (const threads of [2, 5]) t.deepEqual(run(threads), one, `${threads} threads`);
  } finally {
    addon.setThreadLimit(before);
  }
});

// ---------------------------------------------------------------------------------------------
// Finite differences (float64, JS twin): loss = <y, g> with a random upstream gradient g.

function convGradCheck(t: import("ava").ExecutionContext, shape: Conv2dShape, seed: number): void {
  const s = checkConv2dShape(shape);
  const n = sizes(shape);
  const x = to64(randomNormal(n.x, seed));
  const w = to64(randomNormal(n.w, seed + 1, 0.5));
  const b = to64(randomNormal(n.b, seed + 2));
  const g = to64(randomNormal(n.y, seed + 3));
  const y = new Float64Array(n.y);
  const loss = (): number => {
    tConvForward(s, x, w, b, y);
    return dot(y, g);
  };
  const dx = new Float64Array(n.x);
  const dw = new Float64Array(n.w);
  const db = new Float64Array(n.b);
  tConvBackwardData(s, g, w, dx);
  tConvBackwardWeight(s, x, g, dw, db, false);
  const label = describe(shape);
  t.true(maxRelDiff(numericGradient(loss, x), dx) < 1e-7, `${label} dx`);
  t.true(maxRelDiff(numericGradient(loss, w), dw) < 1e-7, `${label} dweight`);
  t.true(maxRelDiff(numericGradient(loss, b), db) < 1e-7, `${label} dbias`);
  if (s.mask !== 0) {
    // Masked weights do not influence the loss at all: their numeric gradient is exactly 0,
    // and so is the analytic one.
    const numeric = numericGradient(loss, w);
    for (let i = 0; i < n.w; i++) {
      const t2 = i % (s.kH * s.kW);
      if (convTapMasked(Math.floor(t2 / s.kW), t2 % s.kW, s.kH, s.kW, s.mask)) {
        if (numeric[i] !== 0 || dw[i] !== 0) t.fail(`${label}: masked weight ${i} has gradient ${numeric[i]} / ${dw[i]}`);
      }
    }
  }
}

function convTGradCheck(t: import("ava").ExecutionContext, shape: ConvTranspose2dShape, seed: number): void {
  const s = checkConvTranspose2dShape(shape);
  const n = tSizes(shape);
  const x = to64(randomNormal(n.x, seed));
  const w = to64(randomNormal(n.w, seed + 1, 0.5));
  const b = to64(randomNormal(n.b, seed + 2));
  const g = to64(randomNormal(n.y, seed + 3));
  const y = new Float64Array(n.y);
  const loss = (): number => {
    tConvTForward(s, x, w, b, y);
    return dot(y, g);
  };
  const dx = new Float64Array(n.x);
  const dw = new Float64Array(n.w);
  const db = new Float64Array(n.b);
  tConvTBackwardData(s, g, w, dx);
  tConvTBackwardWeight(s, x, g, dw, db, false);
  const label = describe(shape);
  t.true(maxRelDiff(numericGradient(loss, x), dx) < 1e-7, `${label} dx`);
  t.true(maxRelDiff(numericGradient(loss, w), dw) < 1e-7, `${label} dweight`);
  t.true(maxRelDiff(numericGradient(loss, b), db) < 1e-7, `${label} dbias`);
}

test("conv2d gradients match finite differences (float64)", (t) => {
  convGradCheck(
    t,
    { batch: 2, inChannels: 3, height: 5, width: 6, outChannels: 2, kernelH: 3, kernelW: 3, strideH: 2, strideW: 1, padH: 1, padW: 1 },
    1,
  );
  convGradCheck(
    t,
    { batch: 1, inChannels: 2, height: 7, width: 7, outChannels: 3, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 },
    2,
  );
  convGradCheck(t, { batch: 3, inChannels: 1, height: 1, width: 5, outChannels: 1, kernelH: 1, kernelW: 3, padW: 3 }, 3);
});

test("masked conv2d gradients match finite differences, and masked weights get none", (t) => {
  convGradCheck(
    t,
    { batch: 2, inChannels: 2, height: 6, width: 5, outChannels: 3, kernelH: 7, kernelW: 7, padH: 3, padW: 3, mask: "A" },
    11,
  );
  convGradCheck(
    t,
    { batch: 1, inChannels: 3, height: 5, width: 5, outChannels: 2, kernelH: 3, kernelW: 3, padH: 1, padW: 1, mask: "B" },
    12,
  );
  convGradCheck(t, { batch: 2, inChannels: 2, height: 3, width: 6, outChannels: 4, kernelH: 1, kernelW: 3, padW: 1, mask: "B" }, 13);
  convGradCheck(
    t,
    {
      batch: 1,
      inChannels: 2,
      height: 4,
      width: 4,
      outChannels: 2,
      kernelH: 4,
      kernelW: 4,
      strideH: 2,
      strideW: 2,
      padH: 1,
      padW: 1,
      mask: "A",
    },
    14,
  );
});

test("convTranspose2d gradients match finite differences (float64)", (t) => {
  convTGradCheck(
    t,
    { batch: 2, inChannels: 3, height: 3, width: 4, outChannels: 2, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 },
    21,
  );
  convTGradCheck(
    t,
    {
      batch: 1,
      inChannels: 2,
      height: 4,
      width: 3,
      outChannels: 3,
      kernelH: 3,
      kernelW: 2,
      strideH: 2,
      strideW: 3,
      padH: 1,
      padW: 0,
      outputPadH: 1,
      outputPadW: 2,
    },
    22,
  );
  convTGradCheck(t, { batch: 3, inChannels: 1, height: 2, width: 2, outChannels: 1, kernelH: 1, kernelW: 1 }, 23);
});

test("convTranspose2d forward is conv2d's backward-data (the adjoint), on both backends", (t) => {
  // conv2d: x [2, 5, 9, 8] -> y [2, 3, Ho, Wo] with weight [3, 5, 4, 3]. The transposed conv with
  // the same weight read as [Cin = 3, Cout = 5, 4, 3] maps y's shape back onto x's.
  const conv: Conv2dShape = {
    batch: 2,
    inChannels: 5,
    height: 9,
    width: 8,
    outChannels: 3,
    kernelH: 4,
    kernelW: 3,
    strideH: 2,
    strideW: 3,
    padH: 1,
    padW: 1,
  };
  const o = conv2dOutputSize(conv);
  const tShape: ConvTranspose2dShape = {
    batch: 2,
    inChannels: 3,
    height: o.height,
    width: o.width,
    outChannels: 5,
    kernelH: 4,
    kernelW: 3,
    strideH: 2,
    strideW: 3,
    padH: 1,
    padW: 1,
    outputPadH: 9 - ((o.height - 1) * 2 - 2 + 4),
    outputPadW: 8 - ((o.width - 1) * 3 - 2 + 3),
  };
  t.deepEqual(convTranspose2dOutputSize(tShape), { height: 9, width: 8 });
  const n = sizes(conv);
  const w = randomNormal(n.w, 5);
  const dy = randomNormal(n.y, 6);
  for (const [name, k] of BACKENDS) {
    const dx = new Float32Array(n.x);
    const yt = new Float32Array(n.x);
    k.conv2dBackwardData(conv, dy, w, dx);
    k.convTranspose2dForward(tShape, dy, w, null, yt);
    t.true(maxRelDiff(yt, dx) < 1e-5, name);
  }
});

test("backward-weight accumulates when asked, and overwrites otherwise", (t) => {
  const shape: Conv2dShape = {
    batch: 2,
    inChannels: 3,
    height: 6,
    width: 6,
    outChannels: 4,
    kernelH: 3,
    kernelW: 3,
    padH: 1,
    padW: 1,
    mask: "B",
  };
  const tShape: ConvTranspose2dShape = {
    batch: 2,
    inChannels: 3,
    height: 6,
    width: 6,
    outChannels: 4,
    kernelH: 3,
    kernelW: 3,
    padH: 1,
    padW: 1,
  };
  const n = sizes(shape);
  const x = randomNormal(n.x, 1);
  const dy = randomNormal(n.y, 2);
  for (const [name, k] of BACKENDS) {
    const once = new Float32Array(n.w);
    const dbOnce = new Float32Array(n.b);
    k.conv2dBackwardWeight(shape, x, dy, once, dbOnce);
    const start = randomNormal(n.w, 3);
    const dbStart = randomNormal(n.b, 4);
    const acc = start.slice();
    const dbAcc = dbStart.slice();
    k.conv2dBackwardWeight(shape, x, dy, acc, dbAcc, true);
    const expected = start.map((v, i) => {
      const tap = i % 9;
      return convTapMasked(Math.floor(tap / 3), tap % 3, 3, 3, 2) ? v : v + once[i]!;
    });
    t.true(maxRelDiff(acc, expected) < 1e-5, `${name} conv accumulate`);
    t.true(
      maxRelDiff(
        dbAcc,
        dbStart.map((v, i) => v + dbOnce[i]!),
      ) < 1e-5,
      `${name} conv dbias accumulate`,
    );
    const over = randomNormal(n.w, 9);
    k.conv2dBackwardWeight(shape, x, dy, over, null, false);
    t.deepEqual(over, once, `${name} conv overwrite`);

    const tx = randomNormal(tSizes(tShape).x, 5);
    const tdy = randomNormal(tSizes(tShape).y, 6);
    const tOnce = new Float32Array(n.w);
    k.convTranspose2dBackwardWeight(tShape, tx, tdy, tOnce, null);
    const tAcc = start.slice();
    k.convTranspose2dBackwardWeight(tShape, tx, tdy, tAcc, null, true);
    t.true(
      maxRelDiff(
        tAcc,
        start.map((v, i) => v + tOnce[i]!),
      ) < 1e-5,
      `${name} convT accumulate`,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Exact tiny cases

test("hand-computed conv2d outputs", (t) => {
  for (const [name, k] of BACKENDS) {
    // x = 1..9 in a 3x3 plane, kernel [[1, 0], [0, -1]]: y = x[i, j] - x[i+1, j+1] = -4, + 0.5.
    const x = Float32Array.from({ length: 9 }, (_, i) => i + 1);
    const y = new Float32Array(4);
    k.conv2dForward(
      { batch: 1, inChannels: 1, height: 3, width: 3, outChannels: 1, kernelH: 2, kernelW: 2 },
      x,
      Float32Array.of(1, 0, 0, -1),
      Float32Array.of(0.5),
      y,
    );
    t.deepEqual([...y], [-3.5, -3.5, -3.5, -3.5], name);
    // Stride 2, pad 1, 3x3 ones kernel on a 4x4 plane of ones: windows at (-1,-1), (-1,1),
    // (1,-1), (1,1) see 4, 6, 6, 9 pixels.
    const ones = new Float32Array(16).fill(1);
    const y2 = new Float32Array(4);
    k.conv2dForward(
      { batch: 1, inChannels: 1, height: 4, width: 4, outChannels: 1, kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 },
      ones,
      new Float32Array(9).fill(1),
      null,
      y2,
    );
    t.deepEqual([...y2], [4, 6, 6, 9], name);
    // Two input channels, two output channels.
    const x3 = Float32Array.of(1, 2, 3, 4); // [1, 2, 1, 2]: channel 0 = [1, 2], channel 1 = [3, 4]
    const w3 = Float32Array.of(1, 10, 100, 1000, /* co 1 */ 2, 0, 0, 1); // [2, 2, 1, 2]
    const y3 = new Float32Array(2);
    k.conv2dForward({ batch: 1, inChannels: 2, height: 1, width: 2, outChannels: 2, kernelH: 1, kernelW: 2 }, x3, w3, null, y3);
    t.deepEqual([...y3], [1 + 20 + 300 + 4000, 2 + 4], name);
    // Backward-data of the first case: dy = 1 everywhere -> dx = sum of the kernel taps hitting each pixel.
    const dx = new Float32Array(9);
    k.conv2dBackwardData(
      { batch: 1, inChannels: 1, height: 3, width: 3, outChannels: 1, kernelH: 2, kernelW: 2 },
      new Float32Array(4).fill(1),
      Float32Array.of(1, 0, 0, -1),
      dx,
    );
    t.deepEqual([...dx], [1, 1, 0, 1, 0, -1, 0, -1, -1], name);
    // Backward-weight: dweight[ky, kx] = sum of the x pixels each tap saw, dbias = 4.
    const dw = new Float32Array(4);
    const db = new Float32Array(1);
    k.conv2dBackwardWeight(
      { batch: 1, inChannels: 1, height: 3, width: 3, outChannels: 1, kernelH: 2, kernelW: 2 },
      x,
      new Float32Array(4).fill(1),
      dw,
      db,
    );
    t.deepEqual([...dw], [1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9], name);
    t.deepEqual([...db], [4], name);
  }
});

test("hand-computed masked conv2d outputs (3x3 and the Row LSTM's 1x3)", (t) => {
  const ones9 = new Float32Array(9).fill(1);
  for (const [name, k] of BACKENDS) {
    // 3x3 ones kernel, "same" padding, input of ones: each output counts the unmasked taps
    // that land inside. Mask B keeps (0,0) (0,1) (0,2) (1,0) (1,1); A drops (1,1).
    const shape = { batch: 1, inChannels: 1, height: 3, width: 3, outChannels: 1, kernelH: 3, kernelW: 3, padH: 1, padW: 1 };
    const yB = new Float32Array(9);
    const yA = new Float32Array(9);
    k.conv2dForward({ ...shape, mask: "B" }, ones9, ones9, null, yB);
    k.conv2dForward({ ...shape, mask: "A" }, ones9, ones9, null, yA);
    t.deepEqual([...yB], [1, 2, 2, 3, 5, 4, 3, 5, 4], `${name} B`);
    t.deepEqual([...yA], [0, 1, 1, 2, 4, 3, 2, 4, 3], `${name} A`);
    // 1x3, pad 1 along the row, weights [1, 10, 100]: B reads (x[c-1], x[c]) -> x[c-1] + 10 x[c];
    // A reads x[c-1] only. The tap right of the centre (100) is never used.
    const row = Float32Array.of(1, 2, 3, 4);
    const w = Float32Array.of(1, 10, 100);
    const r = { batch: 1, inChannels: 1, height: 1, width: 4, outChannels: 1, kernelH: 1, kernelW: 3, padW: 1 };
    const y1 = new Float32Array(4);
    k.conv2dForward({ ...r, mask: "B" }, row, w, null, y1);
    t.deepEqual([...y1], [10, 21, 32, 43], `${name} 1x3 B`);
    k.conv2dForward({ ...r, mask: "A" }, row, w, null, y1);
    t.deepEqual([...y1], [0, 1, 2, 3], `${name} 1x3 A`);
  }
});

test("hand-computed convTranspose2d outputs", (t) => {
  for (const [name, k] of BACKENDS) {
    // x = [1, 2] (1x2), kernel [1, 10], stride 2: y = [1, 10, 2, 20]; output padding adds a 0 column.
    const y = new Float32Array(4);
    const base = { batch: 1, inChannels: 1, height: 1, width: 2, outChannels: 1, kernelH: 1, kernelW: 2, strideW: 2 };
    k.convTranspose2dForward(base, Float32Array.of(1, 2), Float32Array.of(1, 10), null, y);
    t.deepEqual([...y], [1, 10, 2, 20], name);
    const y6 = new Float32Array(6);
    k.convTranspose2dForward(
      { ...base, strideW: 3, outputPadW: 1 },
      Float32Array.of(1, 2),
      Float32Array.of(1, 10),
      Float32Array.of(0.5),
      y6,
    );
    t.deepEqual([...y6], [1.5, 10.5, 0.5, 2.5, 20.5, 0.5], name);
    // Overlap: stride 1, x = [1, 2, 3], kernel [1, 1] -> y = [1, 3, 5, 3].
    const y4 = new Float32Array(4);
    k.convTranspose2dForward({ ...base, width: 3, strideW: 1 }, Float32Array.of(1, 2, 3), Float32Array.of(1, 1), null, y4);
    t.deepEqual([...y4], [1, 3, 5, 3], name);
    // DCGAN's 4x4 / stride 2 / pad 1 on a single pixel of value 2: the full 4x4 stamp, minus
    // one row and column on each side -> 2 * kernel[1:3, 1:3].
    const kern = Float32Array.from({ length: 16 }, (_, i) => i);
    const y2 = new Float32Array(4);
    k.convTranspose2dForward(
      { batch: 1, inChannels: 1, height: 1, width: 1, outChannels: 1, kernelH: 4, kernelW: 4, strideH: 2, strideW: 2, padH: 1, padW: 1 },
      Float32Array.of(2),
      kern,
      null,
      y2,
    );
    t.deepEqual([...y2], [10, 12, 18, 20], name);
    // Two input channels into two output channels: weight [Cin, Cout, 1, 1].
    const y3 = new Float32Array(2);
    k.convTranspose2dForward(
      { batch: 1, inChannels: 2, height: 1, width: 1, outChannels: 2, kernelH: 1, kernelW: 1 },
      Float32Array.of(1, 10),
      Float32Array.of(1, 2, 3, 4),
      null,
      y3,
    );
    t.deepEqual([...y3], [1 + 30, 2 + 40], name);
    // Backward-weight and bias of the stride-2 case: dweight[kx] = sum_ix x[ix] dy[2 ix + kx].
    const dw = new Float32Array(2);
    const db = new Float32Array(1);
    k.convTranspose2dBackwardWeight(base, Float32Array.of(1, 2), Float32Array.of(1, 2, 3, 4), dw, db);
    t.deepEqual([...dw], [1 * 1 + 2 * 3, 1 * 2 + 2 * 4], name);
    t.deepEqual([...db], [10], name);
    const dx = new Float32Array(2);
    k.convTranspose2dBackwardData(base, Float32Array.of(1, 2, 3, 4), Float32Array.of(1, 10), dx);
    t.deepEqual([...dx], [1 + 20, 3 + 40], name);
  }
  const dcgan = convTranspose2dOutputSize({
    batch: 64,
    inChannels: 128,
    height: 7,
    width: 7,
    outChannels: 64,
    kernelH: 4,
    kernelW: 4,
    strideH: 2,
    strideW: 2,
    padH: 1,
    padW: 1,
  });
  t.deepEqual(dcgan, { height: 14, width: 14 });
  t.deepEqual(
    conv2dOutputSize({
      batch: 64,
      inChannels: 1,
      height: 28,
      width: 28,
      outChannels: 64,
      kernelH: 4,
      kernelW: 4,
      strideH: 2,
      strideW: 2,
      padH: 1,
      padW: 1,
    }),
    { height: 14, width: 14 },
  );
});

// ---------------------------------------------------------------------------------------------
// Masks

const MASK_SHAPES: Conv2dShape[] = [
  { batch: 2, inChannels: 1, height: 9, width: 9, outChannels: 4, kernelH: 7, kernelW: 7, padH: 3, padW: 3, mask: "A" }, // PixelCNN input layer
  { batch: 2, inChannels: 3, height: 6, width: 7, outChannels: 5, kernelH: 3, kernelW: 3, padH: 1, padW: 1, mask: "B" },
  { batch: 2, inChannels: 3, height: 4, width: 8, outChannels: 4, kernelH: 1, kernelW: 3, padW: 1, mask: "B" }, // Row LSTM input-to-state
  { batch: 1, inChannels: 2, height: 5, width: 5, outChannels: 3, kernelH: 3, kernelW: 3, padH: 1, padW: 1, mask: "A" },
  { batch: 1, inChannels: 2, height: 6, width: 6, outChannels: 3, kernelH: 4, kernelW: 4, padH: 2, padW: 2, mask: "B" },
  // Wide enough for the native direct-tile path.
  { batch: 2, inChannels: 40, height: 6, width: 5, outChannels: 16, kernelH: 3, kernelW: 3, padH: 1, padW: 1, mask: "B" },
  { batch: 1, inChannels: 8, height: 7, width: 7, outChannels: 48, kernelH: 7, kernelW: 7, padH: 3, padW: 3, mask: "A" },
];

function maskedPositions(shape: Conv2dShape): boolean[] {
  const s = checkConv2dShape(shape);
  const out: boolean[] = [];
  for (let q = 0; q < s.outC * s.inC; q++) {
    for (let ky = 0; ky < s.kH; ky++) for (let kx = 0; kx < s.kW; kx++) out.push(convTapMasked(ky, kx, s.kH, s.kW, s.mask));
  }
  return out;
}

test("masked weights are never read: NaN there changes nothing, and the helper zeroes exactly them", (t) => {
  for (const shape of MASK_SHAPES) {
    const n = sizes(shape);
    const masked = maskedPositions(shape);
    t.true(masked.some((m) => m) && masked.some((m) => !m));
    const x = randomNormal(n.x, 1);
    const dy = randomNormal(n.y, 2);
    const b = randomNormal(n.b, 3);
    const wNaN = randomNormal(n.w, 4);
    masked.forEach((m, i) => {
      if (m) wNaN[i] = NaN;
    });
    for (const [name, k] of BACKENDS) {
      const label = `${name} ${describe(shape)}`;
      const wZero = wNaN.slice();
      k.conv2dMaskWeights(shape, wZero);
      t.true(
        wZero.every((v, i) => (masked[i] ? v === 0 : v === wNaN[i])),
        `${label}: conv2dMaskWeights`,
      );
      const y1 = new Float32Array(n.y);
      const y2 = new Float32Array(n.y);
      k.conv2dForward(shape, x, wNaN, b, y1);
      k.conv2dForward(shape, x, wZero, b, y2);
      t.true(y1.every(Number.isFinite), `${label}: forward finite`);
      t.deepEqual(y1, y2, `${label}: forward`);
      const dx1 = new Float32Array(n.x);
      const dx2 = new Float32Array(n.x);
      k.conv2dBackwardData(shape, dy, wNaN, dx1);
      k.conv2dBackwardData(shape, dy, wZero, dx2);
      t.true(dx1.every(Number.isFinite), `${label}: backward-data finite`);
      t.deepEqual(dx1, dx2, `${label}: backward-data`);
      const dw = new Float32Array(n.w).fill(7);
      k.conv2dBackwardWeight(shape, x, dy, dw, null);
      t.true(
        dw.every((v, i) => (masked[i] ? v === 0 : Number.isFinite(v))),
        `${label}: dweight zero at masked`,
      );
      const dwAcc = new Float32Array(n.w).fill(7);
      k.conv2dBackwardWeight(shape, x, dy, dwAcc, null, true);
      t.true(
        dwAcc.every((v, i) => (masked[i] ? v === 7 : true)),
        `${label}: accumulate leaves masked as they are`,
      );
    }
  }
});

test("masked conv outputs at (r, c) do not depend on pixels after (r, c) in raster order", (t) => {
  for (const shape of MASK_SHAPES) {
    const s = checkConv2dShape(shape);
    // Padding equal to the centre offset: output (r, c) is centred on input pixel (r, c).
    t.is(s.padH, Math.floor(s.kH / 2));
    t.is(s.padW, Math.floor(s.kW / 2));
    const n = sizes(shape);
    const x = randomNormal(n.x, 10);
    const w = randomNormal(n.w, 11);
    const b = randomNormal(n.b, 12);
    const positions = [
      [0, 0],
      [Math.floor(s.inH / 2), Math.floor(s.inW / 2)],
      [s.inH - 1, 0],
      [1, s.inW - 1],
      [s.inH - 1, s.inW - 1],
    ];
    for (const [name, k] of BACKENDS) {
      const y = new Float32Array(n.y);
      k.conv2dForward(shape, x, w, b, y);
      const outAt = (yy: Float32Array, r: number, c: number): number[] => {
        const v: number[] = [];
        for (let bi = 0; bi < s.batch; bi++)
          for (let co = 0; co < s.outC; co++) v.push(yy[((bi * s.outC + co) * s.outH + r) * s.outW + c]!);
        return v;
      };
      // Replace every pixel of every channel from raster index `from` on.
      const perturbed = (from: number, seed: number): Float32Array => {
        const xp = x.slice();
        const noise = randomNormal(n.x, seed, 5);
        for (let bi = 0; bi < s.batch; bi++) {
          for (let ci = 0; ci < s.inC; ci++) {
            const base = (bi * s.inC + ci) * s.inH * s.inW;
            for (let p = from; p < s.inH * s.inW; p++) xp[base + p] = noise[base + p]!;
          }
        }
        return xp;
      };
      for (const [r, c] of positions as Array<[number, number]>) {
        const label = `${name} ${describe(shape)} at (${r}, ${c})`;
        const here = r * s.inW + c;
        const y2 = new Float32Array(n.y);
        // Every pixel after (r, c): no change at (r, c).
        k.conv2dForward(shape, perturbed(here + 1, here + 100), w, b, y2);
        t.deepEqual(outAt(y2, r, c), outAt(y, r, c), `${label}: future pixels`);
        // The pixel (r, c) itself: mask A ignores it, mask B does not.
        k.conv2dForward(shape, perturbed(here, here + 200), w, b, y2);
        if (shape.mask === "A") t.deepEqual(outAt(y2, r, c), outAt(y, r, c), `${label}: own pixel under A`);
        else t.notDeepEqual(outAt(y2, r, c), outAt(y, r, c), `${label}: own pixel under B`);
        // Control: changing everything (past included) does change (r, c) when it has a past.
        if (here > 0) {
          k.conv2dForward(shape, perturbed(0, here + 300), w, b, y2);
          t.notDeepEqual(outAt(y2, r, c), outAt(y, r, c), `${label}: past pixels matter`);
        }
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Bad input and zero sizes

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (e) {
    return isDeepgenError(e) ? e.code : `not a DeepgenError: ${String(e)}`;
  }
  return undefined;
};

test("bad shapes and parameters are refused with E_SHAPE / E_ARG on every backend", (t) => {
  const shape: Conv2dShape = { batch: 2, inChannels: 3, height: 5, width: 5, outChannels: 4, kernelH: 3, kernelW: 3, padH: 1, padW: 1 };
  const n = sizes(shape);
  const x = new Float32Array(n.x);
  const w = new Float32Array(n.w);
  const b = new Float32Array(n.b);
  const y = new Float32Array(n.y);
  const tShape: ConvTranspose2dShape = {
    batch: 2,
    inChannels: 3,
    height: 5,
    width: 5,
    outChannels: 4,
    kernelH: 4,
    kernelW: 4,
    strideH: 2,
    strideW: 2,
    padH: 1,
    padW: 1,
  };
  const tn = tSizes(tShape);
  const tx = new Float32Array(tn.x);
  const tw = new Float32Array(tn.w);
  const ty = new Float32Array(tn.y);
  for (const [name, k] of BACKENDS) {
    const cases: Array<[string, () => void, string]> = [
      ["x too short", () => k.conv2dForward(shape, x.subarray(1), w, b, y), "E_SHAPE"],
      ["weight too long", () => k.conv2dForward(shape, x, new Float32Array(n.w + 1), b, y), "E_SHAPE"],
      ["bias wrong", () => k.conv2dForward(shape, x, w, new Float32Array(3), y), "E_SHAPE"],
      ["y wrong", () => k.conv2dForward(shape, x, w, b, new Float32Array(n.y - 1)), "E_SHAPE"],
      ["kernel > padded input", () => k.conv2dForward({ ...shape, kernelH: 8 }, x, new Float32Array(4 * 3 * 8 * 3), b, y), "E_SHAPE"],
      ["height 0", () => k.conv2dForward({ ...shape, height: 0 }, new Float32Array(0), w, b, new Float32Array(0)), "E_SHAPE"],
      ["dx wrong", () => k.conv2dBackwardData(shape, y, w, new Float32Array(n.x + 2)), "E_SHAPE"],
      ["dweight wrong", () => k.conv2dBackwardWeight(shape, x, y, new Float32Array(1), null), "E_SHAPE"],
      ["mask weights wrong", () => k.conv2dMaskWeights({ ...shape, mask: "A" }, new Float32Array(5)), "E_SHAPE"],
      ["stride 0", () => k.conv2dForward({ ...shape, strideH: 0 }, x, w, b, y), "E_ARG"],
      ["pad -1", () => k.conv2dForward({ ...shape, padW: -1 }, x, w, b, y), "E_ARG"],
      ["kernel 0", () => k.conv2dForward({ ...shape, kernelW: 0 }, x, new Float32Array(0), b, y), "E_ARG"],
      ["fractional channels", () => k.conv2dForward({ ...shape, inChannels: 2.5 }, x, w, b, y), "E_ARG"],
      ["NaN batch", () => k.conv2dForward({ ...shape, batch: NaN }, x, w, b, y), "E_ARG"],
      ["mask C", () => k.conv2dForward({ ...shape, mask: "C" as ConvMask }, x, w, b, y), "E_ARG"],
      ["Float64Array x", () => k.conv2dForward(shape, new Float64Array(n.x) as unknown as Float32Array, w, b, y), "E_ARG"],
      ["plain array bias", () => k.conv2dForward(shape, x, w, [1, 2, 3, 4] as unknown as Float32Array, y), "E_ARG"],
      ["no shape", () => k.conv2dForward(null as unknown as Conv2dShape, x, w, b, y), "E_ARG"],
      ["accumulate 'yes'", () => k.conv2dBackwardWeight(shape, x, y, w, b, "yes" as unknown as boolean), "E_ARG"],
      [
        "y overlaps x",
        () => {
          const buf = new Float32Array(n.x + n.y);
          k.conv2dForward(shape, buf.subarray(0, n.x), w, b, buf.subarray(n.x - 1, n.x - 1 + n.y));
        },
        "E_ARG",
      ],
      [
        "dbias is dweight",
        () =>
          k.conv2dBackwardWeight(
            { ...shape, outChannels: 1, inChannels: 1, kernelH: 1, kernelW: 1, padH: 0, padW: 0 },
            new Float32Array(50),
            new Float32Array(50),
            b.subarray(0, 1),
            b.subarray(0, 1),
          ),
        "E_ARG",
      ],
      ["convT x wrong", () => k.convTranspose2dForward(tShape, tx.subarray(2), tw, null, ty), "E_SHAPE"],
      ["convT y wrong", () => k.convTranspose2dForward(tShape, tx, tw, null, new Float32Array(tn.y + 1)), "E_SHAPE"],
      [
        "convT pad too big",
        () =>
          k.convTranspose2dForward(
            { ...tShape, height: 1, width: 1, padH: 2, padW: 2 },
            new Float32Array(6),
            tw,
            null,
            new Float32Array(0),
          ),
        "E_SHAPE",
      ],
      ["convT outputPad >= stride", () => k.convTranspose2dForward({ ...tShape, outputPadH: 2 }, tx, tw, null, ty), "E_ARG"],
      ["convT stride -1", () => k.convTranspose2dForward({ ...tShape, strideW: -1 }, tx, tw, null, ty), "E_ARG"],
      ["convT dx wrong", () => k.convTranspose2dBackwardData(tShape, ty, tw, new Float32Array(3)), "E_SHAPE"],
      ["convT dweight wrong", () => k.convTranspose2dBackwardWeight(tShape, tx, ty, new Float32Array(3), null), "E_SHAPE"],
      ["convT dx overlaps dy", () => k.convTranspose2dBackwardData(tShape, ty, tw, ty.subarray(0, tn.x)), "E_ARG"],
    ];
    for (const [what, fn, expected] of cases) t.is(code(fn), expected, `${name}: ${what}`);
  }
});

test("the addon re-checks array sizes itself (E_SHAPE) when called directly", (t) => {
  const addon = nativeAddon();
  const g = { batch: 2, inC: 3, inH: 5, inW: 5, outC: 4, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, mask: 0 } as const;
  const x = new Float32Array(2 * 3 * 25);
  const w = new Float32Array(4 * 3 * 9);
  const y = new Float32Array(2 * 4 * 25);
  t.notThrows(() => addon.conv2dForward(g, x, w, null, y));
  const err = (fn: () => void): string | undefined => {
    try {
      fn();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return undefined;
  };
  t.is(
    err(() => addon.conv2dForward(g, x.subarray(1), w, null, y)),
    "E_SHAPE",
  );
  t.is(
    err(() => addon.conv2dForward(g, x, w, new Float32Array(5), y)),
    "E_SHAPE",
  );
  t.is(
    err(() => addon.conv2dBackwardData(g, y, w, x.subarray(3))),
    "E_SHAPE",
  );
  t.is(
    err(() => addon.conv2dBackwardWeight(g, x, y, w.subarray(1), null, false)),
    "E_SHAPE",
  );
  t.is(
    err(() => addon.conv2dForward({ ...g, kH: 9 }, x, w, null, y)),
    "E_SHAPE",
  );
  t.is(
    err(() => addon.conv2dMaskWeights({ outC: 4, inC: 3, kH: 3, kW: 2, mask: 1 }, w)),
    "E_SHAPE",
  );
  const tg = {
    batch: 2,
    inC: 4,
    inH: 5,
    inW: 5,
    outC: 3,
    kH: 4,
    kW: 4,
    strideH: 2,
    strideW: 2,
    padH: 1,
    padW: 1,
    outputPadH: 0,
    outputPadW: 0,
  };
  const tw = new Float32Array(4 * 3 * 16);
  const tx = new Float32Array(2 * 4 * 25);
  const ty = new Float32Array(2 * 3 * 100);
  t.notThrows(() => addon.convTranspose2dForward(tg, tx, tw, null, ty));
  t.is(
    err(() => addon.convTranspose2dForward(tg, tx, tw, null, ty.subarray(1))),
    "E_SHAPE",
  );
  t.is(
    err(() => addon.convTranspose2dBackwardData(tg, ty, tw, tx.subarray(1))),
    "E_SHAPE",
  );
  t.is(
    err(() => addon.convTranspose2dBackwardWeight(tg, tx, ty, tw, new Float32Array(2), true)),
    "E_SHAPE",
  );
  t.is(
    err(() => addon.convTranspose2dForward({ ...tg, inH: 0 }, tx, tw, null, ty)),
    "E_SHAPE",
  );
});

test("zero sizes: empty batch or channels give empty or bias-only results; empty images are refused", (t) => {
  for (const [name, k] of BACKENDS) {
    // Batch 0: nothing to compute; backward-weight writes zeros (or adds nothing).
    const s0: Conv2dShape = { batch: 0, inChannels: 3, height: 4, width: 4, outChannels: 2, kernelH: 3, kernelW: 3, padH: 1, padW: 1 };
    t.notThrows(() => k.conv2dForward(s0, new Float32Array(0), new Float32Array(54), null, new Float32Array(0)), name);
    t.notThrows(() => k.conv2dBackwardData(s0, new Float32Array(0), new Float32Array(54), new Float32Array(0)), name);
    const dw = new Float32Array(54).fill(3);
    const db = new Float32Array(2).fill(3);
    k.conv2dBackwardWeight(s0, new Float32Array(0), new Float32Array(0), dw, db);
    t.true(dw.every((v) => v === 0) && db.every((v) => v === 0), `${name}: batch 0 dweight`);
    dw.fill(3);
    k.conv2dBackwardWeight(s0, new Float32Array(0), new Float32Array(0), dw, null, true);
    t.true(
      dw.every((v) => v === 3),
      `${name}: batch 0 accumulate`,
    );
    // No input channels: the output is the bias; no output channels: empty output.
    const sIn0: Conv2dShape = { batch: 2, inChannels: 0, height: 3, width: 3, outChannels: 2, kernelH: 3, kernelW: 3, padH: 1, padW: 1 };
    const y = new Float32Array(2 * 2 * 9).fill(NaN);
    k.conv2dForward(sIn0, new Float32Array(0), new Float32Array(0), Float32Array.of(1.5, -2), y);
    t.deepEqual([...y], [...Array(9).fill(1.5), ...Array(9).fill(-2), ...Array(9).fill(1.5), ...Array(9).fill(-2)], name);
    const dbIn0 = new Float32Array(2);
    k.conv2dBackwardWeight(sIn0, new Float32Array(0), new Float32Array(36).fill(1), new Float32Array(0), dbIn0);
    t.deepEqual([...dbIn0], [18, 18], name);
    const sOut0: Conv2dShape = { ...sIn0, inChannels: 2, outChannels: 0 };
    const dx = new Float32Array(36).fill(NaN);
    k.conv2dBackwardData(sOut0, new Float32Array(0), new Float32Array(0), dx);
    t.true(
      dx.every((v) => v === 0),
      `${name}: no output channels -> dx = 0`,
    );
    // Mask A on a 1x1 kernel masks everything: output = bias, dx = 0.
    const sA: Conv2dShape = { batch: 1, inChannels: 2, height: 2, width: 2, outChannels: 1, kernelH: 1, kernelW: 1, mask: "A" };
    const yA = new Float32Array(4);
    k.conv2dForward(sA, randomNormal(8, 1), Float32Array.of(NaN, NaN), Float32Array.of(0.25), yA);
    t.deepEqual([...yA], [0.25, 0.25, 0.25, 0.25], name);
    // Transposed conv: same rules.
    const tIn0: ConvTranspose2dShape = {
      batch: 1,
      inChannels: 0,
      height: 2,
      width: 2,
      outChannels: 2,
      kernelH: 2,
      kernelW: 2,
      strideH: 2,
      strideW: 2,
    };
    const ty = new Float32Array(2 * 16).fill(NaN);
    k.convTranspose2dForward(tIn0, new Float32Array(0), new Float32Array(0), Float32Array.of(3, 4), ty);
    t.deepEqual([...ty], [...Array(16).fill(3), ...Array(16).fill(4)], name);
    const tB0: ConvTranspose2dShape = { ...tIn0, batch: 0, inChannels: 2 };
    const tdw = new Float32Array(16).fill(5);
    k.convTranspose2dBackwardWeight(tB0, new Float32Array(0), new Float32Array(0), tdw, null);
    t.true(
      tdw.every((v) => v === 0),
      `${name}: convT batch 0 dweight`,
    );
    // Empty images are an error, not an empty result.
    t.is(
      code(() => k.conv2dForward({ ...s0, batch: 1, width: 0 }, new Float32Array(0), new Float32Array(54), null, new Float32Array(0))),
      "E_SHAPE",
      name,
    );
    t.is(
      code(() => k.convTranspose2dForward({ ...tIn0, height: 0 }, new Float32Array(0), new Float32Array(0), null, new Float32Array(0))),
      "E_SHAPE",
      name,
    );
  }
});

test("the cuda conv kernels refuse with E_BACKEND (no CUDA mirror yet)", (t) => {
  const shape: Conv2dShape = { batch: 1, inChannels: 1, height: 1, width: 1, outChannels: 1, kernelH: 1, kernelW: 1 };
  t.is(
    code(() => cudaConv.conv2dForward(shape, new Float32Array(1), new Float32Array(1), null, new Float32Array(1))),
    "E_BACKEND",
  );
  t.is(
    code(() => cudaConv.convTranspose2dForward(shape, new Float32Array(1), new Float32Array(1), null, new Float32Array(1))),
    "E_BACKEND",
  );
});
