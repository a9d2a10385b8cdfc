/**
 * docs/benchmarks.md from saved benchmark results: `npm run docs:bench`.
 *
 *   npm run docs:bench                          rewrite docs/benchmarks.md from bench/results/*.json
 *   npm run docs:bench -- --run core nade       run those suites first (`bench/main.ts <suite> --json`,
 *                                               one at a time), save each as bench/results/<suite>.json
 *   npm run docs:bench -- --import out.jsonl    save the JSON lines of an earlier
 *                                               `npm run --silent bench -- <suite> --json > out.jsonl`
 *
 * Each results file keeps the rows exactly as the bench printed them, with the machine they ran
 * on (CPU model, cores, load average before and after), the command and its wall time, so the
 * page can be regenerated anywhere and still says where its numbers came from.
 */
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type BenchRow, formatValue, ratioOf } from "../bench/report.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS = path.join(ROOT, "bench", "results");
const DOC = path.join(ROOT, "docs", "benchmarks.md");

interface Machine {
  cpu: string;
  cores: number;
  platform: string;
  node: string;
  memoryGiB: number;
  loadAverageBefore: number[];
  loadAverageAfter: number[];
}

interface SuiteResult {
  suite: string;
  command: string;
  date: string;
  seconds: number | null;
  machine: Machine;
  rows: BenchRow[];
}

/** Notes on a suite that the rows alone do not say: what is compared with what. */
const SUITE_NOTES: Record<string, string> = {
  core: "The FMA-loop peak (the yardstick of the kernels suite's `% of peak`) and Philox fills, native against the JS twin.",
  kernels:
    "GEMM (square sizes and the models' shapes) and the four DCGAN conv layers at batch 64, native on 1 and 2 threads against the JS twin, onnxruntime-node (one-node graphs, same threads) and tfjs (cpu: plain JS; wasm: SIMD, one thread). JS and tfjs-cpu are skipped on the largest shapes. `% of peak` divides by the FMA probe of the same run and thread count; on a busy machine the probe and the case get different shares of the cores, and figures above 100% mean exactly that.",
  convblock:
    "Whole DCGAN conv blocks (conv or transposed conv + batch norm + activation) as one fused native call against the same block as separate native calls (`native-unfused`), onnxruntime and the JS twin.",
  nade: "NADE, H = 500, D = 784 (the shipped model when installed): test-set logProb, sampling at batch 1 and 100, one training epoch; the JS epoch is extrapolated from 10 batches.",
  pixelrnn:
    "Row LSTM and Diagonal BiLSTM (the shipped models when installed): NLL throughput, one training epoch (extrapolated from a few batches), cached and naive sampling.",
  vae: "VAE, latent 32, MLP 2x500: one ELBO epoch (extrapolated), IWAE k = 5000, and the two decoder likelihoods (Bernoulli, continuous Bernoulli) on 100 x 784 logits.",
  gan: "The reference DCGAN generator and one training step, native against the JS twin and deepgen's ONNX export under onnxruntime-node; the shipped generators against their ONNX files.",
  onnx: "The same models through native, JS and onnxruntime-node at batch 1 and 64: the shipped VAE decoder, a conv decoder, the shipped NADE's exact log p(x).",
  quality: "Sample-quality metrics: classifier features (native against the JS twin) and one float64 FID.",
  "gan-diag": "GAN diagnostics on toy data (pure TS, one thread): one diagnoseGan call with 10,000 samples.",
  text2image: "Text-to-image generation of the shipped GAN-INT-CLS model, native and JS against onnxruntime on its exported graph.",
  train:
    "Training speed through the public API on 2 threads: VAE and AAE epochs, MLP GAN and DCGAN steps, NADE and PixelRNN training, and the training-shape GEMMs, with GFLOP/s against the FMA peak where the FLOP count is defined. `--peers` adds PyTorch on the CPU (bench/peers/torch_train.py, best of 1 and 2 threads; see [training-speed.md](training-speed.md)).",
};

function machineNow(loadAverageBefore: number[]): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    platform: `${process.platform}-${process.arch}`,
    node: process.versions.node,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverageBefore,
    loadAverageAfter: round2(os.loadavg()),
  };
}

function round2(xs: number[]): number[] {
  return xs.map((x) => Math.round(x * 100) / 100);
}

/** The benchmark rows in a bench --json output (other lines, such as npm's banner, are skipped). */
function parseRows(text: string): BenchRow[] {
  const rows: BenchRow[] = [];
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t.startsWith("{")) continue;
    const r = JSON.parse(t) as BenchRow;
    if (typeof r.suite === "string" && typeof r.case === "string" && typeof r.value === "number") rows.push(r);
  }
  return rows;
}

function save(result: SuiteResult): void {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(path.join(RESULTS, `${result.suite}.json`), `${JSON.stringify(result, null, 2)}\n`);
}

