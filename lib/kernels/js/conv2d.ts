/**
 * JS twin of native/kernels/cpu/conv2d.cc: 2-D convolution, NCHW, dilation 1, groups 1, with
 * optional PixelCNN masks. Plain nested loops over the definition; sums are taken in JS
 * numbers (double) and rounded once when stored, so on Float64Array inputs this is the exact
 * float64 reference that gradient checks differentiate.
 *
 *   x [N, Cin, H, W], weight [Cout, Cin, kH, kW], bias [Cout] | null -> y [N, Cout, Ho, Wo]
 *   Ho = floor((H + 2 padH - kH) / strideH) + 1   (same for W)
 *   y[n, co, oy, ox] = bias[co] + sum over ci and unmasked (ky, kx) of
 *                      weight[co, ci, ky, kx] * x[n, ci, oy*strideH - padH + ky, ox*strideW - padW + kx]
 *
 * Masks: the centre is (floor(kH/2), floor(kW/2)); positions after it in raster order are
 * masked and mask A masks the centre too. Masked weights are never read.
 */
import type { FloatArray } from "./types.js";

/** 0 = no mask, 1 = mask A, 2 = mask B (the native code's numbering). */
export type MaskCode = 0 | 1 | 2;

export interface Conv2dSpec {
  batch: number;
  inC: number;
  inH: number;
  inW: number;
  outC: number;
  kH: number;
  kW: number;
  strideH: number;
  strideW: number;
  padH: number;
  padW: number;
  mask: MaskCode;
  outH: number;
  outW: number;
}

/** True when (ky, kx) of a kH x kW kernel is masked out. */
export function convTapMasked(ky: number, kx: number, kH: number, kW: number, mask: MaskCode): boolean {
  if (mask === 0) return false;
  const cy = Math.floor(kH / 2);
  const cx = Math.floor(kW / 2);
  if (ky > cy) return true;
  if (ky === cy && kx > cx) return true;
  return mask === 1 && ky === cy && kx === cx;
}

/** The kernel positions read, in raster order, as [ky0, kx0, ky1, kx1, ...]. */
export function convTaps(kH: number, kW: number, mask: MaskCode): number[] {
  const taps: number[] = [];
  for (let ky = 0; ky < kH; ky++) {
    for (let kx = 0; kx < kW; kx++) if (!convTapMasked(ky, kx, kH, kW, mask)) taps.push(ky, kx);
  }
  return taps;
}

/** y = conv(x, weight) + bias. Overwrites y. */
export function conv2dForward(s: Conv2dSpec, x: FloatArray, weight: FloatArray, bias: FloatArray | null, y: FloatArray): void {
  const taps = convTaps(s.kH, s.kW, s.mask);
  for (let n = 0; n < s.batch; n++) {
    for (let co = 0; co < s.outC; co++) {
      for (let oy = 0; oy < s.outH; oy++) {
        for (let ox = 0; ox < s.outW; ox++) {
          let sum = bias === null ? 0 : bias[co]!;
          for (let ci = 0; ci < s.inC; ci++) {
            const xPlane = (n * s.inC + ci) * s.inH;
            const wBase = (co * s.inC + ci) * s.kH;
            for (let t = 0; t < taps.length; t += 2) {
              const ky = taps[t]!;
              const kx = taps[t + 1]!;
              const iy = oy * s.strideH - s.padH + ky;
              const ix = ox * s.strideW - s.padW + kx;
              if (iy < 0 || iy >= s.inH || ix < 0 || ix >= s.inW) continue;
              sum += weight[(wBase + ky) * s.kW + kx]! * x[(xPlane + iy) * s.inW + ix]!;
            }
          }
          y[((n * s.outC + co) * s.outH + oy) * s.outW + ox] = sum;
        }
      }
    }
  }
}

