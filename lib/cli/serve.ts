/**
 * deepgen serve [names... | --models DIR]: the HTTP sampling server (lib/serve). SIGHUP reloads
 * the models (one that fails keeps its loaded version), SIGTERM / SIGINT drain (stop accepting,
 * finish what is queued and running) and exit 0. With --workers N a primary process forks N
 * servers on the same port (node:cluster), each with floor(cores / N) native threads.
 */
import cluster from "node:cluster";
import { existsSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";

import { type Command, Option } from "commander";

import { DeepgenError } from "../core/errors.js";
import type { BackendName } from "../kernels/kernels.js";
import { resolveModelPath, shippedSamplerNames } from "../models/registry.js";
import type { ModelSource } from "../serve/models.js";
import { intOption } from "./common.js";

interface ServeCliOptions {
  models?: string;
  host: string;
  port: number;
  maxBatch: number;
  maxDelayMs: number;
  maxQueue: number;
  timeoutMs: number;
  maxN: number;
  bodyLimit: number;
  workers: number;
  backend?: BackendName;
  logLevel: string;
  json?: boolean;
}

/** One JSON log line on stderr, shaped like the server's (pino) lines. */
function logLine(level: number, msg: string, extra: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, msg, ...extra })}\n`);
}

/**
 * What to serve. Models named on the command line and the --models folder are checked before
 * the server listens, so a typo is an error of the command, not a server that serves nothing.
 */
function sourceOf(names: string[], dir: string | undefined): ModelSource {
  if (dir !== undefined && names.length > 0) throw new DeepgenError("E_ARG", "give model names or --models DIR, not both");
  if (dir !== undefined) {
    if (statSync(dir, { throwIfNoEntry: false })?.isDirectory() !== true) throw new DeepgenError("E_IO", `--models ${dir}: no such folder`);
    return { dir };
  }
  for (const name of names)
    if (!existsSync(resolveModelPath(name))) throw new DeepgenError("E_IO", `${name}: no such model file or shipped model name`);
  // Without a choice: every shipped generative model (the digit classifier judges, it does not generate).
  return { names: names.length > 0 ? names : shippedSamplerNames() };
}

/** One server in this process, until a signal drains it. */
async function serveHere(source: ModelSource, o: ServeCliOptions): Promise<void> {
  // loaded here, not at start-up: the server's dependencies would slow every other command
  const { createServer } = await import("../serve/server.js");
  const app = createServer({
    models: source,
    backend: o.backend,
    maxBatch: o.maxBatch,
    maxDelayMs: o.maxDelayMs,
    maxQueue: o.maxQueue,
    timeoutMs: o.timeoutMs,
    maxN: o.maxN,
    bodyLimit: o.bodyLimit,
    logLevel: o.logLevel,
  });
  // A cluster worker takes connections from the moment it listens, and the primary hands them
  // out in turn without asking for readiness: workers listen only once their models are in.
  if (cluster.isWorker) await app.deepgen.reload();
  await app.listen({ host: o.host, port: o.port });
  void app.deepgen.loaded.then(() => app.log.info({ models: app.deepgen.list().map((m) => m.name) }, "models loaded"));
  process.on("SIGHUP", () => {
    app.log.info("SIGHUP: reloading the models");
    void app.deepgen.reload().then((report) => app.log.info({ report }, "reload done"));
  });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      app.log.info(`${signal}: draining`);
      app.close().then(
        () => {
          app.log.info("drained; exiting");
          // A cluster worker's channel to the primary would keep it alive: let go of it.
          cluster.worker?.disconnect();
          resolve();
        },
        (err) => {
          app.log.error({ err }, "closing failed");
          process.exitCode = 1;
          resolve();
        },
      );
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}

/** The cluster primary: forks the workers, forwards SIGHUP, and on SIGTERM waits for all of them to drain. */
async function primary(workers: number): Promise<void> {
  const threads = Math.max(1, Math.floor(availableParallelism() / workers));
  let stopping = false;
  const fork = (): void => {
    cluster.fork({ DEEPGEN_THREADS: String(threads) });
  };
  for (let i = 0; i < workers; i++) fork();
  logLine(30, `forked ${workers} workers with DEEPGEN_THREADS=${threads}`, { workers, threads });
  cluster.on("exit", (worker, code, signal) => {
    if (stopping) return;
    // A worker that died on its own is replaced: the others keep serving meanwhile.
    logLine(50, `worker ${worker.process.pid} exited (${signal ?? code}); forking another`);
    fork();
  });
  process.on("SIGHUP", () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGHUP");
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      stopping = true;
      logLine(30, `${signal}: draining ${workers} workers`);
      const alive = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
      let left = alive.length;
      if (left === 0) resolve();
      let failed = false;
      for (const w of alive) {
        w.once("exit", (code) => {
          if (code !== 0) failed = true;
          if (--left === 0) {
            if (failed) process.exitCode = 1;
            resolve();
          }
        });
        w.process.kill("SIGTERM");
      }
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}

export function registerServe(program: Command, run: (json: boolean, fn: () => Promise<void>) => Promise<void>): void {
  program
    .command("serve")
    .description("serve models over HTTP: sample, logprob, complete, with dynamic batching (docs/serving.md)")
    .argument("[models...]", "shipped model names or model files (default: every shipped generative model)")
    .option("--models <dir>", "serve every .safetensors file of this folder (SIGHUP reloads it)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port (0: any free one; the log says which)", intOption("--port", 0), 8080)
    .option("--max-batch <rows>", "rows one batch may hold (1: no batching)", intOption("--max-batch", 1), 64)
    .option(
      "--max-delay-ms <ms>",
      "how long an idle model waits for a batch to fill (0: requests arriving during a batch form the next)",
      intOption("--max-delay-ms", 0),
      0,
    )
    .option("--max-queue <n>", "requests a model's queue holds before answering 503", intOption("--max-queue", 0), 256)
    .option("--timeout-ms <ms>", "queue time after which a request is answered 504 (0: none)", intOption("--timeout-ms", 0), 30000)
    .option("--max-n <rows>", "images one request may ask for or send (more: 413)", intOption("--max-n", 1), 256)
    .option("--body-limit <bytes>", "largest request body (more: 413)", intOption("--body-limit", 1), 8 << 20)
    .option("--workers <n>", "server processes on the port (node:cluster), native threads split among them", intOption("--workers", 1), 1)
    .option("--backend <name>", "native, js or cuda")
    .addOption(
      new Option("--log-level <level>", "JSON log level on stderr")
        .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
        .default("info"),
    )
    .option("--json", "errors as one JSON object on stdout")
    .action((names: string[], opts: ServeCliOptions) =>
      run(Boolean(opts.json), async () => {
        const source = sourceOf(names, opts.models);
        if (opts.workers > 1 && cluster.isPrimary) await primary(opts.workers);
        else await serveHere(source, opts);
      }),
    );
}
