/**
 * The `deepgen train gan` and `deepgen train dcgan` subcommands: their options (the
 * adversarial ones both share, then each one's networks); the run is lib/cli/train-gan.ts.
 */
import type { Command } from "commander";

import { GAN_LOSSES } from "../models/gan.js";
import { intOption } from "./common.js";
import type { Run } from "./output.js";
import { GAN_DATA, type GanTrainOptions, trainGan } from "./train-gan.js";
import { choiceOption, dataOptions, fitOptions, intListOption, numberOption, runOptions, trainAction } from "./train-options.js";

/** The loop of both GAN families (DCGAN's: Radford et al. 2016). */
const GAN_FIT = { epochs: 25, lr: 2e-4, batch: 64 };

/** What both families' adversarial training takes: the objectives, the optimizers and the diagnostics. */
function adversarialOptions(cmd: Command, family: "gan" | "dcgan", run: Run): void {
  cmd
    .option("--codes <k>", "an InfoGAN categorical code of k values (Chen et al. 2016; 0: none)", intOption("--codes", 0), 0)
    .addOption(numberOption("--code-weight <x>", "with --codes: weight of the code's cross-entropy in both objectives", 1))
    .option(
      "--conditional",
      "MNIST: class-conditional on the digit labels (one-hot label into G, projection discriminator; Miyato & Koyama 2018)",
    )
    .addOption(choiceOption("--loss <kind>", "generator loss", GAN_LOSSES, "nonsaturating"))
    .option("--d-steps <k>", "discriminator updates per generator update", intOption("--d-steps", 1), 1)
    .addOption(numberOption("--beta1 <x>", "Adam beta1", 0.5))
    .addOption(numberOption("--disc-lr <x>", "discriminator learning rate (default: --lr)"))
    .addOption(numberOption("--lr-decay <f>", "learning rates fall linearly to f times their start by the last epoch (1: constant)", 1))
    .addOption(
      numberOption("--ema <decay>", "keep (and ship) a moving average of the generator's weights with this decay, e.g. 0.999 (0: off)", 0),
    )
    .addOption(
      numberOption(
        "--top-k <f>",
        "the generator learns from the fraction of its batch D rates most real, falling 1% per epoch from 1 to f (Sinha et al. 2020; 1: off)",
        1,
      ),
    )
    .option(
      "--quality-every <n>",
      "MNIST: classifier-FID against the train images every n epochs (0: off)",
      intOption("--quality-every", 0),
      5,
    );
  runOptions(dataOptions(fitOptions(cmd, GAN_FIT)), family);
  trainAction(cmd, run, (opts: GanTrainOptions) => trainGan(family, opts));
}

export function registerGanFamilies(train: Command, run: Run): void {
  const gan = train
    .command("gan")
    .description("MLP GAN on MNIST, or on toy data whose density is known (Jensen-Shannon diagnostics)")
    .addOption(choiceOption("--data <name>", "mnist, or toy data with a known density", GAN_DATA, "mnist"))
    .option("--toy-n <n>", "toy data: size of the training sample", intOption("--toy-n", 2), 20000)
    .option("--zdim <n>", "noise dimension (default: 64; on toy data 8)", intOption("--zdim", 1))
    .option("--hidden <n>", "units of each hidden layer of G and D (default: 256; on toy data 128)", intOption("--hidden", 1))
    .option("--layers <n>", "hidden layers of G and D", intOption("--layers", 1), 2);
  adversarialOptions(gan, "gan", run);
  const dcgan = train
    .command("dcgan")
    .description("DCGAN on MNIST: transposed-conv generator, conv discriminator")
    .option("--zdim <n>", "noise dimension", intOption("--zdim", 1), 100)
    .addOption(intListOption("--channels <c0,c1>", "generator channels", [128, 64], 2))
    .addOption(intListOption("--disc-channels <d0,d1>", "discriminator channels", [64, 128], 2))
    .option("--disc-norm", "batch norm on the discriminator's second conv")
    .option("--disc-stddev", "a minibatch standard deviation feature before the discriminator's logit (against too-alike samples)");
  adversarialOptions(dcgan, "dcgan", run);
}
