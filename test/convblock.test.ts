// Kernel group "convblock": conv / convT + batch norm + activation in one call each way.
// The block equals the composition of the existing kernels (on both backends), native equals
// the JS twin, float64 finite differences check every gradient (train and none modes),
// running statistics, eval mode, odd sizes, accumulation, thread-count independence, errors.
import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { setThreads, getThreads } from "../lib/kernels/threads.js";
import { convBlockBackward as twinBackward, convBlockForward as twinForward } from "../lib/kernels/js/conv-block.js";
import type { ActivationKind } from "../lib/kernels/ops/activation.js";
import {
  checkConvBlockSpec,
  convBlockOutputSize,
  cudaConvBlock,
  type ConvBlockGrads,
  type ConvBlockNorm,
  type ConvBlockParams,
  type ConvBlockSaved,
  type ConvBlockSpec,
} from "../lib/kernels/ops/convblock.js";
import { dot, maxRelDiff, numericGradient, randomNormal, randomUniform, to64 } from "./helpers/numeric.js";

const js = getKernels("js");
const native = getKernels("native");
type K = typeof js;

interface Geo {
  transposed: boolean;
  batch: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  k: number;
  stride: number;
  pad: number;
  outPad?: number;
}

function specOf(g: Geo, norm: ConvBlockNorm, activation: ActivationKind, slope = 0.2): ConvBlockSpec {
  const shape = {
    batch: g.batch,
    inChannels: g.cin,
    height: g.h,
    width: g.w,
    outChannels: g.cout,
    kernelH: g.k,
    kernelW: g.k,
    strideH: g.stride,
    strideW: g.stride,
    padH: g.pad,
    padW: g.pad,
    ...(g.transposed ? { outputPadH: g.outPad ?? 0, outputPadW: g.outPad ?? 0 } : {}),
  };
  return { transposed: g.transposed, shape, norm, activation, slope, eps: 1e-5, momentum: 0.1 };
}

interface Problem {
  spec: ConvBlockSpec;
  x: Float32Array;
  p: ConvBlockParams;
  dy: Float32Array;
  ySize: number;
}

function problem(g: Geo, norm: ConvBlockNorm, activation: ActivationKind, seed: number, withBias = false): Problem {
  const spec = specOf(g, norm, activation);
  const s = checkConvBlockSpec("test", spec);
  const ySize = g.batch * g.cout * s.conv.outH * s.conv.outW;
  const x = randomNormal(g.batch * g.cin * g.h * g.w, seed);
  const weight = randomNormal(g.cin * g.cout * g.k * g.k, seed + 1, 0.3);
  const p: ConvBlockParams = {
    weight,
    bias: withBias ? randomUniform(g.cout, seed + 2, -0.5, 0.5) : null,
    gamma: randomUniform(g.cout, seed + 3, 0.5, 1.5),
    beta: randomUniform(g.cout, seed + 4, -0.5, 0.5),
    runningMean: randomUniform(g.cout, seed + 5, -0.3, 0.3),
    runningVar: randomUniform(g.cout, seed + 6, 0.5, 2),
  };
  return { spec, x, p, dy: randomNormal(ySize, seed + 7), ySize };
}

const cloneParams = (p: ConvBlockParams): ConvBlockParams => ({
  weight: p.weight.slice(),
  bias: p.bias?.slice() ?? null,
  gamma: p.gamma?.slice() ?? null,
  beta: p.beta?.slice() ?? null,
  runningMean: p.runningMean?.slice() ?? null,
  runningVar: p.runningVar?.slice() ?? null,
});

interface Run {
  y: Float32Array;
  saved: ConvBlockSaved;
  rm: Float32Array | null;
  rv: Float32Array | null;
  dpre?: Float32Array;
  dx?: Float32Array;
  g?: ConvBlockGrads;
}

