/**
 * The cuda backend from TypeScript. Without CUDA (the normal case on CI machines) every CUDA
 * entry point must refuse with E_BACKEND and the reason, after the usual argument checks,
 * and never crash. With a device, the GPU cases compare against the native backend (they are
 * registered as skipped otherwise, so a CPU-only run says so instead of passing them).
 */
import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { runtimeInfo } from "../lib/kernels/runtime-info.js";
import { cudaStatus } from "../lib/kernels/cuda.js";
import { nativeAddon } from "../lib/kernels/native.js";
import { cudaGemm } from "../lib/kernels/ops/gemm.js";
import { CudaNadeModel, cudaNade, type NadeModelArrays } from "../lib/kernels/ops/nade.js";
import { cudaOptim } from "../lib/kernels/ops/optim.js";
import { CudaPixelRnnModel, cudaPixelRnn, type PixelRnnModelArrays } from "../lib/kernels/ops/pixelrnn.js";
import { Gan } from "../lib/models/gan.js";
import { Nade } from "../lib/models/nade.js";
import { PixelRnn } from "../lib/models/pixelrnn.js";
import { randomNormal, randomUniform } from "./helpers/numeric.js";

const status = cudaStatus();
const gpuTest = status.available ? test : test.skip;
const cpuOnlyTest = status.available ? test.skip : test;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

function randomModel(d: number, h: number, seed: number): NadeModelArrays {
  const order = Int32Array.from({ length: d }, (_, i) => (i * 7) % d);
  return {
    d,
    h,
    wt: randomNormal(d * h, seed, 0.4),
    c: randomNormal(h, seed + 1, 0.4),
    v: randomNormal(d * h, seed + 2, 0.4),
    b: randomNormal(d, seed + 3, 0.8),
    order,
  };
}

cpuOnlyTest("without a usable device every cuda path refuses with E_BACKEND and the reason", (t) => {
  t.false(status.available);
  const err = t.throws(() => getKernels("cuda"));
  t.is((err as { code?: string }).code, "E_BACKEND");
  t.regex(err!.message, /cuda backend is not available: .+/);
  const m = randomModel(5, 3, 1);
  const x = new Float32Array(2 * 5);
  t.is(
    code(() => cudaNade.nadeSample(m, { n: 2, seed: 1 }, x)),
    "E_BACKEND",
  );
  t.is(
    code(() => cudaNade.nadeLogProb(m, x, 2, new Float32Array(2))),
    "E_BACKEND",
  );
  const g = { dwt: new Float32Array(15), dc: new Float32Array(3), dv: new Float32Array(15), db: new Float32Array(5) };
  t.is(
    code(() => cudaNade.nadeBackward(m, x, 2, 0.5, null, g)),
    "E_BACKEND",
  );
  t.is(
    code(() => CudaNadeModel.upload(m)),
    "E_BACKEND",
  );
  const a = new Float32Array(4);
  t.is(
    code(() => cudaGemm.gemm({ m: 2, n: 2, k: 2, a, b: a.slice(), c: a.slice() })),
    "E_BACKEND",
  );
  t.is(
    code(() => cudaOptim.adamStep(a, a.slice(), a.slice(), a.slice(), { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 })),
    "E_BACKEND",
  );
  t.is(
    code(() => cudaOptim.clipGradNorm([a], 1)),
    "E_BACKEND",
  );
  // A model asked to run on cuda: the same clean refusal.
  const nade = Nade.create({ dim: 5, hidden: 3, backend: "cuda" });
  t.is(
    code(() => nade.sampleSync(2, { seed: 1 })),
    "E_BACKEND",
  );
  t.notThrows(() => nade.dispose());
  const gan = Gan.create({ arch: "dcgan", dim: 784, height: 28, width: 28, initSeed: 1 });
  t.is(
    code(() => gan.generate(gan.sampleLatent(2, { seed: 1 }), { backend: "cuda" })),
    "E_BACKEND",
  );
});

function randomPixelRnn(kind: "rowlstm" | "diagbilstm", seed: number): PixelRnnModelArrays {
  const model = PixelRnn.create({ kind, layers: 2, hidden: 9, height: 7, width: 6, initSeed: seed });
  return { spec: model.spec, params: model.params };
}

