/**
 * DCGAN conv blocks (conv / convT + batch norm + activation) at batch 64 and 1: the fused
 * native block (one call each way) against the same block as the unfused composition of the
 * existing native kernels (conv, batchNorm, activation: one call each), the JS twin, and, for
 * inference, onnxruntime-node running the same block graph (ConvTranspose / Conv +
 * BatchNormalization + Relu / LeakyRelu / Tanh) with the same threads.
 *
 * Cases: `<block>-b<batch>-<what>-t<threads>`, what = fwd (training forward: batch
 * statistics, running-stat update), bwd (backward: every gradient and dx; the fused timing
 * includes restoring dy, which the block overwrites), infer (eval-mode forward, the graph
 * onnxruntime runs). At one thread the note gives the median CPU time per run as well (it
 * barely moves when other processes share the cores; the wall time does).
 * `dcgan-generator` is the whole generator in inference (z(100) -> dense ->
 * 128x7x7 -> BN -> ReLU -> the two convT blocks), native calls vs one onnxruntime graph.
 */
import { getKernels } from "../lib/kernels/backend.js";
import { getThreads, setThreads } from "../lib/kernels/threads.js";
import type { ActivationKind } from "../lib/kernels/ops/activation.js";
import type { ConvBlockGrads, ConvBlockNorm, ConvBlockParams, ConvBlockSaved, ConvBlockSpec } from "../lib/kernels/ops/convblock.js";
import { randomNormal, randomUniform } from "../test/helpers/numeric.js";
import { type GraphNode, graphModel, ortSession, ortTensor, timeOrt } from "./peers/onnx.js";
import { formatValue, type Report, timeMs } from "./report.js";

// CPU time of this process (all its threads) per run, median over runs: at one thread it
// barely moves when other processes share the cores, unlike the wall time. Reported as a note.
function cpuMedianMs(fn: () => void, repeats: number): number {
  fn();
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    t.push((c.user + c.system) / 1000);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

async function cpuMedianOrtMs(
  session: Awaited<ReturnType<typeof ortSession>>,
  feeds: Parameters<typeof timeOrt>[1],
  repeats: number,
): Promise<number> {
  await session.run(feeds);
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const c0 = process.cpuUsage();
    await session.run(feeds);
    const c = process.cpuUsage(c0);
    t.push((c.user + c.system) / 1000);
  }
  t.sort((a, b) => a - b);
  return t[Math.floor(t.length / 2)]!;
}

interface Block {
  name: string;
  transposed: boolean;
  cin: number;
  cout: number;
  h: number;
  out: number;
  norm: boolean;
  activation: ActivationKind;
}

const BLOCKS: Block[] = [
  { name: "dcgan-g-convT-128x7-64x14-bn-relu", transposed: true, cin: 128, cout: 64, h: 7, out: 14, norm: true, activation: "relu" },
  { name: "dcgan-g-convT-64x14-1x28-tanh", transposed: true, cin: 64, cout: 1, h: 14, out: 28, norm: false, activation: "tanh" },
  { name: "dcgan-d-conv-1x28-64x14-lrelu", transposed: false, cin: 1, cout: 64, h: 28, out: 14, norm: false, activation: "leakyRelu" },
  { name: "dcgan-d-conv-64x14-128x7-bn-lrelu", transposed: false, cin: 64, cout: 128, h: 14, out: 7, norm: true, activation: "leakyRelu" },
];
const SLOPE = 0.2;
const EPS = 1e-5;

interface Setup {
  spec: ConvBlockSpec;
  x: Float32Array;
  p: ConvBlockParams;
  saved: ConvBlockSaved;
  y: Float32Array;
  dy0: Float32Array;
  dy: Float32Array;
  dx: Float32Array;
  g: ConvBlockGrads;
  // unfused scratch
  da: Float32Array;
  dpre: Float32Array;
}