/** Forward (and backward unless eval) through the fused block. */
function runBlock(k: K, pr: Problem): Run {
  const p = cloneParams(pr.p);
  const c = pr.spec.shape.outChannels;
  const saved: ConvBlockSaved = { pre: new Float32Array(pr.ySize), mean: new Float32Array(c), rstd: new Float32Array(c) };
  const y = new Float32Array(pr.ySize);
  k.convBlockForward(pr.spec, pr.x, p, saved, y);
  const r: Run = { y, saved, rm: p.runningMean, rv: p.runningVar };
  if (pr.spec.norm === "eval") return r;
  const dy = pr.dy.slice();
  const dx = new Float32Array(pr.x.length);
  const g: ConvBlockGrads = {
    dweight: new Float32Array(p.weight.length),
    dbias: new Float32Array(c),
    dgamma: new Float32Array(c),
    dbeta: new Float32Array(c),
  };
  k.convBlockBackward(pr.spec, pr.x, p, saved, y, dy, dx, g);
  return { ...r, dpre: dy, dx, g };
}

/** The same through the existing conv, batchNorm and activation kernels, call after call. */
function runComposition(k: K, pr: Problem): Run {
  const p = cloneParams(pr.p);
  const sh = pr.spec.shape;
  const c = sh.outChannels;
  const s = checkConvBlockSpec("test", pr.spec);
  const sp = s.conv.outH * s.conv.outW;
  const pre = new Float32Array(pr.ySize);
  const y = new Float32Array(pr.ySize);
  const mean = new Float32Array(c);
  const rstd = new Float32Array(c);
  if (pr.spec.transposed) k.convTranspose2dForward(sh, pr.x, p.weight, p.bias, pre);
  else k.conv2dForward(sh, pr.x, p.weight, p.bias, pre);
  const { norm, activation, slope, eps, momentum } = pr.spec;
  if (norm === "train")
    k.batchNormForwardTrain(pre, p.gamma!, p.beta!, y, mean, rstd, p.runningMean!, p.runningVar!, sh.batch, c, sp, eps, momentum);
  else if (norm === "eval") k.batchNormForwardEval(pre, p.gamma!, p.beta!, p.runningMean!, p.runningVar!, y, sh.batch, c, sp, eps);
  else y.set(pre);
  k.activationForward(activation, y, y, slope);
  const r: Run = { y, saved: { pre, mean, rstd }, rm: p.runningMean, rv: p.runningVar };
  if (norm === "eval") return r;
  const da = new Float32Array(pr.ySize);
  k.activationBackward(activation, y, pr.dy, da, slope);
  let dpre = da;
  const g: ConvBlockGrads = {
    dweight: new Float32Array(p.weight.length),
    dbias: new Float32Array(c),
    dgamma: new Float32Array(c),
    dbeta: new Float32Array(c),
  };
  if (norm === "train") {
    dpre = new Float32Array(pr.ySize);
    k.batchNormBackward(pre, da, p.gamma!, mean, rstd, dpre, g.dgamma!, g.dbeta!, sh.batch, c, sp);
  }
  const dx = new Float32Array(pr.x.length);
  if (pr.spec.transposed) {
    k.convTranspose2dBackwardWeight(sh, pr.x, dpre, g.dweight, g.dbias);
    k.convTranspose2dBackwardData(sh, dpre, p.weight, dx);
  } else {
    k.conv2dBackwardWeight(sh, pr.x, dpre, g.dweight, g.dbias);
    k.conv2dBackwardData(sh, dpre, p.weight, dx);
  }
  return { ...r, dpre, dx, g };
}

/** max relative difference over every output of two runs, per output name. */
function compare(a: Run, b: Run): Record<string, number> {
  const d: Record<string, number> = {
    y: maxRelDiff(a.y, b.y),
    pre: maxRelDiff(a.saved.pre, b.saved.pre),
  };
  if (a.rm !== null && b.rm !== null) d["runningMean"] = maxRelDiff(a.rm, b.rm);
  if (a.rv !== null && b.rv !== null) d["runningVar"] = maxRelDiff(a.rv, b.rv);
  if (a.dx !== undefined && b.dx !== undefined) {
    d["dpre"] = maxRelDiff(a.dpre!, b.dpre!);
    d["dx"] = maxRelDiff(a.dx, b.dx);
    d["dweight"] = maxRelDiff(a.g!.dweight, b.g!.dweight);
    d["dbias"] = maxRelDiff(a.g!.dbias!, b.g!.dbias!);
  }
  return d;
}

