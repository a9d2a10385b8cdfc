/**
 * Prepared networks: a chain of dense and transposed-conv layers whose weights the native
 * backend packs once (native/kernels/cpu/prepared_net.h), run on the calling thread or as an
 * async job off the event loop. Row i of the output depends only on row i of the input, bit
 * for bit, whatever the batch: what lets a server coalesce requests. The JS backend runs the
 * twin (lib/kernels/js/prepared-net.ts), row by row when async so the event loop keeps turning.
 */
import { checkFloat32Array, checkInteger } from "../../core/check.js";
import { DeepgenError } from "../../core/errors.js";
import { ACTIVATION_KINDS, type ActivationKind, activationForward } from "../js/activation.js";
import { type PreparedLayer, preparedForward, preparedInSize, preparedOutSides, preparedOutSize } from "../js/prepared-net.js";
import { type JobOptions, runChunkedJs, runNativeJob } from "../job.js";
import { callNative } from "../native.js";

export type { PreparedLayer };

export interface PreparedNet {
  readonly backend: "native" | "js";
  /** Values per input and per output row. */
  readonly inSize: number;
  readonly outSize: number;
  /** y [n, outSize] of x [n, inSize], on the calling thread; `map` turns each output y into (y + shift) * scale. */
  forwardSync(x: Float32Array, n: number, map?: OutputMap): Float32Array;
  /** The same off the event loop (x must not change until it settles). */
  forward(x: Float32Array, n: number, opts?: JobOptions & { map?: OutputMap }): Promise<Float32Array>;
}

/**
 * A map of the outputs, in float: each y becomes (act(y) + shift) * scale. { shift: 1, scale:
 * 0.5 } takes tanh outputs to [0, 1]; { activation: "sigmoid" } logits to probabilities.
 */
export interface OutputMap {
  activation?: ActivationKind;
  shift?: number;
  scale?: number;
}

type FullMap = { activation: ActivationKind; code: number; shift: number; scale: number };

function checkMap(map: OutputMap | undefined): FullMap {
  const activation = map?.activation ?? "identity";
  const shift = map?.shift ?? 0;
  const scale = map?.scale ?? 1;
  if (!ACTIVATION_KINDS.includes(activation)) throw new DeepgenError("E_ARG", `prepared net: unknown activation ${String(activation)}`);
  if (!Number.isFinite(shift) || !Number.isFinite(scale))
    throw new DeepgenError("E_ARG", "prepared net: map shift and scale must be finite");
  return { activation, code: ACTIVATION_KINDS.indexOf(activation), shift, scale };
}

function checkLayers(layers: readonly PreparedLayer[]): void {
  if (!Array.isArray(layers) || layers.length === 0) throw new DeepgenError("E_ARG", "prepareNet: at least one layer");
  layers.forEach((l, i) => {
    const at = `prepareNet layer ${i}`;
    if (l.kind !== "dense" && l.kind !== "convT") throw new DeepgenError("E_ARG", `${at}: kind must be dense or convT`);
    for (const key of ["inChannels", "height", "width", "outChannels", "kernel", "stride"] as const)
      checkInteger(`${at} ${key}`, l[key], 1);
    checkInteger(`${at} pad`, l.pad, 0, l.kernel - 1);
    if (l.kind === "dense" && (l.height !== 1 || l.width !== 1))
      throw new DeepgenError("E_SHAPE", `${at}: a dense layer's input is [n, in]`);
    const [oh, ow] = preparedOutSides(l);
    if (oh < 1 || ow < 1) throw new DeepgenError("E_SHAPE", `${at}: empty output`);
    if (!ACTIVATION_KINDS.includes(l.activation)) throw new DeepgenError("E_ARG", `${at}: unknown activation ${String(l.activation)}`);
    const taps = l.kind === "convT" ? l.kernel * l.kernel : 1;
    if (checkFloat32Array(`${at} weight`, l.weight).length !== l.inChannels * l.outChannels * taps)
      throw new DeepgenError("E_SHAPE", `${at}: weight must hold ${l.inChannels * l.outChannels * taps} values`);
    if (l.bias !== null && checkFloat32Array(`${at} bias`, l.bias).length !== l.outChannels)
      throw new DeepgenError("E_SHAPE", `${at}: bias must hold ${l.outChannels} values`);
    if (i > 0 && preparedInSize(l) !== preparedOutSize(layers[i - 1]!))
      throw new DeepgenError(
        "E_SHAPE",
        `${at}: input size ${preparedInSize(l)} is not the previous output size ${preparedOutSize(layers[i - 1]!)}`,
      );
  });
}

