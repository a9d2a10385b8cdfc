/**
 * `npm run bench -- serve`: HTTP load on loopback (autocannon) against `deepgen serve` running
 * in a child process, so the load generator and the server do not share an event loop (they
 * do share the machine's cores). Sample requests of n = 1 (.npy answers) to the shipped DCGAN
 * and NADE at 1, 16 and 64 connections, with batching on (max-batch 64, waiting 2 ms or not
 * at all) and off (max-batch 1); the baseline is the same Fastify route calling onnxruntime-node once per request
 * on deepgen's ONNX export of the DCGAN (bench/serve-onnx-server.ts). Then an overload run: 512
 * connections against max-queue 256 for --overload-seconds=N (default 60), counting statuses and
 * the server's RSS after a warm-up (5 s of the same load) and 3 s after the overload ends.
 * Each load run lasts --seconds=N (or DEEPGEN_BENCH_SERVE_SECONDS; default 15); --only=overload
 * runs the overload alone. Runs only when named.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer as netServer } from "node:net";
import { fileURLToPath } from "node:url";

// @ts-expect-error autocannon ships no type declarations (the few fields used are typed below)
import autocannonUntyped from "autocannon";

import { onnxRuntimeAvailable } from "../lib/onnx/runtime.js";
import type { Report } from "./report.js";

const cli = fileURLToPath(new URL("../lib/cli/main.ts", import.meta.url));
const onnxServer = fileURLToPath(new URL("./serve-onnx-server.ts", import.meta.url));

function seconds(name = "seconds", fallback = Number(process.env["DEEPGEN_BENCH_SERVE_SECONDS"] ?? 15)): number {
  const flag = process.argv.find((a) => a.startsWith(`--${name}=`));
  const v = Number(flag?.slice(`--${name}=`.length) ?? fallback);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
  return v;
}

async function freePort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

interface Server {
  url: string;
  proc: ChildProcess;
}

async function waitReady(url: string, path: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${url}${path}`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not get ready`);
}

async function deepgenServer(flags: string[]): Promise<Server> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    ["--import", "tsx", cli, "serve", "dcgan", "nade", "--port", String(port), "--log-level", "warn", ...flags],
    {
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, "/health/ready");
  return { url, proc };
}

async function onnxBaseline(): Promise<Server> {
  const proc = spawn(process.execPath, ["--import", "tsx", onnxServer], { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    proc.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim()));
    proc.once("exit", (code) => reject(new Error(`the ONNX baseline server exited (${code})`)));
  });
  await waitReady(url, "/rss");
  return { url, proc };
}

async function stop(s: Server): Promise<void> {
  const exited = new Promise((resolve) => s.proc.once("exit", resolve));
  s.proc.kill("SIGTERM");
  await exited;
}

/** A sum in the server's /metrics text (0 when absent). */
async function metricValue(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** The part of autocannon's programmatic API this file uses. */
interface AutocannonResult {
  requests: { average: number };
  latency: { p50: number; p90: number; p99: number };
  statusCodeStats?: Record<string, { count: number }>;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: {
  url: string;
  method: string;
  connections: number;
  duration: number;
  headers: Record<string, string>;
  requests: { setupRequest: (req: Record<string, unknown>) => Record<string, unknown> }[];
}) => Promise<AutocannonResult>;
const autocannon = autocannonUntyped as Autocannon;

interface Load {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  statuses: Record<string, number>;
  errors: number;
}

async function load(url: string, model: string, connections: number, duration: number): Promise<Load> {
  let seed = 0;
  const r = await autocannon({
    url: `${url}/v1/models/${model}/sample`,
    method: "POST",
    connections,
    duration,
    headers: { "content-type": "application/json" },
    // A different seed per request: nothing can be cached, as for real clients.
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ n: 1, seed: seed++, format: "npy" }) }) }],
  });
  const statuses: Record<string, number> = {};
  for (const [code, s] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = s.count;
  return { rps: r.requests.average, p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, statuses, errors: r.errors + r.timeouts };
}

interface Row {
  server: string;
  model: string;
  connections: number;
  load: Load;
  meanBatch?: number;
}

function table(rows: Row[], duration: number): string {
  const lines = [
    `| server | model | connections | req/s | p50 ms | p90 ms | p99 ms | mean batch | statuses |`,
    "|---|---|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    const st = Object.entries(r.load.statuses)
      .map(([c, n]) => `${c}: ${n}`)
      .join(", ");
    lines.push(
      `| ${r.server} | ${r.model} | ${r.connections} | ${r.load.rps.toFixed(0)} | ${r.load.p50} | ${r.load.p90} | ${r.load.p99} | ${r.meanBatch?.toFixed(2) ?? "-"} | ${st}${r.load.errors ? `, errors: ${r.load.errors}` : ""} |`,
    );
  }
  return `${lines.join("\n")}\n(${duration} s a run)`;
}

