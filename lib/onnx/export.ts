/**
 * ONNX export of deepgen models: which graphs each family offers, and writing them to disk.
 * A family's exporter lives in its own file (export-<family>.ts) and registers here.
 */
import { DeepgenError } from "../core/errors.js";
import { Aae } from "../models/aae.js";
import { Gan } from "../models/gan.js";
import { Nade } from "../models/nade.js";
import { TextToImage } from "../models/text2image.js";
import { Vae } from "../models/vae.js";
import { atomicWriteFile } from "../io/atomic-write.js";
import { exportAaeDecoder } from "./export-aae.js";
import { exportGanGenerator } from "./export-gan.js";
import { exportNadeLogProb } from "./export-nade.js";
import { exportText2ImageGenerator } from "./export-text2image.js";
import { exportVaeDecoder, exportVaeEncoder, type RunInfo } from "./export-vae.js";
import type { GraphRole } from "./metadata.js";

export type { RunInfo };

export interface ExportOptions extends RunInfo {
  /** Which graph: default the family's first (generator for VAE / AAE, density for NADE). */
  graph?: GraphRole;
}

type Exporter = (model: never, run: RunInfo) => Uint8Array;

/** Graphs by family, the default first. */
const EXPORTERS: Array<{ is: (m: unknown) => boolean; family: string; graphs: Partial<Record<GraphRole, Exporter>> }> = [
  {
    is: (m) => m instanceof Vae,
    family: "vae",
    graphs: { generator: exportVaeDecoder as Exporter, encoder: exportVaeEncoder as Exporter },
  },
  { is: (m) => m instanceof Aae, family: "aae", graphs: { generator: exportAaeDecoder as Exporter } },
  { is: (m) => m instanceof Nade, family: "nade", graphs: { density: exportNadeLogProb as Exporter } },
  { is: (m) => m instanceof Gan, family: "gan", graphs: { generator: exportGanGenerator as Exporter } },
  { is: (m) => m instanceof TextToImage, family: "text2image", graphs: { generator: exportText2ImageGenerator as Exporter } },
];

/** The graphs a model can be exported as (the default first); [] when none. */
export function exportableGraphs(model: unknown): GraphRole[] {
  const e = EXPORTERS.find((x) => x.is(model));
  return e === undefined ? [] : (Object.keys(e.graphs) as GraphRole[]);
}

/** Serialized ONNX model (opset 17, IR 8) of one graph of `model`. */
export function exportOnnx(model: unknown, opts: ExportOptions = {}): Uint8Array {
  const e = EXPORTERS.find((x) => x.is(model));
  const kind = (model as { kind?: string } | null)?.kind ?? typeof model;
  if (e === undefined)
    throw new DeepgenError(
      "E_ARG",
      `ONNX export is not available for '${kind}' models (exportable: ${EXPORTERS.map((x) => x.family).join(", ")})`,
    );
  const graph = opts.graph ?? (Object.keys(e.graphs)[0] as GraphRole);
  const fn = e.graphs[graph];
  if (fn === undefined)
    throw new DeepgenError("E_ARG", `a ${e.family} model has no '${graph}' graph to export (it has: ${Object.keys(e.graphs).join(", ")})`);
  const run: RunInfo = {};
  if (opts.data !== undefined) run.data = opts.data;
  if (opts.metrics !== undefined) run.metrics = opts.metrics;
  return fn(model as never, run);
}

/** Exports and writes atomically (a failed write never destroys an existing file). */
export async function writeOnnx(path: string, model: unknown, opts: ExportOptions = {}): Promise<number> {
  const bytes = exportOnnx(model, opts);
  await atomicWriteFile(path, [bytes]);
  return bytes.length;
}