async function runSuite(suite: string): Promise<void> {
  const loadBefore = round2(os.loadavg());
  const started = new Date();
  const t0 = performance.now();
  const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
  const child = spawn(tsx, ["bench/main.ts", suite, "--json"], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (s: string) => {
    out += s;
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const seconds = Math.round((performance.now() - t0) / 100) / 10;
  if (code !== 0) throw new Error(`bench suite ${suite} exited with ${code}`);
  const rows = parseRows(out);
  if (rows.length === 0) throw new Error(`bench suite ${suite} printed no rows`);
  save({
    suite,
    command: `npm run bench -- ${suite} --json`,
    date: started.toISOString(),
    seconds,
    machine: machineNow(loadBefore),
    rows,
  });
  process.stderr.write(`${suite}: ${rows.length} rows in ${seconds} s\n`);
}

function importFile(file: string): void {
  const rows = parseRows(readFileSync(file, "utf8"));
  const suites = [...new Set(rows.map((r) => r.suite))];
  const load = round2(os.loadavg());
  for (const suite of suites) {
    save({
      suite,
      command: `npm run bench -- ${suite} --json`,
      date: new Date().toISOString(),
      seconds: null,
      machine: machineNow(load),
      rows: rows.filter((r) => r.suite === suite),
    });
  }
  process.stderr.write(`imported ${rows.length} rows of ${suites.join(", ")} from ${file}\n`);
}

function loadResults(): SuiteResult[] {
  let files: string[] = [];
  try {
    files = readdirSync(RESULTS).filter((f) => f.endsWith(".json"));
  } catch {
    // no results yet: the page says so
  }
  const order = Object.keys(SUITE_NOTES);
  return files
    .map((f) => JSON.parse(readFileSync(path.join(RESULTS, f), "utf8")) as SuiteResult)
    .sort((a, b) => rank(order, a.suite) - rank(order, b.suite) || a.suite.localeCompare(b.suite));
}

function rank(order: string[], suite: string): number {
  const i = order.indexOf(suite);
  return i < 0 ? order.length : i;
}

function cell(s: string): string {
  return s.replaceAll("|", "\\|");
}

function suiteTable(rows: BenchRow[]): string[] {
  const lines = ["| case | backend | value | unit | vs native | note |", "|---|---|---:|---|---:|---|"];
  for (const r of rows) {
    const base = rows.find((b) => b.case === r.case && b.backend === "native");
    const ratio = base === undefined || base === r ? "" : `${formatValue(ratioOf(r, base))}x`;
    lines.push(`| ${cell(r.case)} | ${r.backend} | ${formatValue(r.value)} | ${cell(r.unit)} | ${ratio} | ${cell(r.note ?? "")} |`);
  }
  return lines;
}

function machineLine(m: Machine): string {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}, Node ${m.node}`;
}

function render(results: SuiteResult[]): string {
  const out: string[] = [
    "# Benchmarks",
    "",
    "<!-- Generated by scripts/bench-doc.ts (`npm run docs:bench`) from bench/results/*.json: edit the script, not this page. -->",
    "",
    "Each table below is one run of `npm run bench -- <suite> --json` (see [bench/main.ts](../bench/main.ts)); the raw",
    "JSON lines are kept in [bench/results/](../bench/results/) with the machine and the load average around the run,",
    "so this page can be regenerated (`npm run docs:bench`) or the suites rerun (`npm run docs:bench -- --run <suite>...`).",
    "",
    '"vs native" is how many times faster the row is than the native row of the same case (below 1: slower); for',
    "time units it is native time / row time, for rates row rate / native rate.",
    "",
    "**These numbers come from a shared, noisy machine.** Other builds and tests ran on the same cores during",
    "the runs (the load averages below say how busy it was), so absolute times are pessimistic and single",
    "slow cases can vary by 2x between runs; ratios within one case (same run, same moment) hold better.",
    "For numbers of your own machine run `npm run bench -- <suite>` on a quiet one.",
    "",
  ];
  if (results.length === 0) {
    out.push("No results saved yet: run `npm run docs:bench -- --run core`.", "");
    return out.join("\n");
  }
  const machines = [...new Set(results.map((r) => machineLine(r.machine)))];
  out.push("## Machine", "");
  if (machines.length === 1) out.push(`All suites: ${machines[0]}.`, "");
  else out.push("Suites ran on more than one machine; each section names its own.", "");
  out.push("| suite | ran | wall time | load average before / after (1, 5, 15 min) |", "|---|---|---:|---|");
  for (const r of results) {
    const wall = r.seconds === null ? "-" : `${r.seconds.toFixed(0)} s`;
    const load = `${r.machine.loadAverageBefore.join(", ")} / ${r.machine.loadAverageAfter.join(", ")}`;
    out.push(`| [${r.suite}](#${r.suite}) | ${r.date.slice(0, 10)} | ${wall} | ${load} |`);
  }
  out.push("");
  for (const r of results) {
    out.push(`## ${r.suite}`, "");
    const note = SUITE_NOTES[r.suite];
    if (note !== undefined) out.push(note, "");
    out.push(
      `\`${r.command}\`${machines.length > 1 ? ` on ${machineLine(r.machine)}` : ""}, ${r.date.slice(0, 16).replace("T", " ")} UTC.`,
    );
    out.push("");
    out.push(...suiteTable(r.rows), "");
  }
  out.push(
    "## Not here",
    "",
    "- `cuda`: needs a GPU; no CUDA number has been measured yet (see [cuda.md](cuda.md)).",
    "- `serve`: HTTP load tests that take minutes and start servers; measured in [serving.md](serving.md).",
  );
  const missing = Object.keys(SUITE_NOTES).filter((s) => !results.some((r) => r.suite === s));
  if (missing.length > 0)
    out.push(`- No saved results (run \`npm run docs:bench -- --run <suite>\`): ${missing.map((s) => `\`${s}\``).join(", ")}.`);
  out.push("");
  return out.join("\n");
}

const args = process.argv.slice(2);
if (args[0] === "--run") {
  for (const suite of args.slice(1)) await runSuite(suite);
} else if (args[0] === "--import") {
  for (const file of args.slice(1)) importFile(file);
} else if (args.length > 0) {
  process.stderr.write("usage: tsx scripts/bench-doc.ts [--run <suite>... | --import <file.jsonl>...]\n");
  process.exit(2);
}
mkdirSync(path.dirname(DOC), { recursive: true });
writeFileSync(DOC, render(loadResults()));
process.stderr.write(`wrote ${path.relative(ROOT, DOC)}\n`);