export async function runServe(report: Report): Promise<void> {
  const duration = seconds();
  const rows: Row[] = [];
  const modes: [string, string[]][] = [
    ["deepgen, batching (max-batch 64, 2 ms)", ["--max-batch", "64", "--max-delay-ms", "2"]],
    // No wait: a lone request runs at once, and requests that arrive while a batch runs form the next one.
    ["deepgen, batching (max-batch 64, 0 ms)", ["--max-batch", "64", "--max-delay-ms", "0"]],
    ["deepgen, no batching (max-batch 1)", ["--max-batch", "1", "--max-delay-ms", "0"]],
  ];
  const overloadOnly = process.argv.includes("--only=overload");
  for (const [name, flags] of overloadOnly ? [] : modes) {
    const server = await deepgenServer(flags);
    try {
      for (const model of ["dcgan", "nade"]) {
        for (const connections of [1, 16, 64]) {
          process.stderr.write(`  ${name}: ${model}, ${connections} connections\n`);
          const labels = `model="${model}",kind="sample"`;
          const [sum0, count0] = [
            await metricValue(server.url, "deepgen_batch_requests_sum", labels),
            await metricValue(server.url, "deepgen_batch_requests_count", labels),
          ];
          const l = await load(server.url, model, connections, duration);
          const [sum1, count1] = [
            await metricValue(server.url, "deepgen_batch_requests_sum", labels),
            await metricValue(server.url, "deepgen_batch_requests_count", labels),
          ];
          const meanBatch = count1 > count0 ? (sum1 - sum0) / (count1 - count0) : undefined;
          rows.push({ server: name, model, connections, load: l, meanBatch });
          report.add({
            suite: "serve",
            case: `${model} n=1 c=${connections}`,
            backend: "native",
            value: l.rps,
            unit: "req/s",
            note: `${name}; p50 ${l.p50} ms, p99 ${l.p99} ms; mean batch ${meanBatch?.toFixed(2) ?? "-"}`,
          });
        }
      }
    } finally {
      await stop(server);
    }
  }
  if (!overloadOnly && (await onnxRuntimeAvailable())) {
    const server = await onnxBaseline();
    try {
      for (const connections of [1, 16, 64]) {
        process.stderr.write(`  onnxruntime per request: dcgan, ${connections} connections\n`);
        const l = await load(server.url, "dcgan", connections, duration);
        rows.push({ server: "same HTTP layer, onnxruntime per request", model: "dcgan", connections, load: l });
        report.add({
          suite: "serve",
          case: `dcgan n=1 c=${connections}`,
          backend: "onnxruntime",
          value: l.rps,
          unit: "req/s",
          note: `Fastify + onnxruntime-node per request; p50 ${l.p50} ms, p99 ${l.p99} ms`,
        });
      }
    } finally {
      await stop(server);
    }
  }
  // Overload: far more clients than the queue holds; the queue refuses at once instead of
  // growing. RSS is read once the server is warm (code compiled, batch buffers and sockets in
  // place) and again after the overload has drained, so the ratio shows growth, not warm-up.
  const server = await deepgenServer(["--max-batch", "64", "--max-delay-ms", "2", "--max-queue", "256", "--timeout-ms", "5000"]);
  try {
    const rss = "deepgen_process_resident_memory_bytes";
    const heap = "deepgen_nodejs_heap_size_used_bytes";
    await load(server.url, "dcgan", 512, 5);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const before = await metricValue(server.url, rss, "");
    const heapBefore = await metricValue(server.url, heap, "");
    const overloadSeconds = seconds("overload-seconds", 60);
    process.stderr.write(`  overload: dcgan, 512 connections, max-queue 256, ${overloadSeconds} s\n`);
    const l = await load(server.url, "dcgan", 512, overloadSeconds);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const after = await metricValue(server.url, rss, "");
    const heapAfter = await metricValue(server.url, heap, "");
    rows.push({ server: "deepgen overload (max-queue 256)", model: "dcgan", connections: 512, load: l });
    report.add({
      suite: "serve",
      case: "dcgan n=1 c=512 overload",
      backend: "native",
      value: l.rps,
      unit: "req/s",
      note: `statuses ${JSON.stringify(l.statuses)}; server RSS warm ${(before / 2 ** 20).toFixed(0)} -> ${(after / 2 ** 20).toFixed(0)} MiB after (${(after / before).toFixed(2)}x); V8 heap used ${(heapBefore / 2 ** 20).toFixed(0)} -> ${(heapAfter / 2 ** 20).toFixed(0)} MiB`,
    });
    process.stderr.write(`  server RSS before ${(before / 2 ** 20).toFixed(1)} MiB, after ${(after / 2 ** 20).toFixed(1)} MiB\n`);
  } finally {
    await stop(server);
  }
  process.stderr.write(`\n${table(rows, duration)}\n`);
}
