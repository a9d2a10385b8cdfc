/**
 * GAN toy diagnostics (pure TS, one thread): wall time of one diagnoseGan call, the per-epoch
 * cost in a training loop, for m = 10,000 generator samples and as many fresh data samples, on
 * each toy dataset, for a generator equal to the data and for a diffuse one (an untrained
 * generator: N(0, 1.5^2 I)). Median of 5 calls after a warm-up call (the p_data grid is cached
 * after the first call, as in training); the note adds the CPU time (less sensitive to a busy
 * machine). Also the default bin / bandwidth rule against the rule-of-thumb one.
 */
import { gaussianMixture, toyDistribution, TOY_DATASETS } from "../lib/data/toy.js";
import { diagnoseGan } from "../lib/models/gan-diagnostics.js";
import type { Report } from "./report.js";

const M = 10000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function runGanDiag(report: Report): void {
  for (const name of TOY_DATASETS) {
    const data = toyDistribution(name);
    const diffuse = gaussianMixture({ name: "diffuse", dim: data.dim, weights: [1], means: new Array(data.dim).fill(0), stds: [1.5] });
    const cases = [
      ["perfect", data.sample(M, 1)],
      ["diffuse", diffuse.sample(M, 2)],
    ] as const;
    const rules = data.dim === 2 ? (["lcv", "scott"] as const) : (["cv", "fd"] as const);
    for (const [label, samples] of cases) {
      for (const rule of rules) {
        const density = data.dim === 2 ? { bandwidth: rule as "lcv" | "scott" } : { bins: rule as "cv" | "fd" };
        const discriminator = (_x: Float32Array, n: number): Float32Array => new Float32Array(n).fill(0.5);
        const run = (): ReturnType<typeof diagnoseGan> => diagnoseGan({ data, generatorSamples: samples, discriminator, seed: 3, density });
        run();
        const times: number[] = [];
        const cpu: number[] = [];
        let last = run();
        for (let i = 0; i < 5; i++) {
          const c0 = process.cpuUsage();
          last = run();
          const c = process.cpuUsage(c0);
          times.push(last.seconds);
          cpu.push((c.user + c.system) / 1e6);
        }
        report.add({
          suite: "gan-diag",
          case: `${name}-${label}-${rule}`,
          backend: "js",
          value: median(times) * 1000,
          unit: "ms",
          note: `cpu ${(median(cpu) * 1000).toFixed(0)} ms; m = ${M}; ${last.pg.rule} ${last.pg.bandwidth.toPrecision(3)}; jsd value ${last.jsdValue.toFixed(4)}, numeric ${last.jsdNumeric.toFixed(4)}`,
        });
      }
    }
  }
}
