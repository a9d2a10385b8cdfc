/**
 * Training speed (`npm run bench -- train [--peers] [--json]`): deepgen's public training API
 * on 2 threads (setThreads) against PyTorch on the CPU (bench/peers/torch_train.py, with
 * --peers), the same models, sizes, batch sizes and optimizers, on the same canonical split:
 *   VAE epoch (latent 32, MLP 2x500, the 8,004 training images, batch 100, Adam);
 *   AAE epoch (the shipped aae-mnist-mog10: latent 2, hidden and D 200x2, mog10 prior, input
 *   dropout 0.2, lr decay 0.1; batch 100);
 *   MLP GAN and DCGAN training step (batch 64, D and G updates; Gan.fit over a fixed number
 *   of batches, divided: the API has no single-step call);
 *   NADE epoch (H 500, batch 100, Adam) and log-likelihood of the 1,996 test images;
 *   Row LSTM and Diagonal BiLSTM training (1 layer, H 32, batch 32): a fixed number of batches,
 *   extrapolated to an epoch of the 8,004 images;
 *   the training-shape GEMMs in Dense's three layouts (forward x W^T, dW = dy^T x, dx = dy W).
 * Every fit gets the first test image as its validation set (some fits need one; it costs
 * microseconds). Rows with a well-defined FLOP count (GEMMs, dense and conv steps counted as
 * 2 M N K per product, training = 3x forward) carry GFLOP/s and the share of the FMA peak:
 * the largest of the probes taken before each case and at the start and end of the suite.
 *
 * The peer runs one case at a time, right after deepgen's row of that case (so the two share
 * the machine's load of that moment), under torch.set_num_threads(1) and (2), and its row is
 * the better of the two. It needs a python3 that imports torch: $DEEPGEN_PYTHON, else python3
 * on PATH, else /usr/bin/python3 (Debian's python3-torch; bench/peers/install-torch.sh). When
 * none does, the peer rows are skipped with a message.
 *
 * --only=vae,nade runs only the named groups (vae, aae, gan, dcgan, nade, rowlstm, diagbilstm,
 * gemm); the default is all of them.
 *
 * DEEPGEN_BENCH_PROFILE=1 prints, after each deepgen case, the share of its time spent in each
 * native kernel and outside them (see KernelProfile).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { canonicalSplit } from "../lib/api/data.js";
import { getKernels, type Kernels, measureFmaPeak } from "../lib/api/kernels.js";
import { Aae, Gan, getThreads, Nade, PixelRnn, setThreads, Vae } from "../lib/index.js";
import { type BenchBackend, formatValue, type Report } from "./report.js";

const THREADS = 2;
const DIM = 784;
const PEER_THREADS = [1, 2];
const PEER_SCRIPT = fileURLToPath(new URL("./peers/torch_train.py", import.meta.url));
// The report's backend names predate this peer: the PyTorch CPU rows are named here.
const TORCH_CPU: BenchBackend = "torch-cpu";

/** What the targets ask of a row: speed-up over PyTorch and share of the FMA peak. */
interface Target {
  speedup?: number;
  peakShare?: number;
}

interface Measured {
  case: string;
  unit: string;
  /** deepgen's value (time or rate). */
  value: number;
  /** FLOP of one unit of work (one epoch, step, image or product), when well defined. */
  flop?: number;
  target: Target;
  torch?: { value: number; threads: number; note: string };
}

/** Multiply-adds of an MLP's forward pass for one example. */
function mlpMacs(sizes: number[]): number {
  let s = 0;
  for (let i = 0; i + 1 < sizes.length; i++) s += sizes[i]! * sizes[i + 1]!;
  return s;
}

/** Multiply-adds of a 4x4 conv or transposed conv (stride 2) for one example: taps x cin x cout per small-side pixel. */
function conv4x4Macs(cin: number, cout: number, smallSide: number): number {
  return smallSide * smallSide * 16 * cin * cout;
}

const isTime = (unit: string): boolean => unit === "s" || unit === "ms";

/** How many times faster deepgen is than the peer (> 1: deepgen wins). */
function speedup(m: Measured): number | undefined {
  if (m.torch === undefined) return undefined;
  return isTime(m.unit) ? m.torch.value / m.value : m.value / m.torch.value;
}

