/** Loads any deepgen model file by its deepgen.model metadata; names shipped models. */
import { existsSync } from "node:fs";

import { DeepgenError } from "../core/errors.js";
import { modelsPackageFile } from "../core/models-package.js";
import { loadModelFile } from "../io/model-file.js";
import type { BackendName } from "../kernels/kernels.js";
import { IndependentBernoulli, MarkovChain } from "./baselines.js";
import type { DensityModel } from "./density.js";
import { Nade } from "./nade.js";
import { Rnade } from "./rnade.js";
import { PixelRnn } from "./pixelrnn.js";
import { Vae } from "./vae.js";
import { Aae } from "./aae.js";
import { Gan } from "./gan.js";

/** Shipped pretrained models, by short name (models/<file> of the models package). */
export const SHIPPED_MODELS: Record<string, string> = {
  nade: "nade-mnist.safetensors",
  rnade: "rnade-mnist.safetensors",
  rowlstm: "rowlstm-mnist.safetensors",
  diagbilstm: "diagbilstm-mnist.safetensors",
  vae: "vae-mnist.safetensors",
  aae: "aae-mnist-mog10.safetensors",
  dcgan: "dcgan-mnist.safetensors",
  "dcgan-conditional": "dcgan-mnist-conditional.safetensors",
  classifier: "mnist-classifier.safetensors",
  "caption-judge": "mnist-captions-judge.safetensors",
  text2image: "text2image-mnist-captions.safetensors",
};

/**
 * The shipped models that `loadSampler` draws images from unconditionally: all but the judges
 * of samples and the caption-conditioned models (which `deepgen generate` draws from).
 */
export function shippedSamplerNames(): string[] {
  const notSamplers = new Set(["classifier", "caption-judge", "text2image"]);
  return Object.keys(SHIPPED_MODELS).filter((name) => !notSamplers.has(name));
}

/** Shipped ONNX exports, by short name (models/<file>): `deepgen sample vae.onnx`. */
export const SHIPPED_ONNX: Record<string, string> = {
  "vae.onnx": "vae-mnist.onnx",
  "dcgan.onnx": "dcgan-mnist.onnx",
};

/** A path, or the name of a shipped model ('nade' -> models/nade-mnist.safetensors). */
export function resolveModelPath(nameOrPath: string): string {
  const shipped = SHIPPED_MODELS[nameOrPath] ?? SHIPPED_ONNX[nameOrPath];
  if (shipped !== undefined && !existsSync(nameOrPath)) {
    return modelsPackageFile(`models/${shipped}`, `the shipped model '${nameOrPath}'`);
  }
  return nameOrPath;
}

export async function loadModel(nameOrPath: string, opts: { backend?: BackendName } = {}): Promise<DensityModel> {
  const path = resolveModelPath(nameOrPath);
  const kind = (await loadModelFile(path)).model;
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
    case "gan":
      throw new DeepgenError(
        "E_ARG",
        `${path}: a GAN has no likelihood; it can be sampled, interpolated and scored by sample quality (eval --quality)`,
      );
    case "classifier":
      throw new DeepgenError("E_ARG", `${path}: a classifier is not a generative model; it judges samples (deepgen eval MODEL --quality)`);
    case "text2image":
      throw new DeepgenError("E_ARG", `${path}: a text-to-image model draws images of captions (deepgen generate)`);
    case "text-cvae":
      throw new DeepgenError(
        "E_ARG",
        `${path}: a conditional VAE of captions models images given a caption; it draws them (deepgen generate) and is scored per caption set (deepgen eval text2image --model)`,
      );
    case "caption-judge":
      throw new DeepgenError(
        "E_ARG",
        `${path}: the caption judge is not a generative model; it scores text-to-image results (deepgen eval text2image)`,
      );
    default:
      throw new DeepgenError("E_FORMAT", `${path}: model kind '${kind}' is not supported by this version of deepgen`);
  }
}

/** Any model that can be sampled: the density models, the adversarial autoencoder and the GANs. */
export async function loadSampler(nameOrPath: string, opts: { backend?: BackendName } = {}): Promise<DensityModel | Aae | Gan> {
  const path = resolveModelPath(nameOrPath);
  const kind = (await loadModelFile(path)).model;
  if (kind === "aae") return Aae.load(path, opts);
  if (kind === "gan") return Gan.load(path, opts);
  return loadModel(path, opts);
}
