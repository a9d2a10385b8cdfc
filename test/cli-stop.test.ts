/**
 * How a `deepgen train` run ends when it is told to stop (SIGINT, SIGTERM, SIGHUP): the best
 * model so far, its card and its curve are written, then the process exits with 128 + the
 * signal's number; and an output path that cannot be written fails before the first epoch.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

import { makeDataset } from "../lib/data/dataset.js";
import { encodeIdxImages } from "../lib/data/idx.js";
import { canonicalSplit } from "../lib/data/mnist.js";
import { Nade } from "../lib/models/nade.js";
import { Vae } from "../lib/models/vae.js";

// The tests run one at a time: spawnSync blocks this worker's event loop, and the signal tests
// watch a child's output on it.
const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "deepgen-cli-stop-"));
const idx = join(work, "tiny.idx");
{
  const { train } = canonicalSplit();
  writeFileSync(idx, encodeIdxImages(makeDataset(train.x.slice(0, 60 * 784), undefined, 28, 28)));
}

function start(args: string[]): {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
  const child = spawn(process.execPath, ["--import", "tsx", cli, ...args]);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, exited };
}

async function waitFor(what: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  return what();
}

function isPng(path: string): boolean {
  const b = readFileSync(path);
  return b.length > 100 && b.subarray(1, 4).toString("ascii") === "PNG";
}

for (const [signal, status] of [
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const) {
  test.serial(`${signal} during training writes the best model, its card and curve, and exits ${status}`, async (t) => {
    const stem = join(work, `nade-${signal}`);
    const run = start([
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
      `${stem}.safetensors`,
    ]);
    t.true(await waitFor(() => /epoch 1:/.test(run.stderr()), 60_000), "the first epoch ended");
    run.child.kill(signal);
    const { code } = await run.exited;
    t.is(code, status, run.stderr());
    t.regex(run.stderr(), new RegExp(`interrupted \\(${signal}\\)`));
    const model = await Nade.load(`${stem}.safetensors`);
    t.is(model.dim, 784);
    const card = JSON.parse(readFileSync(`${stem}.card.json`, "utf8"));
    t.is(card.model, "nade");
    t.true(card.interrupted);
    t.is(card.stopped_by, signal);
    t.true(card.epochs_run >= 1);
    t.true(isPng(`${stem}.curve.png`));
  });
}

test.serial("SIGINT during the final IWAE estimate of train vae still writes the card, and exits 130", async (t) => {
  const stem = join(work, "vae-int");
  const run = start([
    "train",
    "vae",
    "--idx-images",
    idx,
    "--hidden",
    "8",
    "--layers",
    "1",
    "--latent",
    "2",
    "--epochs",
    "1",
    "--k",
    "100000",
    "--out",
    `${stem}.safetensors`,
  ]);
  // the model file is written just before the test report begins
  t.true(await waitFor(() => existsSync(`${stem}.safetensors`), 60_000), "the model was written");
  t.false(existsSync(`${stem}.card.json`), "the IWAE estimate (k = 100000) is still running");
  run.child.kill("SIGINT");
  const { code } = await run.exited;
  t.is(code, 130, run.stderr());
  const card = JSON.parse(readFileSync(`${stem}.card.json`, "utf8"));
  t.is(card.model, "vae");
  t.true(card.interrupted);
  t.is(card.stopped_by, "SIGINT");
  t.is(card.iwae_nll_nats, undefined, "the estimate it did not finish is not reported");
  t.is(card.epochs_run, 1);
  t.true(isPng(`${stem}.curve.png`));
  t.is((await Vae.load(`${stem}.safetensors`)).latent, 2);
});

test.serial("an --out that cannot be written fails with E_IO naming it before the first epoch, leaving no files", (t) => {
  const dir = join(work, "outs");
  mkdirSync(dir);
  const asDir = join(dir, "taken.safetensors");
  mkdirSync(asDir);
  const aFile = join(dir, "plain.txt");
  writeFileSync(aFile, "not a folder");
  for (const [out, reason] of [
    [asDir, /it is a directory/],
    [join(dir, "missing", "m.safetensors"), /does not exist/],
    [join(aFile, "m.safetensors"), /not a directory/],
  ] as const) {
    const before = readdirSync(dir).sort();
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", cli, "train", "nade", "--idx-images", idx, "--hidden", "8", "--batch", "10", "--epochs", "3", "--out", out],
      { encoding: "utf8" },
    );
    t.is(r.status, 1, r.stderr);
    t.regex(r.stderr, /E_IO/);
    t.true(r.stderr.includes(out), `names ${out}: ${r.stderr}`);
    t.regex(r.stderr, reason);
    t.notRegex(r.stderr, /epoch 1/, "refused before training");
    t.deepEqual(readdirSync(dir).sort(), before, "no files left behind");
    t.deepEqual(readdirSync(asDir), []);
  }
  // the derived paths are checked too: a directory where the card would go
  const cardDir = join(dir, "c.card.json");
  mkdirSync(cardDir);
  const r = spawnSync(
    process.execPath,
    [
      "--import",
      "tsx",
      cli,
      "train",
      "vae",
      "--idx-images",
      idx,
      "--hidden",
      "8",
      "--layers",
      "1",
      "--epochs",
      "3",
      "--out",
      join(dir, "c.safetensors"),
    ],
    { encoding: "utf8" },
  );
  t.is(r.status, 1, r.stderr);
  t.true(r.stderr.includes(cardDir), r.stderr);
  t.notRegex(r.stderr, /epoch 1/);
  t.false(existsSync(join(dir, "c.safetensors")));
});

test.serial("deepgen sample with an n over the memory limit is E_ARG with the estimate, before allocating", (t) => {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", cli, "sample", "nade", "-n", "2739137", "--out", join(work, "huge.png"), "--json"],
    {
      encoding: "utf8",
      env: { ...process.env, DEEPGEN_MAX_REQUEST_MB: "512" },
    },
  );
  t.is(r.status, 2, r.stderr);
  const err = JSON.parse(r.stdout).error;
  t.is(err.code, "E_ARG");
  t.regex(err.message, /2739137 rows needs about \d+ MiB \(\d+ bytes per row\), over the limit of 512 MiB/);
  t.false(existsSync(join(work, "huge.png")));
});