function setup(b: Block, batch: number, norm: ConvBlockNorm, seed: number): Setup {
  const shape = {
    batch,
    inChannels: b.cin,
    height: b.h,
    width: b.h,
    outChannels: b.cout,
    kernelH: 4,
    kernelW: 4,
    strideH: 2,
    strideW: 2,
    padH: 1,
    padW: 1,
  };
  const ySize = batch * b.cout * b.out * b.out;
  const wSize = b.cin * b.cout * 16;
  const c = b.cout;
  const dy0 = randomNormal(ySize, seed + 3);
  return {
    spec: { transposed: b.transposed, shape, norm, activation: b.activation, slope: SLOPE, eps: EPS },
    x: randomNormal(batch * b.cin * b.h * b.h, seed),
    p: {
      weight: randomNormal(wSize, seed + 1, 0.05),
      bias: b.norm ? null : randomNormal(c, seed + 2, 0.1),
      gamma: randomUniform(c, seed + 4, 0.5, 1.5),
      beta: randomUniform(c, seed + 5, -0.5, 0.5),
      runningMean: randomUniform(c, seed + 6, -0.1, 0.1),
      runningVar: randomUniform(c, seed + 7, 0.5, 1.5),
    },
    saved: { pre: new Float32Array(ySize), mean: new Float32Array(c), rstd: new Float32Array(c) },
    y: new Float32Array(ySize),
    dy0,
    dy: dy0.slice(),
    dx: new Float32Array(batch * b.cin * b.h * b.h),
    g: {
      dweight: new Float32Array(wSize),
      dbias: b.norm ? null : new Float32Array(c),
      dgamma: new Float32Array(c),
      dbeta: new Float32Array(c),
    },
    da: new Float32Array(ySize),
    dpre: new Float32Array(ySize),
  };
}

type K = ReturnType<typeof getKernels>;

/** The block as separate kernel calls (what model code would do without the fused kernel). */
function unfusedForward(k: K, s: Setup): void {
  const sh = s.spec.shape;
  const sp = s.y.length / (sh.batch * sh.outChannels);
  if (s.spec.transposed) k.convTranspose2dForward(sh, s.x, s.p.weight, s.p.bias, s.saved.pre);
  else k.conv2dForward(sh, s.x, s.p.weight, s.p.bias, s.saved.pre);
  const p = s.p;
  if (s.spec.norm === "train")
    k.batchNormForwardTrain(
      s.saved.pre,
      p.gamma!,
      p.beta!,
      s.y,
      s.saved.mean,
      s.saved.rstd,
      p.runningMean!,
      p.runningVar!,
      sh.batch,
      sh.outChannels,
      sp,
      EPS,
    );
  else if (s.spec.norm === "eval")
    k.batchNormForwardEval(s.saved.pre, p.gamma!, p.beta!, p.runningMean!, p.runningVar!, s.y, sh.batch, sh.outChannels, sp, EPS);
  k.activationForward(s.spec.activation, s.spec.norm === "none" ? s.saved.pre : s.y, s.y, SLOPE);
}

function unfusedBackward(k: K, s: Setup): void {
  const sh = s.spec.shape;
  const sp = s.y.length / (sh.batch * sh.outChannels);
  k.activationBackward(s.spec.activation, s.y, s.dy0, s.da, SLOPE);
  let dpre = s.da;
  if (s.spec.norm === "train") {
    k.batchNormBackward(
      s.saved.pre,
      s.da,
      s.p.gamma!,
      s.saved.mean,
      s.saved.rstd,
      s.dpre,
      s.g.dgamma!,
      s.g.dbeta!,
      sh.batch,
      sh.outChannels,
      sp,
    );
    dpre = s.dpre;
  }
  if (s.spec.transposed) {
    k.convTranspose2dBackwardWeight(sh, s.x, dpre, s.g.dweight, s.g.dbias);
    k.convTranspose2dBackwardData(sh, dpre, s.p.weight, s.dx);
  } else {
    k.conv2dBackwardWeight(sh, s.x, dpre, s.g.dweight, s.g.dbias);
    k.conv2dBackwardData(sh, dpre, s.p.weight, s.dx);
  }
}

function fusedForward(k: K, s: Setup): void {
  k.convBlockForward(s.spec, s.x, s.p, s.saved, s.y);
}

function fusedBackward(k: K, s: Setup): void {
  s.dy.set(s.dy0);
  k.convBlockBackward(s.spec, s.x, s.p, s.saved, s.y, s.dy, s.dx, s.g);
}

