/**
 * deepgen's networks (lib/nn: Mlp, ConvEncoder, ConvDecoder, DcganGenerator) as ONNX subgraphs. Each takes
 * the name of its input value, [N, net.inDim], and returns the name of its output value,
 * [N, net.outDim], computing exactly what net.forward computes (inference: no state).
 */
import { DeepgenError } from "../core/errors.js";
import { DEFAULT_NORM_EPS } from "../kernels/ops/norm.js";
import { ConvDecoder, ConvEncoder, type Net } from "../nn/conv-nets.js";
import type { DcganGenerator } from "../nn/dcgan-nets.js";
import { Mlp } from "../nn/dense.js";
import type { GraphBuilder } from "./graph-builder.js";

const HALVING = { kernel: [4, 4] as [number, number], stride: [2, 2] as [number, number], pad: [1, 1] as [number, number] };

function param(net: Net, key: string): Float32Array {
  const p = net.params()[key];
  if (p === undefined) throw new DeepgenError("E_ARG", `ONNX export: ${net.name} has no parameter ${key}`);
  return p;
}

/** Dense layers with their activations; `out` names the last value (a graph output). */
export function mlpGraph(g: GraphBuilder, net: Mlp, x: string, out?: string): string {
  let h = x;
  net.layers.forEach((l, i) => {
    const last = i === net.layers.length - 1;
    const pre = g.dense(h, l.w, l.b, l.outDim, l.inDim, `${net.name}.${i}`, last && l.activation === "identity" ? out : undefined);
    h = l.activation === "identity" ? pre : g.activation(pre, l.activation, last ? out : undefined);
  });
  return h;
}

/** ConvEncoder: [N, H*W] -> [N, 1, H, W] -> (conv /2 -> act) per conv layer -> flatten -> dense. */
export function convEncoderGraph(g: GraphBuilder, net: ConvEncoder, x: string, out?: string): string {
  const { height: H, width: W, channels, activation: act, latentSide } = net.spec;
  const n = net.name;
  let h = g.reshape(x, [-1, 1, H, W]);
  let cin = 1;
  for (const [i, cout] of channels.entries()) {
    h = g.activation(g.conv(h, param(net, `${n}.${i}.w`), param(net, `${n}.${i}.b`), cout, cin, HALVING, `${n}.${i}`), act);
    cin = cout;
  }
  const L = channels.length;
  const flat = cin * (H / 2 ** L) * (W / 2 ** L);
  h = g.reshape(h, [-1, flat]);
  return g.dense(h, param(net, `${n}.${L}.w`), param(net, `${n}.${L}.b`), latentSide, flat, `${n}.${L}`, out);
}

/**
 * ConvDecoder: [N, L] -> dense -> act -> [N, c0, H/4, W/4] -> convT x2 -> act -> convT x2 ->
 * [N, 1, H, W] logits. `flatOutput` reshapes the logits to [N, H*W] as the native net returns
 * them; generators keep the image shape.
 */
export function convDecoderGraph(g: GraphBuilder, net: ConvDecoder, z: string, opts: { flatOutput: boolean; out?: string }): string {
  const { height: H, width: W, channels, activation: act, latentSide } = net.spec;
  const [c0, c1] = channels as [number, number];
  const n = net.name;
  const side0 = c0 * (H / 4) * (W / 4);
  let h = g.activation(g.dense(z, param(net, `${n}.0.w`), param(net, `${n}.0.b`), side0, latentSide, `${n}.0`), act);
  h = g.reshape(h, [-1, c0, H / 4, W / 4]);
  h = g.activation(g.convTranspose(h, param(net, `${n}.1.w`), param(net, `${n}.1.b`), c0, c1, HALVING, `${n}.1`), act);
  if (!opts.flatOutput) return g.convTranspose(h, param(net, `${n}.2.w`), param(net, `${n}.2.b`), c1, 1, HALVING, `${n}.2`, opts.out);
  h = g.convTranspose(h, param(net, `${n}.2.w`), param(net, `${n}.2.b`), c1, 1, HALVING, `${n}.2`);
  return g.reshape(h, [-1, H * W], opts.out);
}

function buffer(net: DcganGenerator, key: string): Float32Array {
  const b = net.buffers()[key];
  if (b === undefined) throw new DeepgenError("E_ARG", `ONNX export: ${net.name} has no buffer ${key}`);
  return b.data;
}

/**
 * DcganGenerator: [N, zdim] -> dense -> [N, c0, H/4, W/4] -> BN -> ReLU -> convT -> BN -> ReLU
 * -> convT -> tanh -> [N, 1, H, W] in [-1, 1], batch norm in inference form with the running
 * statistics (what sampling runs). Every conditional generator (GAN codes, captions) feeds
 * its condition as columns of the input, so they all share this subgraph.
 */
export function dcganGeneratorGraph(g: GraphBuilder, net: DcganGenerator, z: string, out?: string): string {
  const { height: H, width: W, channels } = net.spec;
  const [c0, c1] = channels;
  const n = net.name;
  const bn = (x: string, i: number): string =>
    g.relu(
      g.batchNormalization(
        x,
        param(net, `${n}.${i}.gamma`),
        param(net, `${n}.${i}.beta`),
        buffer(net, `${n}.${i}.running_mean`),
        buffer(net, `${n}.${i}.running_var`),
        DEFAULT_NORM_EPS,
        `${n}.${i}`,
      ),
    );
  let h = g.dense(z, param(net, `${n}.0.w`), param(net, `${n}.0.b`), c0 * (H / 4) * (W / 4), net.inDim, `${n}.0`);
  h = bn(g.reshape(h, [-1, c0, H / 4, W / 4]), 1);
  h = bn(g.convTranspose(h, param(net, `${n}.2.w`), null, c0, c1, HALVING, `${n}.2`), 2);
  h = g.convTranspose(h, param(net, `${n}.3.w`), param(net, `${n}.3.b`), c1, 1, HALVING, `${n}.3`);
  return g.tanh(h, out);
}

/** Any of deepgen's networks, flat [N, inDim] -> [N, outDim]. */
export function netGraph(g: GraphBuilder, net: Net, x: string, out?: string): string {
  if (net instanceof Mlp) return mlpGraph(g, net, x, out);
  if (net instanceof ConvEncoder) return convEncoderGraph(g, net, x, out);
  if (net instanceof ConvDecoder) return convDecoderGraph(g, net, x, { flatOutput: true, out });
  throw new DeepgenError("E_ARG", `ONNX export: no mapping for the network ${net.name} (${net.constructor.name})`);
}