cpuOnlyTest("without a usable device the PixelRNN cuda paths refuse with E_BACKEND", (t) => {
  const m = randomPixelRnn("rowlstm", 1);
  const x = new Float32Array(2 * 42);
  t.is(
    code(() => cudaPixelRnn.pixelRnnSample(m, { n: 2, seed: 1 }, x)),
    "E_BACKEND",
  );
  t.is(
    code(() => cudaPixelRnn.pixelRnnLogProb(m, x, 2, new Float32Array(2))),
    "E_BACKEND",
  );
  t.is(
    code(() => cudaPixelRnn.pixelRnnBackward(m, x, 2, 0.5, null, new Float32Array(m.params.length))),
    "E_BACKEND",
  );
  t.is(
    code(() => CudaPixelRnnModel.upload(m)),
    "E_BACKEND",
  );
  const model = PixelRnn.create({ kind: "diagbilstm", layers: 1, hidden: 4, height: 5, width: 5, initSeed: 2, backend: "cuda" });
  t.is(
    code(() => model.sampleSync(2, { seed: 1 })),
    "E_BACKEND",
  );
  // Argument errors come first.
  t.is(
    code(() => cudaPixelRnn.pixelRnnSample(m, { n: 2, seed: 1 }, new Float32Array(3))),
    "E_SHAPE",
  );
  t.is(
    code(() => CudaPixelRnnModel.upload({ spec: m.spec, params: new Float32Array(3) })),
    "E_SHAPE",
  );
});

cpuOnlyTest("training a model on cuda without a device rejects with E_BACKEND", async (t) => {
  const nade = Nade.create({ dim: 5, hidden: 3, backend: "cuda" });
  const x = new Float32Array(20 * 5).map((_, i) => (i % 3 === 0 ? 1 : 0));
  const err = await t.throwsAsync(() => nade.fit(x, { epochs: 1, batchSize: 10 }));
  t.is((err as { code?: string }).code, "E_BACKEND");
});

cpuOnlyTest("argument errors come before the backend check", (t) => {
  const m = randomModel(5, 3, 1);
  m.order[0] = m.order[1]!; // not a permutation
  t.is(
    code(() => CudaNadeModel.upload(m)),
    "E_ARG",
  );
  t.is(
    code(() => cudaNade.nadeSample(randomModel(5, 3, 1), { n: 2, seed: 1 }, new Float32Array(3))),
    "E_SHAPE",
  );
  t.is(
    code(() => cudaGemm.gemm({ m: 2, n: 2, k: 2, a: new Float32Array(3), b: new Float32Array(4), c: new Float32Array(4) })),
    "E_SHAPE",
  );
});

test("runtime info reports CUDA device memory held by deepgen (0 without a device)", (t) => {
  const info = runtimeInfo();
  if (info.cuda === undefined) {
    t.false(status.available);
    return;
  }
  t.is(typeof info.cuda.residentBytes, "number");
  if (!status.available) t.is(info.cuda.residentBytes, 0);
});

// ---- with a GPU -----------------------------------------------------------------------------

gpuTest("cuda NADE: same seed, same samples as native (up to near ties); logProb within 1e-4", (t) => {
  const native = getKernels("native");
  const cuda = getKernels("cuda");
  const m = randomModel(61, 37, 7);
  const n = 300;
  const xn = new Float32Array(n * m.d),
    xc = new Float32Array(n * m.d);
  native.nadeSample(m, { n, seed: 42, sampleOffset: 3 }, xn);
  cuda.nadeSample(m, { n, seed: 42, sampleOffset: 3 }, xc);
  let same = 0;
  for (let i = 0; i < n; i++) {
    let eq = true;
    for (let j = 0; j < m.d; j++) eq &&= xn[i * m.d + j] === xc[i * m.d + j];
    same += eq ? 1 : 0;
  }
  t.true(same >= n - 3, `${same} of ${n} samples identical`);
  const ln = new Float32Array(n),
    lc = new Float32Array(n);
  native.nadeLogProb(m, xn, n, ln);
  cuda.nadeLogProb(m, xn, n, lc);
  for (let i = 0; i < n; i++) t.true(Math.abs(ln[i]! - lc[i]!) <= 1e-4 * (1 + Math.abs(ln[i]!)), `row ${i}: ${ln[i]} vs ${lc[i]}`);
});

