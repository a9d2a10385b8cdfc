import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "deepgen-cli-cvae-"));

function deepgen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json(r: { status: number | null; stdout: string; stderr: string }): Record<string, unknown> {
  const lines = r.stdout.trim().split("\n");
  if (lines.length !== 1) throw new Error(`expected one JSON line, got: ${r.stdout}\n${r.stderr}`);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

const judge = join(work, "judge.safetensors");
const model = join(work, "cvae.safetensors");

// The commands build on each other's files: a tiny judge, the model it scores, then generate and eval.
test.serial("train text-cvae writes the model, its grids and a card with the ELBO, IWAE and judge scores per set", (t) => {
  const j = deepgen("train", "caption-judge", "--channels", "4,8", "--hidden", "16", "--epochs", "1", "--canvases", "64", "--out", judge);
  t.is(j.status, 0, j.stderr);
  const r = deepgen(
    "train",
    "text-cvae",
    "--hidden",
    "16",
    "--latent",
    "4",
    "--text-dim",
    "8",
    "--epochs",
    "1",
    "--canvases",
    "64",
    "--batch",
    "32",
    "--k",
    "2",
    "--judge",
    judge,
    "--out",
    model,
    "--json",
  );
  t.is(r.status, 0, r.stderr);
  const card = json(r) as {
    model: string;
    likelihood: {
      set: string;
      canvases: number;
      reconstruction_nats: number;
      kl_nats: number;
      neg_elbo_nats: number;
      iwae_nll_nats: number;
      iwae_k: number;
    }[];
    test: { set: string; strict_accuracy: number }[];
    options: { hidden: number[]; latent: number; text_dim: number };
  };
  t.is(card.model, "text-cvae");
  t.deepEqual(card.options.hidden, [16]);
  t.is(card.options.text_dim, 8);
  t.deepEqual(
    card.likelihood.map((l) => [l.set, l.canvases, l.iwae_k]),
    [
      ["seen", 2000, 2],
      ["banned", 2000, 2],
      ["unseen", 2000, 2],
    ],
  );
  for (const l of card.likelihood) {
    t.true(Math.abs(l.neg_elbo_nats - l.reconstruction_nats - l.kl_nats) < 1e-6 * l.neg_elbo_nats);
    t.true(Number.isFinite(l.iwae_nll_nats) && l.iwae_nll_nats > 0);
  }
  t.deepEqual(
    card.test.map((s) => s.set),
    ["seen", "banned", "unseen"],
  );
  for (const f of ["cvae.card.json", "cvae.curve.png", "cvae.ckpt.safetensors", "cvae.seen.png", "cvae.banned.png", "cvae.unseen.png"])
    t.true(existsSync(join(work, f)), f);
  // the conditional VAE is a family of its own: the GAN's command takes no --model
  const bad = deepgen("train", "text2image", "--model", "cvae", "--epochs", "1", "--out", join(work, "x.safetensors"), "--json");
  t.is(bad.status, 2);
  t.is((json(bad).error as { code: string }).code, "E_ARG");
});

test.serial("generate and eval text2image take a text-cvae file; the registry points it there", (t) => {
  const grid = join(work, "grid.png");
  const g = deepgen(
    "generate",
    "the digit three is at the top of the digit 5",
    "-n",
    "4",
    "--seed",
    "1",
    "--model",
    model,
    "--out",
    grid,
    "--json",
  );
  t.is(g.status, 0, g.stderr);
  t.deepEqual(json(g).captions, ["the digit 3 is at the top of the digit 5 ."]);
  t.is(readFileSync(grid).subarray(1, 4).toString("ascii"), "PNG");
  const inter = deepgen(
    "generate",
    "--interpolate",
    "the digit 1 is at the top left of the image",
    "the digit 1 is at the bottom right of the image",
    "--steps",
    "3",
    "-n",
    "2",
    "--model",
    model,
    "--out",
    grid,
  );
  t.is(inter.status, 0, inter.stderr);
  t.regex(inter.stdout, /2 rows of 3 interpolation steps/);
  const e = deepgen("eval", "text2image", "--model", model, "--judge", judge, "-n", "20", "--json");
  t.is(e.status, 0, e.stderr);
  const sets = (json(e) as { sets: { set: string; canvases: number; strict_accuracy: number }[] }).sets;
  t.deepEqual(
    sets.map((s) => [s.set, s.canvases]),
    [
      ["seen", 20],
      ["banned", 20],
      ["unseen", 20],
    ],
  );
  t.true(sets.every((s) => s.strict_accuracy >= 0 && s.strict_accuracy <= 1));
  const nll = deepgen("eval", model, "--json");
  t.is(nll.status, 2);
  const error = json(nll).error as { code: string; message: string };
  t.is(error.code, "E_ARG");
  t.regex(error.message, /conditional VAE.*eval text2image/);
});
