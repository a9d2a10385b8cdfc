/**
 * OnnxModel: any ONNX file (deepgen's own exports, or PyTorch / Keras-tf2onnx / other
 * exports) run under onnxruntime-node. The file is first parsed with the ONNX schema, so a
 * missing file, a file that is not ONNX, the graph's inputs / outputs / shapes and deepgen's
 * metadata are all known and checked before the runtime is even loaded; feeds are validated
 * against the declared shapes (E_SHAPE) before a run.
 */
import { readFile } from "node:fs/promises";

import { DeepgenError } from "../core/errors.js";
import { type DeepgenOnnxMetadata, readDeepgenMetadata } from "./metadata.js";
import { onnx, type OnnxTypes } from "./proto.js";
import { type HostFeed, type HostOutput, openSession, SessionCreateError, type SessionHost } from "./session-host.js";

/** A declared input or output: element type and shape (numbers, or names of symbolic dims; "?" when unknown). */
export interface OnnxValueInfo {
  name: string;
  /** ONNX element type name: float32, int64, ... ("unknown" for non-tensors). */
  type: string;
  shape: Array<number | string>;
}

export interface OnnxModelOptions {
  /** onnxruntime intra-op threads (default: onnxruntime's choice, all cores). */
  threads?: number;
  /**
   * Run the session on a worker thread of its own (default true), so `run` never blocks the
   * event loop. false: on the calling thread, for code that already runs on a worker thread,
   * or to measure onnxruntime without the message round trip (about 0.1 ms a run).
   */
  isolate?: boolean;
}

/** A model the program dropped without dispose() still gives its session (and worker thread) back. */
const released = new FinalizationRegistry<SessionHost>((session) => {
  void session.release().catch(() => undefined);
});

/** Input data: float32 values and the dims to feed them with. */
export interface FloatFeed {
  data: Float32Array;
  dims: readonly number[];
}

/** Input data for an int64 input (token ids, indices). */
export interface Int64Feed {
  data: BigInt64Array;
  dims: readonly number[];
}

/** What run feeds: float32 inputs take a FloatFeed, int64 inputs an Int64Feed. */
export type Feed = FloatFeed | Int64Feed;

const FEED_ARRAYS: Record<string, { array: typeof Float32Array | typeof BigInt64Array; name: string }> = {
  float32: { array: Float32Array, name: "Float32Array" },
  int64: { array: BigInt64Array, name: "BigInt64Array" },
};

const ELEM_TYPES: Record<number, string> = {
  1: "float32",
  2: "uint8",
  3: "int8",
  4: "uint16",
  5: "int16",
  6: "int32",
  7: "int64",
  8: "string",
  9: "bool",
  10: "float16",
  11: "float64",
  12: "uint32",
  13: "uint64",
  14: "complex64",
  15: "complex128",
  16: "bfloat16",
};

function valueInfo(v: OnnxTypes.IValueInfoProto): OnnxValueInfo {
  const t = v.type?.tensorType;
  if (t === undefined || t === null) return { name: v.name ?? "", type: "unknown", shape: [] };
  const shape = (t.shape?.dim ?? []).map((d) => {
    if (d.dimValue !== undefined && d.dimValue !== null && Number(d.dimValue) > 0) return Number(d.dimValue);
    return d.dimParam ? d.dimParam : "?";
  });
  return { name: v.name ?? "", type: ELEM_TYPES[t.elemType ?? 0] ?? "unknown", shape };
}

/**
 * Parses ONNX bytes (E_FORMAT when they are not an ONNX model).
 * @internal its onnx-proto type stays out of the published declarations (see GraphBuilder.toModel).
 */
export function parseOnnx(bytes: Uint8Array, source: string): OnnxTypes.ModelProto {
  let m: OnnxTypes.ModelProto;
  try {
    m = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new DeepgenError("E_FORMAT", `${source}: not an ONNX model (${(e as Error).message})`, { cause: e });
  }
  const g = m.graph;
  if (!g || Number(m.irVersion) <= 0 || (g.output ?? []).length === 0) {
    throw new DeepgenError("E_FORMAT", `${source}: not an ONNX model (no IR version or no graph with outputs)`);
  }
  return m;
}

const SHAPE_OPS = new Set(["Reshape", "Transpose", "Identity", "Flatten", "Squeeze", "Unsqueeze"]);

/**
 * For each graph output, the op that computes its values, looking through ops that only
 * move them (Reshape, Transpose, ...): tells e.g. a Tanh output ([-1, 1]) from a Sigmoid one.
 */
