import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

import { makeDataset } from "../lib/data/dataset.js";
import { encodeIdxImages } from "../lib/data/idx.js";
import { canonicalSplit } from "../lib/data/mnist.js";

const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));

function deepgen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("deepgen info --json prints exactly one JSON object on stdout", (t) => {
  const r = deepgen("info", "--json");
  t.is(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  t.is(lines.length, 1);
  const info = JSON.parse(lines[0]!);
  t.regex(info.version, /^\d+\.\d+\.\d+/);
  t.true(info.backends.js.available);
  t.true(info.backends.native.available);
  t.is(typeof info.cpu.avx2, "boolean");
  t.is(typeof info.cpu.fma, "boolean");
  t.true(info.threads >= 1);
  t.is(typeof info.cuda.built, "boolean");
  t.is(typeof info.cuda.devices, "number");
  t.deepEqual(
    { name: info.models_package.name, installed: info.models_package.installed, version: info.models_package.version },
    { name: "@deepgen/models-mnist", installed: true, version: "0.1.0" },
    "the workspace's models package",
  );
});

test("deepgen info (text) names backends, CPU features, threads and CUDA", (t) => {
  const r = deepgen("info");
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^deepgen \d+\.\d+\.\d+/);
  t.regex(r.stdout, /backends: native yes, js yes, cuda (yes|no)/);
  t.regex(r.stdout, /cpu: avx2 (yes|no), fma (yes|no)/);
  t.regex(r.stdout, /threads: \d+/);
  t.regex(r.stdout, /cuda: built (yes|no), \d+ devices/);
});

test("DEEPGEN_THREADS sets the native pool size", (t) => {
  const out = execFileSync(process.execPath, ["--import", "tsx", cli, "info", "--json"], {
    encoding: "utf8",
    env: { ...process.env, DEEPGEN_THREADS: "3" },
  });
  t.is(JSON.parse(out).threads, 3);
});

test("an unknown command fails with a non-zero exit code", (t) => {
  const r = deepgen("no-such-command");
  t.not(r.status, 0);
});

// ---- model commands, on a tiny IDX data set so they run in seconds ----

const work = mkdtempSync(join(tmpdir(), "deepgen-cli-"));
const idx = join(work, "tiny.idx");
{
  const { train } = canonicalSplit();
  writeFileSync(idx, encodeIdxImages(makeDataset(train.x.slice(0, 60 * 784), undefined, 28, 28)));
}

function isPng(path: string): boolean {
  const b = readFileSync(path);
  return b.length > 100 && b.subarray(1, 4).toString("ascii") === "PNG";
}

test("train markov and eval it on IDX files; eval --json has the documented keys", (t) => {
  const out = join(work, "markov.safetensors");
  const r = deepgen("train", "markov", "--idx-images", idx, "--out", out, "--json");
  t.is(r.status, 0, r.stderr);
  const card = JSON.parse(r.stdout);
  t.is(card.model, "markov");
  t.is(card.param_count, 2 * 784 - 1);
  const e = deepgen("eval", out, "--idx-images", idx, "--json");
  t.is(e.status, 0, e.stderr);
  const res = JSON.parse(e.stdout);
  for (const key of ["test_nll_nats", "bits_per_dim", "param_count", "model"]) t.true(key in res, key);
  t.true(Math.abs(res.test_nll_nats - card.test_nll_nats) < 1e-6);
  t.true(Math.abs(res.bits_per_dim - res.test_nll_nats / Math.LN2 / 784) < 1e-9);
});

test("train nade writes model, checkpoint, curve and card; --resume continues", (t) => {
  const out = join(work, "nade.safetensors");
  const args = ["train", "nade", "--idx-images", idx, "--hidden", "8", "--batch", "20", "--out", out];
  const r = deepgen(...args, "--epochs", "2", "--json");
  t.is(r.status, 0, r.stderr);
  for (const f of ["nade.safetensors", "nade.ckpt.safetensors", "nade.card.json"]) t.true(existsSync(join(work, f)), f);
  t.true(isPng(join(work, "nade.curve.png")));
  const card = JSON.parse(readFileSync(join(work, "nade.card.json"), "utf8"));
  t.is(card.epochs_run, 2);
  t.regex(card.command, /^deepgen train nade/);
  const resumed = deepgen(...args, "--epochs", "3", "--resume", "--json");
  t.is(resumed.status, 0, resumed.stderr);
  t.is(JSON.parse(resumed.stdout).epochs_run, 3);
});

test("sample and complete write PNG grids from the shipped NADE", (t) => {
  const grid = join(work, "grid.png");
  const s = deepgen("sample", "nade", "-n", "16", "--seed", "3", "--out", grid, "--json");
  t.is(s.status, 0, s.stderr);
  t.true(isPng(grid));
  t.is(JSON.parse(s.stdout).n, 16);
  const comp = join(work, "completions.png");
  const c = deepgen("complete", "nade", "--rows", "10", "-n", "2", "-k", "2", "--out", comp);
  t.is(c.status, 0, c.stderr);
  t.true(isPng(comp));
});

