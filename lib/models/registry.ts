/** Loads any deepgen model file by its deepgen.model metadata; names shipped models. */
import { existsSync } from "node:fs";
import { join } from "node:path";

import { DeepgenError } from "../core/errors.js";
import { packageRoot } from "../core/package-root.js";
import { asModelFile } from "../io/model-file.js";
import { readSafetensors } from "../io/safetensors.js";
import type { BackendName } from "../kernels/kernels.js";
import { IndependentBernoulli, MarkovChain } from "./baselines.js";
import type { DensityModel } from "./density.js";
import { Nade } from "./nade.js";
import { Rnade } from "./rnade.js";
import { PixelRnn } from "./pixelrnn.js";
import { Vae } from "./vae.js";
import { Aae } from "./aae.js";

/** Shipped pretrained models, by short name (models/<file>). */
export const SHIPPED_MODELS: Record<string, string> = {
  nade: "nade-mnist.safetensors",
  rnade: "rnade-mnist.safetensors",
  rowlstm: "rowlstm-mnist.safetensors",
  diagbilstm: "diagbilstm-mnist.safetensors",
  vae: "vae-mnist.safetensors",
  aae: "aae-mnist-mog10.safetensors",
};

/** A path, or the name of a shipped model ('nade' -> models/nade-mnist.safetensors). */
export function resolveModelPath(nameOrPath: string): string {
  const shipped = SHIPPED_MODELS[nameOrPath];
  if (shipped !== undefined && !existsSync(nameOrPath)) {
    const p = join(packageRoot, "models", shipped);
    if (!existsSync(p)) throw new DeepgenError("E_IO", `the shipped model '${nameOrPath}' (${p}) is missing from this installation`);
    return p;
  }
  return nameOrPath;
}

export async function loadModel(nameOrPath: string, opts: { backend?: BackendName } = {}): Promise<DensityModel> {
  const path = resolveModelPath(nameOrPath);
  const kind = asModelFile(await readSafetensors(path), path).model;
  switch (kind) {
    case "nade":
      return Nade.load(path, opts);
    case "bernoulli":
      return IndependentBernoulli.load(path);
    case "markov":
      return MarkovChain.load(path);
    case "rnade":
      return Rnade.load(path, opts);
    case "rowlstm":
    case "diagbilstm":
      return PixelRnn.load(path, opts);
    case "vae":
      return Vae.load(path, opts);
    case "aae":
      throw new DeepgenError("E_ARG", `${path}: an adversarial autoencoder has no likelihood; it can be sampled, plotted and interpolated`);
    default:
      throw new DeepgenError("E_FORMAT", `${path}: model kind '${kind}' is not supported by this version of deepgen`);
  }
}

/** Any model that can be sampled: the density models and the adversarial autoencoder. */
export async function loadSampler(nameOrPath: string, opts: { backend?: BackendName } = {}): Promise<DensityModel | Aae> {
  const path = resolveModelPath(nameOrPath);
  const kind = asModelFile(await readSafetensors(path), path).model;
  return kind === "aae" ? Aae.load(path, opts) : loadModel(path, opts);
}
