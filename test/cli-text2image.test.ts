import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "deepgen-cli-t2i-"));

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
const model = join(work, "t2i.safetensors");

// The commands build on each other's files: train the judge, then the model it selects, then use both.
test.serial("train caption-judge writes a judge and a card with its ceiling per caption set", (t) => {
  const r = deepgen(
    "train",
    "caption-judge",
    "--channels",
    "4,8",
    "--hidden",
    "16",
    "--epochs",
    "1",
    "--canvases",
    "64",
    "--out",
    judge,
    "--json",
  );
  t.is(r.status, 0, r.stderr);
  const card = json(r);
  t.is(card.model, "caption-judge");
  const ceiling = card.ceiling as { set: string; strict_accuracy: number; fid_floor: number }[];
  t.deepEqual(
    ceiling.map((c) => c.set),
    ["seen", "banned", "unseen"],
  );
  t.true(ceiling.every((c) => c.strict_accuracy >= 0 && c.strict_accuracy <= 1 && Number.isFinite(c.fid_floor)));
  t.true(existsSync(join(work, "judge.card.json")) && existsSync(join(work, "judge.curve.png")));
});

test.serial("eval text2image --real scores the real test canvases with the judge", (t) => {
  const r = deepgen("eval", "text2image", "--real", "--judge", judge, "-n", "40", "--json");
  t.is(r.status, 0, r.stderr);
  const out = json(r) as { sets: { set: string; canvases: number }[] };
  t.deepEqual(
    out.sets.map((s) => [s.set, s.canvases]),
    [
      ["seen", 40],
      ["banned", 40],
      ["unseen", 40],
    ],
  );
  const tooMany = deepgen("eval", "text2image", "--real", "--judge", judge, "-n", "5000", "--json");
  t.is(tooMany.status, 2);
  t.is((json(tooMany).error as { code: string }).code, "E_ARG");
});

test.serial("train text2image, then generate, interpolate and eval it", (t) => {
  const r = deepgen(
    "train",
    "text2image",
    "--channels",
    "8,4",
    "--disc-channels",
    "4,8",
    "--zdim",
    "4",
    "--hidden",
    "8",
    "--epochs",
    "2",
    "--canvases",
    "64",
    "--batch",
    "32",
    "--judge",
    judge,
    "--out",
    model,
    "--json",
  );
  t.is(r.status, 0, r.stderr);
  const card = json(r) as { model: string; selected_epoch: number; test: { set: string; diversity: number; ceiling: object }[] };
  t.is(card.model, "text2image");
  t.true(card.selected_epoch === 1 || card.selected_epoch === 2);
  t.deepEqual(
    card.test.map((s) => s.set),
    ["seen", "banned", "unseen"],
  );
  for (const set of ["seen", "banned", "unseen"]) t.true(existsSync(join(work, `t2i.${set}.png`)));

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
    "5",
    "-n",
    "2",
    "--model",
    model,
    "--out",
    grid,
  );
  t.is(inter.status, 0, inter.stderr);
  t.regex(inter.stdout, /2 rows of 5 interpolation steps/);

  const bad = deepgen("generate", "the digit 3 is above the digit 5", "--model", model, "--json");
  t.is(bad.status, 2);
  const error = json(bad).error as { code: string; message: string };
  t.is(error.code, "E_ARG");
  t.regex(error.message, /unknown word "above".*did you mean/);

  const e = deepgen("eval", "text2image", "--model", model, "--judge", judge, "-n", "20", "--json");
  t.is(e.status, 0, e.stderr);
  const sets = (json(e) as { sets: { set: string; strict_accuracy: number; ceiling: { strict_accuracy: number } }[] }).sets;
  t.is(sets.length, 3);
  t.true(sets.every((s) => s.strict_accuracy >= 0 && s.strict_accuracy <= 1 && s.ceiling.strict_accuracy >= 0));
});
