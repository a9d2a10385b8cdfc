/**
 * The models a server answers for: what it loads (a folder of .safetensors files, or shipped
 * names and paths, or model objects handed over by a program) and what /v1/models says of each.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { basename, join } from "node:path";

import { DeepgenError } from "../core/errors.js";
import type { BackendName } from "../kernels/kernels.js";
import type { BatchSampler } from "../models/batch.js";
import { loadSampler, resolveModelPath } from "../models/registry.js";

/** Any model deepgen can sample (density models, VAE, AAE, GANs): all of them batch their samples. */
export type ServableModel = Awaited<ReturnType<typeof loadSampler>> & BatchSampler;

/** Where a server's models come from. */
export type ModelSource =
  /** Every *.safetensors file of a folder, named by its file name without the extension. */
  | { dir: string }
  /** Shipped names ('nade') or file paths; a path is named by its file name without the extension. */
  | { names: string[] }
  /** Models already in memory, by name (reload keeps them). */
  | { models: Record<string, ServableModel> };

export interface LoadedModel {
  name: string;
  /** The file it came from (absent for a model handed over in memory). */
  path?: string;
  model: ServableModel;
  height: number;
  width: number;
  /** The numeric metrics of its model card (models/<name>.card.json beside the file), if any. */
  card?: Record<string, number | string>;
}

export interface LoadReport {
  loaded: string[];
  failed: { name: string; error: string }[];
}

/** A model's image side: its config's height and width, else a square, else one row. */
export function servedImageShape(model: ServableModel): [number, number] {
  const c = (model as { config?: { height?: number; width?: number } }).config;
  if (c?.height !== undefined && c.width !== undefined) return [c.height, c.width];
  const side = Math.round(Math.sqrt(model.dim));
  return side * side === model.dim ? [side, side] : [1, model.dim];
}

function nameOf(source: string): string {
  return basename(source).replace(/\.safetensors$/, "");
}

/** The scalar fields of a model card (its metrics, data and command), without histories. */
async function readCard(path: string): Promise<Record<string, number | string> | undefined> {
  const file = path.replace(/\.safetensors$/, ".card.json");
  if (file === path || !existsSync(file)) return undefined;
  try {
    const card = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    const out: Record<string, number | string> = {};
    for (const [k, v] of Object.entries(card)) if (typeof v === "number" || typeof v === "string") out[k] = v;
    return out;
  } catch {
    return undefined; // a broken card never keeps a model from serving
  }
}

function entry(
  name: string,
  model: Awaited<ReturnType<typeof loadSampler>>,
  path?: string,
  card?: Record<string, number | string>,
): LoadedModel {
  if (typeof (model as Partial<BatchSampler>).sampleBatch !== "function")
    throw new DeepgenError("E_ARG", `model '${name}' (${model.kind}) has no sampleBatch and cannot be served`);
  const [height, width] = servedImageShape(model as ServableModel);
  return {
    name,
    model: model as ServableModel,
    height,
    width,
    ...(path === undefined ? {} : { path }),
    ...(card === undefined ? {} : { card }),
  };
}

/** Loads one file (or shipped name) with its card. */
export async function loadOne(name: string, source: string, backend?: BackendName): Promise<LoadedModel> {
  const path = resolveModelPath(source);
  const model = await loadSampler(path, { backend });
  return entry(name, model, path, await readCard(path));
}

/** The (name, file) pairs a source names now: a folder is listed again on every call. */
async function listSource(source: ModelSource): Promise<[string, string][]> {
  if ("models" in source) return [];
  if ("names" in source) return source.names.map((s) => [nameOf(s), s]);
  let files: string[];
  try {
    files = await readdir(source.dir);
  } catch (e) {
    throw new DeepgenError("E_IO", `cannot list the model folder ${source.dir}: ${(e as Error).message}`);
  }
  return files
    .filter((f) => f.endsWith(".safetensors"))
    .sort()
    .map((f) => [nameOf(f), join(source.dir, f)]);
}

/**
 * Loads (or reloads) every model of `source`. A model that fails to load keeps its previous
 * version from `current` when there is one, and is reported; one whose file has gone is dropped.
 */
export async function loadModels(
  source: ModelSource,
  current: ReadonlyMap<string, LoadedModel>,
  backend: BackendName | undefined,
  log: (msg: string, err?: unknown) => void = () => {},
): Promise<{ models: Map<string, LoadedModel>; report: LoadReport }> {
  const models = new Map<string, LoadedModel>();
  const report: LoadReport = { loaded: [], failed: [] };
  if ("models" in source) {
    for (const [name, model] of Object.entries(source.models)) models.set(name, current.get(name) ?? entry(name, model));
    report.loaded.push(...models.keys());
    return { models, report };
  }
  for (const [name, file] of await listSource(source)) {
    try {
      models.set(name, await loadOne(name, file, backend));
      report.loaded.push(name);
    } catch (e) {
      const old = current.get(name);
      if (old !== undefined) models.set(name, old);
      report.failed.push({ name, error: (e as Error).message });
      log(`model ${name} (${file}) failed to load${old ? "; keeping the loaded version" : ""}`, e);
    }
  }
  return { models, report };
}