/** dx = d<y, dy>/dx: every output's gradient flows back to the pixels it read. Overwrites dx. */
export function conv2dBackwardData(s: Conv2dSpec, dy: FloatArray, weight: FloatArray, dx: FloatArray): void {
  const taps = convTaps(s.kH, s.kW, s.mask);
  const acc = new Float64Array(dx.length);
  for (let n = 0; n < s.batch; n++) {
    for (let co = 0; co < s.outC; co++) {
      for (let oy = 0; oy < s.outH; oy++) {
        for (let ox = 0; ox < s.outW; ox++) {
          const g = dy[((n * s.outC + co) * s.outH + oy) * s.outW + ox]!;
          for (let ci = 0; ci < s.inC; ci++) {
            const xPlane = (n * s.inC + ci) * s.inH;
            const wBase = (co * s.inC + ci) * s.kH;
            for (let t = 0; t < taps.length; t += 2) {
              const ky = taps[t]!;
              const kx = taps[t + 1]!;
              const iy = oy * s.strideH - s.padH + ky;
              const ix = ox * s.strideW - s.padW + kx;
              if (iy < 0 || iy >= s.inH || ix < 0 || ix >= s.inW) continue;
              const at = (xPlane + iy) * s.inW + ix;
              acc[at] = acc[at]! + g * weight[(wBase + ky) * s.kW + kx]!;
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < dx.length; i++) dx[i] = acc[i]!;
}

/**
 * dweight[co, ci, ky, kx] (+)= sum over n, oy, ox of dy[n, co, oy, ox] * x[n, ci, iy, ix];
 * dbias[co] (+)= sum of dy[n, co, :, :]. Writes, or adds when accumulate. Masked positions of
 * dweight get 0 (write) or stay as they are (accumulate).
 */
export function conv2dBackwardWeight(
  s: Conv2dSpec,
  x: FloatArray,
  dy: FloatArray,
  dweight: FloatArray,
  dbias: FloatArray | null,
  accumulate: boolean,
): void {
  for (let co = 0; co < s.outC; co++) {
    for (let ci = 0; ci < s.inC; ci++) {
      for (let ky = 0; ky < s.kH; ky++) {
        for (let kx = 0; kx < s.kW; kx++) {
          const at = ((co * s.inC + ci) * s.kH + ky) * s.kW + kx;
          if (convTapMasked(ky, kx, s.kH, s.kW, s.mask)) {
            if (!accumulate) dweight[at] = 0;
            continue;
          }
          let sum = 0;
          for (let n = 0; n < s.batch; n++) {
            const xPlane = (n * s.inC + ci) * s.inH;
            const dyPlane = (n * s.outC + co) * s.outH;
            for (let oy = 0; oy < s.outH; oy++) {
              const iy = oy * s.strideH - s.padH + ky;
              if (iy < 0 || iy >= s.inH) continue;
              for (let ox = 0; ox < s.outW; ox++) {
                const ix = ox * s.strideW - s.padW + kx;
                if (ix < 0 || ix >= s.inW) continue;
                sum += dy[(dyPlane + oy) * s.outW + ox]! * x[(xPlane + iy) * s.inW + ix]!;
              }
            }
          }
          dweight[at] = accumulate ? dweight[at]! + sum : sum;
        }
      }
    }
  }
  if (dbias !== null) biasGradient(dy, dbias, s.batch, s.outC, s.outH * s.outW, accumulate);
}

/** dbias[c] (+)= sum over images and pixels of dy[n, c, :]. Shared with the transposed conv. */
export function biasGradient(dy: FloatArray, dbias: FloatArray, batch: number, channels: number, plane: number, accumulate: boolean): void {
  for (let c = 0; c < channels; c++) {
    let sum = 0;
    for (let n = 0; n < batch; n++) {
      const base = (n * channels + c) * plane;
      for (let i = 0; i < plane; i++) sum += dy[base + i]!;
    }
    dbias[c] = accumulate ? dbias[c]! + sum : sum;
  }
}

/** Zeroes the masked positions of weight [outC, inC, kH, kW]. */
export function conv2dMaskWeights(weight: FloatArray, outC: number, inC: number, kH: number, kW: number, mask: MaskCode): void {
  if (mask === 0) return;
  const kk = kH * kW;
  for (let q = 0; q < outC * inC; q++) {
    for (let ky = 0; ky < kH; ky++) {
      for (let kx = 0; kx < kW; kx++) if (convTapMasked(ky, kx, kH, kW, mask)) weight[q * kk + ky * kW + kx] = 0;
    }
  }
}
