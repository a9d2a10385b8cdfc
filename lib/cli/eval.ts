/** deepgen eval MODEL: exact test NLL (nats per image, bits per dimension) and parameter count. */
import type { Command } from "commander";

import type { BackendName } from "../kernels/kernels.js";
import { fullJointParamCount } from "../models/baselines.js";
import { testLikelihood } from "../models/evaluate.js";
import { DeepgenError } from "../core/errors.js";
import { Aae } from "../models/aae.js";
import { Gan } from "../models/gan.js";
import { loadSampler } from "../models/registry.js";
import { Vae } from "../models/vae.js";
import { type DataOptions, dataKindOf, intOption, loadData, ProgressLine, seedOption, shapeOf } from "./common.js";
import { printJson } from "./output.js";
import { aaeReport, latentDataKind, vaeReport } from "../models/latent-card.js";
import { continuousNote } from "./train-latent.js";
import { evalClassifier, evalQuality, modelKindOf } from "./eval-quality.js";
import { evalText2image } from "./eval-text2image.js";

interface EvalOptions extends DataOptions {
  backend?: BackendName;
  k: number;
  json?: boolean;
  quality?: boolean;
  n: number;
  seed: number;
  classifier?: string;
  means?: boolean;
  judge?: string;
  real?: boolean;
  model?: string;
}

export function registerEval(program: Command, run: (json: boolean, fn: () => Promise<void>) => Promise<void>): void {
  program
    .command("eval")
    .description(
      "test-set NLL of a model file (or a shipped model name, e.g. nade); --quality: sample quality; text2image: the MNIST-Captions-60 scores",
    )
    .argument("<model>", "model file or shipped model name, or text2image")
    .option("--backend <name>", "native, js or cuda")
    .option("--k <n>", "vae: importance samples per image of the IWAE NLL", intOption("--k", 1), 5000)
    .option("--idx-images <path>", "evaluate on an IDX images file instead of the canonical test split")
    .option("--idx-labels <path>", "IDX labels file for --idx-images")
    .option("--quality", "sample quality instead: classifier-FID vs test images, floor FID, class coverage")
    .option("-n <n>", "--quality: number of samples", intOption("-n", 2), 10000)
    .option("--seed <n>", "--quality: Philox seed of the samples", seedOption("--seed"), 0)
    .option("--classifier <model>", "--quality: classifier file (default: the shipped 'classifier')")
    .option("--means", "--quality, binary models: judge the pixel probabilities behind the draws against the grayscale test images")
    .option("--judge <model>", "text2image: caption judge file (default: the shipped 'caption-judge')")
    .option("--real", "text2image: score the real test canvases (the ceiling of every score)")
    .option("--model <file>", "text2image: the text-to-image model to score, GAN or conditional VAE (default: the shipped 'text2image')")
    .option("--json", "print one JSON object")
    .action((modelArg: string, opts: EvalOptions, cmd: Command) =>
      run(Boolean(opts.json), async () => {
        if (modelArg === "text2image") {
          const canvases = cmd.getOptionValueSource("n") === "default" ? undefined : opts.n;
          return evalText2image({ ...opts, canvases });
        }
        if (opts.quality) return evalQuality(modelArg, opts);
        if ((await modelKindOf(modelArg)) === "classifier") return evalClassifier(modelArg, opts);
        const model = await loadSampler(modelArg, { backend: opts.backend });
        if (model instanceof Vae || model instanceof Aae) {
          const data = loadData(opts, latentDataKind(model), shapeOf(model));
          const t0 = performance.now();
          const progress = new ProgressLine();
          const report =
            model instanceof Vae
              ? await vaeReport(model, data.test.x, {
                  k: opts.k,
                  backend: opts.backend,
                  onProgress: (f) => progress.update(`IWAE k=${opts.k}: ${(100 * f).toFixed(1)}%`),
                })
              : aaeReport(model, data.test.x, data.train.x, opts.backend);
          progress.done();
          const result = {
            model: model.kind,
            ...report,
            param_count: model.paramCount(),
            test_size: data.test.n,
            data: data.source,
            seconds: (performance.now() - t0) / 1000,
          };
          if (opts.json) printJson(result);
          else if ("iwae_nll_nats" in report)
            process.stdout.write(
              `vae: test -ELBO ${report.neg_elbo_nats.toFixed(2)} (reconstruction ${(-report.reconstruction_nats).toFixed(2)}, KL ${report.kl_nats.toFixed(2)}), IWAE NLL (k=${report.k}) ${report.iwae_nll_nats.toFixed(2)} nats, gap ${report.gap_nats.toFixed(2)}${continuousNote(report)} on ${data.test.n} images\n`,
            );
          else
            process.stdout.write(
              `aae: test reconstruction ${report.reconstruction_nats.toFixed(2)} nats, discriminator accuracy ${report.discriminator_accuracy.toFixed(3)} (a fresh discriminator refit for ${report.refit_steps} steps: ${report.refit_discriminator_accuracy.toFixed(3)}) on ${data.test.n} images\n`,
            );
          return;
        }
        if (model instanceof Gan)
          throw new DeepgenError("E_ARG", `${modelArg}: a GAN has no likelihood to evaluate; score its samples with --quality`);
        const kind = dataKindOf(model.kind);
        const data = loadData(opts, kind, shapeOf(model));
        const t0 = performance.now();
        const likelihood = await testLikelihood(model, data.test.x, kind === "dequantized", { backend: opts.backend });
        const seconds = (performance.now() - t0) / 1000;
        const result = {
          model: model.kind,
          ...likelihood,
          param_count: model.paramCount(),
          full_joint_param_count: fullJointParamCount(model.dim).toString(),
          test_size: data.test.n,
          data: data.source,
          seconds,
        };
        if (opts.json) printJson(result);
        else
          process.stdout.write(
            `${model.kind}: test NLL ${likelihood.test_nll_nats.toFixed(2)} nats (${likelihood.bits_per_dim.toFixed(4)} bits/dim) on ${data.test.n} images, ${result.param_count} parameters\n`,
          );
      }),
    );
}