function checkInput(net: PreparedNet, x: Float32Array, n: number): void {
  checkFloat32Array("x", x);
  checkInteger("n", n, 0, Math.floor((2 ** 31 - 1) / Math.max(net.inSize, net.outSize)));
  if (x.length !== n * net.inSize) throw new DeepgenError("E_SHAPE", `x has ${x.length} values, expected ${n} x ${net.inSize}`);
}

class NativePreparedNet implements PreparedNet {
  readonly backend = "native";
  private readonly handle;

  constructor(
    layers: readonly PreparedLayer[],
    readonly inSize: number,
    readonly outSize: number,
  ) {
    this.handle = callNative((a) =>
      a.preparedNetCreate(
        layers.map((l) => ({
          kind: l.kind === "dense" ? 0 : 1,
          inChannels: l.inChannels,
          height: l.height,
          width: l.width,
          outChannels: l.outChannels,
          kernel: l.kernel,
          stride: l.stride,
          pad: l.pad,
          activation: ACTIVATION_KINDS.indexOf(l.activation),
          slope: l.slope,
          weight: l.weight,
          bias: l.bias,
        })),
      ),
    );
  }

  forwardSync(x: Float32Array, n: number, map?: OutputMap): Float32Array {
    checkInput(this, x, n);
    const m = checkMap(map);
    const y = new Float32Array(n * this.outSize);
    callNative((a) => a.preparedNetForward(this.handle, x, n, y, m.code, m.shift, m.scale));
    return y;
  }

  async forward(x: Float32Array, n: number, opts?: JobOptions & { map?: OutputMap }): Promise<Float32Array> {
    checkInput(this, x, n);
    const m = checkMap(opts?.map);
    const y = new Float32Array(n * this.outSize);
    await runNativeJob(opts, (cancel, onProgress) =>
      callNative((a) => a.preparedNetForwardAsync(this.handle, x, n, y, m.code, m.shift, m.scale, cancel, onProgress)),
    );
    return y;
  }
}

class JsPreparedNet implements PreparedNet {
  readonly backend = "js";

  constructor(
    private readonly layers: readonly PreparedLayer[],
    readonly inSize: number,
    readonly outSize: number,
  ) {}

  forwardSync(x: Float32Array, n: number, map?: OutputMap): Float32Array {
    checkInput(this, x, n);
    return mapped(preparedForward(this.layers, x, n), checkMap(map));
  }

  async forward(x: Float32Array, n: number, opts?: JobOptions & { map?: OutputMap }): Promise<Float32Array> {
    checkInput(this, x, n);
    const m = checkMap(opts?.map);
    const y = new Float32Array(n * this.outSize);
    await runChunkedJs(n, 1, opts, (begin, end) => {
      y.set(mapped(preparedForward(this.layers, x.subarray(begin * this.inSize, end * this.inSize), end - begin), m), begin * this.outSize);
    });
    return y;
  }
}

/** (act(y) + shift) * scale in place, rounded to float after each step as the native map does. */
function mapped(y: Float32Array, m: FullMap): Float32Array {
  if (m.activation !== "identity") activationForward(m.activation, y, y, 0.01);
  if (m.shift === 0 && m.scale === 1) return y;
  const shift = Math.fround(m.shift);
  const scale = Math.fround(m.scale);
  for (let i = 0; i < y.length; i++) y[i] = Math.fround(y[i]! + shift) * scale;
  return y;
}

/** The layers prepared for a backend (copies: later changes to the arrays do not reach it). */
export function prepareNet(backend: "native" | "js", layers: readonly PreparedLayer[]): PreparedNet {
  checkLayers(layers);
  const inSize = preparedInSize(layers[0]!);
  const outSize = preparedOutSize(layers[layers.length - 1]!);
  if (backend === "native") return new NativePreparedNet(layers, inSize, outSize);
  const copies = layers.map((l) => ({ ...l, weight: l.weight.slice(), bias: l.bias?.slice() ?? null }));
  return new JsPreparedNet(copies, inSize, outSize);
}
