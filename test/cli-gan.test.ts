import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

import { makeDataset } from "../lib/data/dataset.js";
import { encodeIdxImages, encodeIdxLabels } from "../lib/data/idx.js";
import { canonicalSplit } from "../lib/data/mnist.js";

const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));

function deepgen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function isPng(path: string): boolean {
  const b = readFileSync(path);
  return b.length > 100 && b.subarray(1, 4).toString("ascii") === "PNG";
}

const work = mkdtempSync(join(tmpdir(), "deepgen-cli-gan-"));
const idx = join(work, "tiny.idx");
const idxLabels = join(work, "tiny-labels.idx");
{
  const { train } = canonicalSplit();
  writeFileSync(idx, encodeIdxImages(makeDataset(train.x.slice(0, 32 * 784), undefined, 28, 28)));
  // ten classes whatever the first 32 labels are: the conditional model's K is max label + 1
  writeFileSync(idxLabels, encodeIdxLabels(Uint8Array.from({ length: 32 }, (_, i) => i % 10)));
}

test("train dcgan writes the model, a card, the loss curve and a sample grid per epoch; sample and interpolate read it", (t) => {
  const out = join(work, "dcgan.safetensors");
  const args = [
    "train",
    "dcgan",
    "--idx-images",
    idx,
    "--zdim",
    "4",
    "--channels",
    "4,3",
    "--disc-channels",
    "3,4",
    "--epochs",
    "2",
    "--batch",
    "16",
    "--disc-lr",
    "4e-4",
    "--quality-every",
    "1",
    "--out",
    out,
    "--json",
  ];
  const r = deepgen(...args);
  t.is(r.status, 0, r.stderr);
  const card = JSON.parse(r.stdout.trim());
  t.is(card.model, "dcgan");
  t.is(card.epochs_run, 2);
  t.deepEqual(card.config.channels, [4, 3]);
  t.is(card.options.lr, 2e-4, "the GAN default learning rate, not the likelihood models' 1e-3");
  t.is(card.options.batch, 16);
  t.is(card.options.disc_lr, 4e-4);
  // sample quality: per epoch against train (--quality-every 1), at the end against test
  const byEpoch = card.fid_vs_train_by_epoch.epochs as { epoch: number; fidTrain: number }[];
  t.deepEqual(
    byEpoch.map((f) => f.epoch),
    [1, 2],
  );
  t.true(byEpoch.every((f) => Number.isFinite(f.fidTrain) && f.fidTrain > 0));
  const q = card.sample_quality;
  t.true(Number.isFinite(q.classifier_fid) && q.classifier_fid > q.floor_fid, "an untrained generator is far from the real images");
  t.is(q.reference.split, "test");
  t.is(q.class_fractions.length, 10);
  t.true(
    q.confident_fraction >= 0 && q.confident_fraction <= 1 && q.confident_reference_fraction > 0.9,
    "the confident fractions of the samples and of the real test images",
  );
  t.true(isPng(join(work, "dcgan.fid.png")));
  t.true(card.history.every((h: { terms: { discriminatorLoss: number } }) => Number.isFinite(h.terms.discriminatorLoss)));
  for (const f of ["dcgan.card.json", "dcgan.curve.png", "dcgan.samples/epoch-001.png", "dcgan.samples/epoch-002.png"])
    t.true(existsSync(join(work, f)), f);
  t.true(isPng(join(work, "dcgan.samples/epoch-002.png")));

  const grid = join(work, "grid.png");
  const s = deepgen("sample", out, "-n", "9", "--seed", "3", "--out", grid, "--json");
  t.is(s.status, 0, s.stderr);
  t.true(isPng(grid));
  const lerp = join(work, "lerp.png");
  const i = deepgen("interpolate", out, "--rows", "2", "--steps", "5", "--out", lerp, "--json");
  t.is(i.status, 0, i.stderr);
  t.true(isPng(lerp));
  const e = deepgen("eval", out);
  t.not(e.status, 0);
  t.regex(e.stderr, /E_ARG.*no likelihood/);
  // the text summary (no --json) reports the final test-split FID
  const text = deepgen(
    "train",
    "dcgan",
    "--idx-images",
    idx,
    "--zdim",
    "4",
    "--channels",
    "4,3",
    "--disc-channels",
    "3,4",
    "--epochs",
    "1",
    "--batch",
    "16",
    "--quality-every",
    "1",
    "--out",
    join(work, "text.safetensors"),
  );
  t.is(text.status, 0, text.stderr);
  t.regex(text.stdout, /dcgan: 1 epochs, .*classifier-FID [\d.]+ vs test \(floor [\d.]+\)/);
  // resume continues from the checkpoint: two more epochs
  const again = deepgen(...args.map((a) => (a === "2" ? "4" : a)), "--resume");
  t.is(again.status, 0, again.stderr);
  t.is(JSON.parse(again.stdout.trim()).epochs_run, 4);
});

