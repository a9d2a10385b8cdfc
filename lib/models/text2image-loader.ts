/**
 * Loads either kind of text-to-image model file by its deepgen.model metadata: the GAN
 * (lib/models/text2image.ts) or the conditional VAE (lib/models/text-cvae.ts). Both draw
 * images of captions through the same surface (generate, generateSync, generateCaptions,
 * interpolateCaptions), which is all the generate and eval commands use.
 */
import { DeepgenError } from "../core/errors.js";
import { loadModelFile } from "../io/model-file.js";
import type { BackendName } from "../kernels/kernels.js";
import { TextCvae } from "./text-cvae.js";
import { TextToImage } from "./text2image.js";

export type CaptionModel = TextToImage | TextCvae;

export async function loadCaptionModel(path: string, opts: { backend?: BackendName } = {}): Promise<CaptionModel> {
  const kind = (await loadModelFile(path)).model;
  if (kind === "text2image") return TextToImage.load(path, opts);
  if (kind === "text-cvae") return TextCvae.load(path, opts);
  throw new DeepgenError("E_FORMAT", `${path}: holds a '${kind}' model, expected a text-to-image model ('text2image' or 'text-cvae')`);
}
