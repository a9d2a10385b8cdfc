/**
 * `deepgen train <family>` as subcommands, read in-process (nothing is trained): each family's
 * help shows only its own options with its true defaults, and the command lines the docs and
 * the shipped model cards give are accepted as they stand.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";
import type { Command } from "commander";

import { deepgenProgram } from "../lib/cli/program.js";

const root = fileURLToPath(new URL("..", import.meta.url));

const FAMILIES = [
  "nade",
  "rnade",
  "rowlstm",
  "diagbilstm",
  "bernoulli",
  "markov",
  "vae",
  "aae",
  "gan",
  "dcgan",
  "classifier",
  "caption-judge",
  "text2image",
  "text-cvae",
];

function trainCommand(): Command {
  return deepgenProgram(true).commands.find((c) => c.name() === "train")!;
}

/** A family's help, its wrapped lines joined. */
function help(family: string): string {
  return trainCommand()
    .commands.find((c) => c.name() === family)!
    .helpInformation()
    .replace(/\s+/g, " ");
}

/** The option flags a family's help lists. */
function flags(family: string): string[] {
  return trainCommand()
    .commands.find((c) => c.name() === family)!
    .options.map((o) => o.long!);
}

/** Whether `args` (after `deepgen`) parse up to the action, which does not run. */
async function parses(args: string[]): Promise<string> {
  const program = deepgenProgram(true);
  const parsed = new Error("parsed");
  program.hook("preAction", () => {
    throw parsed;
  });
  try {
    await program.parseAsync(["node", "deepgen", ...args]);
    return "no action ran";
  } catch (e) {
    return e === parsed ? "ok" : (e as Error).message;
  }
}

test("deepgen train --help lists every family on a line of its own", (t) => {
  const text = trainCommand().helpInformation();
  for (const family of FAMILIES) t.regex(text, new RegExp(`^ {2}${family} \\[options\\] +\\S`, "m"), family);
  t.deepEqual(
    trainCommand()
      .commands.map((c) => c.name())
      .filter((n) => n !== "help")
      .sort(),
    [...FAMILIES].sort(),
  );
});

test("each family's help shows its own defaults", (t) => {
  const dcgan = help("dcgan");
  t.regex(dcgan, /--epochs <n> maximum epochs \(default: 25\)/);
  t.regex(dcgan, /--lr <x> Adam learning rate \(default: 2e-4\)/);
  t.regex(dcgan, /--batch <n> minibatch size \(default: 64\)/);
  t.regex(dcgan, /--zdim <n> noise dimension \(default: 100\)/);
  const nade = help("nade");
  t.regex(nade, /--hidden <n> hidden units \(default: 500\)/);
  t.regex(nade, /--epochs <n> maximum epochs \(default: 100\)/);
  t.regex(nade, /--lr <x> Adam learning rate \(default: 0\.001\)/);
  t.regex(help("rnade"), /--hidden <n> hidden units \(default: 100\)/);
  t.regex(help("aae"), /--latent <n> latent dimension \(default: 2\)/);
  t.regex(help("vae"), /--latent <n> latent dimension \(default: 32\)/);
  t.regex(help("text-cvae"), /--k <n> importance samples per test canvas of the IWAE NLL \(default: 100\)/);
  t.regex(help("text-cvae"), /--layers <n> hidden layers of the encoder and decoder \(default: 1\)/);
  t.regex(help("text2image"), /--epochs <n> maximum epochs \(default: 25\)/);
  t.regex(help("caption-judge"), /--batch <n> minibatch size \(default: 64\)/);
});

test("each family lists only the options it reads", (t) => {
  const nade = flags("nade");
  for (const other of ["--zdim", "--loss", "--codes", "--latent", "--prior", "--layers", "--components", "--canvases"])
    t.false(nade.includes(other), `nade: ${other}`);
  t.deepEqual(flags("markov"), ["--idx-images", "--idx-labels", "--out", "--json"]);
  t.false(flags("dcgan").includes("--data"), "toy data is for the MLP GAN");
  t.true(flags("gan").includes("--data"));
  t.false(flags("vae").includes("--prior"), "the vae's prior is the gaussian");
  t.false(flags("aae").includes("--decoder"), "the aae's decoder is Bernoulli");
  t.false(flags("aae").includes("--patience"), "the aae does not stop early");
  t.false(flags("text2image").includes("--model"), "the conditional VAE is train text-cvae");
  for (const family of FAMILIES) t.true(flags(family).includes("--json"), family);
});

/**
 * `deepgen train ...` lines of the docs' code: continuations joined; synopses with [optional]
 * or <placeholder> parts, and help requests, left out.
 */
function documentedCommands(): string[] {
  const docs = readdirSync(join(root, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => readFileSync(join(root, "docs", f), "utf8").replace(/\\\n\s*/g, " "));
  const lines = docs.flatMap((text) => [...text.matchAll(/deepgen (train [^`#\n]*)/g)].map((m) => m[1]!.trim()));
  return lines.filter((l) => !/[[|<]|--help/.test(l));
}

/** The command lines the shipped models' cards record. */
function cardCommands(): string[] {
  const dir = join(root, "packages", "models-mnist", "models");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".card.json"))
    .map((f) => (JSON.parse(readFileSync(join(dir, f), "utf8")) as { command: string }).command)
    .filter((c) => c.startsWith("deepgen train "))
    .map((c) => c.slice("deepgen ".length));
}

test("the train command lines of the docs and of the shipped model cards are accepted", async (t) => {
  const lines = [...new Set([...documentedCommands(), ...cardCommands()])];
  t.true(lines.length >= 10, `found ${lines.length}`);
  for (const line of lines) t.is(await parses(line.split(/\s+/)), "ok", line);
});

test("the conditional VAE's old spelling is a usage error", async (t) => {
  t.regex(await parses(["train", "text2image", "--model", "cvae"]), /unknown option '--model'/);
});