// DCGAN-like blocks at small sizes plus odd ones (odd channels, sizes, strides, paddings).
const GEOS: Geo[] = [
  { transposed: true, batch: 3, cin: 5, h: 4, w: 4, cout: 3, k: 4, stride: 2, pad: 1 }, // G 4 -> 8
  { transposed: true, batch: 2, cin: 3, h: 5, w: 3, cout: 1, k: 3, stride: 2, pad: 1, outPad: 1 },
  { transposed: false, batch: 3, cin: 1, h: 8, w: 8, cout: 5, k: 4, stride: 2, pad: 1 }, // D 8 -> 4
  { transposed: false, batch: 2, cin: 3, h: 7, w: 5, cout: 7, k: 3, stride: 1, pad: 1 },
  { transposed: false, batch: 5, cin: 2, h: 4, w: 4, cout: 3, k: 4, stride: 1, pad: 0 }, // 1x1 output (dense layout)
  { transposed: true, batch: 1, cin: 4, h: 3, w: 3, cout: 2, k: 4, stride: 2, pad: 1 }, // batch 1, 6x6: BN fine
];
const MODES: Array<[ConvBlockNorm, ActivationKind]> = [
  ["train", "relu"],
  ["train", "leakyRelu"],
  ["train", "tanh"],
  ["none", "leakyRelu"],
  ["none", "tanh"],
  ["none", "sigmoid"],
  ["eval", "relu"],
  ["train", "identity"],
];

test("convblock: the fused block equals the composition of the existing kernels (native and JS)", (t) => {
  let seed = 100;
  for (const g of GEOS) {
    for (const [norm, act] of MODES) {
      seed += 10;
      const pr = problem(g, norm, act, seed, norm === "none");
      for (const [name, k] of [
        ["native", native],
        ["js", js],
      ] as const) {
        const d = compare(runBlock(k, pr), runComposition(k, pr));
        for (const [what, v] of Object.entries(d)) {
          t.true(v <= 1e-5, `${name} ${JSON.stringify(g)} ${norm} ${act}: ${what} differs by ${v}`);
        }
      }
    }
  }
});

test("convblock: native matches the JS twin (forward, running stats, backward, dL/dpre in dy)", (t) => {
  let seed = 500;
  for (const g of GEOS) {
    for (const [norm, act] of MODES) {
      seed += 10;
      const pr = problem(g, norm, act, seed, true);
      const a = runBlock(native, pr);
      const b = runBlock(js, pr);
      const d = compare(a, b);
      if (a.g !== undefined && norm === "train") {
        d["dgamma"] = maxRelDiff(a.g.dgamma!, b.g!.dgamma!);
        d["dbeta"] = maxRelDiff(a.g.dbeta!, b.g!.dbeta!);
        d["mean"] = maxRelDiff(a.saved.mean, b.saved.mean);
        d["rstd"] = maxRelDiff(a.saved.rstd, b.saved.rstd);
      }
      for (const [what, v] of Object.entries(d)) t.true(v <= 2e-5, `${JSON.stringify(g)} ${norm} ${act}: ${what} differs by ${v}`);
    }
  }
});

