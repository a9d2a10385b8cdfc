import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import test from "ava";
import { PNG } from "pngjs";

import { gaussianMixture, toyDistribution, TOY_DATASETS, type ToyDistribution } from "../lib/data/toy.js";
import { divergingColor, heatmap } from "../lib/io/heatmap.js";
import { linePlot } from "../lib/io/plot.js";
import { writePng } from "../lib/io/png.js";
import { discriminatorPlot, jsdCurvePlot, samplesPlot } from "../lib/models/gan-diagnostic-plots.js";
import { D_EPS, diagnoseGan, modeCoverage, numericJsd, optimalDiscriminator, valueFunctionJsd } from "../lib/models/gan-diagnostics.js";
import { estimateGeneratorDensity, exactKde2d } from "../lib/models/generator-density.js";
import { code } from "./helpers/errors.js";

const LOG2 = Math.LN2;
const dir = mkdtempSync(join(tmpdir(), "deepgen-gan-diag-"));

/** Midpoint rule of exp(logDensity) over a box much wider than the data's. */
function integrate(d: ToyDistribution, perSide: number): number {
  const b = d.bounds.map(([lo, hi]) => [lo - 2, hi + 2] as const);
  const [x0, x1] = b[0]!;
  const hx = (x1 - x0) / perSide;
  if (d.dim === 1) {
    const x = Float64Array.from({ length: perSide }, (_, i) => x0 + (i + 0.5) * hx);
    return d.logDensity(x, perSide).reduce((s, v) => s + Math.exp(v), 0) * hx;
  }
  const [y0, y1] = b[1]!;
  const hy = (y1 - y0) / perSide;
  const pts = new Float64Array(perSide * perSide * 2);
  for (let i = 0; i < perSide; i++) {
    for (let j = 0; j < perSide; j++) {
      pts[(i * perSide + j) * 2] = x0 + (j + 0.5) * hx;
      pts[(i * perSide + j) * 2 + 1] = y0 + (i + 0.5) * hy;
    }
  }
  return d.logDensity(pts, perSide * perSide).reduce((s, v) => s + Math.exp(v), 0) * hx * hy;
}

test("toy densities integrate to 1; exact value on a one-component case", (t) => {
  for (const name of TOY_DATASETS) {
    const d = toyDistribution(name);
    const z = integrate(d, d.dim === 1 ? 20000 : 700);
    t.true(Math.abs(z - 1) < 1e-6, `${name}: integral ${z}`);
  }
  const g = gaussianMixture({ name: "g", dim: 2, weights: [2], means: [1, -1], stds: [2] });
  // log N((2, 1); (1, -1), 4 I) = -log(2 pi 4) - (1 + 4) / 8
  t.true(Math.abs(g.logDensity([2, 1], 1)[0]! - (-Math.log(8 * Math.PI) - 5 / 8)) < 1e-12);
  t.deepEqual(Array.from(g.weights), [1]);
});

test("toy sampling: mean, second moment and component frequencies match the mixture", (t) => {
  const n = 100000;
  for (const name of TOY_DATASETS) {
    const d = toyDistribution(name);
    const k = d.weights.length;
    const x = d.sample(n, 42);
    for (let a = 0; a < d.dim; a++) {
      let mean = 0;
      let second = 0;
      let m1 = 0;
      let m2 = 0;
      let m4 = 0;
      for (let c = 0; c < k; c++) {
        const mu = d.means[c * d.dim + a]!;
        const s2 = d.stds[c]! ** 2;
        m1 += d.weights[c]! * mu;
        m2 += d.weights[c]! * (mu * mu + s2);
        m4 += d.weights[c]! * (mu ** 4 + 6 * mu * mu * s2 + 3 * s2 * s2);
      }
      for (let i = 0; i < n; i++) {
        mean += x[i * d.dim + a]! / n;
        second += x[i * d.dim + a]! ** 2 / n;
      }
      // 5 standard errors of each estimate
      t.true(Math.abs(mean - m1) < 5 * Math.sqrt((m2 - m1 * m1) / n), `${name} dim ${a}: mean ${mean} vs ${m1}`);
      t.true(Math.abs(second - m2) < 5 * Math.sqrt((m4 - m2 * m2) / n), `${name} dim ${a}: E[x^2] ${second} vs ${m2}`);
    }
    // every sample lies near the mode it came from: nearest-mode counts follow the weights
    const cov = modeCoverage(d, x, { sigmas: 6 });
    t.true(cov.highQualityFraction > 0.999, `${name}: ${cov.highQualityFraction} within 6 std`);
    for (let c = 0; c < k; c++) {
      const w = d.weights[c]!;
      t.true(Math.abs(cov.counts[c]! / n - w) < 5 * Math.sqrt((w * (1 - w)) / n), `${name} component ${c}`);
    }
  }
});

