/**
 * JS twin of native/kernels/cpu/prepared_net.cc: the same chain of dense and transposed-conv
 * layers, y = act(op(x) + bias), through the plain JS kernels (sums in float32 for the dense
 * layers, double for the convs, as those twins do). Rows are independent, so any slice of
 * rows can run on its own.
 */
import { type ActivationKind, biasActivationForward } from "./activation.js";
import { convTranspose2dForward } from "./conv-transpose2d.js";
import { gemm } from "./gemm.js";

export interface PreparedLayer {
  kind: "dense" | "convT";
  /** Dense: inputs (height = width = 1). ConvT: the input's channels and sides. */
  inChannels: number;
  height: number;
  width: number;
  outChannels: number;
  /** ConvT only (dense: 1, 1, 0). */
  kernel: number;
  stride: number;
  pad: number;
  activation: ActivationKind;
  slope: number;
  /** Dense [out, in]; convT [Cin, Cout, k, k]. */
  weight: Float32Array;
  bias: Float32Array | null;
}

/** Output sides of a layer (1 x 1 for dense). */
export function preparedOutSides(l: PreparedLayer): [number, number] {
  if (l.kind === "dense") return [1, 1];
  return [(l.height - 1) * l.stride - 2 * l.pad + l.kernel, (l.width - 1) * l.stride - 2 * l.pad + l.kernel];
}

export function preparedInSize(l: PreparedLayer): number {
  return l.inChannels * l.height * l.width;
}

export function preparedOutSize(l: PreparedLayer): number {
  const [h, w] = preparedOutSides(l);
  return l.outChannels * h * w;
}

/** y [n, out] of x [n, in] through the layers. */
export function preparedForward(layers: readonly PreparedLayer[], x: Float32Array, n: number): Float32Array {
  let h = x;
  for (const l of layers) {
    const [oh, ow] = preparedOutSides(l);
    const y = new Float32Array(n * preparedOutSize(l));
    const bias = l.bias ?? new Float32Array(l.outChannels);
    if (l.kind === "dense") {
      gemm(
        {
          transA: false,
          transB: true,
          m: n,
          n: l.outChannels,
          k: l.inChannels,
          alpha: 1,
          beta: 0,
          lda: l.inChannels,
          ldb: l.inChannels,
          ldc: l.outChannels,
          batch: 1,
          strideA: 0,
          strideB: 0,
          strideC: 0,
        },
        h,
        l.weight,
        y,
      );
    } else {
      convTranspose2dForward(
        {
          batch: n,
          inC: l.inChannels,
          inH: l.height,
          inW: l.width,
          outC: l.outChannels,
          kH: l.kernel,
          kW: l.kernel,
          strideH: l.stride,
          strideW: l.stride,
          padH: l.pad,
          padW: l.pad,
          outputPadH: 0,
          outputPadW: 0,
          outH: oh,
          outW: ow,
        },
        h,
        l.weight,
        null,
        y,
      );
    }
    biasActivationForward(l.activation, y, bias, y, n, l.outChannels, oh * ow, l.slope);
    h = y;
  }
  return h;
}
