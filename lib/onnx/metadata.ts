/**
 * The metadata deepgen writes into an ONNX model's metadata_props (string -> string), and
 * reads back from any ONNX file (foreign files simply have none of these keys):
 *
 *   deepgen.version   package version that exported the graph
 *   deepgen.model     family: vae, aae, nade (later gan, dcgan, ...)
 *   deepgen.graph     which graph of the model: generator | density | encoder
 *   deepgen.config    the model's config (JSON, as in its safetensors file)
 *   deepgen.data      the data the model was trained on (e.g. the canonical split)
 *   deepgen.metrics   measured results (JSON object of numbers), e.g. from the model card
 *   deepgen.latent    how the native model draws z (JSON LatentSpec), so a runner draws the same z
 *   deepgen.image     output image layout and range (JSON ImageSpec)
 *
 * Graphs that read captions as token ids also carry what a caller needs to make those ids
 * without deepgen (CaptionSpec):
 *
 *   deepgen.vocabulary      the words in id order (JSON list of strings)
 *   deepgen.caption_length  token ids per caption (decimal)
 *   deepgen.tokenization    how a caption becomes ids, in words
 */
import { DeepgenError } from "../core/errors.js";
import { packageVersion } from "../core/package-root.js";
import { PRIORS, type PriorKind } from "../models/priors.js";

export type GraphRole = "generator" | "density" | "encoder";

/**
 * How z is drawn from a seed:
 *   "flat":  philoxFill(z [n * zdim], seed, stream, "normal") (the VAE's sampleSync);
 *            with `codes` K (an InfoGAN code), each row is zdim - K of those normal draws
 *            then a one-hot code from codeStream (lib/models/gan-codes.ts fillLatent);
 *   "prior": samplePrior(prior, n, zdim, seed, stream) (the AAE's; rows of zdim + 1 draws).
 */
export interface LatentSpec {
  draw: "flat" | "prior";
  prior: PriorKind;
  stream: number;
  codes?: number;
  codeStream?: number;
}

export type ImageLayout = "NCHW" | "NHWC";
export type ImageRange = "0,1" | "-1,1";

export interface ImageSpec {
  layout: ImageLayout;
  range: ImageRange;
}

/** How captions become the token ids a graph reads. */
export interface CaptionSpec {
  vocabulary: string[];
  length: number;
  tokenization: string;
}

export interface ExportInfo {
  model: string;
  graph: GraphRole;
  config: unknown;
  data?: string;
  metrics?: Record<string, number>;
  latent?: LatentSpec;
  image?: ImageSpec;
  captions?: CaptionSpec;
}

export interface DeepgenOnnxMetadata extends ExportInfo {
  version: string;
}

export function onnxMetadata(info: ExportInfo): Record<string, string> {
  const m: Record<string, string> = {
    "deepgen.version": packageVersion,
    "deepgen.model": info.model,
    "deepgen.graph": info.graph,
    "deepgen.config": JSON.stringify(info.config),
  };
  if (info.data !== undefined) m["deepgen.data"] = info.data;
  if (info.metrics !== undefined) m["deepgen.metrics"] = JSON.stringify(info.metrics);
  if (info.latent !== undefined) m["deepgen.latent"] = JSON.stringify(info.latent);
  if (info.image !== undefined) m["deepgen.image"] = JSON.stringify(info.image);
  if (info.captions !== undefined) {
    m["deepgen.vocabulary"] = JSON.stringify(info.captions.vocabulary);
    m["deepgen.caption_length"] = String(info.captions.length);
    m["deepgen.tokenization"] = info.captions.tokenization;
  }
  return m;
}

function json<T>(props: Record<string, string>, key: string, source: string): T | undefined {
  const raw = props[key];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as T;
  } catch (e) {
    throw new DeepgenError("E_FORMAT", `${source}: metadata ${key} is not valid JSON`, { cause: e });
  }
}