test("convblock: running statistics follow PyTorch (momentum, unbiased variance) and eval mode uses them", (t) => {
  const g: Geo = { transposed: true, batch: 2, cin: 3, h: 3, w: 3, cout: 2, k: 4, stride: 2, pad: 1 };
  for (const k of [native, js]) {
    const pr = problem(g, "train", "identity", 42);
    const r = runBlock(k, pr);
    const M = 2 * 6 * 6;
    for (let c = 0; c < 2; c++) {
      let sum = 0;
      let sq = 0;
      for (let n = 0; n < 2; n++) for (let i = 0; i < 36; i++) sum += r.saved.pre[(n * 2 + c) * 36 + i]!;
      const mu = sum / M;
      for (let n = 0; n < 2; n++) for (let i = 0; i < 36; i++) sq += (r.saved.pre[(n * 2 + c) * 36 + i]! - mu) ** 2;
      const varB = sq / M;
      const m = Math.fround(0.1);
      t.true(Math.abs(r.rm![c]! - ((1 - m) * pr.p.runningMean![c]! + m * mu)) < 1e-6, `${k.backend} running mean`);
      t.true(Math.abs(r.rv![c]! - ((1 - m) * pr.p.runningVar![c]! + (m * varB * M) / (M - 1))) < 1e-5, `${k.backend} running var`);
      t.true(Math.abs(r.saved.rstd[c]! - 1 / Math.sqrt(varB + 1e-5)) < 1e-5 * r.saved.rstd[c]!, `${k.backend} rstd`);
    }
    // Eval mode with those running statistics: y = gamma (pre - rm) / sqrt(rv + eps) + beta.
    const ev = { ...pr, spec: { ...pr.spec, norm: "eval" as const }, p: { ...pr.p, runningMean: r.rm, runningVar: r.rv } };
    const e = runBlock(k, ev);
    for (let i = 0; i < e.y.length; i++) {
      const c = Math.floor(i / 36) % 2;
      const want = (pr.p.gamma![c]! * (e.saved.pre[i]! - r.rm![c]!)) / Math.sqrt(r.rv![c]! + 1e-5) + pr.p.beta![c]!;
      if (Math.abs(e.y[i]! - want) > 1e-5 * Math.max(1, Math.abs(want))) {
        t.fail(`${k.backend} eval y[${i}] = ${e.y[i]} want ${want}`);
        break;
      }
    }
    t.deepEqual(e.rm, r.rm, "eval leaves the running stats alone");
  }
});

/** float64 finite differences of L = <y, r> through the JS twin, for every gradient. */
function gradCheck(t: import("ava").ExecutionContext, g: Geo, norm: "train" | "none", act: ActivationKind, seed: number): void {
  const pr = problem(g, norm, act, seed, true);
  const s = checkConvBlockSpec("test", pr.spec);
  const c = g.cout;
  const x = to64(pr.x);
  const weight = to64(pr.p.weight);
  const bias = to64(pr.p.bias!);
  const gamma = to64(pr.p.gamma!);
  const beta = to64(pr.p.beta!);
  const r = to64(pr.dy);
  const fwd = () => {
    const o = {
      x,
      weight,
      bias,
      gamma,
      beta,
      runningMean: new Float64Array(c),
      runningVar: new Float64Array(c).fill(1),
      pre: new Float64Array(pr.ySize),
      mean: new Float64Array(c),
      rstd: new Float64Array(c),
      y: new Float64Array(pr.ySize),
    };
    twinForward(s, o);
    return o;
  };
  const loss = () => dot(fwd().y, r);
  const f = fwd();
  const grads = {
    dy: r.slice(),
    dx: new Float64Array(x.length),
    dweight: new Float64Array(weight.length),
    dbias: new Float64Array(c),
    dgamma: new Float64Array(c),
    dbeta: new Float64Array(c),
  };
  twinBackward(s, { x, weight, gamma, pre: f.pre, mean: f.mean, rstd: f.rstd, y: f.y, ...grads }, false);
  const checks: Array<[string, Float64Array, Float64Array]> = [
    ["dx", x, grads.dx],
    ["dweight", weight, grads.dweight],
    ["dbias", bias, grads.dbias],
  ];
  if (norm === "train") checks.push(["dgamma", gamma, grads.dgamma], ["dbeta", beta, grads.dbeta]);
  for (const [name, param, analytic] of checks) {
    const numeric = numericGradient(() => loss(), param, 1e-6);
    const err = maxRelDiff(analytic, numeric);
    t.true(err < 1e-5, `${JSON.stringify(g)} ${norm} ${act} ${name}: ${err}`);
  }
  if (norm === "train") {
    // Batch norm removes the conv bias: its gradient is zero.
    t.true(Math.max(...grads.dbias.map(Math.abs)) < 1e-9, `dbias under batch norm ${grads.dbias}`);
  }
}

