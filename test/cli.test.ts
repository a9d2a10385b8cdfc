import { execFileSync, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

import test from "ava";

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
