/**
 * The deepgen command tree: each command lives in its own file and registers itself here.
 * Every error, usage errors included, follows the contract of lib/cli/output.ts: exit 2 for
 * bad input, 1 for other failures, and with --json one JSON object on stdout.
 */
import { Command, CommanderError } from "commander";

import { DeepgenError } from "../core/errors.js";
import { packageVersion } from "../core/package-root.js";
import { groupJsonOption } from "./common.js";
import { registerComplete } from "./complete.js";
import { registerData } from "./data.js";
import { registerEval } from "./eval.js";
import { registerExport } from "./export.js";
import { registerGenerate } from "./generate.js";
import { registerInfo } from "./info.js";
import { registerLatent } from "./latent.js";
import { reportError, run } from "./output.js";
import { registerSample } from "./sample.js";
import { registerServe } from "./serve.js";
import { registerTrain } from "./train.js";

/**
 * The program. With `json`, commander prints nothing on stderr for usage errors (the caller
 * reports them as JSON); otherwise its help after a missing subcommand still goes to stderr.
 */
export function deepgenProgram(json: boolean): Command {
  const program = new Command();
  program
    .name("deepgen")
    .description("Deep generative models of images: train, evaluate, sample, export")
    .version(packageVersion)
    // options of a command with subcommands stand before the subcommand: `deepgen --json info`
    .enablePositionalOptions();
  // Set before the subcommands are added, which inherit them: usage errors throw (runProgram
  // reports them) instead of printing and exiting.
  program.exitOverride();
  program.configureOutput({ outputError: () => undefined, writeErr: (text) => (json ? undefined : process.stderr.write(text)) });
  groupJsonOption(program);
  // --json given before the subcommand applies to the command that runs
  program.hook("preAction", (_program, action) => {
    for (let c = action.parent; c !== null; c = c.parent) if (c.opts().json) action.setOptionValueWithSource("json", true, "cli");
  });
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
  return program;
}

/**
 * A usage error of commander as the E_ARG it is. Commander shows help for a command with
 * subcommands run without one (or, through `help`, with an unknown one): the error names the
 * subcommands, or the unknown word.
 */
function usageError(program: Command, e: CommanderError, args: readonly string[]): DeepgenError {
  if (e.code !== "commander.help") return new DeepgenError("E_ARG", e.message.replace(/^error: /, ""));
  const words = args.filter((a) => !a.startsWith("-"));
  let group = program;
  let i = 0;
  for (let next = group.commands.find((c) => c.name() === words[i]); next !== undefined; i++) {
    group = next;
    next = group.commands.find((c) => c.name() === words[i + 1]);
  }
  if (words[i] === "help") i++;
  if (words[i] !== undefined) return new DeepgenError("E_ARG", `unknown command '${words[i]}'`);
  const names = group.commands.map((c) => c.name()).filter((n) => n !== "help");
  const path = words.slice(0, i).join(" ");
  return new DeepgenError("E_ARG", `deepgen ${path}${path ? " " : ""}needs a subcommand: one of ${names.join(", ")}`);
}

/** Parses and runs `argv` (process.argv's form); the exit code is set, never thrown. */
export async function runProgram(argv: readonly string[]): Promise<void> {
  const json = argv.includes("--json");
  const program = deepgenProgram(json);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError && e.exitCode === 0)
      process.exitCode = 0; // --help, --version
    else reportError(e instanceof CommanderError ? usageError(program, e, argv.slice(2)) : e, json);
  }
}
