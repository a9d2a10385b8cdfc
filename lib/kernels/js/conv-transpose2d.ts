/**
 * JS twin of native/kernels/cpu/conv_transpose2d.cc: 2-D transposed convolution with
 * PyTorch's ConvTranspose2d semantics (NCHW, dilation 1, groups 1). Plain loops; sums in
 * double, rounded once when stored.
 *
 *   x [N, Cin, H, W], weight [Cin, Cout, kH, kW], bias [Cout] | null -> y [N, Cout, Ho, Wo]
 *   Ho = (H - 1) * strideH - 2 padH + kH + outputPadH   (same for W)
 *   y[n, co, iy*strideH - padH + ky, ix*strideW - padW + kx] += x[n, ci, iy, ix] * weight[ci, co, ky, kx]
 *   (positions outside the output dropped), then + bias[co].
 */
import { biasGradient } from "./conv2d.js";
import type { FloatArray } from "./types.js";

export interface ConvTranspose2dSpec {
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
  outputPadH: number;
  outputPadW: number;
  outH: number;
  outW: number;
}

/** y = convTranspose(x, weight) + bias: each input pixel scatters a weighted kernel. Overwrites y. */
export function convTranspose2dForward(
  s: ConvTranspose2dSpec,
  x: FloatArray,
  weight: FloatArray,
  bias: FloatArray | null,
  y: FloatArray,
): void {
  const plane = s.outH * s.outW;
  const acc = new Float64Array(y.length);
  for (let n = 0; n < s.batch; n++) {
    for (let co = 0; co < s.outC; co++) acc.fill(bias === null ? 0 : bias[co]!, (n * s.outC + co) * plane, (n * s.outC + co + 1) * plane);
    for (let ci = 0; ci < s.inC; ci++) {
      for (let iy = 0; iy < s.inH; iy++) {
        for (let ix = 0; ix < s.inW; ix++) {
          const xv = x[((n * s.inC + ci) * s.inH + iy) * s.inW + ix]!;
          for (let co = 0; co < s.outC; co++) {
            const wBase = (ci * s.outC + co) * s.kH;
            const yPlane = (n * s.outC + co) * s.outH;
            for (let ky = 0; ky < s.kH; ky++) {
              const oy = iy * s.strideH - s.padH + ky;
              if (oy < 0 || oy >= s.outH) continue;
              for (let kx = 0; kx < s.kW; kx++) {
                const ox = ix * s.strideW - s.padW + kx;
                if (ox < 0 || ox >= s.outW) continue;
                const at = (yPlane + oy) * s.outW + ox;
                acc[at] = acc[at]! + xv * weight[(wBase + ky) * s.kW + kx]!;
              }
            }
          }
        }
      }
    }
  }
  for (let i = 0; i < y.length; i++) y[i] = acc[i]!;
}

/** dx[n, ci, iy, ix] = sum over co, ky, kx of weight[ci, co, ky, kx] * dy[n, co, oy, ox]. Overwrites dx. */
export function convTranspose2dBackwardData(s: ConvTranspose2dSpec, dy: FloatArray, weight: FloatArray, dx: FloatArray): void {
  for (let n = 0; n < s.batch; n++) {
    for (let ci = 0; ci < s.inC; ci++) {
      for (let iy = 0; iy < s.inH; iy++) {
        for (let ix = 0; ix < s.inW; ix++) {
          let sum = 0;
          for (let co = 0; co < s.outC; co++) {
            const wBase = (ci * s.outC + co) * s.kH;
            const dyPlane = (n * s.outC + co) * s.outH;
            for (let ky = 0; ky < s.kH; ky++) {
              const oy = iy * s.strideH - s.padH + ky;
              if (oy < 0 || oy >= s.outH) continue;
              for (let kx = 0; kx < s.kW; kx++) {
                const ox = ix * s.strideW - s.padW + kx;
                if (ox < 0 || ox >= s.outW) continue;
                sum += weight[(wBase + ky) * s.kW + kx]! * dy[(dyPlane + oy) * s.outW + ox]!;
              }
            }
          }
          dx[((n * s.inC + ci) * s.inH + iy) * s.inW + ix] = sum;
        }
      }
    }
  }
}

/**
 * dweight[ci, co, ky, kx] (+)= sum over n, iy, ix of x[n, ci, iy, ix] * dy[n, co, oy, ox];
 * dbias[co] (+)= sum of dy[n, co, :, :]. Writes, or adds when accumulate.
 */
export function convTranspose2dBackwardWeight(
  s: ConvTranspose2dSpec,
  x: FloatArray,
  dy: FloatArray,
  dweight: FloatArray,
  dbias: FloatArray | null,
  accumulate: boolean,
): void {
  for (let ci = 0; ci < s.inC; ci++) {
    for (let co = 0; co < s.outC; co++) {
      for (let ky = 0; ky < s.kH; ky++) {
        for (let kx = 0; kx < s.kW; kx++) {
          let sum = 0;
          for (let n = 0; n < s.batch; n++) {
            const xPlane = (n * s.inC + ci) * s.inH;
            const dyPlane = (n * s.outC + co) * s.outH;
            for (let iy = 0; iy < s.inH; iy++) {
              const oy = iy * s.strideH - s.padH + ky;
              if (oy < 0 || oy >= s.outH) continue;
              for (let ix = 0; ix < s.inW; ix++) {
                const ox = ix * s.strideW - s.padW + kx;
                if (ox < 0 || ox >= s.outW) continue;
                sum += x[(xPlane + iy) * s.inW + ix]! * dy[(dyPlane + oy) * s.outW + ox]!;
              }
            }
          }
          const at = ((ci * s.outC + co) * s.kH + ky) * s.kW + kx;
          dweight[at] = accumulate ? dweight[at]! + sum : sum;
        }
      }
    }
  }
  if (dbias !== null) biasGradient(dy, dbias, s.batch, s.outC, s.outH * s.outW, accumulate);
}