test("toy sampling: same seed, same samples for any n and offset; other seeds differ", (t) => {
  for (const name of TOY_DATASETS) {
    const d = toyDistribution(name);
    const long = d.sample(257, 7);
    t.deepEqual(Array.from(d.sample(13, 7)), Array.from(long.subarray(0, 13 * d.dim)));
    t.deepEqual(Array.from(d.sample(100, 7, 57)), Array.from(long.subarray(57 * d.dim, 157 * d.dim)));
    t.deepEqual(Array.from(d.sample(3, 7n)), Array.from(long.subarray(0, 3 * d.dim)));
    t.notDeepEqual(Array.from(d.sample(13, 8)), Array.from(long.subarray(0, 13 * d.dim)));
  }
});

test("D* is 1/2 and both JSD estimates are ~0 when the generator samples the data distribution", (t) => {
  // Measured at m = 10,000: at most 0.014 nats for mog2d (25 modes, 400 samples each), 0.004
  // for ring8 and 0.002 for mog1d; the tolerance is 0.02 nats (3% of log 2). Estimation error in
  // p_g biases the numeric JSD up and the value-function JSD down, so both shrink with m.
  for (const name of TOY_DATASETS) {
    const d = toyDistribution(name);
    const small = diagnoseGan({ data: d, generatorSamples: d.sample(1000, 11), seed: 12 });
    const r = diagnoseGan({ data: d, generatorSamples: d.sample(10000, 11), seed: 12 });
    t.true(r.jsdNumeric >= 0 && r.jsdNumeric < 0.02, `${name}: numeric ${r.jsdNumeric}`);
    t.true(Math.abs(r.jsdValue) < 0.02, `${name}: value ${r.jsdValue} +- ${r.jsdValueStdErr}`);
    t.true(r.jsdNumeric < small.jsdNumeric, `${name}: numeric JSD shrinks with m (${small.jsdNumeric} -> ${r.jsdNumeric})`);
    const x = d.sample(5000, 13);
    const ds = optimalDiscriminator(d, r.pg, x, 5000);
    const meanAbs = ds.reduce((s, v) => s + Math.abs(v - 0.5), 0) / 5000;
    t.true(meanAbs < 0.06, `${name}: mean |D* - 1/2| = ${meanAbs}`);
    t.is(r.coverage.modesHit, d.weights.length);
    t.true(r.coverage.highQualityFraction > (d.dim === 2 ? 0.98 : 0.99));
  }
});

test("disjoint supports: both JSD estimates are log 2, off the data's box and inside it", (t) => {
  const ring = toyDistribution("ring8");
  const far = gaussianMixture({ name: "far", dim: 2, weights: [1], means: [10, 10], stds: [0.3] }).sample(4000, 1);
  // between the ring's modes, 0.77 from each: 15 std of the data, 7 of the generator
  const between: number[] = [];
  for (let c = 0; c < 8; c++) between.push(2 * Math.cos((2 * Math.PI * (c + 0.5)) / 8), 2 * Math.sin((2 * Math.PI * (c + 0.5)) / 8));
  const mid = gaussianMixture({ name: "mid", dim: 2, weights: new Array(8).fill(1), means: between, stds: new Array(8).fill(0.05) }).sample(
    4000,
    2,
  );
  const line = toyDistribution("mog1d");
  const far1 = gaussianMixture({ name: "far1", dim: 1, weights: [1], means: [30], stds: [1] }).sample(4000, 3);
  for (const [d, g] of [
    [ring, far],
    [ring, mid],
    [line, far1],
  ] as const) {
    const r = diagnoseGan({ data: d, generatorSamples: g, seed: 4, discriminator: (_x, n) => new Float32Array(n).fill(0.5) });
    t.true(Math.abs(r.jsdNumeric - LOG2) < 1e-3, `numeric ${r.jsdNumeric}`);
    t.true(Math.abs(r.jsdValue - LOG2) < 1e-3, `value ${r.jsdValue}`);
    t.is(r.coverage.highQualityFraction, 0);
    t.true(Math.abs(r.vCurrent + Math.log(4)) < 1e-12 && Math.abs(r.jsdCurrent) < 1e-12, "D = 1/2 gives V = -log 4");
  }
});

