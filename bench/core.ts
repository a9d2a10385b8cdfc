/**
 * Suite "core": the machine's measured FMA peak (the yardstick of every other suite) and
 * Philox fill throughput, native (1 and 2 threads) vs the JS twin.
 */
import { getKernels } from "../lib/kernels/backend.js";
import { getThreads, setThreads } from "../lib/kernels/threads.js";
import { measureFmaPeak } from "../lib/kernels/peak.js";
import { type Report, timeMs } from "./report.js";

export function runCore(report: Report): void {
  const maxThreads = getThreads();
  const threadCounts = [...new Set([1, Math.min(2, maxThreads)])];
  for (const t of threadCounts) {
    const peak = measureFmaPeak({ threads: t });
    report.add({ suite: "core", case: `peak-fma-t${t}`, backend: "native", value: peak.gflops, unit: "GFLOP/s" });
  }
  const jsPeak = measureFmaPeak({ backend: "js", minSeconds: 0.2 });
  report.add({ suite: "core", case: "peak-fma-t1", backend: "js", value: jsPeak.gflops, unit: "GFLOP/s" });

  const n = 1 << 22;
  const out = new Float32Array(n);
  for (const dist of ["uniform", "normal"] as const) {
    for (const t of threadCounts) {
      setThreads(t);
      const ms = timeMs(() => getKernels("native").philoxFill(out, 1, 0, dist));
      report.add({ suite: "core", case: `philox-${dist}-4M-t${t}`, backend: "native", value: n / ms / 1e3, unit: "M/s" });
    }
    setThreads(maxThreads);
    const jsMs = timeMs(() => getKernels("js").philoxFill(out, 1, 0, dist), 3);
    report.add({ suite: "core", case: `philox-${dist}-4M-t1`, backend: "js", value: n / jsMs / 1e3, unit: "M/s" });
  }
}