test("--seed is read as an exact 64-bit integer: seeds past 2^53 are not rounded to a neighbour", (t) => {
  const draw = (seed: string): Buffer => {
    const out = join(work, `seed-${seed}.png`);
    const r = deepgen("sample", "nade", "-n", "2", "--seed", seed, "--out", out);
    t.is(r.status, 0, r.stderr);
    return readFileSync(out);
  };
  // 2^53 + 1 rounds to 2^53 as a JS number; as a 64-bit seed it is another key.
  t.notDeepEqual(draw("9007199254740993"), draw("9007199254740992"));
  t.deepEqual(draw("18446744073709551615"), draw("18446744073709551615"));
  for (const bad of ["18446744073709551616", "-1", "1.5", "0x10"]) {
    const r = deepgen("sample", "nade", "-n", "1", "--seed", bad, "--out", join(work, "never.png"));
    t.not(r.status, 0, bad);
    t.regex(r.stderr, /--seed must be an integer in \[0, 2\^64\)/, bad);
    t.notRegex(r.stderr, /bigint/i, bad);
  }
});

test("IDX images of another size than the model's are E_SHAPE naming both sizes, not regrouped pixels", (t) => {
  const small = join(work, "small14.idx");
  writeFileSync(small, encodeIdxImages(makeDataset(new Float32Array(20 * 14 * 14).fill(1), undefined, 14, 14)));
  for (const args of [
    ["eval", "nade", "--idx-images", small, "--json"],
    ["complete", "nade", "--idx-images", small, "--out", join(work, "never.png"), "--json"],
  ]) {
    const r = deepgen(...args);
    t.not(r.status, 0, args.join(" "));
    const err = JSON.parse(r.stdout).error;
    t.is(err.code, "E_SHAPE", args.join(" "));
    t.regex(err.message, /holds 14x14 images, but the model takes 28x28 images/, args.join(" "));
  }
  const empty = join(work, "empty.idx");
  writeFileSync(empty, encodeIdxImages(makeDataset(new Float32Array(0), undefined, 28, 28)));
  const r = deepgen("eval", "nade", "--idx-images", empty, "--json");
  t.not(r.status, 0);
  t.is(JSON.parse(r.stdout).error.code, "E_ARG");
});

test("usage errors exit 2 and, with --json, print one JSON error object on stdout", (t) => {
  for (const args of [
    ["sample", "nade", "--seed", "x", "--json"],
    ["sample", "nade", "--no-such-option", "--json"],
    ["no-such-command", "--json"],
  ]) {
    const r = deepgen(...args);
    t.is(r.status, 2, args.join(" "));
    const lines = r.stdout.trim().split("\n");
    t.is(lines.length, 1, args.join(" "));
    const err = JSON.parse(lines[0]!).error;
    t.is(err.code, "E_ARG", args.join(" "));
    t.true(err.message.length > 0);
    t.is(r.stderr, "", "nothing but the JSON object");
  }
  const text = deepgen("sample", "nade", "--seed", "x");
  t.is(text.status, 2);
  t.regex(text.stderr, /--seed must be an integer/);
  t.is(deepgen("--help").status, 0);
});

test("bad input to model commands fails with a clear message and exit code 2", (t) => {
  const r = deepgen("train", "transformer");
  t.is(r.status, 2);
  t.regex(r.stderr, /E_ARG: unknown command 'transformer'/);
  const missing = deepgen("eval", join(work, "nope.safetensors"), "--json");
  t.is(missing.status, 1);
  t.is(JSON.parse(missing.stdout).error.code, "E_IO");
  const junk = join(work, "junk.safetensors");
  writeFileSync(junk, "garbage");
  const bad = deepgen("eval", junk);
  t.is(bad.status, 2);
  t.regex(bad.stderr, /E_FORMAT/);
});

test("SIGINT during training keeps the last checkpoint, writes the best model and exits 130", async (t) => {
  const { spawn } = await import("node:child_process");
  const out = join(work, "interrupted.safetensors");
  const ckpt = join(work, "interrupted.ckpt.safetensors");
  const child = spawn(process.execPath, [
    "--import",
    "tsx",
    cli,
    "train",
    "nade",
    "--idx-images",
    idx,
    "--hidden",
    "8",
    "--batch",
    "10",
    "--epochs",
    "100000",
    "--patience",
    "100000",
    "--out",
    out,
  ]);
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const deadline = Date.now() + 60_000;
  while (!existsSync(ckpt) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.true(existsSync(ckpt), "a checkpoint was written after the first epoch");
  child.kill("SIGINT");
  t.is(await exited, 130);
  t.regex(stderr, /interrupt/);
  t.true(existsSync(out), "the best model so far was written");
  // The written model holds the best parameters (as kept in the checkpoint), not the
  // mid-epoch ones that were being trained when the signal came.
  const { readSafetensors } = await import("../lib/io/safetensors.js");
  const [model, checkpoint] = await Promise.all([readSafetensors(out), readSafetensors(ckpt)]);
  for (const name of ["W", "c", "V", "b"]) {
    t.deepEqual(model.tensors.get(name)!.data, checkpoint.tensors.get(`best.${name}`)!.data, name);
  }
});
