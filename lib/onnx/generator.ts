/**
 * OnnxGenerator: an image generator in any ONNX file: one float32 input z of shape [N, zdim]
 * (or [N, zdim, 1, 1], as PyTorch DCGAN exports take it; other inputs are conditions, e.g. a
 * caption embedding, that the caller feeds) and an image-shaped output
 * ([N, C, H, W] or [N, H, W, C]; [N, H, W]; [N, D] with D a square), values in [-1, 1] or
 * [0, 1]. sample(n, { seed }) draws z with Philox exactly as deepgen's models do (for a file
 * exported by deepgen, as that model's sample(); otherwise as Vae.sample: a flat standard-normal
 * fill on stream 0x5a), so a model and its export give the same images for the same seed.
 *
 * Layout and range come, in this order, from the options, deepgen's metadata, the graph (the
 * op computing the output: Tanh -> [-1, 1], Sigmoid -> [0, 1]; channels 1 / 3 / 4 on one side,
 * the fewer when both sides could be channels, NCHW when neither), and last from the values of each batch (any value < 0 -> [-1, 1]).
 */
import { checkInteger } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { getKernels } from "../kernels/backend.js";
import { fillLatent } from "../models/gan-codes.js";
import { samplePrior } from "../models/priors.js";
import type { ImageLayout, ImageRange, LatentSpec } from "./metadata.js";
import { type Feed, type OnnxModelOptions, OnnxModel, type OnnxValueInfo } from "./model.js";

/** The default z draw: Vae.sample's (flat N(0, I) fill, stream 0x5a). */
export const DEFAULT_LATENT: LatentSpec = { draw: "flat", prior: "gaussian", stream: 0x5a };

export interface OnnxGeneratorOptions extends OnnxModelOptions {
  /** Name of the z input (default: the only input). */
  input?: string;
  /** Name of the image output (default: "images" if present, else the only / first output). */
  output?: string;
  /** Output layout (4-D outputs); default detected. */
  layout?: ImageLayout;
  /** Output range; default detected. */
  range?: ImageRange;
}

export interface GeneratedImages {
  /** [n, C, H, W], values in [0, 1]. */
  images: Float32Array;
  n: number;
  channels: number;
  height: number;
  width: number;
  /** The range the raw output was read as, and how that was decided. */
  range: ImageRange;
  rangeSource: "option" | "metadata" | "graph" | "values";
}

type Source = "option" | "metadata" | "graph" | "values";

const CHANNEL_COUNTS = new Set([1, 3, 4]);

export class OnnxGenerator {
  readonly zDim: number;
  /** Rank of the z input: 2 ([N, zdim]) or 4 ([N, zdim, 1, 1]). */
  readonly zRank: 2 | 4;
  readonly latent: LatentSpec;
  readonly layout: ImageLayout;
  readonly layoutSource: Source;
  private constructor(
    readonly model: OnnxModel,
    readonly inputName: string,
    readonly outputName: string,
    zDim: number,
    zRank: 2 | 4,
    layout: { value: ImageLayout; source: Source },
    private readonly fixedRange: { value: ImageRange; source: Source } | undefined,
  ) {
    this.zDim = zDim;
    this.zRank = zRank;
    this.latent = model.deepgen?.latent ?? DEFAULT_LATENT;
    this.layout = layout.value;
    this.layoutSource = layout.source;
  }

  static async load(file: string | Uint8Array, opts: OnnxGeneratorOptions = {}): Promise<OnnxGenerator> {
    const model = await OnnxModel.load(file, opts);
    try {
      return OnnxGenerator.fromModel(model, opts);
    } catch (e) {
      await model.dispose();
      throw e;
    }
  }