/** FLOP/s of a row (value in its unit; flop per epoch, step, image or product). */
function flopRate(unit: string, value: number, flop: number): number {
  if (unit === "s") return flop / value;
  if (unit === "ms") return flop / (value / 1000);
  if (unit === "images/s") return flop * value;
  return value * 1e9; // GFLOP/s
}

/** A python3 that imports torch, or undefined (with the reason on stderr). */
function findPython(): string | undefined {
  const tried: string[] = [];
  for (const py of [process.env.DEEPGEN_PYTHON, "python3", "/usr/bin/python3"]) {
    if (py === undefined || py === "" || tried.includes(py)) continue;
    tried.push(py);
    if (spawnSync(py, ["-c", "import torch"], { encoding: "utf8", timeout: 120_000 }).status === 0) return py;
  }
  process.stderr.write(
    `  PyTorch CPU peer not run: no python with torch (tried ${tried.join(", ")}); bench/peers/install-torch.sh installs Debian's\n`,
  );
  return undefined;
}

/**
 * The peer's environment: OpenBLAS picks its kernels by CPU detection. A machine-wide
 * OPENBLAS_CORETYPE (some images pin Haswell, AVX2) would hold it below what the CPU runs.
 */
function peerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  return env;
}

/** torch's version, its BLAS and the library and kernels it loaded (torch_train.py --describe), for the record. */
function describeTorch(py: string): string {
  const r = spawnSync(py, [PEER_SCRIPT, "--describe"], { encoding: "utf8", timeout: 120_000, env: peerEnv() });
  return r.status === 0 ? r.stdout.trim() : "torch (version probe failed)";
}

/**
 * DEEPGEN_BENCH_PROFILE=1: where deepgen's time goes. Every method of the native Kernels
 * object (the one the models call) gets a wall-clock timer; only outermost calls count (a
 * kernel calling another through the object is not counted twice; async kernels count until
 * they settle). After each case the kernels' shares of the timed runs go to stderr, and the
 * rest: TypeScript between the kernel calls (batching, the JS twins' work, the loop itself).
 */
class KernelProfile {
  private readonly totals = new Map<string, { ms: number; calls: number }>();
  private depth = 0;

  constructor(kernels: Kernels) {
    const target = kernels as unknown as Record<string, unknown>;
    for (const [name, fn] of Object.entries(target)) {
      if (typeof fn !== "function") continue;
      const profile = this;
      target[name] = function (this: unknown, ...args: unknown[]): unknown {
        if (profile.depth > 0) return fn.apply(this, args);
        profile.depth++;
        const t0 = performance.now();
        try {
          const out: unknown = fn.apply(this, args);
          if (out instanceof Promise) return out.finally(() => profile.add(name, performance.now() - t0));
          profile.add(name, performance.now() - t0);
          return out;
        } finally {
          profile.depth--;
        }
      };
    }
  }

  private add(name: string, ms: number): void {
    const t = this.totals.get(name) ?? { ms: 0, calls: 0 };
    t.ms += ms;
    t.calls++;
    this.totals.set(name, t);
  }

  reset(): void {
    this.totals.clear();
  }

  /** The kernels' shares of `wallMs`, largest first, then the time outside them. */
  summary(wallMs: number): string {
    const rows = [...this.totals].sort((a, b) => b[1].ms - a[1].ms);
    const inKernels = rows.reduce((s, [, t]) => s + t.ms, 0);
    const share = (ms: number): string => `${((100 * ms) / wallMs).toFixed(1)}%`;
    const parts = rows
      .slice(0, 8)
      .map(([name, t]) => `${name} ${share(t.ms)} (${t.calls} calls, ${((1000 * t.ms) / t.calls).toFixed(0)} us each)`);
    return `${parts.join("; ")}; outside the kernels ${share(wallMs - inKernels)}`;
  }
}

/**
 * FMA-peak probes taken through the suite (at its start, before each case, at its end). Other
 * work on the machine only lowers a probe, so the largest estimates the machine's peak.
 */
const peaks: number[] = [];

function probePeak(): void {
  peaks.push(measureFmaPeak({ threads: THREADS }).gflops);
}

const profile = process.env.DEEPGEN_BENCH_PROFILE === "1" ? new KernelProfile(getKernels("native")) : undefined;

