// deepgen eval --quality end to end: a tiny VAE trained for one epoch and the shipped AAE,
// judged on a few hundred samples by the shipped classifier; deepgen eval on the classifier.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "deepgen-cli-quality-"));

function deepgen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// biome-ignore lint/suspicious/noExplicitAny: the tests read arbitrary fields of the CLI's JSON
type Json = Record<string, any>;

function oneJson(t: { is: (a: unknown, b: unknown, m?: string) => void }, stdout: string): Json {
  const lines = stdout.trim().split("\n");
  t.is(lines.length, 1, stdout);
  return JSON.parse(lines[0]!) as Json;
}

test("eval --quality on a tiny vae: FID, floor, coverage; same seed, same numbers; a better model scores lower", (t) => {
  const out = join(dir, "vae.safetensors");
  const tr = deepgen(
    "train",
    "vae",
    "--hidden",
    "16",
    "--layers",
    "1",
    "--latent",
    "2",
    "--epochs",
    "1",
    "--k",
    "2",
    "--out",
    out,
    "--json",
  );
  t.is(tr.status, 0, tr.stderr);
  const r = deepgen("eval", out, "--quality", "-n", "300", "--seed", "3", "--json");
  t.is(r.status, 0, r.stderr);
  const q = oneJson(t, r.stdout);
  t.is(q.model, "vae");
  t.is(q.n, 300);
  t.is(q.samples, "binary");
  t.deepEqual(q.reference, { split: "test", binarized: true, n: 1996 });
  t.true(q.fid > q.floor_fid && q.floor_fid > 0, `fid ${q.fid} floor ${q.floor_fid}`);
  t.regex(q.feature_layer, /penultimate/);
  const fr: number[] = q.coverage.fractions;
  t.is(fr.length, 10);
  t.true(Math.abs(fr.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  t.is(q.coverage.min, Math.min(...fr));
  t.is(
    q.coverage.counts.reduce((a: number, b: number) => a + b, 0),
    300,
  );
  // The same seed again (text output): the same FID and floor.
  const text = deepgen("eval", out, "--quality", "-n", "300", "--seed", "3");
  t.is(text.status, 0, text.stderr);
  t.true(
    text.stdout.includes(
      `classifier-FID ${q.fid.toFixed(3)} against 1996 binarized test images (floor, real train vs test: ${q.floor_fid.toFixed(3)})`,
    ),
    text.stdout,
  );
  t.regex(text.stdout, /class coverage: 0:[\d.]+%/);
  // The shipped AAE (200 epochs) against the 1-epoch tiny VAE, same n.
  const aae = oneJson(t, deepgen("eval", "aae", "--quality", "-n", "300", "--seed", "3", "--json").stdout);
  t.is(aae.model, "aae");
  t.true(aae.fid < q.fid, `aae ${aae.fid} vs tiny vae ${q.fid}`);
});

test("deepgen eval classifier reports the test accuracy of the shipped card; bad uses are refused", (t) => {
  const r = deepgen("eval", "classifier", "--json");
  t.is(r.status, 0, r.stderr);
  const e = oneJson(t, r.stdout);
  const card = JSON.parse(
    readFileSync(fileURLToPath(new URL("../packages/models-mnist/models/mnist-classifier.card.json", import.meta.url)), "utf8"),
  );
  t.is(e.test_accuracy, card.test_accuracy);
  t.is(e.test_size, 1996);
  const bad = deepgen("eval", "classifier", "--quality", "-n", "10", "--json");
  t.is(bad.status, 2);
  t.is(oneJson(t, bad.stdout).error.code, "E_ARG");
  const one = deepgen("eval", "aae", "--quality", "-n", "1");
  t.is(one.status, 2); // a usage error: commander refuses -n 1 (a covariance needs 2 samples)
});

test("train classifier writes model, card and curve; eval --quality --classifier judges with it", (t) => {
  const out = join(dir, "clf.safetensors");
  const r = deepgen("train", "classifier", "--channels", "2,4", "--hidden", "8", "--epochs", "1", "--shift", "1", "--out", out, "--json");
  t.is(r.status, 0, r.stderr);
  const card = oneJson(t, r.stdout);
  t.is(card.model, "classifier");
  t.is(card.train_size + card.validation_size, 8004);
  t.is(card.test_size, 1996);
  t.true(card.test_accuracy > 0.3 && card.test_accuracy <= 1, `accuracy ${card.test_accuracy}`);
  t.is(card.epochs_run, 1);
  t.regex(card.command, /^deepgen train classifier --channels 2,4/);
  t.deepEqual(JSON.parse(readFileSync(join(dir, "clf.card.json"), "utf8")).test_accuracy, card.test_accuracy);
  for (const f of ["clf.curve.png", "clf.ckpt.safetensors"]) t.true(existsSync(join(dir, f)), f);
  const e = oneJson(t, deepgen("eval", out, "--json").stdout);
  t.is(e.test_accuracy, card.test_accuracy);
  const q = deepgen("eval", "aae", "--quality", "-n", "100", "--classifier", out, "--json");
  t.is(q.status, 0, q.stderr);
  const qq = oneJson(t, q.stdout);
  t.regex(qq.feature_layer, /dense 8 \+ relu/);
  t.true(qq.floor_fid > 0 && qq.fid > 0);
});