  /** Checks the signature of an opened model (E_ARG when it is not a z -> image generator). */
  static fromModel(model: OnnxModel, opts: OnnxGeneratorOptions = {}): OnnxGenerator {
    const src = model.source;
    const sig = `inputs ${describe(model.inputs)}; outputs ${describe(model.outputs)}`;
    const role = model.deepgen?.graph;
    if (role !== undefined && role !== "generator") {
      throw new DeepgenError(
        "E_ARG",
        `${src}: this is the ${role} graph of a deepgen ${model.deepgen!.model} model, not a generator (use OnnxModel to run it)`,
      );
    }
    // z: the named input, else the only one, else one called "z"; any other inputs are conditions fed by the caller.
    const input =
      opts.input !== undefined
        ? model.input(opts.input)
        : model.inputs.length === 1
          ? model.inputs[0]!
          : model.inputs.find((i) => i.name === "z");
    if (input === undefined) {
      throw new DeepgenError(
        "E_ARG",
        `${src}: unsupported input signature for a generator (${sig}); OnnxGenerator needs one float32 input z [N, zdim] (name it with the input option when there are condition inputs; OnnxModel runs any graph)`,
      );
    }
    const s = input.shape;
    const zRank = s.length === 2 ? 2 : s.length === 4 && s[2] === 1 && s[3] === 1 ? 4 : 0;
    if (input.type !== "float32" || zRank === 0 || typeof s[1] !== "number") {
      throw new DeepgenError(
        "E_ARG",
        `${src}: unsupported input signature for a generator: '${input.name}' is ${input.type} [${s.join(", ")}]; needs float32 [N, zdim] (or [N, zdim, 1, 1]) with a fixed zdim`,
      );
    }
    const outName = opts.output ?? (model.outputs.some((o) => o.name === "images") ? "images" : model.outputs[0]!.name);
    const out = model.output(outName);
    if (out.type !== "float32") throw new DeepgenError("E_ARG", `${src}: output '${out.name}' is ${out.type}; images must be float32`);
    // An unknown output rank (some exporters leave it out) is checked on the first batch instead.
    const flat = out.shape.length === 2 && typeof out.shape[1] === "number" ? out.shape[1] : undefined;
    if (
      (out.shape.length !== 0 && ![2, 3, 4].includes(out.shape.length)) ||
      (flat !== undefined && Math.round(Math.sqrt(flat)) ** 2 !== flat)
    ) {
      throw new DeepgenError(
        "E_ARG",
        `${src}: output '${out.name}' [${out.shape.join(", ")}] is not image-shaped ([N, C, H, W], [N, H, W, C], [N, H, W] or [N, H*W] with a square H*W)`,
      );
    }
    const layout = opts.layout !== undefined ? { value: opts.layout, source: "option" as Source } : detectLayout(model, out);
    let range: { value: ImageRange; source: Source } | undefined;
    if (opts.range !== undefined) range = { value: opts.range, source: "option" };
    else if (model.deepgen?.image?.range !== undefined) range = { value: model.deepgen.image.range, source: "metadata" };
    else {
      const op = model.finalOps[out.name];
      if (op === "Tanh") range = { value: "-1,1", source: "graph" };
      else if (op === "Sigmoid") range = { value: "0,1", source: "graph" };
    }
    return new OnnxGenerator(model, input.name, out.name, s[1], zRank as 2 | 4, layout, range);
  }

  /** z [n, zdim] as the native model draws it for this seed. */
  drawZ(n: number, seed: Seed): Float32Array {
    checkInteger("n", n, 0);
    const spec = this.latent;
    if (spec.draw === "prior") return samplePrior(spec.prior, n, this.zDim, seed, spec.stream);
    if (spec.prior !== "gaussian")
      throw new DeepgenError("E_FORMAT", `${this.model.source}: a flat latent draw needs the gaussian prior, metadata says ${spec.prior}`);
    const z = new Float32Array(n * this.zDim);
    const K = spec.codes ?? 0;
    if (K >= this.zDim)
      throw new DeepgenError("E_FORMAT", `${this.model.source}: metadata says ${K} code values, but z has only ${this.zDim}`);
    fillLatent(getKernels("js"), z, n, this.zDim - K, K, seed, { noise: spec.stream, code: spec.codeStream ?? 0 });
    return z;
  }

  /** Inputs other than z (conditions such as a caption embedding), which generate / sample need as feeds. */
  get conditionInputs(): OnnxValueInfo[] {
    return this.model.inputs.filter((i) => i.name !== this.inputName);
  }