test("train dcgan --codes: the card records the code and its loss; sample --code draws one code; --code elsewhere is E_ARG", (t) => {
  const out = join(work, "coded.safetensors");
  const r = deepgen(
    "train",
    "dcgan",
    "--idx-images",
    idx,
    "--zdim",
    "4",
    "--channels",
    "4,3",
    "--disc-channels",
    "3,4",
    "--epochs",
    "1",
    "--batch",
    "16",
    "--codes",
    "3",
    "--code-weight",
    "0.5",
    "--quality-every",
    "0",
    "--out",
    out,
    "--json",
  );
  t.is(r.status, 0, r.stderr);
  const card = JSON.parse(r.stdout.trim());
  t.is(card.config.codes, 3);
  t.is(card.options.code_weight, 0.5);
  t.true(Number.isFinite(card.history[0].terms.codeLoss));
  // what each code draws, by the classifier; and one grid row per code
  t.deepEqual(
    card.code_digits.codes.map((c: { code: number }) => c.code),
    [0, 1, 2],
  );
  t.true(
    card.code_digits.codes.every((c: { digit: number; share: number }) => Number.isInteger(c.digit) && c.share >= 0.1 && c.share <= 1),
  );
  t.true(isPng(join(work, "coded.codes.png")));
  const grid = join(work, "code1.png");
  const s = deepgen("sample", out, "-n", "4", "--code", "1", "--out", grid, "--json");
  t.is(s.status, 0, s.stderr);
  t.true(isPng(grid));
  t.regex(deepgen("sample", out, "-n", "4", "--code", "3", "--out", grid).stderr, /E_ARG.*code/);
  t.regex(deepgen("sample", "nade", "-n", "4", "--code", "0", "--out", grid).stderr, /E_ARG.*--code/);
  t.regex(deepgen("train", "dcgan", "--idx-images", idx, "--codes", "1", "--epochs", "1", "--out", out).stderr, /E_ARG.*codes/);
});