test("convblock: float64 finite differences match every gradient (train mode)", (t) => {
  gradCheck(t, { transposed: true, batch: 2, cin: 3, h: 3, w: 2, cout: 2, k: 4, stride: 2, pad: 1 }, "train", "relu", 1);
  gradCheck(t, { transposed: true, batch: 1, cin: 2, h: 3, w: 3, cout: 3, k: 3, stride: 2, pad: 1, outPad: 1 }, "train", "tanh", 2);
  gradCheck(t, { transposed: false, batch: 2, cin: 2, h: 6, w: 5, cout: 3, k: 4, stride: 2, pad: 1 }, "train", "leakyRelu", 3);
  gradCheck(t, { transposed: false, batch: 3, cin: 2, h: 3, w: 3, cout: 2, k: 3, stride: 1, pad: 0 }, "train", "sigmoid", 4); // 1x1 output
});

test("convblock: float64 finite differences match every gradient (none mode)", (t) => {
  gradCheck(t, { transposed: true, batch: 2, cin: 3, h: 3, w: 3, cout: 1, k: 4, stride: 2, pad: 1 }, "none", "tanh", 5);
  gradCheck(t, { transposed: false, batch: 2, cin: 1, h: 6, w: 6, cout: 3, k: 4, stride: 2, pad: 1 }, "none", "leakyRelu", 6);
  gradCheck(t, { transposed: false, batch: 1, cin: 2, h: 5, w: 4, cout: 2, k: 2, stride: 1, pad: 1 }, "none", "sigmoid", 7);
});

test("convblock: accumulate adds to the gradients; dx null skips the data gradient", (t) => {
  for (const k of [native, js]) {
    for (const [norm, transposed] of [
      ["train", true],
      ["none", true],
      ["train", false],
      ["none", false],
    ] as const) {
      const geo = transposed
        ? { transposed, batch: 2, cin: 3, h: 3, w: 3, cout: 2, k: 4, stride: 2, pad: 1 }
        : { transposed, batch: 3, cin: 3, h: 6, w: 5, cout: 2, k: 4, stride: 2, pad: 1 };
      const pr = problem(geo, norm, "relu", 9, true);
      const once = runBlock(k, pr);
      const p = cloneParams(pr.p);
      const saved: ConvBlockSaved = { pre: new Float32Array(pr.ySize), mean: new Float32Array(2), rstd: new Float32Array(2) };
      const y = new Float32Array(pr.ySize);
      k.convBlockForward(pr.spec, pr.x, p, saved, y);
      const g: ConvBlockGrads = {
        dweight: randomNormal(p.weight.length, 1),
        dbias: randomNormal(2, 2),
        dgamma: randomNormal(2, 3),
        dbeta: randomNormal(2, 4),
      };
      const before = { dweight: g.dweight.slice(), dbias: g.dbias!.slice(), dgamma: g.dgamma!.slice(), dbeta: g.dbeta!.slice() };
      k.convBlockBackward(pr.spec, pr.x, p, saved, y, pr.dy.slice(), null, g, true);
      for (const name of ["dweight", "dbias", "dgamma", "dbeta"] as const) {
        const want = before[name].map((v, i) => (norm === "none" && (name === "dgamma" || name === "dbeta") ? v : v + once.g![name]![i]!));
        t.true(maxRelDiff(g[name]!, want) < 1e-5, `${k.backend} ${norm} ${name}`);
      }
    }
  }
});

test("convblock: native results do not depend on the thread count", (t) => {
  const threads = getThreads();
  try {
    for (const geo of [
      { transposed: true, batch: 16, cin: 8, h: 7, w: 7, cout: 6, k: 4, stride: 2, pad: 1 },
      { transposed: false, batch: 16, cin: 6, h: 14, w: 14, cout: 8, k: 4, stride: 2, pad: 1 },
    ]) {
      const pr = problem(geo, "train", "relu", 77);
      setThreads(1);
      const one = runBlock(native, pr);
      for (const n of [2, 3]) {
        setThreads(n);
        const many = runBlock(native, pr);
        t.deepEqual(many.y, one.y, `${n} threads y`);
        t.deepEqual(many.dx, one.dx, `${n} threads dx`);
        t.deepEqual(many.g, one.g, `${n} threads grads`);
      }
    }
  } finally {
    setThreads(threads);
  }
});

