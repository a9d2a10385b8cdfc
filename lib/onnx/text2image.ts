/**
 * OnnxTextToImage: images of captions from deepgen's ONNX export of a text-to-image model
 * (lib/onnx/export-text2image.ts), under onnxruntime-node. Captions are tokenized as
 * TextToImage tokenizes them and z is drawn as TextToImage.latentRows draws it (the Philox
 * stream in the file's metadata, row i for image i), so the same captions and seed give the
 * native model's images.
 */
import { checkOptions, optionKeys } from "../core/check.js";
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { captionRows, tokenizeAll, VOCABULARY } from "../data/caption-tokens.js";
import { OnnxGenerator } from "./generator.js";
import type { CaptionSpec } from "./metadata.js";
import { OnnxModel, type OnnxModelOptions } from "./model.js";

export interface OnnxTextToImageGenerateOptions {
  /** Images per caption when one caption is given (default 1); with a list, one image per caption. */
  n?: number;
  seed?: Seed;
}

export interface OnnxTextToImageImages {
  /** [n, H * W] grayscale in [0, 1], row i showing captions[i]. */
  x: Float32Array;
  n: number;
  height: number;
  width: number;
  /** The normalized caption of each row. */
  captions: string[];
}

const GENERATE_KEYS = optionKeys<OnnxTextToImageGenerateOptions>({ n: true, seed: true });

export class OnnxTextToImage {
  private constructor(
    readonly generator: OnnxGenerator,
    readonly captionSpec: CaptionSpec,
  ) {}

  static async load(file: string | Uint8Array, opts: OnnxModelOptions = {}): Promise<OnnxTextToImage> {
    const model = await OnnxModel.load(file, opts);
    try {
      return OnnxTextToImage.fromModel(model);
    } catch (e) {
      await model.dispose();
      throw e;
    }
  }

  /** Checks an opened model: deepgen's text-to-image export, whose words are this version's. */
  static fromModel(model: OnnxModel): OnnxTextToImage {
    const src = model.source;
    const spec = model.deepgen?.captions;
    if (spec === undefined)
      throw new DeepgenError(
        "E_ARG",
        `${src}: not a text-to-image export (no deepgen.vocabulary / caption_length metadata); deepgen export writes one from a text2image model`,
      );
    // Ids come from this version's tokenizer: a file with other words would read them as other words.
    if (spec.vocabulary.join(" ") !== VOCABULARY.join(" "))
      throw new DeepgenError("E_FORMAT", `${src}: the vocabulary differs from this version's MNIST-Captions-60 vocabulary`);
    const tokens = model.input("tokens");
    if (tokens.type !== "int64" || tokens.shape.length !== 2 || tokens.shape[1] !== spec.length)
      throw new DeepgenError(
        "E_FORMAT",
        `${src}: input 'tokens' is ${tokens.type} [${tokens.shape.join(", ")}]; expected int64 [N, ${spec.length}] (deepgen.caption_length)`,
      );
    return new OnnxTextToImage(OnnxGenerator.fromModel(model, { input: "z", output: "images" }), spec);
  }

  get zDim(): number {
    return this.generator.zDim;
  }

  /** Images of a caption (n of them) or of each caption of a list: TextToImage.generate's for the same seed. */
  async generate(captions: string | readonly string[], options?: OnnxTextToImageGenerateOptions): Promise<OnnxTextToImageImages> {
    const opts = checkOptions("OnnxTextToImage.generate", options, GENERATE_KEYS);
    const rows = captionRows("OnnxTextToImage.generate", captions, opts.n);
    const n = rows.length;
    const L = this.captionSpec.length;
    const ids = tokenizeAll(rows, L);
    const tokens = new BigInt64Array(ids.length);
    for (let i = 0; i < ids.length; i++) tokens[i] = BigInt(ids[i]!);
    const z = this.generator.drawZ(n, opts.seed ?? 0);
    const r = await this.generator.generate(z, n, { tokens: { data: tokens, dims: [n, L] } });
    return { x: r.images, n, height: r.height, width: r.width, captions: rows };
  }

  dispose(): Promise<void> {
    return this.generator.dispose();
  }
}
