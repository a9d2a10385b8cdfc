#!/usr/bin/env node
/** The deepgen command. Each subcommand lives in its own file and registers itself here. */
import { Command } from "commander";

import { packageVersion } from "../core/package-root.js";
import { survivingClosedPipes } from "./common.js";
import { registerComplete } from "./complete.js";
import { registerEval } from "./eval.js";
import { registerExport } from "./export.js";
import { registerInfo } from "./info.js";
import { registerLatent } from "./latent.js";
import { reportError } from "./output.js";
import { registerSample } from "./sample.js";
import { registerTrain } from "./train.js";

async function run(json: boolean, fn: () => Promise<void> | void): Promise<void> {
  try {
    await fn();
  } catch (e) {
    reportError(e, json);
  }
}

survivingClosedPipes();

const program = new Command();
program.name("deepgen").description("Deep generative models of images: train, evaluate, sample, export").version(packageVersion);
registerInfo(program, run);
registerTrain(program, run);
registerEval(program, run);
registerSample(program, run);
registerLatent(program, run);
registerComplete(program, run);
registerExport(program, run);

await program.parseAsync(process.argv);
