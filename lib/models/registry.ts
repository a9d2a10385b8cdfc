/** Loads any deepgen model file by its deepgen.model metadata, and names the shipped models. */
import { existsSync } from "node:fs";

import { DeepgenError } from "../core/errors.js";
import { modelsPackageFile } from "../core/models-package.js";
import { readModelKind } from "../io/model-file.js";
import { checkOneOf, checkOptions } from "../core/check.js";
import { readCardOf } from "./card.js";
import { BACKEND_KEYS } from "./density.js";
import { TextToImage } from "./text2image.js";
import { TextCvae } from "./text-cvae.js";
import { Classifier } from "./classifier.js";
import { CaptionJudge } from "./caption-judge.js";
import { BACKEND_NAMES, type BackendName } from "../kernels/kernels.js";
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
  "rowlstm-l7": "rowlstm-l7-mnist.safetensors",
  "diagbilstm-l7": "diagbilstm-l7-mnist.safetensors",
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

/** Every model class `load` can return; `kind` tells them apart. */
export type Model =
  | IndependentBernoulli
  | MarkovChain
  | Nade
  | Rnade
  | PixelRnn
  | Vae
  | Aae
  | Gan
  | TextToImage
  | TextCvae
  | Classifier
  | CaptionJudge;

/** The models that draw images unconditionally, all through the same Sampler calls. */
export type SamplerModel = Exclude<Model, TextToImage | TextCvae | Classifier | CaptionJudge>;

/**
 * Loads any deepgen model file, or a shipped model by its short name ('nade', 'dcgan', ...),
 * as the class its deepgen.model metadata names; attaches the model card beside the file.
 * The file's header is read to learn the family, then the file once, by that class's load.
 */
export async function load(nameOrPath: string, options?: { backend?: BackendName }): Promise<Model> {
  const opts = loadOptions("load", options);
  const path = resolveModelPath(nameOrPath);
  const model = await loadKind(await readModelKind(path), path, opts);
  model.card = await readCardOf(path);
  return model;
}

function loadOptions(where: string, options: { backend?: BackendName } | undefined): { backend?: BackendName } {
  const opts = checkOptions(where, options, BACKEND_KEYS);
  if (opts.backend !== undefined) checkOneOf("backend", opts.backend, BACKEND_NAMES);
  return opts;
}

function loadKind(kind: string, path: string, opts: { backend?: BackendName }): Promise<Model> {
  switch (kind) {
    case "bernoulli":
      return IndependentBernoulli.load(path);
    case "markov":
      return MarkovChain.load(path);
    case "nade":
      return Nade.load(path, opts);
    case "rnade":
      return Rnade.load(path, opts);
    case "rowlstm":
    case "diagbilstm":
      return PixelRnn.load(path, opts);
    case "vae":
      return Vae.load(path, opts);
    case "aae":
      return Aae.load(path, opts);
    case "gan":
      return Gan.load(path, opts);
    case "text2image":
      return TextToImage.load(path, opts);
    case "text-cvae":
      return TextCvae.load(path, opts);
    case "classifier":
      return Classifier.load(path, opts);
    case "caption-judge":
      return CaptionJudge.load(path, opts);
    default:
      throw new DeepgenError("E_FORMAT", `${path}: model kind '${kind}' is not supported by this version of deepgen`);
  }
}

/** Why a model that `load` reads is not a sampler: what it does instead. */
const NOT_SAMPLERS: Record<string, string> = {
  classifier: "a classifier is not a generative model; it judges samples (deepgen eval MODEL --quality)",
  "caption-judge": "the caption judge is not a generative model; it scores text-to-image results (deepgen eval text2image)",
  text2image: "a text-to-image model draws images of captions (deepgen generate)",
  "text-cvae":
    "a conditional VAE of captions models images given a caption; it draws them (deepgen generate) and is scored per caption set (deepgen eval text2image --model)",
};

/** Why a sampler has no likelihood: what it offers instead. */
const NO_LIKELIHOOD: Record<string, string> = {
  aae: "an adversarial autoencoder has no likelihood; it can be sampled, plotted and interpolated",
  gan: "a GAN has no likelihood; it can be sampled, interpolated and scored by sample quality (eval --quality)",
};

/**
 * A model that draws images unconditionally (all but classifiers, judges and caption models),
 * else E_ARG. For the commands and the server, which use no card: unlike `load`, it reads none,
 * so a broken card beside a model never keeps it from being sampled or served.
 */
export async function loadSampler(nameOrPath: string, options?: { backend?: BackendName }): Promise<SamplerModel> {
  const opts = loadOptions("loadSampler", options);
  const path = resolveModelPath(nameOrPath);
  const kind = await readModelKind(path);
  const why = NOT_SAMPLERS[kind];
  if (why !== undefined) throw new DeepgenError("E_ARG", `${path}: ${why}`);
  return (await loadKind(kind, path, opts)) as SamplerModel;
}

/** A model with an exact likelihood or a bound on it (the density models), else E_ARG; no card, as loadSampler. */
export async function loadModel(nameOrPath: string, options?: { backend?: BackendName }): Promise<DensityModel> {
  const opts = loadOptions("loadModel", options);
  const path = resolveModelPath(nameOrPath);
  const kind = await readModelKind(path);
  const why = NOT_SAMPLERS[kind] ?? NO_LIKELIHOOD[kind];
  if (why !== undefined) throw new DeepgenError("E_ARG", `${path}: ${why}`);
  return (await loadKind(kind, path, opts)) as DensityModel & Model;
}
