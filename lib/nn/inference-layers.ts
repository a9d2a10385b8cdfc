/**
 * A network's evaluation-mode forward as the layers of a prepared network
 * (lib/kernels/ops/prepared-net.ts): dense and transposed-conv layers with their activation,
 * batch norm folded into the weights and bias before it. Evaluation-mode batch norm is a
 * per-channel affine map, y = s (x - mean) + beta with s = gamma / sqrt(var + eps), so the
 * layer before it computes it directly with W' = s W and b' = s (b - mean) + beta (in double,
 * rounded once). The fold changes results by float rounding only.
 */
import type { ActivationKind } from "../kernels/ops/activation.js";
import { DEFAULT_NORM_EPS } from "../kernels/ops/norm.js";
import type { PreparedLayer } from "../kernels/ops/prepared-net.js";
import type { BatchNormState } from "./norm-act.js";

/** leakyRelu's slope where a layer leaves it out (the activation kernels' default, as PyTorch). */
const DEFAULT_SLOPE = 0.01;

export function denseLayer(
  w: Float32Array,
  b: Float32Array,
  inDim: number,
  outDim: number,
  activation: ActivationKind,
  slope?: number,
): PreparedLayer {
  return {
    kind: "dense",
    inChannels: inDim,
    height: 1,
    width: 1,
    outChannels: outDim,
    kernel: 1,
    stride: 1,
    pad: 0,
    activation,
    slope: slope ?? DEFAULT_SLOPE,
    weight: w,
    bias: b,
  };
}

/** The 4x4, stride-2, pad-1 transposed conv of the decoders and generators: weight [cin, cout, 4, 4]. */
export function convTLayer(
  w: Float32Array,
  b: Float32Array | null,
  cin: number,
  cout: number,
  side: [number, number],
  activation: ActivationKind,
  slope?: number,
): PreparedLayer {
  return {
    kind: "convT",
    inChannels: cin,
    height: side[0],
    width: side[1],
    outChannels: cout,
    kernel: 4,
    stride: 2,
    pad: 1,
    activation,
    slope: slope ?? DEFAULT_SLOPE,
    weight: w,
    bias: b,
  };
}

/**
 * `layer` followed by evaluation-mode batch norm over its output channels (each output value
 * o belongs to channel floor(o / perChannel) of a dense layer, and to its weight's output
 * channel of a transposed conv), as one layer with `activation`.
 */
export function foldBatchNorm(layer: PreparedLayer, norm: BatchNormState, activation: ActivationKind, slope?: number): PreparedLayer {
  const channels = norm.channels;
  const scale = new Float64Array(channels);
  for (let c = 0; c < channels; c++) scale[c] = norm.gamma[c]! / Math.sqrt(norm.runningVar[c]! + DEFAULT_NORM_EPS);
  const w = new Float32Array(layer.weight.length);
  const b = new Float32Array(layer.outChannels);
  if (layer.kind === "dense") {
    const perChannel = layer.outChannels / channels;
    for (let o = 0; o < layer.outChannels; o++) {
      const c = Math.floor(o / perChannel);
      const s = scale[c]!;
      for (let i = 0; i < layer.inChannels; i++) w[o * layer.inChannels + i] = layer.weight[o * layer.inChannels + i]! * s;
      b[o] = s * ((layer.bias?.[o] ?? 0) - norm.runningMean[c]!) + norm.beta[c]!;
    }
  } else {
    const taps = layer.kernel * layer.kernel;
    for (let ci = 0; ci < layer.inChannels; ci++) {
      for (let co = 0; co < layer.outChannels; co++) {
        const base = (ci * layer.outChannels + co) * taps;
        for (let t = 0; t < taps; t++) w[base + t] = layer.weight[base + t]! * scale[co]!;
      }
    }
    for (let co = 0; co < layer.outChannels; co++) b[co] = scale[co]! * ((layer.bias?.[co] ?? 0) - norm.runningMean[co]!) + norm.beta[co]!;
  }
  return { ...layer, weight: w, bias: b, activation, slope: slope ?? DEFAULT_SLOPE };
}