/** deepgen's metadata of a model, or undefined when the file was not exported by deepgen. */
export function readDeepgenMetadata(props: Record<string, string>, source: string): DeepgenOnnxMetadata | undefined {
  const model = props["deepgen.model"];
  if (model === undefined) return undefined;
  const graph = props["deepgen.graph"];
  if (graph !== "generator" && graph !== "density" && graph !== "encoder") {
    throw new DeepgenError("E_FORMAT", `${source}: metadata deepgen.graph is '${String(graph)}', expected generator, density or encoder`);
  }
  const out: DeepgenOnnxMetadata = {
    version: props["deepgen.version"] ?? "unknown",
    model,
    graph,
    config: json(props, "deepgen.config", source) ?? null,
  };
  if (props["deepgen.data"] !== undefined) out.data = props["deepgen.data"];
  const metrics = json<Record<string, number>>(props, "deepgen.metrics", source);
  if (metrics !== undefined) out.metrics = metrics;
  const latent = json<LatentSpec>(props, "deepgen.latent", source);
  if (latent !== undefined) out.latent = checkLatent(latent, source);
  const image = json<ImageSpec>(props, "deepgen.image", source);
  if (image !== undefined) out.image = checkImage(image, source);
  const captions = readCaptions(props, source);
  if (captions !== undefined) out.captions = captions;
  return out;
}

/** The caption keys, all three or none (ids made with a partial spec would be silently wrong). */
function readCaptions(props: Record<string, string>, source: string): CaptionSpec | undefined {
  const keys = ["deepgen.vocabulary", "deepgen.caption_length", "deepgen.tokenization"];
  const present = keys.filter((k) => props[k] !== undefined);
  if (present.length === 0) return undefined;
  if (present.length < keys.length)
    throw new DeepgenError(
      "E_FORMAT",
      `${source}: metadata has ${present.join(", ")} but not ${keys.filter((k) => !present.includes(k)).join(", ")}`,
    );
  const vocabulary = json<unknown>(props, "deepgen.vocabulary", source);
  if (!Array.isArray(vocabulary) || vocabulary.length === 0 || !vocabulary.every((w) => typeof w === "string"))
    throw new DeepgenError("E_FORMAT", `${source}: metadata deepgen.vocabulary is not a non-empty JSON list of strings`);
  const raw = props["deepgen.caption_length"]!;
  const length = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !(length >= 1 && length <= 4096))
    throw new DeepgenError("E_FORMAT", `${source}: metadata deepgen.caption_length '${raw}' is not an integer in [1, 4096]`);
  return { vocabulary: vocabulary as string[], length, tokenization: props["deepgen.tokenization"]! };
}

/** A latent spec from a file, every field checked (a wrong one would draw other z silently). */
function checkLatent(l: LatentSpec, source: string): LatentSpec {
  const ok =
    typeof l === "object" &&
    l !== null &&
    (l.draw === "flat" || l.draw === "prior") &&
    (PRIORS as readonly string[]).includes(l.prior) &&
    Number.isInteger(l.stream) &&
    l.stream >= 0 &&
    l.stream <= 0xffffffff;
  const uint32 = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff;
  const coded = ok && l.codes !== undefined;
  if (!ok || (coded && !(l.draw === "flat" && Number.isInteger(l.codes) && l.codes! >= 2 && uint32(l.codeStream)))) {
    throw new DeepgenError(
      "E_FORMAT",
      `${source}: metadata deepgen.latent ${JSON.stringify(l)} is not {draw: flat|prior, prior: ${PRIORS.join("|")}, stream: uint32[, codes: >= 2 (flat), codeStream: uint32]}`,
    );
  }
  return coded
    ? { draw: l.draw, prior: l.prior, stream: l.stream, codes: l.codes, codeStream: l.codeStream }
    : { draw: l.draw, prior: l.prior, stream: l.stream };
}

/** An image spec from a file, every field checked (a wrong layout would transpose silently). */
function checkImage(i: ImageSpec, source: string): ImageSpec {
  const ok =
    typeof i === "object" && i !== null && (i.layout === "NCHW" || i.layout === "NHWC") && (i.range === "0,1" || i.range === "-1,1");
  if (!ok)
    throw new DeepgenError(
      "E_FORMAT",
      `${source}: metadata deepgen.image ${JSON.stringify(i)} is not {layout: NCHW|NHWC, range: "0,1"|"-1,1"}`,
    );
  return { layout: i.layout, range: i.range };
}

/**
 * What a model card (models/<name>.card.json) says about data and results: its `data`
 * string and every top-level finite number (test metrics, sizes, epochs).
 */
export function cardInfo(card: Record<string, unknown>): { data?: string; metrics: Record<string, number> } {
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(card)) if (typeof v === "number" && Number.isFinite(v)) metrics[k] = v;
  return typeof card.data === "string" ? { data: card.data, metrics } : { metrics };
}
