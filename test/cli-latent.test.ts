// The vae / aae commands end to end on the canonical split, with tiny networks and 1 epoch.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "deepgen-cli-latent-"));

function deepgen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneJson(t: { is: (a: unknown, b: unknown, m?: string) => void }, stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split("\n");
  t.is(lines.length, 1, stdout);
  return JSON.parse(lines[0]!) as Record<string, unknown>;
}

test.serial("train / eval / sample / interpolate / plot a vae", (t) => {
  const out = join(dir, "vae.safetensors");
  const r = deepgen(
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
    "5",
    "--warmup",
    "2",
    "--free-bits",
    "0.1",
    "--out",
    out,
    "--json",
  );
  t.is(r.status, 0, r.stderr);
  const card = oneJson(t, r.stdout);
  for (const key of ["elbo_nats", "reconstruction_nats", "kl_nats", "iwae_nll_nats", "gap_nats", "k"])
    t.is(typeof card[key], "number", key);
  t.is(card["k"], 5);
  t.true((card["iwae_nll_nats"] as number) > 0 && (card["kl_nats"] as number) >= 0);
  t.true(Math.abs((card["elbo_nats"] as number) - ((card["reconstruction_nats"] as number) - (card["kl_nats"] as number))) < 1e-6);
  for (const f of ["vae.card.json", "vae.curve.png", "vae.codes.png", "vae.ckpt.safetensors"]) t.true(existsSync(join(dir, f)), f);
  t.deepEqual(JSON.parse(readFileSync(join(dir, "vae.card.json"), "utf8")).iwae_nll_nats, card["iwae_nll_nats"]);
  const e = deepgen("eval", out, "--k", "5", "--json");
  t.is(e.status, 0, e.stderr);
  const ev = oneJson(t, e.stdout);
  t.is(ev["model"], "vae");
  t.is(ev["iwae_nll_nats"], card["iwae_nll_nats"], "same seeds, same estimate");
  const s = deepgen("sample", out, "-n", "4", "--out", join(dir, "s.png"), "--json");
  t.is(s.status, 0, s.stderr);
  t.true(existsSync(join(dir, "s.png")));
  const i = deepgen("interpolate", out, "--from", "3", "--to", "7", "--steps", "6", "--out", join(dir, "i.png"), "--json");
  t.is(i.status, 0, i.stderr);
  t.is(oneJson(t, i.stdout)["steps"], 6);
  for (const kind of ["map", "scatter", "recon"]) {
    const p = deepgen("plot", out, "--kind", kind, "--size", "5", "-n", "4", "--out", join(dir, `${kind}.png`), "--json");
    t.is(p.status, 0, p.stderr);
    t.true(existsSync(join(dir, `${kind}.png`)), kind);
  }
  const resumed = deepgen(
    "train",
    "vae",
    "--hidden",
    "16",
    "--layers",
    "1",
    "--latent",
    "2",
    "--epochs",
    "2",
    "--k",
    "5",
    "--warmup",
    "2",
    "--free-bits",
    "0.1",
    "--out",
    out,
    "--resume",
    "--json",
  );
  t.is(resumed.status, 0, resumed.stderr);
  const card2 = oneJson(t, resumed.stdout);
  t.is(card2["epochs_run"], 2);
  t.deepEqual((card2["history"] as unknown[])[0], (card["history"] as unknown[])[0], "epoch 1 comes from the checkpoint");
  const bad = deepgen("interpolate", out, "--from", "5000", "--json");
  t.is(bad.status, 2);
  t.is((oneJson(t, bad.stdout)["error"] as { code: string }).code, "E_ARG");
});

test.serial("train vae --arch conv writes a conv model that eval and sample load", (t) => {
  const out = join(dir, "conv.safetensors");
  const r = deepgen(
    "train",
    "vae",
    "--arch",
    "conv",
    "--channels",
    "4,6",
    "--latent",
    "4",
    "--epochs",
    "1",
    "--k",
    "2",
    "--out",
    out,
    "--json",
  );
  t.is(r.status, 0, r.stderr);
  const card = oneJson(t, r.stdout);
  t.deepEqual((card["options"] as { channels: number[] }).channels, [4, 6]);
  const e = deepgen("eval", out, "--k", "2", "--json");
  t.is(e.status, 0, e.stderr);
  t.is(oneJson(t, e.stdout)["iwae_nll_nats"], card["iwae_nll_nats"]);
  const bad = deepgen("train", "vae", "--arch", "conv", "--channels", "4", "--epochs", "1", "--json");
  t.is(bad.status, 2);
});