  /** Images of the codes z [n, zdim] (plus the condition inputs' feeds, by name, when the graph has any). */
  async generate(z: Float32Array, n = z.length / this.zDim, conditions: Record<string, Feed> = {}): Promise<GeneratedImages> {
    if (!Number.isInteger(n) || n < 1 || z.length !== n * this.zDim) {
      throw new DeepgenError(
        "E_SHAPE",
        `${this.model.source}: z must hold n x ${this.zDim} values (zdim = ${this.zDim}), got ${z.length}${Number.isInteger(n) ? ` for n = ${n}` : ""}`,
      );
    }
    const dims = this.zRank === 2 ? [n, this.zDim] : [n, this.zDim, 1, 1];
    if (this.inputName in conditions) throw new DeepgenError("E_ARG", `'${this.inputName}' is the z input, not a condition`);
    const r = await this.model.run({ ...conditions, [this.inputName]: { data: z, dims } }, [this.outputName]);
    return this.toImages(r[this.outputName]!.data, r[this.outputName]!.dims, n);
  }

  /** n images from Philox z draws of `seed` (the same z as the native model's sample). */
  async sample(n: number, opts: { seed: Seed; conditions?: Record<string, Feed> }): Promise<GeneratedImages & { z: Float32Array }> {
    checkInteger("n", n, 1);
    const z = this.drawZ(n, opts.seed);
    return { ...(await this.generate(z, n, opts.conditions)), z };
  }

  private toImages(raw: Float32Array, dims: readonly number[], n: number): GeneratedImages {
    if (dims[0] !== n) throw new DeepgenError("E_SHAPE", `${this.model.source}: output batch is ${dims[0]}, fed ${n}`);
    let c: number;
    let h: number;
    let w: number;
    if (dims.length === 4) [c, h, w] = this.layout === "NCHW" ? [dims[1]!, dims[2]!, dims[3]!] : [dims[3]!, dims[1]!, dims[2]!];
    else if (dims.length === 3) [c, h, w] = [1, dims[1]!, dims[2]!];
    else {
      const side = Math.round(Math.sqrt(dims[1]!));
      if (dims.length !== 2 || side * side !== dims[1])
        throw new DeepgenError("E_SHAPE", `${this.model.source}: output [${dims.join(", ")}] is not image-shaped`);
      [c, h, w] = [1, side, side];
    }
    const size = c * h * w;
    const images = new Float32Array(n * size);
    if (dims.length === 4 && this.layout === "NHWC") {
      for (let i = 0; i < n; i++)
        for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) images[i * size + ch * h * w + p] = raw[i * size + p * c + ch]!;
    } else images.set(raw.subarray(0, n * size));
    let range = this.fixedRange;
    if (range === undefined) {
      let min = Infinity;
      for (const v of images) if (v < min) min = v;
      range = { value: min < 0 ? "-1,1" : "0,1", source: "values" };
    }
    if (range.value === "-1,1") for (let i = 0; i < images.length; i++) images[i] = (images[i]! + 1) / 2;
    for (let i = 0; i < images.length; i++) images[i] = Math.min(1, Math.max(0, images[i]!));
    return { images, n, channels: c, height: h, width: w, range: range.value, rangeSource: range.source };
  }

  dispose(): Promise<void> {
    return this.model.dispose();
  }
}

function describe(vs: readonly OnnxValueInfo[]): string {
  return vs.map((v) => `${v.name} ${v.type} [${v.shape.join(", ")}]`).join(", ") || "none";
}

function detectLayout(model: OnnxModel, out: OnnxValueInfo): { value: ImageLayout; source: Source } {
  const meta = model.deepgen?.image?.layout;
  if (meta !== undefined) return { value: meta, source: "metadata" };
  const s = out.shape;
  if (s.length === 4) {
    const first = typeof s[1] === "number" && CHANNEL_COUNTS.has(s[1]);
    const last = typeof s[3] === "number" && CHANNEL_COUNTS.has(s[3]);
    // Channels (1, 3 or 4) on one side only decide; on both sides ([N, 4, 5, 3]) the fewer channels win.
    if (last && (!first || (s[3] as number) < (s[1] as number))) return { value: "NHWC", source: "graph" };
  }
  return { value: "NCHW", source: "graph" };
}