test("train dcgan --conditional: ten classes from the labels, the card says what each class draws; bad combinations are E_ARG", (t) => {
  const out = join(work, "cond.safetensors");
  const base = [
    "train",
    "dcgan",
    "--idx-images",
    idx,
    "--zdim",
    "4",
    "--channels",
    "4,3",
    "--disc-channels",
    "3,4",
    "--epochs",
    "1",
    "--batch",
    "16",
    "--quality-every",
    "0",
    "--out",
    out,
  ];
  const r = deepgen(...base, "--idx-labels", idxLabels, "--conditional", "--json");
  t.is(r.status, 0, r.stderr);
  const card = JSON.parse(r.stdout.trim());
  t.true(card.config.conditional);
  t.is(card.config.codes, 10);
  t.is(card.options.code_weight, undefined);
  t.deepEqual(
    card.class_digits.codes.map((c: { code: number }) => c.code),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  t.true(isPng(join(work, "cond.codes.png")));
  const s = deepgen("sample", out, "-n", "4", "--code", "9", "--out", join(work, "class9.png"), "--json");
  t.is(s.status, 0, s.stderr);
  t.regex(deepgen(...base, "--conditional").stderr, /E_ARG.*--idx-labels/);
  t.regex(deepgen(...base, "--idx-labels", idxLabels, "--conditional", "--codes", "3").stderr, /E_ARG.*pick one/);
  t.regex(deepgen("train", "gan", "--data", "ring8", "--conditional", "--epochs", "1", "--out", out).stderr, /E_ARG.*no classes/);
});

test("train dcgan on images that are not 28x28 digits trains without the classifier's FID", (t) => {
  const small = join(work, "small.idx");
  writeFileSync(
    small,
    encodeIdxImages(
      makeDataset(
        Float32Array.from({ length: 16 * 64 }, (_, i) => ((i * 7) % 3) / 2),
        undefined,
        8,
        8,
      ),
    ),
  );
  const out = join(work, "small.safetensors");
  const r = deepgen(
    "train",
    "dcgan",
    "--idx-images",
    small,
    "--zdim",
    "4",
    "--channels",
    "4,3",
    "--disc-channels",
    "3,4",
    "--epochs",
    "1",
    "--batch",
    "8",
    "--quality-every",
    "1",
    "--out",
    out,
    "--json",
  );
  t.is(r.status, 0, r.stderr);
  const card = JSON.parse(r.stdout.trim());
  t.is(card.epochs_run, 1);
  t.is(card.sample_quality, undefined);
  t.is(card.fid_vs_train_by_epoch, undefined);
});

test("train gan (MLP) trains on images; bad GAN options are E_ARG", (t) => {
  const out = join(work, "gan.safetensors");
  const r = deepgen(
    "train",
    "gan",
    "--idx-images",
    idx,
    "--hidden",
    "16",
    "--layers",
    "1",
    "--epochs",
    "1",
    "--batch",
    "16",
    "--loss",
    "minimax",
    "--d-steps",
    "2",
    "--out",
    out,
    "--json",
  );
  t.is(r.status, 0, r.stderr);
  const card = JSON.parse(r.stdout.trim());
  t.is(card.config.arch, "mlp");
  t.is(card.options.loss, "minimax");
  t.is(card.options.d_steps, 2);
  const bad = deepgen("train", "gan", "--idx-images", idx, "--loss", "hinge", "--out", out);
  t.not(bad.status, 0);
  t.regex(bad.stderr, /E_ARG/);
  const badCh = deepgen("train", "dcgan", "--idx-images", idx, "--channels", "4", "--out", out);
  t.regex(badCh.stderr, /E_ARG.*--channels/);
});

test("train gan --data mog1d / ring8 reports both JSD estimates and mode coverage per epoch, with the diagnostic plots", (t) => {
  const out = join(work, "toy.safetensors");
  const r = deepgen(
    "train",
    "gan",
    "--data",
    "ring8",
    "--toy-n",
    "512",
    "--hidden",
    "16",
    "--epochs",
    "2",
    "--lr",
    "1e-3",
    "--out",
    out,
    "--json",
  );
  t.is(r.status, 0, r.stderr);
  const card = JSON.parse(r.stdout.trim());
  t.is(card.config.output, "identity");
  t.is(card.config.dim, 2);
  t.is(card.diagnostics.length, 2);
  for (const d of card.diagnostics) {
    t.true(d.jsdNumeric >= 0 && d.jsdNumeric <= Math.LN2 + 1e-9, `numeric JSD ${d.jsdNumeric}`);
    t.true(Number.isFinite(d.jsdValue) && Number.isFinite(d.jsdCurrent));
    t.is(d.modes, 8);
    t.true(d.modesHit >= 0 && d.modesHit <= 8);
  }
  for (const f of ["toy.jsd.png", "toy.scatter.png", "toy.samples/epoch-002.png", "toy.curve.png"]) t.true(isPng(join(work, f)), f);
  // toy data is for the MLP GAN: the dcgan has no --data
  const bad = deepgen("train", "dcgan", "--data", "ring8", "--out", out);
  t.regex(bad.stderr, /E_ARG: unknown option '--data'/);
  const unknown = deepgen("train", "gan", "--data", "spiral", "--out", out);
  t.regex(unknown.stderr, /E_ARG.*--data/);
});