/**
 * Median wall time (ms) of `reps` runs of `run` (each awaited), after `warmup` runs; with
 * DEEPGEN_BENCH_PROFILE=1 also prints the kernel breakdown of the timed runs under `label`.
 */
async function timeCase(label: string, run: () => unknown, reps: number, warmup = 0): Promise<number> {
  probePeak();
  for (let i = 0; i < warmup; i++) await run();
  profile?.reset();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  if (profile !== undefined) {
    const total = times.reduce((s, t) => s + t, 0);
    process.stderr.write(`  profile ${label}: ${profile.summary(total)}\n`);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!;
}

interface Peer {
  python: string;
  dataPath: string;
  ntrain: number;
  ntest: number;
}

/** Runs one case in the peer; returns its best row over the thread counts, or undefined on failure. */
function runPeer(peer: Peer, spec: Record<string, unknown>): Measured["torch"] {
  const input = JSON.stringify({
    data: peer.dataPath,
    ntrain: peer.ntrain,
    ntest: peer.ntest,
    dim: DIM,
    threads: PEER_THREADS,
    cases: [spec],
  });
  const r = spawnSync(peer.python, [PEER_SCRIPT], { input, encoding: "utf8", timeout: 1_200_000, env: peerEnv() });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || "python failed").trim().split("\n").pop();
    process.stderr.write(`  ${String(spec.case)} [torch-cpu] failed: ${why}\n`);
    return undefined;
  }
  const rows = r.stdout
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map((l) => JSON.parse(l) as { threads: number; value: number; unit: string; note: string });
  if (rows.length === 0) return undefined;
  const better = (a: (typeof rows)[number], b: (typeof rows)[number]): boolean => (isTime(a.unit) ? a.value < b.value : a.value > b.value);
  const best = rows.reduce((a, b) => (better(b, a) ? b : a));
  const all = rows.map((x) => `t${x.threads} ${formatValue(x.value)}`).join(", ");
  return { value: best.value, threads: best.threads, note: `best of ${all} ${best.unit}${best.note ? `; ${best.note}` : ""}` };
}

const GROUPS = ["vae", "aae", "gan", "dcgan", "nade", "rowlstm", "diagbilstm", "gemm"] as const;
type Group = (typeof GROUPS)[number];

/** The groups that --only=a,b names (all without it); an unknown name is an error. */
function selectedGroups(): Set<Group> {
  const arg = process.argv.find((a) => a.startsWith("--only="));
  if (arg === undefined) return new Set(GROUPS);
  const names = arg.slice("--only=".length).split(",");
  const unknown = names.filter((x) => !(GROUPS as readonly string[]).includes(x));
  if (unknown.length > 0) throw new Error(`--only: unknown group ${unknown.join(", ")}; groups: ${GROUPS.join(", ")}`);
  return new Set(names as Group[]);
}

