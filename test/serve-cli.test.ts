/** `deepgen serve` as a real child process: JSON logs, SIGHUP reload, SIGTERM drain, workers. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

import test from "ava";

import { Nade } from "../lib/models/nade.js";
import { post } from "./serve-helpers.js";

const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Child {
  proc: ChildProcess;
  url: string;
  logs: () => string;
  exit: Promise<number | null>;
}

/** Starts `deepgen serve ...args --port 0` and resolves once it listens and is ready. */
async function serve(args: string[], env: Record<string, string> = {}): Promise<Child> {
  const proc = spawn(process.execPath, ["--import", "tsx", cli, "serve", ...args, "--port", "0"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  const exit = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) resolve(m[1]!);
    });
    void exit.then((code) => reject(new Error(`serve exited (${code}) before listening:\n${stderr}`)));
  });
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${url}/health/ready`)).status === 200) break;
    await sleep(50);
  }
  return { proc, url, logs: () => stderr, exit };
}

async function modelDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "deepgen-serve-cli-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await Nade.create({ dim: 16, hidden: 4, initSeed: 1 }).save(join(dir, "tiny.safetensors"));
  return dir;
}

test("SIGTERM drains: a queued request still gets its 200, then the process exits 0", async (t) => {
  const dir = await modelDir(t);
  const child = await serve(["--models", dir, "--max-delay-ms", "600"]);
  t.teardown(() => child.proc.kill("SIGKILL"));
  const inFlight = post(`${child.url}/v1/models/tiny/sample`, { n: 2, seed: 3, format: "json" });
  await sleep(150);
  child.proc.kill("SIGTERM");
  const r = await inFlight;
  t.is(r.status, 200);
  t.is(((await r.json()) as { n: number }).n, 2);
  t.is(await child.exit, 0);
  // Every log line on stderr is JSON (pino), the drain is logged.
  const lines = child.logs().trim().split("\n");
  for (const line of lines) t.notThrows(() => JSON.parse(line), line);
  t.regex(child.logs(), /SIGTERM: draining/);
});

test("SIGHUP reloads the folder; a broken file keeps the loaded model", async (t) => {
  const dir = await modelDir(t);
  const child = await serve(["--models", dir]);
  t.teardown(() => child.proc.kill("SIGKILL"));
  const before = await (await post(`${child.url}/v1/models/tiny/sample`, { n: 1, seed: 1, format: "json" })).json();
  await writeFile(join(dir, "tiny.safetensors"), "garbage");
  await Nade.create({ dim: 16, hidden: 4, initSeed: 2 }).save(join(dir, "second.safetensors"));
  child.proc.kill("SIGHUP");
  for (let i = 0; i < 100 && !/reload done/.test(child.logs()); i++) await sleep(50);
  t.regex(child.logs(), /failed to load; keeping the loaded version/);
  const models = (await (await fetch(`${child.url}/v1/models`)).json()) as { models: { name: string }[] };
  t.deepEqual(models.models.map((m) => m.name).sort(), ["second", "tiny"]);
  t.deepEqual(await (await post(`${child.url}/v1/models/tiny/sample`, { n: 1, seed: 1, format: "json" })).json(), before);
  child.proc.kill("SIGTERM");
  t.is(await child.exit, 0);
});

test("--workers 2 serves from two processes with the native threads split, and SIGTERM stops them all", async (t) => {
  const dir = await modelDir(t);
  const child = await serve(["--models", dir, "--workers", "2"], { DEEPGEN_THREADS: "" });
  t.teardown(() => child.proc.kill("SIGKILL"));
  t.regex(child.logs(), /forked 2 workers with DEEPGEN_THREADS=\d+/);
  const statuses = await Promise.all(Array.from({ length: 8 }, (_, i) => post(`${child.url}/v1/models/tiny/sample`, { n: 1, seed: i })));
  t.deepEqual(
    statuses.map((r) => r.status),
    new Array(8).fill(200),
  );
  for (let i = 0; i < 100 && (child.logs().match(/models loaded/g) ?? []).length < 2; i++) await sleep(50);
  const pids = new Set([...child.logs().matchAll(/"pid":(\d+)[^\n]*"msg":"models loaded"/g)].map((m) => m[1]));
  t.is(pids.size, 2, "two worker processes loaded the models");
  child.proc.kill("SIGTERM");
  t.is(await child.exit, 0);
});

test("bad options are usage errors (exit 2)", (t) => {
  const r = spawnSync(process.execPath, ["--import", "tsx", cli, "serve", "--max-batch", "0"], { encoding: "utf8" });
  t.is(r.status, 2);
  t.regex(r.stderr, /--max-batch/);
  const both = spawnSync(process.execPath, ["--import", "tsx", cli, "serve", "nade", "--models", "x", "--json"], { encoding: "utf8" });
  t.is(both.status, 2);
  t.like(JSON.parse(both.stdout), { error: { code: "E_ARG" } });
});
