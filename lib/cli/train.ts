/**
 * deepgen train <family>: one subcommand per model family, each with only the options it
 * reads (lib/cli/train-options.ts holds the shared groups). Every family fits a model and
 * writes it with a checkpoint, a curve and a model card.
 */
import type { Command } from "commander";

import { groupJsonOption } from "./common.js";
import type { Run } from "./output.js";
import { registerCaptionJudge } from "./train-judge.js";
import { registerClassifier } from "./train-classifier.js";
import { registerDensityFamilies } from "./train-density.js";
import { registerGanFamilies } from "./train-gan-command.js";
import { registerLatentFamilies } from "./train-latent.js";
import { registerTextCvae } from "./train-text-cvae.js";
import { registerText2image } from "./train-text2image.js";

export function registerTrain(program: Command, run: Run): void {
  const train = program
    .command("train")
    .description("train a model on the canonical MNIST split (or --idx-images); `deepgen train <family> --help` lists its options");
  groupJsonOption(train);
  registerDensityFamilies(train, run);
  registerLatentFamilies(train, run);
  registerGanFamilies(train, run);
  registerClassifier(train, run);
  registerCaptionJudge(train, run);
  registerText2image(train, run);
  registerTextCvae(train, run);
}
