/**
 * Benchmark results: one row per measurement, printed as JSON lines (--json) or as a markdown
 * table with ratios against a baseline row of the same case.
 */
export type BenchBackend =
  | "native"
  | "native-unfused"
  | "native-async"
  | "js"
  | "cuda"
  | "torch-cuda"
  | "torch-cpu"
  | "onnxruntime"
  | "onnxruntime-worker"
  | "tfjs-cpu"
  | "tfjs-wasm";

export interface BenchRow {
  suite: string;
  case: string;
  backend: BenchBackend;
  value: number;
  unit: string;
  /** Extra context (threads, sizes) kept in the JSON line. */
  note?: string;
}

export class Report {
  readonly rows: BenchRow[] = [];

  constructor(private readonly json: boolean) {}

  add(row: BenchRow): void {
    this.rows.push(row);
    if (this.json) process.stdout.write(`${JSON.stringify(row)}\n`);
    else process.stderr.write(`  ${row.case} [${row.backend}] ${formatValue(row.value)} ${row.unit}\n`);
  }

  /**
   * Markdown table: each case with its rows, and `value / baseline` where a row of the
   * baseline backend exists for the same case (higher-is-better units) or its inverse (time).
   */
  markdown(baseline: BenchBackend = "native"): string {
    const lines = [`| suite | case | backend | value | unit | vs ${baseline} | note |`, "|---|---|---|---:|---|---:|---|"];
    for (const r of this.rows) {
      const base = this.rows.find((b) => b.suite === r.suite && b.case === r.case && b.backend === baseline);
      const ratio = base === undefined || base === r ? "" : `${formatValue(ratioOf(r, base))}x`;
      lines.push(`| ${r.suite} | ${r.case} | ${r.backend} | ${formatValue(r.value)} | ${r.unit} | ${ratio} | ${r.note ?? ""} |`);
    }
    return lines.join("\n");
  }
}

const TIME_UNITS = new Set(["ms", "s", "us"]);

/** How many times faster `r` is than `base` (so > 1 means r wins). */
export function ratioOf(r: BenchRow, base: BenchRow): number {
  return TIME_UNITS.has(r.unit) ? base.value / r.value : r.value / base.value;
}

export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.1) return v.toFixed(2);
  return v.toPrecision(3);
}

/** Median wall time (ms) of `fn` over `repeats` runs after `warmup` runs. */
export function timeMs(fn: () => void, repeats = 5, warmup = 1): number {
  for (let i = 0; i < warmup; i++) fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** timeMs for an async `fn` (each run awaited before the next starts). */
export async function timeMsAsync(fn: () => Promise<unknown>, repeats = 5, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