gpuTest("CudaNadeModel holds device memory until dispose(), and refuses use afterwards", (t) => {
  const m = randomModel(20, 16, 3);
  const before = runtimeInfo().cuda!.residentBytes;
  const g = CudaNadeModel.upload(m);
  t.is(runtimeInfo().cuda!.residentBytes - before, 4 * (2 * 20 * 16 + 16 + 20) + 4 * 20);
  const x = new Float32Array(4 * 20);
  g.sample({ n: 4, seed: 1 }, x);
  t.true(x.every((v) => v === 0 || v === 1));
  g.dispose();
  t.is(runtimeInfo().cuda!.residentBytes, before);
  t.is(
    code(() => g.sample({ n: 1, seed: 1 }, x)),
    "E_ARG",
  );
  t.notThrows(() => g.dispose());
});

gpuTest("cuda gemm and adam match native", (t) => {
  const native = getKernels("native");
  const cuda = getKernels("cuda");
  const [m, n, k] = [17, 29, 41];
  const a = randomUniform(m * k, 1, -1, 1),
    b = randomUniform(k * n, 2, -1, 1);
  const cn = new Float32Array(m * n),
    cc = new Float32Array(m * n);
  native.gemm({ m, n, k, a, b, c: cn });
  cuda.gemm({ m, n, k, a, b, c: cc });
  for (let i = 0; i < m * n; i++) t.true(Math.abs(cn[i]! - cc[i]!) <= 1e-4, `gemm ${i}`);
  const p = randomUniform(1001, 3, -1, 1),
    g = randomUniform(1001, 4, -1, 1);
  const [pn, mn, vn] = [p.slice(), new Float32Array(1001), new Float32Array(1001)];
  const [pc, mc, vc] = [p.slice(), new Float32Array(1001), new Float32Array(1001)];
  native.adamStep(pn, g, mn, vn, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 });
  cuda.adamStep(pc, g, mc, vc, { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 1 });
  for (let i = 0; i < 1001; i++) t.true(Math.abs(pn[i]! - pc[i]!) <= 1e-7 * (1 + Math.abs(pn[i]!)), `adam ${i}`);
});

gpuTest("the DCGAN generator forward on cuda matches native (eval mode)", (t) => {
  const gan = Gan.create({ arch: "dcgan", dim: 784, height: 28, width: 28, initSeed: 1 });
  const z = gan.sampleLatent(5, { seed: 3 });
  const yn = gan.generate(z, { backend: "native" });
  const yc = gan.generate(z, { backend: "cuda" });
  t.is(yc.length, yn.length);
  let worst = 0;
  for (let i = 0; i < yn.length; i++) worst = Math.max(worst, Math.abs(yn[i]! - yc[i]!));
  t.true(worst <= 1e-4, `max |cuda - native| = ${worst}`);
});

gpuTest("cuda NADE gradients and gradient clipping match native", (t) => {
  const native = getKernels("native");
  const cuda = getKernels("cuda");
  const m = randomModel(29, 23, 11);
  const n = 70;
  const x = randomUniform(n * m.d, 12, 0, 1).map((v) => (v < 0.3 ? 1 : 0));
  const grads = () => ({
    dwt: new Float32Array(m.d * m.h),
    dc: new Float32Array(m.h),
    dv: new Float32Array(m.d * m.h),
    db: new Float32Array(m.d),
  });
  const gn = grads(),
    gc = grads();
  const ln = new Float32Array(n),
    lc = new Float32Array(n);
  native.nadeBackward(m, x, n, 1 / n, ln, gn);
  cuda.nadeBackward(m, x, n, 1 / n, lc, gc);
  for (const k of ["dwt", "dc", "dv", "db"] as const) {
    const scale = gn[k].reduce((s, v) => Math.max(s, Math.abs(v)), 0);
    for (let i = 0; i < gn[k].length; i++) t.true(Math.abs(gn[k][i]! - gc[k][i]!) <= 1e-4 * scale + 1e-6, `${k}[${i}]`);
  }
  for (let i = 0; i < n; i++) t.true(Math.abs(ln[i]! - lc[i]!) <= 1e-4 * (1 + Math.abs(ln[i]!)));
  const an = [gn.dwt.slice(), gn.dv.slice()],
    ac = [gn.dwt.slice(), gn.dv.slice()];
  const normN = native.clipGradNorm(an, 1e-3),
    normC = cuda.clipGradNorm(ac, 1e-3);
  t.true(Math.abs(normN - normC) <= 1e-12 * normN);
  for (let a = 0; a < 2; a++)
    for (let i = 0; i < an[a]!.length; i++) t.true(Math.abs(an[a]![i]! - ac[a]![i]!) <= 1e-7 * Math.abs(an[a]![i]!) + 1e-30);
});