/** ONNX nodes of one block in eval mode, reading `input`, writing `output`; names prefixed. */
function blockNodes(b: Block, s: Setup, pfx: string, input: string, output: string) {
  const nodes: GraphNode[] = [];
  const inits = [{ name: `${pfx}W`, dims: b.transposed ? [b.cin, b.cout, 4, 4] : [b.cout, b.cin, 4, 4], data: s.p.weight }];
  const convIn = [input, `${pfx}W`];
  if (s.p.bias !== null) {
    inits.push({ name: `${pfx}B`, dims: [b.cout], data: s.p.bias });
    convIn.push(`${pfx}B`);
  }
  let cur = `${pfx}conv`;
  nodes.push({
    opType: b.transposed ? "ConvTranspose" : "Conv",
    inputs: convIn,
    outputs: [cur],
    attributes: { kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1] },
  });
  if (b.norm) {
    for (const [n, d] of [
      ["gamma", s.p.gamma!],
      ["beta", s.p.beta!],
      ["mean", s.p.runningMean!],
      ["var", s.p.runningVar!],
    ] as const) {
      inits.push({ name: `${pfx}${n}`, dims: [b.cout], data: d });
    }
    nodes.push({
      opType: "BatchNormalization",
      inputs: [cur, `${pfx}gamma`, `${pfx}beta`, `${pfx}mean`, `${pfx}var`],
      outputs: [`${pfx}bn`],
      attributes: { epsilon: EPS },
    });
    cur = `${pfx}bn`;
  }
  const op = { relu: "Relu", leakyRelu: "LeakyRelu", tanh: "Tanh", sigmoid: "Sigmoid", identity: "Identity", softplus: "Softplus" }[
    b.activation
  ];
  nodes.push({ opType: op, inputs: [cur], outputs: [output], attributes: b.activation === "leakyRelu" ? { alpha: SLOPE } : {} });
  return { nodes, inits };
}

interface Generator {
  z: Float32Array;
  w: Float32Array; // [100, 6272]
  bn: ConvBlockParams; // gamma, beta, running stats of the dense output's 128 channels
  h: Float32Array; // [batch, 128, 7, 7]
  g1: Setup;
  g2: Setup;
  model: Uint8Array;
}

export function generatorSetup(batch: number, seed: number): Generator {
  const g1 = setup(BLOCKS[0]!, batch, "eval", seed);
  const g2 = setup(BLOCKS[1]!, batch, "none", seed + 10);
  const h = new Float32Array(batch * 6272);
  g1.x = h;
  g2.x = g1.y;
  const bn: ConvBlockParams = {
    weight: new Float32Array(0),
    bias: null,
    gamma: randomUniform(128, seed + 20, 0.5, 1.5),
    beta: randomUniform(128, seed + 21, -0.5, 0.5),
    runningMean: randomUniform(128, seed + 22, -0.1, 0.1),
    runningVar: randomUniform(128, seed + 23, 0.5, 1.5),
  };
  const w = randomNormal(100 * 6272, seed + 24, 0.1);
  const n1 = blockNodes(BLOCKS[0]!, g1, "g1", "H", "G1");
  const n2 = blockNodes(BLOCKS[1]!, g2, "g2", "G1", "Y");
  const model = graphModel(
    [
      { opType: "MatMul", inputs: ["Z", "W0"], outputs: ["D"] },
      { opType: "Reshape", inputs: ["D", "S0"], outputs: ["R"] },
      { opType: "BatchNormalization", inputs: ["R", "g0", "b0", "m0", "v0"], outputs: ["N0"], attributes: { epsilon: EPS } },
      { opType: "Relu", inputs: ["N0"], outputs: ["H"] },
      ...n1.nodes,
      ...n2.nodes,
    ],
    [{ name: "Z", dims: [batch, 100] }],
    [
      { name: "W0", dims: [100, 6272], data: w },
      { name: "S0", dims: [4], data: BigInt64Array.from([BigInt(batch), 128n, 7n, 7n]) },
      { name: "g0", dims: [128], data: bn.gamma! },
      { name: "b0", dims: [128], data: bn.beta! },
      { name: "m0", dims: [128], data: bn.runningMean! },
      { name: "v0", dims: [128], data: bn.runningVar! },
      ...n1.inits,
      ...n2.inits,
    ],
    { name: "Y", dims: [batch, 1, 28, 28] },
  );
  return { z: randomNormal(batch * 100, seed + 25), w, bn, h, g1, g2, model };
}