/** JSD of N(0, 1) and N(1, 1.5^2) by composite Simpson on [-30, 30] with 600,000 intervals. */
function simpsonJsd(): number {
  const lp = (x: number): number => -0.5 * Math.log(2 * Math.PI) - 0.5 * x * x;
  const lq = (x: number): number => -0.5 * Math.log(2 * Math.PI) - Math.log(1.5) - (x - 1) ** 2 / (2 * 2.25);
  const f = (x: number): number => {
    const p = Math.exp(lp(x));
    const q = Math.exp(lq(x));
    const m = (p + q) / 2;
    return (p > 0 ? 0.5 * p * Math.log(p / m) : 0) + (q > 0 ? 0.5 * q * Math.log(q / m) : 0);
  };
  const N = 600000;
  const a = -30;
  const h = 60 / N;
  let s = f(a) + f(a + N * h);
  for (let i = 1; i < N; i++) s += (i % 2 === 1 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

test("numericJsd of two 1-D Gaussians matches Simpson quadrature; the histogram estimate is close", (t) => {
  const p = gaussianMixture({ name: "p", dim: 1, weights: [1], means: [0], stds: [1] });
  const q = gaussianMixture({ name: "q", dim: 1, weights: [1], means: [1], stds: [1.5] });
  const truth = simpsonJsd();
  t.true(truth > 0.05 && truth < 0.1, `reference ${truth}`);
  // the data box is [-8, 8]; q's mass beyond it (2.6e-7) enters through the off-box term
  const exact = numericJsd(p, q);
  t.true(Math.abs(exact - truth) < 1e-6, `numeric ${exact} vs Simpson ${truth}`);
  // the histogram (CV bin width) from 100k samples: a few thousandths of a nat of estimation bias
  const est = numericJsd(p, estimateGeneratorDensity(p, q.sample(100000, 5)));
  t.true(Math.abs(est - truth) < 0.005, `histogram ${est} vs ${truth}`);
});

test("valueFunctionJsd with the exact p_g equals the numeric JSD within Monte Carlo error", (t) => {
  const ring = toyDistribution("ring8");
  // a generator on a wider ring with fatter modes and the weight of one mode moved to another
  const means: number[] = [];
  for (let c = 0; c < 8; c++) means.push(2.1 * Math.cos((2 * Math.PI * c) / 8), 2.1 * Math.sin((2 * Math.PI * c) / 8));
  const gen = gaussianMixture({ name: "gen", dim: 2, weights: [2, 0.01, 1, 1, 1, 1, 1, 1], means, stds: new Array(8).fill(0.08) });
  const line = toyDistribution("mog1d");
  const gen1 = gaussianMixture({ name: "gen1", dim: 1, weights: [1, 1], means: [-2, 1.5], stds: [1, 0.8] });
  for (const [data, g] of [
    [ring, gen],
    [line, gen1],
  ] as const) {
    const m = 20000;
    const samples = g.sample(m, 21);
    const numeric = numericJsd(data, g);
    const v = valueFunctionJsd(data, g, samples, { seed: 22 });
    t.true(Math.abs(v.jsd - numeric) < 4 * v.jsdStdErr, `${data.name}: value ${v.jsd} +- ${v.jsdStdErr} vs numeric ${numeric}`);
    t.true(v.jsdStdErr > 0 && v.jsdStdErr < 0.01);
    // the exact D* as the current discriminator reproduces V(D*, G); D = 1/2 gives -log 4;
    // a poor discriminator stays below V(D*, G)
    const exactD = (x: Float32Array, n: number): Float64Array => optimalDiscriminator(data, g, x, n);
    const withOpt = valueFunctionJsd(data, g, samples, { seed: 22, discriminator: exactD });
    t.true(Math.abs(withOpt.vCurrent - withOpt.vOptimal) < 1e-5, `${withOpt.vCurrent} vs ${withOpt.vOptimal} (clamped at ${D_EPS})`);
    const poor = valueFunctionJsd(data, g, samples, {
      seed: 22,
      discriminator: (x, n) => Float32Array.from({ length: n }, (_, i) => 1 / (1 + Math.exp(-x[i * data.dim]!))),
    });
    t.true(poor.vCurrent < poor.vOptimal && poor.jsdCurrent < poor.jsd);
  }
});

test("JSD estimates fall as the generator approaches the data, and agree", (t) => {
  const ring = toyDistribution("ring8");
  let prev = { v: Infinity, n: Infinity };
  for (const radius of [3, 2.4, 2.15, 2.05, 2]) {
    const means: number[] = [];
    for (let c = 0; c < 8; c++) means.push(radius * Math.cos((2 * Math.PI * c) / 8), radius * Math.sin((2 * Math.PI * c) / 8));
    const g = gaussianMixture({ name: "g", dim: 2, weights: new Array(8).fill(1), means, stds: new Array(8).fill(0.05) }).sample(8000, 31);
    const r = diagnoseGan({ data: ring, generatorSamples: g, seed: 32 });
    t.true(r.jsdValue < prev.v && r.jsdNumeric < prev.n, `radius ${radius}: ${r.jsdValue}, ${r.jsdNumeric}`);
    t.true(Math.abs(r.jsdValue - r.jsdNumeric) < 0.02, `radius ${radius}: value ${r.jsdValue} vs numeric ${r.jsdNumeric}`);
    prev = { v: r.jsdValue, n: r.jsdNumeric };
  }
  t.true(prev.n < 0.01);
});

test("degenerate generators (collapsed to a point, one sample, far outliers) give finite estimates", (t) => {
  for (const name of TOY_DATASETS) {
    const d = toyDistribution(name);
    const cases: Array<[string, Float32Array]> = [
      ["point", new Float32Array(500 * d.dim).fill(0.3)],
      ["one", new Float32Array(d.dim).fill(2)],
      ["outliers", Float32Array.from({ length: 500 * d.dim }, (_, i) => (i % 7 === 0 ? 1e6 * Math.sin(i) : 3 * Math.sin(i * 3)))],
    ];
    for (const [label, g] of cases) {
      const r = diagnoseGan({ data: d, generatorSamples: g, seed: 1, discriminator: (_x, n) => new Float32Array(n).fill(1) });
      t.true(r.jsdNumeric >= 0 && r.jsdNumeric <= LOG2, `${name} ${label}: numeric ${r.jsdNumeric}`);
      t.true(Number.isFinite(r.jsdValue) && r.jsdValue <= LOG2, `${name} ${label}: value ${r.jsdValue}`);
      if (label === "point") t.true(r.jsdNumeric > 0.6 && r.jsdValue > 0.6, `${name}: a collapsed generator is far from the data`);
      // D = 1 everywhere, clamped to 1 - D_EPS: log(1 - D_EPS) on data, log(D_EPS) on samples
      t.true(Math.abs(r.vCurrent - (Math.log1p(-D_EPS) + Math.log(D_EPS))) < 1e-9, `${r.vCurrent}`);
    }
  }
});

test("binned KDE matches the exact kernel sum; LCV picks a bandwidth near the mode scale, Scott's over-smooths", (t) => {
  const ring = toyDistribution("ring8");
  const g = ring.sample(5000, 41);
  const probe = ring.sample(1000, 42);
  // 0.0177 is LCV's choice for m = 10,000 (1.4 grid steps); 0.5 runs on the coarsened grid
  for (const h of [0.0177, 0.03, 0.5]) {
    const pg = estimateGeneratorDensity(ring, g, { bandwidth: h });
    t.is(pg.bandwidth, h);
    const binned = pg.logDensity(probe, 1000);
    const exact = exactKde2d(g, 5000, h)(probe, 1000);
    const err = Array.from(binned, (v, i) => Math.abs(Math.exp(v) / exact[i]! - 1)).sort((a, b) => a - b);
    // measured: median 0.3%, 99th percentile 3.2% at h = 0.0177 (the worst points are in the tails)
    t.true(err[500]! < 0.01 && err[990]! < 0.05, `h = ${h}: relative error median ${err[500]}, p99 ${err[990]}`);
  }
  const lcv = estimateGeneratorDensity(ring, g);
  const scott = estimateGeneratorDensity(ring, g, { bandwidth: "scott" });
  t.is(lcv.rule, "lcv");
  t.true(lcv.bandwidth >= 0.0125 && lcv.bandwidth < 0.05, `lcv h ${lcv.bandwidth}`);
  t.true(scott.bandwidth > 0.2, `scott h ${scott.bandwidth}`);
  // points off the grid get the exact kernel sum
  const two = Float32Array.from([10, 10, 10.01, 10]);
  const off = estimateGeneratorDensity(ring, two, { bandwidth: 0.1 });
  const want = (Math.exp(0) + Math.exp(-((Math.fround(10.01) - 10) ** 2) / 0.02)) / (2 * Math.PI * 0.01 * 2);
  t.true(Math.abs(Math.exp(off.logDensity([10, 10], 1)[0]!) / want - 1) < 1e-12);
  t.true(Math.abs(exactKde2d(two, 2, 0.1)([10, 10], 1)[0]! / want - 1) < 1e-12);
  // far beyond the hash's cell range (clamped cells): each sample still counted once
  const far = Float32Array.from([1e9, 1e9, -1e9, 1e9]);
  const farPg = estimateGeneratorDensity(ring, far, { bandwidth: 0.1 });
  t.true(Math.abs(Math.exp(farPg.logDensity([1e9, 1e9], 1)[0]!) * (2 * Math.PI * 0.01 * 2) - 1) < 1e-12);
  // 1-D: the CV width is below Freedman-Diaconis's for the well separated modes of mog1d
  const line = toyDistribution("mog1d");
  const s = line.sample(10000, 43);
  const cv = estimateGeneratorDensity(line, s);
  const fd = estimateGeneratorDensity(line, s, { bins: "fd" });
  t.true(cv.rule === "cv" && fd.rule === "freedman-diaconis" && cv.bandwidth < fd.bandwidth / 2, `${cv.bandwidth} vs ${fd.bandwidth}`);
  t.is(estimateGeneratorDensity(line, s, { bins: 0.25 }).bandwidth, 0.25);
  // a histogram integrates to 1 and is exact on a hand-made case: 3 samples, width 1
  const hist = estimateGeneratorDensity(line, Float32Array.from([0.5, 0.7, 2.2]), { bins: 1 });
  t.deepEqual(
    Array.from(hist.logDensity([0.1, 2.9, 1.5, -0.1], 4), Math.exp).map((v) => Number(v.toFixed(12))),
    [0.666666666667, 0.333333333333, 0, 0],
  );
});

test("modeCoverage: exact counts on hand-made samples", (t) => {
  const ring = toyDistribution("ring8");
  const s = 0.05;
  const at = (c: number, dr = 0): [number, number] => [
    (2 + dr) * Math.cos((2 * Math.PI * c) / 8),
    (2 + dr) * Math.sin((2 * Math.PI * c) / 8),
  ];
  const pts = Float32Array.from([...at(0), ...at(2), ...at(5), ...at(2, 2.9 * s), ...at(6, 3.1 * s), 0, 0]);
  const cov = modeCoverage(ring, pts);
  t.is(cov.modes, 8);
  t.is(cov.modesHit, 3);
  t.is(cov.highQualityFraction, 4 / 6);
  t.deepEqual(Array.from(cov.counts), [1, 0, 2, 0, 0, 1, 0, 0]);
  t.is(modeCoverage(ring, pts, { minCount: 2 }).modesHit, 1);
  t.is(modeCoverage(ring, pts, { sigmas: 3.2 }).modesHit, 4);
  const grid = toyDistribution("mog2d");
  const four = Float32Array.from([-4, -4, 4.35, 4, 0.05, 0.05, 1, 1]);
  const g = modeCoverage(grid, four);
  t.is(g.modesHit, 2); // (4.35, 4) is 3.5 std from its mode; (1, 1) is far from all four nearest
  t.is(modeCoverage(grid, four, { sigmas: 4 }).modesHit, 3);
  t.is(g.highQualityFraction, 0.5);
});

function readPng(path: string): PNG {
  return PNG.sync.read(readFileSync(path));
}

test("plots: valid PNGs of the expected size; D* heatmap shows both sides of 1/2", async (t) => {
  const ring = toyDistribution("ring8");
  const line = toyDistribution("mog1d");
  const dHalf = (_x: Float32Array, n: number): Float32Array => new Float32Array(n).fill(0.5);
  // a generator that covers 3 of the 8 modes, with a fatter spread
  const three = gaussianMixture({ name: "g", dim: 2, weights: [1, 1, 1], means: ring.means.subarray(0, 6), stds: [0.1, 0.1, 0.1] }).sample(
    3000,
    51,
  );
  const r = diagnoseGan({ data: ring, generatorSamples: three, seed: 52, discriminator: dHalf });
  t.is(r.coverage.modesHit, 3);
  const both = discriminatorPlot(ring, r.pg, dHalf);
  const only = discriminatorPlot(ring, r.pg);
  t.deepEqual([both.width, both.height, only.width, only.height], [854, 356, 422, 356]);
  let red = 0;
  let blue = 0;
  for (let i = 0; i < only.data.length; i += 3) {
    if (only.data[i] === 165 && only.data[i + 1] === 0 && only.data[i + 2] === 38) red++;
    if (only.data[i] === 49 && only.data[i + 1] === 54 && only.data[i + 2] === 149) blue++;
  }
  t.true(red > 100 && blue > 100, `red ${red}, blue ${blue}`); // D* = 1 at uncovered modes, 0 where only p_g lives
  t.deepEqual(
    [divergingColor(0), divergingColor(0.5), divergingColor(1)],
    [
      [49, 54, 149],
      [255, 255, 255],
      [165, 0, 38],
    ],
  );
  const g1 = line.sample(2000, 53);
  const one = discriminatorPlot(line, estimateGeneratorDensity(line, g1), dHalf);
  t.deepEqual([one.width, one.height], [640, 400]);
  const files: Array<[string, ReturnType<typeof linePlot>, number, number]> = [
    ["d2.png", both, 854, 356],
    ["d1.png", one, 640, 400],
    ["samples.png", samplesPlot(ring, three, 54), 640, 560],
    [
      "jsd.png",
      jsdCurvePlot([
        { jsdValue: 0.6, jsdNumeric: 0.61 },
        { jsdValue: 0.3, jsdNumeric: 0.32, jsdCurrent: 0.1 },
      ]),
      640,
      400,
    ],
  ];
  for (const [name, raster, w, h] of files) {
    await writePng(join(dir, name), raster);
    const png = readPng(join(dir, name));
    t.deepEqual([png.width, png.height], [w, h], name);
  }
});

test("linePlot with explicit x draws each point at its x", (t) => {
  const r = linePlot([{ name: "a", x: [-1, 1], values: [0, 1] }], { width: 300, height: 200 });
  // plot area: x from 70 to 280, y from 30 (top) to 155 (bottom); the line runs corner to corner
  const at = (x: number, y: number): number[] => Array.from(r.data.subarray((y * 300 + x) * 3, (y * 300 + x) * 3 + 3));
  t.deepEqual(at(70, 155), [31, 119, 180]);
  t.deepEqual(at(175, 93), [31, 119, 180]);
  t.is(
    code(t, () => linePlot([{ name: "a", x: [1], values: [0, 1] }])),
    "E_SHAPE",
  );
});

test("bad input: DeepgenError with the right code", (t) => {
  const ring = toyDistribution("ring8");
  const line = toyDistribution("mog1d");
  const g = ring.sample(100, 1);
  t.is(
    code(t, () => toyDistribution("moons")),
    "E_ARG",
  );
  t.is(
    code(t, () => ring.sample(-1, 1)),
    "E_ARG",
  );
  t.is(
    code(t, () => ring.sample(2, -1)),
    "E_ARG",
  );
  t.is(
    code(t, () => ring.sample(2, 1, 0.5)),
    "E_ARG",
  );
  t.is(
    code(t, () => ring.logDensity([1, 2, 3], 2)),
    "E_SHAPE",
  );
  t.is(
    code(t, () => gaussianMixture({ name: "x", dim: 2, weights: [1, 1], means: [0, 0], stds: [1, 1] })),
    "E_SHAPE",
  );
  t.is(
    code(t, () => gaussianMixture({ name: "x", dim: 1, weights: [1], means: [0], stds: [0] })),
    "E_ARG",
  );
  t.is(
    code(t, () => gaussianMixture({ name: "x", dim: 3, weights: [1], means: [0, 0, 0], stds: [1] })),
    "E_ARG",
  );
  t.is(
    code(t, () => estimateGeneratorDensity(ring, Float32Array.from([1, 2, 3]))),
    "E_SHAPE",
  );
  t.is(
    code(t, () => estimateGeneratorDensity(ring, new Float32Array(0))),
    "E_SHAPE",
  );
  t.is(
    code(t, () => estimateGeneratorDensity(ring, Float32Array.from([1, NaN]))),
    "E_ARG",
  );
  t.is(
    code(t, () => estimateGeneratorDensity(ring, [1, 2] as unknown as Float32Array)),
    "E_ARG",
  );
  t.is(
    code(t, () => estimateGeneratorDensity(ring, g, { bandwidth: -1 })),
    "E_ARG",
  );
  t.is(
    code(t, () => estimateGeneratorDensity(ring, g, { bandwidth: "silly" as "lcv" })),
    "E_ARG",
  );
  t.is(
    code(t, () => estimateGeneratorDensity(ring, g, { gridSize: 3 })),
    "E_ARG",
  );
  t.is(
    code(t, () => estimateGeneratorDensity(line, line.sample(10, 1), { bins: 0 })),
    "E_ARG",
  );
  t.is(
    code(t, () => estimateGeneratorDensity(line, line.sample(10, 1), { bins: "sturges" as "fd" })),
    "E_ARG",
  );
  const pg = estimateGeneratorDensity(ring, g);
  t.is(
    code(t, () => pg.logDensity([1, 2, 3], 1)),
    "E_SHAPE",
  );
  t.is(
    code(t, () => valueFunctionJsd(ring, pg, g, { seed: 1, discriminator: (_x, n) => new Float32Array(n + 1) })),
    "E_SHAPE",
  );
  t.is(
    code(t, () => valueFunctionJsd(ring, pg, g, { seed: 1, discriminator: (_x, n) => new Float32Array(n).fill(1.5) })),
    "E_ARG",
  );
  t.is(
    code(t, () => valueFunctionJsd(ring, pg, g, { seed: 1, discriminator: (_x, n) => new Float32Array(n).fill(NaN) })),
    "E_ARG",
  );
  t.is(
    code(t, () => valueFunctionJsd(ring, pg, g, { seed: 1, nData: 0 })),
    "E_ARG",
  );
  t.is(
    code(t, () => numericJsd(ring, pg, { gridSize: 1.5 })),
    "E_ARG",
  );
  t.is(
    code(t, () => modeCoverage(ring, g, { sigmas: 0 })),
    "E_ARG",
  );
  t.is(
    code(t, () => modeCoverage(ring, g, { minCount: 0 })),
    "E_ARG",
  );
  t.is(
    code(t, () => diagnoseGan({ data: ring, generatorSamples: line.sample(11, 1), seed: 1 })),
    "E_SHAPE",
  );
  t.is(
    code(t, () => samplesPlot(line, line.sample(10, 1), 1)),
    "E_ARG",
  );
  t.is(
    code(t, () => jsdCurvePlot([])),
    "E_ARG",
  );
  t.is(
    code(t, () => heatmap([1, 2, 3], 2, 2, { xRange: [0, 1], yRange: [0, 1] })),
    "E_SHAPE",
  );
  t.is(
    code(t, () => heatmap([1, 2, 3, 4], 2, 2, { xRange: [1, 0], yRange: [0, 1] })),
    "E_ARG",
  );
  t.is(
    code(t, () => discriminatorPlot(ring, pg, (_x, n) => new Float32Array(n - 1))),
    "E_SHAPE",
  );
});
