#!/usr/bin/env node
/** The deepgen command. Each subcommand lives in its own file and registers itself here. */
import { Command, CommanderError } from "commander";

import { DeepgenError } from "../core/errors.js";
import { packageVersion } from "../core/package-root.js";
import { survivingClosedPipes } from "./common.js";
import { registerComplete } from "./complete.js";
import { registerData } from "./data.js";
import { registerEval } from "./eval.js";
import { registerExport } from "./export.js";
import { registerGenerate } from "./generate.js";
import { registerInfo } from "./info.js";
import { registerLatent } from "./latent.js";
import { reportError } from "./output.js";
import { registerSample } from "./sample.js";
import { registerServe } from "./serve.js";
import { registerTrain } from "./train.js";

async function run(json: boolean, fn: () => Promise<void> | void): Promise<void> {
  try {
    await fn();
  } catch (e) {
    reportError(e, json);
  }
}

survivingClosedPipes();

const json = process.argv.includes("--json");
const program = new Command();
program.name("deepgen").description("Deep generative models of images: train, evaluate, sample, export").version(packageVersion);
// Usage errors (unknown commands and options, unparsable values) follow the same rules as
// every other error: exit 2, and with --json one JSON object on stdout instead of text on
// stderr. Set before the subcommands are added, which inherit it.
program.exitOverride();
program.configureOutput({ outputError: (text, write) => (json ? undefined : write(text)) });
registerInfo(program, run);
registerTrain(program, run);
registerEval(program, run);
registerSample(program, run);
registerLatent(program, run);
registerComplete(program, run);
registerExport(program, run);
registerGenerate(program, run);
registerData(program, run);
registerServe(program, run);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (!(e instanceof CommanderError)) throw e;
  if (e.exitCode === 0)
    process.exitCode = 0; // --help, --version
  else if (json) reportError(new DeepgenError("E_ARG", e.message.replace(/^error: /, "")), true);
  else process.exitCode = 2; // commander printed the message
}