export function generatorForward(k: K, g: Generator, fused: boolean): void {
  const batch = g.z.length / 100;
  k.gemm({ a: g.z, b: g.w, c: g.h, m: batch, n: 6272, k: 100 });
  const p = g.bn;
  k.batchNormForwardEval(g.h, p.gamma!, p.beta!, p.runningMean!, p.runningVar!, g.h, batch, 128, 49, EPS);
  k.activationForward("relu", g.h, g.h);
  if (fused) {
    fusedForward(k, g.g1);
    fusedForward(k, g.g2);
  } else {
    unfusedForward(k, g.g1);
    unfusedForward(k, g.g2);
  }
}

export async function runConvBlock(report: Report): Promise<void> {
  const native = getKernels("native");
  const js = getKernels("js");
  const maxThreads = getThreads();
  const threadCounts = [...new Set([1, Math.min(2, maxThreads)])];
  const add = (c: string, backend: "native" | "native-unfused" | "js" | "onnxruntime", ms: number, cpuMs?: number) =>
    report.add({
      suite: "convblock",
      case: c,
      backend,
      value: ms,
      unit: "ms",
      ...(cpuMs === undefined ? {} : { note: `cpu ${formatValue(cpuMs)} ms` }),
    });
  // Wall median, and at one thread the CPU-time median as well.
  const time = (fn: () => void, reps: number, t: number): [number, number | undefined] => [
    timeMs(fn, reps, 2),
    t === 1 ? cpuMedianMs(fn, reps) : undefined,
  ];
  let seed = 1;
  for (const batch of [64, 1]) {
    const reps = batch === 64 ? 11 : 101;
    for (const b of BLOCKS) {
      seed += 10;
      const train = setup(b, batch, b.norm ? "train" : "none", seed);
      seed += 10;
      const infer = setup(b, batch, b.norm ? "eval" : "none", seed);
      const { nodes, inits } = blockNodes(b, infer, "", "X", "Y");
      const model = graphModel(nodes, [{ name: "X", dims: [batch, b.cin, b.h, b.h] }], inits, {
        name: "Y",
        dims: [batch, b.cout, b.out, b.out],
      });
      for (const t of threadCounts) {
        setThreads(t);
        const c = (what: string) => `${b.name}-b${batch}-${what}-t${t}`;
        add(c("fwd"), "native", ...time(() => fusedForward(native, train), reps, t));
        add(c("fwd"), "native-unfused", ...time(() => unfusedForward(native, train), reps, t));
        fusedForward(native, train);
        add(c("bwd"), "native", ...time(() => fusedBackward(native, train), reps, t));
        add(c("bwd"), "native-unfused", ...time(() => unfusedBackward(native, train), reps, t));
        add(c("infer"), "native", ...time(() => fusedForward(native, infer), reps, t));
        add(c("infer"), "native-unfused", ...time(() => unfusedForward(native, infer), reps, t));
        const session = await ortSession(model, t);
        const feeds = { X: ortTensor(infer.x, [batch, b.cin, b.h, b.h]) };
        add(
          c("infer"),
          "onnxruntime",
          await timeOrt(session, feeds, reps),
          t === 1 ? await cpuMedianOrtMs(session, feeds, reps) : undefined,
        );
      }
      setThreads(maxThreads);
      const jsReps = batch === 64 ? 1 : 5;
      add(
        `${b.name}-b${batch}-fwd-t1`,
        "js",
        timeMs(() => fusedForward(js, train), jsReps, 0),
      );
      add(
        `${b.name}-b${batch}-bwd-t1`,
        "js",
        timeMs(() => fusedBackward(js, train), jsReps, 0),
      );
    }
    // The whole DCGAN generator, inference: z(100) -> dense -> 128x7x7 -> BN -> ReLU ->
    // block G1 -> block G2. Native: gemm, batchNorm (eval), relu, two block calls; onnxruntime:
    // MatMul, Reshape, BatchNormalization, Relu, then the two blocks' nodes, one graph.
    seed += 10;
    const gen = generatorSetup(batch, seed);
    for (const t of threadCounts) {
      setThreads(t);
      const c = `dcgan-generator-b${batch}-infer-t${t}`;
      add(c, "native", ...time(() => generatorForward(native, gen, true), reps, t));
      add(c, "native-unfused", ...time(() => generatorForward(native, gen, false), reps, t));
      const session = await ortSession(gen.model, t);
      const feeds = { Z: ortTensor(gen.z, [batch, 100]) };
      add(c, "onnxruntime", await timeOrt(session, feeds, reps), t === 1 ? await cpuMedianOrtMs(session, feeds, reps) : undefined);
    }
    setThreads(maxThreads);
  }
}