gpuTest("a NADE trained on cuda lowers its validation NLL", async (t) => {
  const nade = Nade.create({ dim: 16, hidden: 8, backend: "cuda" });
  const x = randomUniform(400 * 16, 13, 0, 1).map((v, i) => (v < (i % 16 < 8 ? 0.8 : 0.1) ? 1 : 0));
  const r = await nade.fit(x, { epochs: 3, batchSize: 50, lr: 1e-2 });
  const nll = r.history.map((e) => e.validation!);
  t.true(nll[nll.length - 1]! < nll[0]!, JSON.stringify(nll));
  nade.dispose();
});

gpuTest("cuda PixelRNN: same seed, same images as native (up to near ties); logProb within 1e-4", (t) => {
  const native = getKernels("native");
  const cuda = getKernels("cuda");
  for (const kind of ["rowlstm", "diagbilstm"] as const) {
    const m = randomPixelRnn(kind, 5);
    const d = 42,
      n = 100;
    const xn = new Float32Array(n * d),
      xc = new Float32Array(n * d);
    native.pixelRnnSample(m, { n, seed: 9, sampleOffset: 2 }, xn);
    cuda.pixelRnnSample(m, { n, seed: 9, sampleOffset: 2 }, xc);
    let same = 0;
    for (let i = 0; i < n; i++) {
      let eq = true;
      for (let j = 0; j < d; j++) eq &&= xn[i * d + j] === xc[i * d + j];
      same += eq ? 1 : 0;
    }
    t.true(same >= n - 2, `${kind}: ${same} of ${n} images identical`);
    const ln = new Float32Array(n),
      lc = new Float32Array(n);
    native.pixelRnnLogProb(m, xn, n, ln);
    cuda.pixelRnnLogProb(m, xn, n, lc);
    for (let i = 0; i < n; i++)
      t.true(Math.abs(ln[i]! - lc[i]!) <= 1e-4 * (1 + Math.abs(ln[i]!)), `${kind} row ${i}: ${ln[i]} vs ${lc[i]}`);
  }
});

gpuTest("CudaPixelRnnModel holds device memory until dispose(), and refuses use afterwards", (t) => {
  const m = randomPixelRnn("rowlstm", 3);
  const before = runtimeInfo().cuda!.residentBytes;
  const g = CudaPixelRnnModel.upload(m);
  t.is(runtimeInfo().cuda!.residentBytes - before, 4 * m.params.length + 4 * 42);
  const x = new Float32Array(3 * 42);
  g.sample({ n: 3, seed: 1 }, x);
  t.true(x.every((v) => v === 0 || v === 1));
  g.dispose();
  t.is(runtimeInfo().cuda!.residentBytes, before);
  t.is(
    code(() => g.sample({ n: 1, seed: 1 }, x)),
    "E_ARG",
  );
  t.notThrows(() => g.dispose());
});

test("the CUDA handle functions refuse anything but their own kind of handle with E_ARG, before any device work", (t) => {
  const addon = nativeAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;
  const calls: [string, string, unknown[]][] = [
    ["cudaNadeRelease", "cudaNadeUpload", []],
    ["cudaNadeLogProb", "cudaNadeUpload", [new Float32Array(4), 1, new Float32Array(1)]],
    ["cudaPixelRnnRelease", "cudaPixelRnnUpload", []],
    ["cudaPixelRnnLogProb", "cudaPixelRnnUpload", [new Float32Array(4), 1, new Float32Array(1)]],
    ["cudaDcganRelease", "cudaDcganUpload", []],
  ];
  for (const [fn, upload, rest] of calls) {
    for (const handle of [{}, 3, null]) {
      const e = t.throws(() => addon[fn]!(handle, ...rest), undefined, `${fn}(${JSON.stringify(handle)})`) as {
        code?: string;
        message: string;
      };
      t.is(e.code, "E_ARG", fn);
      t.true(e.message.includes(`must come from ${upload}`), e.message);
    }
  }
});