test("convblock: DCGAN generator and discriminator blocks at batch 8 match the composition", (t) => {
  const blocks: Array<[Geo, ConvBlockNorm, ActivationKind]> = [
    [{ transposed: true, batch: 8, cin: 128, h: 7, w: 7, cout: 64, k: 4, stride: 2, pad: 1 }, "train", "relu"],
    [{ transposed: true, batch: 8, cin: 64, h: 14, w: 14, cout: 1, k: 4, stride: 2, pad: 1 }, "none", "tanh"],
    [{ transposed: false, batch: 8, cin: 1, h: 28, w: 28, cout: 64, k: 4, stride: 2, pad: 1 }, "none", "leakyRelu"],
    [{ transposed: false, batch: 8, cin: 64, h: 14, w: 14, cout: 128, k: 4, stride: 2, pad: 1 }, "train", "leakyRelu"],
  ];
  let seed = 900;
  for (const [g, norm, act] of blocks) {
    seed += 10;
    const pr = problem(g, norm, act, seed);
    const d = compare(runBlock(native, pr), runComposition(native, pr));
    for (const [what, v] of Object.entries(d)) t.true(v <= 1e-5, `${JSON.stringify(g)}: ${what} ${v}`);
  }
});

test("convblock: batch norm training needs more than one value per channel (E_SHAPE)", (t) => {
  // Batch 1 with a 1x1 output: one value per channel.
  const g: Geo = { transposed: false, batch: 1, cin: 2, h: 4, w: 4, cout: 3, k: 4, stride: 1, pad: 0 };
  for (const k of [native, js]) {
    const base = problem(g, "none", "relu", 3);
    const pr = { ...base, spec: { ...base.spec, norm: "train" as const } };
    t.is((t.throws(() => runBlock(k, pr)) as { code?: string } | undefined)?.code, "E_SHAPE");
    // Eval and none modes take it.
    t.notThrows(() => runBlock(k, { ...pr, spec: { ...pr.spec, norm: "eval" } }));
    t.notThrows(() => runBlock(k, { ...pr, spec: { ...pr.spec, norm: "none" } }));
  }
  t.deepEqual(convBlockOutputSize(specOf({ ...g, batch: 64 }, "train", "relu")), { height: 1, width: 1 });
});