function finalOps(g: OnnxTypes.IGraphProto): Record<string, string> {
  const producer = new Map<string, OnnxTypes.INodeProto>();
  for (const n of g.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const out: Record<string, string> = {};
  for (const v of g.output ?? []) {
    let node = producer.get(v.name ?? "");
    for (let hops = 0; node !== undefined && SHAPE_OPS.has(node.opType ?? "") && hops < 100; hops++)
      node = producer.get(node.input?.[0] ?? "");
    out[v.name ?? ""] = node?.opType ?? "";
  }
  return out;
}

/** Maps an onnxruntime failure to create a session: ops it cannot run are E_BACKEND, the rest E_FORMAT. */
function sessionError(e: unknown, source: string): DeepgenError {
  const msg = (e as Error)?.message ?? String(e);
  if (/not a registered function|NOT_IMPLEMENTED|Could not find an implementation|unsupported|opset|domain/i.test(msg)) {
    return new DeepgenError("E_BACKEND", `${source}: onnxruntime-node cannot run this model: ${msg}`, { cause: e });
  }
  return new DeepgenError("E_FORMAT", `${source}: onnxruntime-node rejected this model: ${msg}`, { cause: e });
}

export class OnnxModel {
  private constructor(
    readonly source: string,
    readonly inputs: readonly OnnxValueInfo[],
    readonly outputs: readonly OnnxValueInfo[],
    /** The model's metadata_props. */
    readonly metadataProps: Readonly<Record<string, string>>,
    /** deepgen's metadata (undefined for foreign files). */
    readonly deepgen: DeepgenOnnxMetadata | undefined,
    readonly producer: string,
    readonly opset: number,
    /** Per output, the op computing its values through any reshapes ("Tanh", "Sigmoid", ...; "" when unknown). */
    readonly finalOps: Readonly<Record<string, string>>,
    private session: SessionHost | null,
  ) {}

  /** Loads a file path or ONNX bytes and opens an onnxruntime session. */
  static async load(file: string | Uint8Array, opts: OnnxModelOptions = {}): Promise<OnnxModel> {
    const source = typeof file === "string" ? file : "ONNX bytes";
    let bytes: Uint8Array;
    if (typeof file === "string") {
      try {
        bytes = await readFile(file);
      } catch (e) {
        const code = (e as { code?: string }).code;
        throw new DeepgenError("E_IO", code === "ENOENT" ? `${file}: no such file` : `${file}: cannot read (${(e as Error).message})`, {
          cause: e,
        });
      }
    } else bytes = file;
    const m = parseOnnx(bytes, source);
    const g = m.graph!;
    const initializers = new Set((g.initializer ?? []).map((t) => t.name));
    // Old exports (IR < 4) list initializers among the inputs: they are not feeds.
    const inputs = (g.input ?? []).filter((v) => !initializers.has(v.name ?? "")).map(valueInfo);
    const outputs = (g.output ?? []).map(valueInfo);
    const props: Record<string, string> = {};
    for (const p of m.metadataProps ?? []) if (p.key) props[p.key] = p.value ?? "";
    const deepgen = readDeepgenMetadata(props, source);
    const opset = Number((m.opsetImport ?? []).find((o) => !o.domain || o.domain === "ai.onnx")?.version ?? 0);
    const producer = `${m.producerName ?? ""} ${m.producerVersion ?? ""}`.trim();
    if (opts.isolate !== undefined && typeof opts.isolate !== "boolean")
      throw new DeepgenError("E_ARG", `isolate must be true or false, got ${String(opts.isolate)}`);
    if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 0 && opts.threads <= 1024)) {
      throw new DeepgenError("E_ARG", `threads must be an integer in [0, 1024] (0: onnxruntime's default), got ${opts.threads}`);
    }
    let session: SessionHost;
    try {
      session = await openSession(
        bytes,
        { intraOpNumThreads: opts.threads ?? 0, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" },
        opts.isolate ?? true,
      );
    } catch (e) {
      throw e instanceof SessionCreateError ? sessionError(e, source) : e;
    }
    const model = new OnnxModel(source, inputs, outputs, props, deepgen, producer, opset, finalOps(g), session);
    released.register(model, session, model);
    return model;
  }

  input(name: string): OnnxValueInfo {
    const v = this.inputs.find((i) => i.name === name);
    if (v === undefined)
      throw new DeepgenError("E_ARG", `${this.source}: no input named '${name}' (inputs: ${this.inputs.map((i) => i.name).join(", ")})`);
    return v;
  }

  output(name: string): OnnxValueInfo {
    const v = this.outputs.find((i) => i.name === name);
    if (v === undefined)
      throw new DeepgenError("E_ARG", `${this.source}: no output named '${name}' (outputs: ${this.outputs.map((i) => i.name).join(", ")})`);
    return v;
  }

  /** Checks a feed against the declared input (float32 or int64, rank, fixed dims, data length). */
  private checkFeed(info: OnnxValueInfo, feed: Feed): void {
    const kind = FEED_ARRAYS[info.type];
    if (kind === undefined)
      throw new DeepgenError("E_ARG", `${this.source}: input '${info.name}' is ${info.type}; deepgen feeds float32 and int64 only`);
    if (!(feed.data instanceof kind.array)) throw new DeepgenError("E_ARG", `input '${info.name}' (${info.type}) must be a ${kind.name}`);
    const dims = feed.dims;
    if (!dims.every((d) => Number.isInteger(d) && d >= 0))
      throw new DeepgenError("E_SHAPE", `input '${info.name}': dims [${dims.join(", ")}] must be integers >= 0`);
    if (info.shape.length > 0 && dims.length !== info.shape.length) {
      throw new DeepgenError(
        "E_SHAPE",
        `input '${info.name}' has rank ${info.shape.length} ([${info.shape.join(", ")}]), got dims [${dims.join(", ")}]`,
      );
    }
    info.shape.forEach((s, i) => {
      if (typeof s === "number" && s !== dims[i]) {
        throw new DeepgenError(
          "E_SHAPE",
          `input '${info.name}' must be [${info.shape.join(", ")}], got [${dims.join(", ")}] (dimension ${i} is ${dims[i]}, expected ${s})`,
        );
      }
    });
    const size = dims.reduce((a, b) => a * b, 1);
    if (feed.data.length !== size)
      throw new DeepgenError("E_SHAPE", `input '${info.name}': ${feed.data.length} values for dims [${dims.join(", ")}] (${size})`);
  }

  /**
   * Runs the graph on float32 / int64 feeds (every input, by name); returns the float32 outputs asked
   * for (default all). The session computes on a worker thread, so the event loop keeps
   * turning; `signal` frees the caller at once (onnxruntime finishes the run and its result
   * is dropped). Feeds are copied to the worker: the arrays may be reused right after the call.
   */
  async run(
    feeds: Record<string, Feed>,
    outputs?: readonly string[],
    opts: { signal?: AbortSignal } = {},
  ): Promise<Record<string, FloatFeed>> {
    if (this.session === null) throw new DeepgenError("E_ARG", `${this.source}: the model was disposed`);
    for (const info of this.inputs) {
      const f = feeds[info.name];
      if (f === undefined)
        throw new DeepgenError(
          "E_ARG",
          `${this.source}: missing input '${info.name}' (inputs: ${this.inputs.map((i) => `${i.name} [${i.shape.join(", ")}]`).join(", ")})`,
        );
      this.checkFeed(info, f);
    }
    for (const name of Object.keys(feeds)) this.input(name);
    for (const name of outputs ?? []) this.output(name);
    const hostFeeds: Record<string, HostFeed> = {};
    for (const [name, f] of Object.entries(feeds)) hostFeeds[name] = { data: f.data, dims: [...f.dims] };
    let result: Record<string, HostOutput>;
    try {
      result = await this.session.run(hostFeeds, opts.signal);
    } catch (e) {
      if (e instanceof DeepgenError && e.code === "E_BACKEND")
        throw new DeepgenError("E_BACKEND", `${this.source}: ${e.message}`, { cause: e });
      throw e;
    }
    const out: Record<string, FloatFeed> = {};
    for (const name of outputs ?? this.outputs.map((o) => o.name)) {
      const t = result[name]!;
      if (!(t.data instanceof Float32Array))
        throw new DeepgenError("E_FORMAT", `${this.source}: output '${name}' is ${t.type}, not float32`);
      out[name] = { data: t.data, dims: [...t.dims] };
    }
    return out;
  }

  /** Releases the onnxruntime session and its worker thread now (a collected model releases them too, later). */
  async dispose(): Promise<void> {
    const s = this.session;
    this.session = null;
    released.unregister(this);
    await s?.release();
  }
}