export async function runTrain(report: Report): Promise<void> {
  const withPeers = process.argv.includes("--peers");
  const only = selectedGroups();
  const previousThreads = getThreads();
  setThreads(THREADS);
  const gray = canonicalSplit();
  const bin = canonicalSplit({ binarized: true });
  const train = bin.train.x;
  const n = bin.train.n;
  const valid = bin.test.x.subarray(0, DIM); // one image: the validation set the fits ask for
  peaks.length = 0;
  probePeak();

  let peer: Peer | undefined;
  let tmp: string | undefined;
  if (withPeers) {
    const python = findPython();
    if (python !== undefined) {
      process.stderr.write(`  PyTorch CPU peer: ${python}; ${describeTorch(python)}\n`);
      tmp = mkdtempSync(path.join(os.tmpdir(), "deepgen-train-"));
      const dataPath = path.join(tmp, "canonical-split.f32");
      // little-endian float32 (x86-64, arm64): the grayscale training images, then the test images
      const bytes = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
      writeFileSync(dataPath, Buffer.concat([bytes(gray.train.x), bytes(gray.test.x)]));
      peer = { python, dataPath, ntrain: gray.train.n, ntest: gray.test.n };
    }
  }

  const results: Measured[] = [];
  /**
   * deepgen's row, then (with --peers) the peer's run of the same case; `peerScale` turns the
   * peer's value into the row's unit (ms per batch -> s per epoch), `peerNote` says how.
   */
  const measure = (m: Omit<Measured, "torch">, note: string, spec?: Record<string, unknown>, peerScale = 1, peerNote?: string): void => {
    const row: Measured = { ...m };
    report.add({ suite: "train", case: m.case, backend: "native", value: m.value, unit: m.unit, note: `threads ${THREADS}; ${note}` });
    const torch = peer !== undefined && spec !== undefined ? runPeer(peer, { case: m.case, ...spec }) : undefined;
    if (torch !== undefined) {
      row.torch = { ...torch, value: torch.value * peerScale };
      const s = speedup(row)!;
      report.add({
        suite: "train",
        case: m.case,
        backend: TORCH_CPU,
        value: row.torch.value,
        unit: m.unit,
        note: `${torch.note}${peerNote === undefined ? "" : `; ${peerNote}`}; deepgen ${formatValue(s)}x ${s >= 1 ? "faster" : "slower"}`,
      });
    }
    results.push(row);
  };

  try {
    // ---- VAE: one epoch of the 8,004 images ----
    if (only.has("vae")) {
      const hidden = [500, 500];
      const model = Vae.create({ dim: DIM, latent: 32, hidden, initSeed: 1 });
      const opts = { epochs: 1, batchSize: 100, validation: valid };
      await model.fit(train.subarray(0, 1000 * DIM), opts); // warm-up
      let seed = 0;
      const ms = await timeCase("vae", () => model.fit(train, { ...opts, seed: seed++ }), 3);
      const macs = mlpMacs([DIM, ...hidden, 64]) + mlpMacs([32, ...hidden, DIM]);
      measure(
        { case: "vae-epoch-L32-2x500-b100", unit: "s", value: ms / 1000, flop: 3 * 2 * macs * n, target: { speedup: 2 } },
        `Vae.fit, 1 epoch of ${n} images, median of 3`,
        { kind: "vae", latent: 32, hidden, batch: 100, reps: 3 },
      );
    }

    // ---- AAE: the shipped model's architecture and training options ----
    if (only.has("aae")) {
      const hidden = [200, 200];
      const model = Aae.create({ dim: DIM, latent: 2, hidden, discHidden: hidden, prior: "mog10", initSeed: 1 });
      const opts = { epochs: 1, batchSize: 100, lr: 1e-3, adversarialLr: 1e-3, inputDropout: 0.2, lrDecay: 0.1, validation: valid };
      await model.fit(train.subarray(0, 1000 * DIM), opts);
      let seed = 0;
      const ms = await timeCase("aae", () => model.fit(train, { ...opts, seed: seed++ }), 3);
      const enc = mlpMacs([DIM, ...hidden, 2]);
      const dec = mlpMacs([2, ...hidden, DIM]);
      const disc = mlpMacs([2, ...hidden, 1]);
      // reconstruction 3(E + D); discriminator E + 3 * 2 disc; generator 3 disc + 2 E (backward)
      const macs = 3 * (enc + dec) + enc + 6 * disc + 3 * disc + 2 * enc;
      measure(
        { case: "aae-mog10-epoch-b100", unit: "s", value: ms / 1000, flop: 2 * macs * n, target: { speedup: 2 } },
        `Aae.fit, 1 epoch of ${n} images, median of 3`,
        { kind: "aae", latent: 2, hidden, discHidden: hidden, batch: 100, inputDropout: 0.2, lrDecay: 0.1, epochs: 1, reps: 3 },
      );
    }

    // ---- GANs: Gan.fit over a fixed number of batches of 64, per step ----
    const ganX = gray.train.x.map((v) => 2 * v - 1);
    const ganStep = async (label: string, gan: Gan, steps: number): Promise<number> => {
      const x = ganX.subarray(0, steps * 64 * DIM);
      await gan.fit(x.subarray(0, 2 * 64 * DIM), { epochs: 1, batchSize: 64 }); // warm-up
      let seed = 0;
      return (await timeCase(label, () => gan.fit(x, { epochs: 1, batchSize: 64, seed: seed++ }), 3)) / steps;
    };
    if (only.has("gan")) {
      const steps = 50;
      const hidden = [256, 256];
      const gan = Gan.create({ dim: DIM, hidden, discHidden: hidden, initSeed: 1 });
      const ms = await ganStep("gan-mlp", gan, steps);
      const g = mlpMacs([64, ...hidden, DIM]);
      const d = mlpMacs([DIM, ...hidden, 1]);
      // G(64) once, D on 128 then on 64 examples; each forward + backward = 3x forward
      measure(
        { case: "gan-mlp-step-b64", unit: "ms", value: ms, flop: 3 * 2 * 64 * (g + 3 * d), target: { speedup: 2 } },
        `Gan.fit over ${steps} batches, divided; median of 3`,
        { kind: "gan", arch: "mlp", zdim: 64, hidden, batch: 64, steps, reps: 3 },
      );
    }
    if (only.has("dcgan")) {
      const steps = 10;
      const gan = Gan.create({ arch: "dcgan", dim: DIM, height: 28, width: 28, initSeed: 1 });
      const ms = await ganStep("dcgan", gan, steps);
      const g = 100 * 128 * 49 + conv4x4Macs(128, 64, 7) + conv4x4Macs(64, 1, 14);
      const d = conv4x4Macs(1, 64, 14) + conv4x4Macs(64, 128, 7) + 128 * 49;
      measure(
        { case: "dcgan-step-b64", unit: "ms", value: ms, flop: 3 * 2 * 64 * (g + 3 * d), target: { speedup: 2 } },
        `Gan.fit over ${steps} batches, divided; median of 3`,
        { kind: "gan", arch: "dcgan", zdim: 100, batch: 64, steps, reps: 3 },
      );
    }

    // ---- NADE: one epoch, then the test set's log-likelihood ----
    if (only.has("nade")) {
      const hidden = 500;
      const model = Nade.create({ dim: DIM, hidden, initSeed: 1 });
      const opts = { epochs: 1, batchSize: 100, validation: valid };
      await model.fit(train.subarray(0, 1000 * DIM), opts);
      let seed = 0;
      const ms = await timeCase("nade-epoch", () => model.fit(train, { ...opts, seed: seed++ }), 3);
      // GEMM-equivalent: the pre-activation updates and the output dot products, D x H each
      const fwd = 2 * 2 * DIM * hidden;
      const peerBatches = 10;
      measure(
        { case: "nade-epoch-h500-b100", unit: "s", value: ms / 1000, flop: 3 * fwd * n, target: { speedup: 10 } },
        `Nade.fit, 1 epoch of ${n} images, median of 3`,
        { kind: "nade-epoch", hidden, batch: 100, form: "loop", batches: peerBatches, reps: 2 },
      );
      const test = bin.test.x;
      const lms = await timeCase("nade-logprob", () => model.logProbSync(test), 5, 1);
      measure(
        { case: "nade-logprob-test-h500", unit: "images/s", value: (bin.test.n / lms) * 1000, flop: fwd, target: { speedup: 12 } },
        `Nade.logProbSync on the ${bin.test.n} test images, median of 5`,
        { kind: "nade-logprob", hidden, form: "loop", reps: 3 },
      );
    }

    // ---- PixelRNN: a fixed number of batches of 32, extrapolated to the epoch ----
    for (const kind of (["rowlstm", "diagbilstm"] as const).filter((g) => only.has(g))) {
      const hidden = 32;
      // deepgen times whole fits, whose fixed cost (validation, keeping the best parameters)
      // an epoch of 251 batches spreads thin; 16 batches keep it small, 8 did not. The peer
      // times its steps alone.
      const batches = 16;
      const model = PixelRnn.create({ kind, layers: 1, hidden, height: 28, width: 28, initSeed: 1 });
      const opts = { epochs: 1, batchSize: 32, validation: valid };
      const x = train.subarray(0, batches * 32 * DIM);
      await model.fit(x.subarray(0, 2 * 32 * DIM), opts);
      let seed = 0;
      const perBatch = (await timeCase(kind, () => model.fit(x, { ...opts, seed: seed++ }), 3)) / batches;
      const epochBatches = Math.ceil(n / 32);
      const h4 = 4 * hidden * hidden;
      const recurrent = kind === "rowlstm" ? 5 * h4 : 2 * 3 * h4; // input-to-state + state-to-state taps
      const perPixel = 24 * hidden + recurrent + hidden * hidden + hidden;
      const peerBatches = 8;
      const extrapolated = (b: number): string => `extrapolated from ${b} batches to an epoch of ${n} images (${epochBatches} batches)`;
      const row: Omit<Measured, "torch"> = {
        case: `${kind}-L1-h32-epoch-b32`,
        unit: "s",
        value: (perBatch * epochBatches) / 1000,
        flop: 3 * 2 * perPixel * DIM * n,
        target: { speedup: 3, peakShare: 0.35 },
      };
      measure(
        row,
        `PixelRnn.fit, ${extrapolated(batches)}; median of 3`,
        { kind: "pixelrnn", net: kind, hidden, batch: 32, batches: peerBatches, reps: 3 },
        epochBatches / 1000, // the peer reports ms per batch
        extrapolated(peerBatches),
      );
    }

    // ---- GEMM: the training shapes in Dense's three layouts ----
    const k = getKernels("native");
    const gemms: Array<{ name: string; m: number; n: number; k: number; transA?: boolean; transB?: boolean }> = [];
    for (const [batch, out, inp] of [
      [100, 500, 784],
      [64, 1024, 3136],
    ] as const) {
      gemms.push({ name: `fwd-${batch}x${out}x${inp}`, m: batch, n: out, k: inp, transB: true });
      gemms.push({ name: `dw-${out}x${inp}x${batch}`, m: out, n: inp, k: batch, transA: true });
      gemms.push({ name: `dx-${batch}x${inp}x${out}`, m: batch, n: inp, k: out });
    }
    for (const g of only.has("gemm") ? gemms : []) {
      const a = new Float32Array(g.m * g.k);
      const b = new Float32Array(g.k * g.n);
      k.philoxFill(a, 1, 0, "normal");
      k.philoxFill(b, 2, 0, "normal");
      const c = new Float32Array(g.m * g.n);
      const ms = await timeCase(
        `gemm-${g.name}`,
        () => k.gemm({ a, b, c, m: g.m, n: g.n, k: g.k, transA: g.transA, transB: g.transB }),
        11,
        2,
      );
      const flop = 2 * g.m * g.n * g.k;
      measure(
        { case: `gemm-${g.name}`, unit: "GFLOP/s", value: flop / ms / 1e6, flop, target: { peakShare: 0.6 } },
        `${g.transA ? "op(A) = A^T" : g.transB ? "op(B) = B^T" : "no transposes"}; median of 11`,
        { kind: "gemm", m: g.m, n: g.n, k: g.k, transA: g.transA === true, transB: g.transB === true, reps: 11 },
      );
    }
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }

  probePeak();
  const peak = Math.max(...peaks);
  const sorted = [...peaks].sort((a, b) => a - b);
  report.add({
    suite: "train",
    case: `peak-fma-t${THREADS}`,
    backend: "native",
    value: peak,
    unit: "GFLOP/s",
    note: `the largest of ${peaks.length} probes through the suite (smallest ${formatValue(sorted[0]!)}, median ${formatValue(sorted[sorted.length >> 1]!)})`,
  });
  for (const r of results) {
    if (r.flop === undefined) continue;
    const rate = flopRate(r.unit, r.value, r.flop) / 1e9;
    report.add({
      suite: "train",
      case: `${r.case}-flop-rate`,
      backend: "native",
      value: rate,
      unit: "GFLOP/s",
      note: `${((100 * rate) / peak).toFixed(0)}% of the FMA peak`,
    });
  }
  summary(results, peak);
  setThreads(previousThreads);
}

/** The targets, met or not, on stderr. */
function summary(results: Measured[], peak: number): void {
  process.stderr.write("  targets (deepgen vs PyTorch CPU best; share of the FMA peak):\n");
  for (const r of results) {
    const parts: string[] = [];
    const s = speedup(r);
    if (r.target.speedup !== undefined)
      parts.push(
        s === undefined
          ? `>= ${r.target.speedup}x: no peer row`
          : `${formatValue(s)}x vs >= ${r.target.speedup}x ${s >= r.target.speedup ? "met" : "NOT met"}`,
      );
    if (r.target.peakShare !== undefined && r.flop !== undefined) {
      const share = flopRate(r.unit, r.value, r.flop) / 1e9 / peak;
      parts.push(
        `${(100 * share).toFixed(0)}% of peak vs >= ${100 * r.target.peakShare}% ${share >= r.target.peakShare ? "met" : "NOT met"}`,
      );
    }
    process.stderr.write(`    ${r.case}: ${parts.join("; ")}\n`);
  }
}