test("convblock: bad arguments throw DeepgenError with stable codes", (t) => {
  const g: Geo = { transposed: true, batch: 2, cin: 3, h: 3, w: 3, cout: 2, k: 4, stride: 2, pad: 1 };
  const pr = problem(g, "train", "relu", 11);
  const c = 2;
  const mk = () => ({
    saved: { pre: new Float32Array(pr.ySize), mean: new Float32Array(c), rstd: new Float32Array(c) },
    y: new Float32Array(pr.ySize),
    p: cloneParams(pr.p),
  });
  const code = (fn: () => void) => (t.throws(fn) as { code?: string } | undefined)?.code;
  for (const k of [native, js]) {
    const a = mk();
    t.is(
      code(() => k.convBlockForward({ ...pr.spec, norm: "bogus" as never }, pr.x, a.p, a.saved, a.y)),
      "E_ARG",
    );
    t.is(
      code(() => k.convBlockForward({ ...pr.spec, activation: "swish" as never }, pr.x, a.p, a.saved, a.y)),
      "E_ARG",
    );
    t.is(
      code(() => k.convBlockForward({ ...pr.spec, slope: -1 }, pr.x, a.p, a.saved, a.y)),
      "E_ARG",
    );
    t.is(
      code(() => k.convBlockForward({ ...pr.spec, eps: 0 }, pr.x, a.p, a.saved, a.y)),
      "E_ARG",
    );
    t.is(
      code(() => k.convBlockForward({ ...pr.spec, momentum: 1.5 }, pr.x, a.p, a.saved, a.y)),
      "E_ARG",
    );
    t.is(
      code(() =>
        k.convBlockForward({ ...pr.spec, transposed: false, shape: { ...pr.spec.shape, mask: "A" } as never }, pr.x, a.p, a.saved, a.y),
      ),
      "E_ARG",
    );
    t.is(
      code(() => k.convBlockForward(pr.spec, pr.x, { ...a.p, gamma: null }, a.saved, a.y)),
      "E_ARG",
    );
    t.is(
      code(() => k.convBlockForward(pr.spec, pr.x, a.p, { ...a.saved, pre: a.y }, a.y)),
      "E_ARG",
    );
    t.is(
      code(() => k.convBlockForward(pr.spec, pr.x, a.p, a.saved, pr.x)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.convBlockForward(pr.spec, pr.x.subarray(1), a.p, a.saved, a.y)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.convBlockForward(pr.spec, pr.x, { ...a.p, bias: new Float32Array(3) }, a.saved, a.y)),
      "E_SHAPE",
    );
    t.is(
      code(() => k.convBlockForward({ ...pr.spec, shape: { ...pr.spec.shape, height: 0 } }, pr.x, a.p, a.saved, a.y)),
      "E_SHAPE",
    );
    k.convBlockForward(pr.spec, pr.x, a.p, a.saved, a.y);
    const grads = (): ConvBlockGrads => ({
      dweight: new Float32Array(a.p.weight.length),
      dbias: null,
      dgamma: new Float32Array(c),
      dbeta: new Float32Array(c),
    });
    const dy = pr.dy.slice();
    t.is(
      code(() => k.convBlockBackward({ ...pr.spec, norm: "eval" }, pr.x, a.p, a.saved, a.y, dy, null, grads())),
      "E_ARG",
    );
    t.is(
      code(() => k.convBlockBackward(pr.spec, pr.x, a.p, a.saved, a.y, dy, null, { ...grads(), dgamma: null })),
      "E_ARG",
    );
    t.is(
      code(() => k.convBlockBackward(pr.spec, pr.x, a.p, a.saved, a.y, a.y, null, grads())),
      "E_ARG",
    );
    t.is(
      code(() => k.convBlockBackward(pr.spec, pr.x, a.p, a.saved, a.y, dy, null, grads(), 1 as never)),
      "E_ARG",
    );
    t.is(
      code(() => k.convBlockBackward(pr.spec, pr.x, a.p, a.saved, a.y, dy, new Float32Array(3), grads())),
      "E_SHAPE",
    );
    // In "none" mode the norm arrays are not needed.
    const none = { ...pr.spec, norm: "none" as const };
    const bare = { ...a.p, gamma: null, beta: null, runningMean: null, runningVar: null };
    t.notThrows(() => k.convBlockForward(none, pr.x, bare, a.saved, a.y));
    t.notThrows(() => k.convBlockBackward(none, pr.x, bare, a.saved, a.y, dy, null, { ...grads(), dgamma: null, dbeta: null }));
  }
  t.is(
    code(() => cudaConvBlock.convBlockForward(pr.spec, pr.x, pr.p, mk().saved, mk().y)),
    "E_BACKEND",
  );
});

test("convblock: empty batch or no output channels do nothing harmful", (t) => {
  for (const k of [native, js]) {
    const g: Geo = { transposed: true, batch: 2, cin: 3, h: 3, w: 3, cout: 0, k: 4, stride: 2, pad: 1 };
    const pr = problem(g, "train", "relu", 13);
    const r = runBlock(k, pr);
    t.is(r.y.length, 0);
    t.deepEqual(r.dx, new Float32Array(pr.x.length));
    const none = problem({ ...g, batch: 0, cout: 2 }, "none", "relu", 14);
    const e = runBlock(k, none);
    t.deepEqual(e.g!.dweight, new Float32Array(none.p.weight.length));
  }
});
