/**
 * deepgen model files: safetensors whose __metadata__ carries deepgen.model (the family),
 * deepgen.config (JSON) and deepgen.version. Every model's save/load goes through here.
 */
import { DeepgenError } from "../core/errors.js";
import { packageVersion } from "../core/package-root.js";
import {
  readSafetensors,
  readSafetensorsMetadata,
  type SafeTensor,
  type SafetensorsContents,
  type TensorToWrite,
  writeSafetensors,
} from "./safetensors.js";

export interface ModelFile<C = unknown> {
  model: string;
  config: C;
  version: string;
  tensors: Map<string, SafeTensor>;
  metadata: Record<string, string>;
}

export function modelMetadata(model: string, config: unknown, extra: Record<string, string> = {}): Record<string, string> {
  return { ...extra, "deepgen.model": model, "deepgen.config": JSON.stringify(config), "deepgen.version": packageVersion };
}

export async function saveModelFile(
  path: string,
  model: string,
  config: unknown,
  tensors: ReadonlyMap<string, TensorToWrite> | Readonly<Record<string, TensorToWrite>>,
  extraMetadata?: Record<string, string>,
): Promise<void> {
  await writeSafetensors(path, tensors, modelMetadata(model, config, extraMetadata));
}

/** Interprets parsed safetensors as a deepgen model file; `expectModel` checks the family. */
export function asModelFile<C>(contents: SafetensorsContents, source: string, expectModel?: string): ModelFile<C> {
  const meta = contents.metadata;
  const model = meta["deepgen.model"];
  const configJson = meta["deepgen.config"];
  if (model === undefined || configJson === undefined) {
    throw new DeepgenError("E_FORMAT", `${source}: not a deepgen model file (no deepgen.model / deepgen.config metadata)`);
  }
  if (expectModel !== undefined && model !== expectModel) {
    throw new DeepgenError("E_FORMAT", `${source}: holds a '${model}' model, expected '${expectModel}'`);
  }
  let config: C;
  try {
    config = JSON.parse(configJson) as C;
  } catch (e) {
    throw new DeepgenError("E_FORMAT", `${source}: deepgen.config is not valid JSON`, { cause: e });
  }
  checkFinite(contents.tensors, source);
  return { model, config, version: meta["deepgen.version"] ?? "unknown", tensors: contents.tensors, metadata: meta };
}

/**
 * Every float tensor of a model file must be finite: a NaN or infinite weight evaluates to
 * NaN on one backend and to a finite but meaningless number on another (fused kernels clamp
 * differently), so it is refused on load, naming the tensor, instead of scored.
 */
function checkFinite(tensors: ReadonlyMap<string, SafeTensor>, source: string): void {
  for (const [name, t] of tensors) {
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) continue;
    const data = t.data;
    for (let i = 0; i < data.length; i++) {
      const v = data[i]!;
      // v - v is 0 for every finite v and NaN for NaN and +-Infinity: one test per value.
      if (v - v !== 0) {
        throw new DeepgenError("E_FORMAT", `${source}: tensor '${name}' holds ${v} at index ${i}; model weights must be finite`);
      }
    }
  }
}

export async function loadModelFile<C>(path: string, expectModel?: string): Promise<ModelFile<C>> {
  return asModelFile<C>(await readSafetensors(path), path, expectModel);
}

/** The family a model file holds (its deepgen.model), from the file's header alone. */
export async function readModelKind(path: string): Promise<string> {
  const model = (await readSafetensorsMetadata(path))["deepgen.model"];
  if (model === undefined) throw new DeepgenError("E_FORMAT", `${path}: not a deepgen model file (no deepgen.model metadata)`);
  return model;
}

/**
 * A model's configuration as its file holds it, checked by the rule that checks create()'s
 * options (`check(config, source)`): what create() rejects as E_ARG, a file holds as
 * E_FORMAT, so a bad file fails on load and never later in a kernel.
 */
export function fileConfig<C>(file: ModelFile<unknown>, source: string, check: (config: Partial<C>, source: string) => C): C {
  try {
    return check(file.config as Partial<C>, source);
  } catch (e) {
    // create()'s checks name the file already; anything else (a config that is not an object) gets it here.
    const message = e instanceof DeepgenError ? e.message : `${source}: invalid config (${(e as Error).message})`;
    throw new DeepgenError("E_FORMAT", message, { cause: e });
  }
}

/** Reads the model file of family `model` at `path` and checks its configuration (fileConfig). */
export async function readModelFile<C>(
  path: string,
  model: string | undefined,
  check: (config: Partial<C>, source: string) => C,
): Promise<{ file: ModelFile<C>; config: C }> {
  const file = await loadModelFile<C>(path, model);
  return { file, config: fileConfig(file, path, check) };
}

/** A float32 tensor of exactly `shape` from a model file, or E_FORMAT naming what is wrong. */
export function requireF32(file: { tensors: Map<string, SafeTensor> }, name: string, shape: readonly number[]): Float32Array {
  const t = file.tensors.get(name);
  if (t === undefined) throw new DeepgenError("E_FORMAT", `missing tensor '${name}'`);
  if (t.dtype !== "F32") throw new DeepgenError("E_FORMAT", `tensor '${name}' is ${t.dtype}, expected F32`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new DeepgenError("E_FORMAT", `tensor '${name}' has shape [${t.shape.join(", ")}], expected [${shape.join(", ")}]`);
  }
  return t.data as Float32Array;
}