test.serial("train / eval / plot an aae with the mog10 prior; usage errors exit 2", (t) => {
  const out = join(dir, "aae.safetensors");
  const r = deepgen("train", "aae", "--hidden", "16", "--layers", "1", "--prior", "mog10", "--epochs", "1", "--out", out, "--json");
  t.is(r.status, 0, r.stderr);
  const card = oneJson(t, r.stdout);
  t.is(typeof card["reconstruction_nats"], "number");
  t.true(existsSync(join(dir, "aae.ckpt.safetensors")));
  const acc = card["discriminator_accuracy"] as number;
  t.true(acc >= 0 && acc <= 1);
  const e = deepgen("eval", out, "--json");
  t.is(e.status, 0, e.stderr);
  t.is(oneJson(t, e.stdout)["discriminator_accuracy"], acc);
  const p = deepgen("plot", out, "--kind", "scatter", "--out", join(dir, "aae.png"), "--json");
  t.is(p.status, 0, p.stderr);
  for (const args of [
    ["train", "vae", "--prior", "mog10", "--epochs", "1", "--json"],
    ["train", "aae", "--prior", "swissroll", "--latent", "3", "--epochs", "1", "--json"],
    ["plot", out, "--kind", "bogus", "--json"],
    ["train", "aae", "--decoder", "cbernoulli", "--epochs", "1", "--json"],
    ["train", "vae", "--decoder", "gauss", "--epochs", "1", "--json"],
  ]) {
    const b = deepgen(...args);
    t.is(b.status, 2, args.join(" "));
    t.is((oneJson(t, b.stdout)["error"] as { code: string }).code, "E_ARG", args.join(" "));
  }
});

test.serial("train vae --decoder cbernoulli: dequantized grayscale, continuous NLLs with the 8-bit bound; eval agrees", (t) => {
  const out = join(dir, "gray.safetensors");
  const r = deepgen(
    "train",
    "vae",
    "--decoder",
    "cbernoulli",
    "--hidden",
    "16",
    "--layers",
    "1",
    "--latent",
    "2",
    "--epochs",
    "1",
    "--k",
    "3",
    "--out",
    out,
    "--json",
  );
  t.is(r.status, 0, r.stderr);
  const card = oneJson(t, r.stdout);
  t.is(card["density"], "continuous");
  t.regex(String(card["data"]), /dequantized/);
  t.is((card["options"] as { decoder: string }).decoder, "cbernoulli");
  const nll = card["iwae_nll_nats"] as number;
  t.true(Math.abs((card["discrete_nll_bound_nats"] as number) - (nll + 784 * Math.log(256))) < 1e-6);
  const e = deepgen("eval", out, "--k", "3", "--json");
  t.is(e.status, 0, e.stderr);
  t.is(oneJson(t, e.stdout)["iwae_nll_nats"], nll);
  const s = deepgen("sample", out, "-n", "4", "--out", join(dir, "gray.png"), "--json");
  t.is(s.status, 0, s.stderr);
});

test.serial("train aae --arch conv with the regularizers; eval reports the refit discriminator too", (t) => {
  const out = join(dir, "conv-aae.safetensors");
  const r = deepgen(
    "train",
    "aae",
    "--arch",
    "conv",
    "--channels",
    "2,3",
    "--hidden",
    "8",
    "--layers",
    "1",
    "--prior",
    "mog10",
    "--input-dropout",
    "0.1",
    "--lr-decay",
    "0.5",
    "--disc-steps",
    "2",
    "--epochs",
    "1",
    "--out",
    out,
    "--json",
  );
  t.is(r.status, 0, r.stderr);
  const card = oneJson(t, r.stdout);
  const o = card["options"] as Record<string, unknown>;
  t.is(o["arch"], "conv");
  t.deepEqual([o["input_dropout"], o["lr_decay"], o["disc_steps"]], [0.1, 0.5, 2]);
  const refit = card["refit_discriminator_accuracy"] as number;
  t.true(refit >= 0 && refit <= 1);
  const e = deepgen("eval", out, "--json");
  t.is(e.status, 0, e.stderr);
  const ev = oneJson(t, e.stdout);
  t.is(ev["refit_discriminator_accuracy"], refit, "seeded: the same refit");
  t.is(ev["discriminator_accuracy"], card["discriminator_accuracy"]);
});
