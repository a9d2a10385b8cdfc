// deepgen train/eval/sample for the PixelRNN families, on a tiny IDX data set (60 digits).
import { spawnSync } from "node:child_process";
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

const work = mkdtempSync(join(tmpdir(), "deepgen-cli-prnn-"));
const idx = join(work, "tiny.idx");
{
  const { train } = canonicalSplit();
  writeFileSync(idx, encodeIdxImages(makeDataset(train.x.slice(0, 60 * 784), undefined, 28, 28)));
}

for (const family of ["rowlstm", "diagbilstm"]) {
  test(`train ${family} writes model, checkpoint, curve and card; --resume continues; eval and sample read it`, (t) => {
    const out = join(work, `${family}.safetensors`);
    const args = ["train", family, "--idx-images", idx, "--layers", "1", "--hidden", "4", "--batch", "20", "--out", out];
    const r = deepgen(...args, "--epochs", "1", "--json");
    t.is(r.status, 0, r.stderr);
    for (const f of [`${family}.safetensors`, `${family}.ckpt.safetensors`, `${family}.card.json`, `${family}.curve.png`])
      t.true(existsSync(join(work, f)), f);
    const card = JSON.parse(readFileSync(join(work, `${family}.card.json`), "utf8"));
    t.is(card.model, family);
    t.is(card.epochs_run, 1);
    t.deepEqual(card.options.layers, 1);
    t.regex(card.command, new RegExp(`^deepgen train ${family}`));
    const resumed = deepgen(...args, "--epochs", "2", "--resume", "--json");
    t.is(resumed.status, 0, resumed.stderr);
    t.is(JSON.parse(resumed.stdout).epochs_run, 2);
    const e = deepgen("eval", out, "--idx-images", idx, "--json");
    t.is(e.status, 0, e.stderr);
    t.true(Math.abs(JSON.parse(e.stdout).test_nll_nats - JSON.parse(resumed.stdout).test_nll_nats) < 1e-3);
    const grid = join(work, `${family}.png`);
    const s = deepgen("sample", out, "-n", "4", "--seed", "3", "--out", grid, "--json");
    t.is(s.status, 0, s.stderr);
    t.true(existsSync(grid));
  });
}
