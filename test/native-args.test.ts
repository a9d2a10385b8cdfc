// Every native entry point, called with bad arguments, must throw a JS error with a stable
// code, never crash the process. The TS layer validates first; these calls go straight to
// the addon to prove the native layer re-checks what it relies on.
import test from "ava";

import type { NativeAddon } from "../lib/kernels/addon-types.js";
import { nativeAddon } from "../lib/kernels/native.js";

const addon = nativeAddon() as unknown as Record<string, (...args: unknown[]) => unknown>;
const f32 = new Float32Array(4);
const cancel = new Int32Array(1);
const ord2 = Int32Array.from([1, 0]);
// NADE model arguments (D = 2, H = 2) shared by the nade* cases.
const nadeModel = [2, 2, f32, f32, f32, f32, ord2];
// RNADE parameter arrays (wt, c, va, vm, vs, ba, bm, bs) for D = H = K = 1.
const rnadeArrays = Array.from({ length: 8 }, () => new Float32Array(1));

// PixelRNN model arguments: Row LSTM, 1 layer, H = 1, a 1x1 image (53 parameters).
const prnnParams = new Float32Array(64);
const prnnModel = [0, 1, 1, 1, 1, prnnParams];

// A DCGAN spec and step options as the device trainer takes them.
const DCGAN = { height: 28, width: 28, zdim: 100, channels: [128, 64], discChannels: [64, 128], discNorm: false, discStddev: false };
const DCGAN_STEP = { genLr: 1e-3, discLr: 1e-3, beta1: 0.5, beta2: 0.999, eps: 1e-8, minimax: false, updateGenerator: true };

// Eight distinct Float32Array(4) for the norm cases (inputs and outputs must not alias).
const bn8 = Array.from({ length: 8 }, () => new Float32Array(4));
// Calls with many numbers take them as one spec object first; `over` replaces fields (a field
// set to undefined is a missing field).
type Fields = Record<string, unknown>;

// gemm(spec, a, b, c): a valid 2x2x2 product of Float32Array(4)s.
const GEMM = {
  transA: false,
  transB: false,
  m: 2,
  n: 2,
  k: 2,
  alpha: 1,
  beta: 0,
  lda: 2,
  ldb: 2,
  ldc: 2,
  batch: 1,
  strideA: 4,
  strideB: 4,
  strideC: 4,
};
const gemmWith = (over: Fields = {}): unknown[] => [{ ...GEMM, ...over }, f32, f32, f32];

// A valid conv2d / convTranspose2d spec for x [1, 1, 2, 2], weight [1, 1, 1, 1], y [1, 1, 2, 2].
const GEOMETRY = { batch: 1, inC: 1, inH: 2, inW: 2, outC: 1, kH: 1, kW: 1, strideH: 1, strideW: 1, padH: 0, padW: 0 };
const CONV = { ...GEOMETRY, mask: 0 };
const CONVT = { ...GEOMETRY, outputPadH: 0, outputPadW: 0 };
const conv = (over: Fields) => ({ ...CONV, ...over });
const convT = (over: Fields) => ({ ...CONVT, ...over });
const MASK = { outC: 1, inC: 1, kH: 1, kW: 1, mask: 1 };
const w1 = new Float32Array(1);
const y4 = new Float32Array(4);

// Conv block calls (spec, arrays...): x [1,1,2,2], weight [1,1,1,1], pre / y / dy [1,1,2,2], no
// norm, identity; every array its own (written arrays must not overlap anything). `args`
// replaces arguments by position (the spec is argument 0).
const f4 = () => new Float32Array(4);
const CB_SPEC = { ...CONVT, transposed: false, norm: 0, activation: 0, slope: 0, eps: 1e-5, momentum: 0.1 };
const withArgs = (call: unknown[], args: Record<number, unknown>): unknown[] => call.map((v, i) => (i in args ? args[i] : v));
// 1 x, 2 weight, 3 bias, 4 gamma, 5 beta, 6 runningMean, 7 runningVar, 8 pre, 9 mean, 10 rstd, 11 y
const cbForward = (over: Fields = {}, args: Record<number, unknown> = {}): unknown[] =>
  withArgs([{ ...CB_SPEC, ...over }, f4(), w1, null, null, null, null, null, f4(), null, null, f4()], args);
// 1 x, 2 weight, 3 gamma, 4 pre, 5 mean, 6 rstd, 7 y, 8 dy, 9 dx, 10 dweight, 11 dbias, 12 dgamma, 13 dbeta, 14 accumulate
const cbBackward = (over: Fields = {}, args: Record<number, unknown> = {}): unknown[] =>
  withArgs(
    [{ ...CB_SPEC, ...over }, f4(), w1, null, f4(), null, null, f4(), f4(), null, new Float32Array(1), null, null, null, false],
    args,
  );
const sharedY = f4();

// A prepared network: one dense 2 -> 2 layer (weight [2, 2]), and a handle of it.
const PN_LAYER = {
  kind: 0,
  inChannels: 2,
  height: 1,
  width: 1,
  outChannels: 2,
  kernel: 1,
  stride: 1,
  pad: 0,
  activation: 0,
  slope: 0,
  weight: f32,
  bias: null,
};
const pnLayer = (over: Fields) => ({ ...PN_LAYER, ...over });
const pnHandle = addon.preparedNetCreate!([PN_LAYER]);
const c1 = () => new Float32Array(1);

// An argument in a failure message (a native handle has no prototype: String() would throw).
const shown = (v: unknown): string => (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === null ? "[handle]" : String(v));

// For each entry point: argument lists that must be refused.
const BAD_CALLS: Record<Exclude<keyof NativeAddon, "abiVersion">, unknown[][]> = {
  info: [],
  threadLimit: [],
  setThreadLimit: [[], [0], [-1], [1.5], ["2"], [NaN], [Infinity], [5000]],
  philoxFill: [
    [],
    [f32, 0, 0, 0],
    [new Float64Array(4), 0, 0, 0, 0],
    [[1, 2], 0, 0, 0, 0],
    [f32, -1, 0, 0, 0],
    [f32, 2 ** 32, 0, 0, 0],
    [f32, 0, 0.5, 0, 0],
    [f32, 0, 0, "0", 0],
    [f32, 0, 0, 0, 2],
    [f32, 0, 0, 0, NaN],
  ],
  philoxFillAsync: [
    [f32, 0, 0, 0, 0],
    [f32, 0, 0, 0, 0, new Int32Array(0)],
    [f32, 0, 0, 0, 0, new Uint32Array(1)],
    [f32, 0, 0, 0, 0, cancel, "not a function"],
    [null, 0, 0, 0, 0, cancel, undefined],
  ],
  fmaProbe: [[], [10, 1], [-1, 1, 0], [10, 0, 0], [10, 5000, 0], [10, 1, -1], [1e300, 1, 0], [10, 1, 2000]],
  fmaProbeAsync: [
    [10, 1, 0],
    [10, 1, 0, null],
    [10, 1, 0, cancel, 42],
    [-5, 1, 0, cancel, undefined],
  ],
  cudaPhiloxFill: [[], [f32, 0, 0, 0, 3], [f32, -1, 0, 0, 0]],
  // The CUDA entry points check their arguments before asking for a device, so these are
  // E_ARG with or without a GPU.
  cudaNadeUpload: [
    [],
    [0, 2, f32, f32, f32, f32, ord2],
    [2, 2, f32, f32, f32, f32, Int32Array.from([0, 0])],
    [2, 2, f32, f32, f32, f32, f32],
  ],
  cudaNadeRelease: [[], [{}], [f32], [null]],
  cudaNadeLogProb: [[], [{}, f32, 1, f32], [null, f32, 1, f32]],
  cudaNadeSample: [[], [{}, 1, 0, 0, 0, 0, 0, 0, f32, null]],
  cudaNadeBackward: [[], [{}, f32, 1, 1, null, f32, f32, f32, f32], [null, f32, 1, 1, null, f32, f32, f32, f32]],
  cudaPixelRnnUpload: [[], [2, 1, 1, 1, 1, prnnParams], [0, 0, 1, 1, 1, prnnParams], [0, 1, 1, 1, 1, "params"]],
  cudaPixelRnnRelease: [[], [{}], [f32], [null]],
  cudaPixelRnnLogProb: [[], [{}, f32, 1, f32], [null, f32, 1, f32]],
  cudaPixelRnnSample: [[], [{}, 1, 0, 0, 0, 0, 0, f32, null], [null, 1, 0, 0, 0, 0, 0, f32, null]],
  cudaDcganUpload: [
    [],
    [{ ...DCGAN, height: 5000 }, f32, f32, f32, null, null, null, null, 0, 0],
    [{ ...DCGAN, channels: [128] }, f32, f32, f32, null, null, null, null, 0, 0],
    [{ ...DCGAN, discNorm: 0 }, f32, f32, f32, null, null, null, null, 0, 0],
    [DCGAN, f32, f32, f32, null, null, null, null, 0],
    [null, f32, f32, f32, null, null, null, null, 0, 0],
  ],
  cudaDcganRelease: [[], [{}], [f32], [null]],
  cudaDcganStep: [[], [{}, f32, f32, 2, DCGAN_STEP], [null, f32, f32, 2, DCGAN_STEP]],
  cudaDcganGenerate: [[], [{}, f32, 1, f32], [null, f32, 1, f32]],
  preparedNetCreate: [
    [],
    [null],
    [[]],
    [[{}]],
    [[pnLayer({ kind: 2 })]],
    [[pnLayer({ weight: new Float64Array(4) })]],
    [[pnLayer({ activation: 9 })]],
    [[pnLayer({ slope: -1 })]],
    [[pnLayer({ kind: 1, kernel: 2, pad: 2, weight: new Float32Array(16) })]],
  ],
  preparedNetSizes: [[], [null], [{}], [f32]],
  preparedNetForward: [
    [],
    [null, f32, 1, f32, 0, 0, 1],
    [pnHandle, f32, -1, f32, 0, 0, 1],
    [pnHandle, f32, 1.5, f32, 0, 0, 1],
    [pnHandle, f32, 1, f32],
    [pnHandle, f32, 1, f32, 6, 0, 1],
    [pnHandle, f32, 1, f32, 0, Number.NaN, 1],
    [pnHandle, f32, 1, f32, 0, 0, 1e39],
  ],
  preparedNetForwardAsync: [
    [pnHandle, f32, 1, f32],
    [pnHandle, f32, 1, f32, null],
    [null, f32, 1, f32, cancel],
  ],
  cudaDcganDownload: [[], [{}, null, null, null, null, null, null, null], [null, null, null, null, null, null, null, null]],
  cudaGemm: [[], gemmWith({ alpha: NaN }), gemmWith({ lda: 1 }), [null, f32, f32, f32]],
  cudaAdamStep: [[], [f32, f32, f32, f32, 1e-3, 1, 0.999, 1e-8, 0, 0.1, 0.001]],
  cudaClipGradNorm: [[], [f32, 1], [[f32], 0], [[new Float64Array(2)], 1]],
  cudaActivationForward: [[], [6, f32, f32, 0], [0.5, f32, f32, 0]],
  cudaBiasActivationForward: [[], [0, f32, f32, f32, -1, 2, 2, 0], [0, f32, new Int32Array(2), f32, 1, 2, 2, 0]],
  cudaBatchNormForwardTrain: [[], [...bn8, 2, 2, 1, 0, 0.1], [...bn8, 2, 2, 1, 1e-5, 2]],
  cudaBatchNormForwardEval: [[], [...bn8.slice(0, 6), 2, 2, 1, 0], [...bn8.slice(0, 6), 2, -1, 1, 1e-5]],
  nadeLogProb: [
    [],
    [0, 2, f32, f32, f32, f32, ord2, f32, 1, f32],
    [2, 2, f32, f32, f32, f32, Int32Array.from([0, 0]), f32, 1, f32],
    [2, 2, f32, f32, f32, f32, new Float32Array(2), f32, 1, f32],
    [...nadeModel, f32, -1, f32],
  ],
  nadeLogProbAsync: [
    [...nadeModel, f32, 1, f32],
    [...nadeModel, f32, 1, f32, cancel, 5],
  ],
  nadeSample: [
    [...nadeModel, 1, 0, 0, 0, 0, 0, 3, f32, null, null],
    [...nadeModel, 1, -1, 0, 0, 0, 0, 0, f32, null, null],
    [...nadeModel, 1, 0, 0, 0, 0, 0, 0, f32, new Float64Array(4), null],
    [...nadeModel, 1, 0, 0, 0, 0, 0, 0, f32, null, new Float32Array(4)],
    [...nadeModel, 1, 0, 0, 0, 0, 0, 0, f32, null, [1, 2, 3, 4]],
  ],
  nadeSampleAsync: [
    [...nadeModel, 1, 0, 0, 0, 0, 0, 0, f32, null, null],
    [...nadeModel, 1, 0, 0, 0, 0, 0, 0, f32, null, null, null],
  ],
  nadeBackward: [
    [...nadeModel, f32, 1, NaN, null, f32, f32, f32, f32],
    [...nadeModel, f32, 1, 1, null, f32, f32, f32, "db"],
  ],
  nadeBackwardAsync: [
    [...nadeModel, f32, 1, 1, null, f32, f32, f32, f32],
    [...nadeModel, f32, 1, 1, null, f32, f32, f32, f32, cancel, {}],
  ],
  rnadeLogProb: [[], [1, 1, 0, ...rnadeArrays, f32, 1, f32], [1, 1, 1, ...rnadeArrays, f32, -1, f32]],
  rnadeLogProbAsync: [
    [1, 1, 1, ...rnadeArrays, f32, 1, f32],
    [1, 1, 1, ...rnadeArrays, f32, 1, f32, cancel, 3],
  ],
  rnadeBackward: [
    [1, 1, 1, ...rnadeArrays, f32, 1, Infinity, null, ...rnadeArrays],
    [1, 1, 1, ...rnadeArrays, f32, 1, 1, "x", ...rnadeArrays],
  ],
  rnadeBackwardAsync: [[1, 1, 1, ...rnadeArrays, f32, 1, 1, null, ...rnadeArrays]],
  rnadeSample: [
    [1, 1, 1, ...rnadeArrays, 1, 0, 0, -1, 0, 0, f32, null],
    [1, 1, 1, ...rnadeArrays, 1, 0, 0, 0, 0, 0, null, null],
    [1, 1, 1, ...rnadeArrays, 1, 0, 0, 0, 0, 0, f32, new Int32Array(4)],
  ],
  rnadeSampleAsync: [[1, 1, 1, ...rnadeArrays, 1, 0, 0, 0, 0, 0, f32, null]],
  pixelRnnLogProb: [
    [],
    [2, 1, 1, 1, 1, prnnParams, f32, 1, f32],
    [0, 0, 1, 1, 1, prnnParams, f32, 1, f32],
    [...prnnModel, f32, -1, f32],
    [...prnnModel, "x", 1, f32],
  ],
  pixelRnnLogProbAsync: [
    [...prnnModel, f32, 1, f32],
    [...prnnModel, f32, 1, f32, cancel, 5],
  ],
  pixelRnnBackward: [
    [...prnnModel, f32, 1, NaN, null, prnnParams.slice()],
    [...prnnModel, f32, 1, 1, null, "grads"],
    [0, 1, 0, 1, 1, prnnParams, f32, 1, 1, null, f32],
  ],
  pixelRnnBackwardAsync: [
    [...prnnModel, f32, 1, 1, null, prnnParams.slice()],
    [...prnnModel, f32, 1, 1, null, prnnParams.slice(), cancel, {}],
  ],
  pixelRnnSample: [
    [...prnnModel, 1, 0, 0, 0, 0, 0, 1, f32, null, null, 0],
    [...prnnModel, 1, -1, 0, 0, 0, 0, true, f32, null, null, 0],
    [...prnnModel, 1, 0, 0, 0, 0, 0, true, f32, new Float64Array(4), null, 0],
    [...prnnModel, 1, 0, 0, 0, 0, 0, true, f32, null, "rows", 0],
    [...prnnModel, 1, 0, 0, 0, 0, 0, true, f32, null, null],
    [...prnnModel, 1, 0, 0, 0, 0, 0, true, f32, null, null, 2],
    [...prnnModel, 1, 0, 0, 0, 0, 0, true, f32, null, null, -1],
  ],
  pixelRnnSampleAsync: [
    [...prnnModel, 1, 0, 0, 0, 0, 0, true, f32, null, null],
    [...prnnModel, 1, 0, 0, 0, 0, 0, true, f32, null, null, null],
  ],
  // gemm(spec, a, b, c)
  gemm: [
    [],
    [GEMM, f32, f32],
    [null, f32, f32, f32],
    [Object.values(GEMM), f32, f32, f32],
    gemmWith({ strideC: undefined }),
    gemmWith({ transA: 0 }),
    gemmWith({ m: -1 }),
    gemmWith({ k: 2.5 }),
    gemmWith({ alpha: NaN }),
    gemmWith({ beta: "0" }),
    gemmWith({ lda: 1 }),
    [GEMM, new Float64Array(4), f32, f32],
    gemmWith({ strideC: -4 }),
  ],
  // lstm: (h, c, gates, pre, cPrev, B, H) / (dpre, dcPrev, dh, dc | null, gates, cPrev, c, B, H)
  lstmGatesForward: [
    [],
    [f32, f32, f32, f32, f32, 1],
    [new Float64Array(4), f32, f32, f32, f32, 1, 1],
    [f32, f32, f32, f32, "cPrev", 1, 1],
    [f32, f32, f32, f32, f32, -1, 1],
    [f32, f32, f32, f32, f32, 1, 0.5],
  ],
  lstmGatesBackward: [
    [],
    [f32, f32, f32, null, f32, f32, f32, 1],
    [f32, f32, f32, "dc", f32, f32, f32, 1, 1],
    [f32, f32, f32, null, f32, f32, f32, 1, NaN],
  ],
  // loss: outputs first, then inputs, rows, cols[, scale, rowScale | null]
  bceWithLogitsForward: [[], [null, f32, f32, 1], [5, f32, f32, 1, 1], [null, f32, [1], 1, 1], [null, f32, f32, -1, 1]],
  bceWithLogitsBackward: [
    [f32, f32, f32, 1, 1, 1],
    [null, f32, f32, 1, 1, 1, null],
    [f32, f32, f32, 1, 1, NaN, null],
    [f32, f32, f32, 1, 1, "1", null],
    [f32, f32, f32, 1, 1, 1, "rows"],
  ],
  continuousBernoulliNllForward: [[], [null, f32, f32, 1], [5, f32, f32, 1, 1], [null, f32, [1], 1, 1], [null, f32, f32, -1, 1]],
  continuousBernoulliNllBackward: [
    [f32, f32, f32, 1, 1, 1],
    [null, f32, f32, 1, 1, 1, null],
    [f32, f32, f32, 1, 1, NaN, null],
    [f32, f32, f32, 1, 1, 1, "rows"],
  ],
  gaussianKlForward: [[], [null, f32, f32, 1.5, 1], [null, f32, new Int32Array(4), 1, 1]],
  gaussianKlBackward: [
    [f32, f32, f32, f32, 1, 1, 1],
    [f32, null, f32, f32, 1, 1, 1, null],
    [f32, f32, f32, f32, 1, 1, Infinity, null],
  ],
  gaussianLogProbForward: [[], [null, f32, f32, f32, 1], [null, f32, f32, 7, 1, 1]],
  gaussianLogProbBackward: [
    [null, null, null, f32, f32, f32, 1, 1, NaN, null],
    [null, null, "dlogvar", f32, f32, f32, 1, 1, 1, null],
    [null, null, null, null, f32, f32, 1, 1, 1, null],
  ],
  softmaxCrossEntropyForward: [[], [null, f32, f32, 1], [5, f32, f32, 1, 1], [null, f32, [1], 1, 1], [null, f32, f32, -1, 1]],
  softmaxCrossEntropyBackward: [
    [f32, f32, f32, 1, 1, 1],
    [null, f32, f32, 1, 1, 1, null],
    [f32, f32, f32, 1, 1, NaN, null],
    [f32, f32, f32, 1, 1, 1, "rows"],
  ],
  logSumExpForward: [[], [null, f32, 1, 1], [f32, f32, 1, -1]],
  logSumExpBackward: [[], [f32, f32, f32, null, 1, 1], [f32, f32, f32, f32, 1]],
  reduceSum: [[], [null], [[1, 2]], [new Float64Array(2)]],
  reduceMean: [[], [{}]],
  // optim: adamStep(p, g, m, v, lr, beta1, beta2, eps, wd, bc1, bc2), sgdStep(p, g, vel, lr, mu, nesterov, wd)
  adamStep: [
    [],
    [f32, f32, f32, f32, 1e-3, 0.9, 0.999, 1e-8, 0, 0.1],
    [f32, f32, null, f32, 1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.001],
    [f32, f32, f32, f32, NaN, 0.9, 0.999, 1e-8, 0, 0.1, 0.001],
    [f32, f32, f32, f32, 1e-3, 1, 0.999, 1e-8, 0, 0.1, 0.001],
    [f32, f32, f32, f32, 1e-3, 0.9, "0.999", 1e-8, 0, 0.1, 0.001],
    [f32, f32, f32, f32, 1e-3, 0.9, 0.999, 0, 0, 0.1, 0.001],
    [f32, f32, f32, f32, 1e-3, 0.9, 0.999, 1e-8, -1, 0.1, 0.001],
    [f32, f32, f32, f32, 1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0],
  ],
  sgdStep: [
    [],
    [f32, f32, null, 0.1, 0.9, false, 0],
    [f32, f32, f32, 0.1, 0, true, 0],
    [f32, f32, f32, 0.1, 0.5, "no", 0],
    [f32, f32, f32, -1, 0.5, false, 0],
    [f32, f32, f32, 0.1, 0.5, false, NaN],
  ],
  clipGradNorm: [[], [[f32]], [f32, 1], [[f32], 0], [[f32], NaN], [[f32], "1"], [[f32, "x"], 1]],
  // conv: a valid call is (CONV | CONVT, x[4], w[1], bias|null, y[4]); each row breaks one thing.
  conv2dForward: [
    [],
    [CONV, f32, w1, null],
    [null, f32, w1, null, y4],
    [Object.values(CONV), f32, w1, null, y4],
    [conv({ mask: undefined }), f32, w1, null, y4],
    [CONV, new Float64Array(4), w1, null, y4],
    [CONV, f32, w1, 5, y4],
    [CONV, f32, w1, null, [0, 0, 0, 0]],
    [conv({ batch: -1 }), f32, w1, null, y4],
    [conv({ inC: 1.5 }), f32, w1, null, y4],
    [conv({ kH: 0 }), f32, w1, null, y4],
    [conv({ strideH: 0 }), f32, w1, null, y4],
    [conv({ padH: -1 }), f32, w1, null, y4],
    [conv({ mask: 3 }), f32, w1, null, y4],
    [conv({ strideW: "1" }), f32, w1, null, y4],
    [conv({ inH: NaN }), f32, w1, null, y4],
    [CONV, f32, w1, null, f32],
  ],
  conv2dBackwardData: [
    [],
    [CONV, y4, w1],
    [CONV, y4, w1, null],
    [conv({ strideW: 0 }), y4, w1, f32],
    [conv({ mask: -1 }), y4, w1, f32],
    [CONV, y4, w1, y4],
  ],
  conv2dBackwardWeight: [
    [],
    [CONV, f32, y4, w1, null],
    [CONV, f32, y4, w1, null, 1],
    [CONV, f32, y4, w1, null, "true"],
    [conv({ kW: -2 }), f32, y4, w1, f32, false],
    [CONV, f32, y4, [0], null, false],
    [CONV, f32, y4, w1, w1, false],
  ],
  conv2dMaskWeights: [
    [],
    [MASK],
    [{ ...MASK, mask: undefined }, w1],
    [{ ...MASK, mask: 3 }, w1],
    [{ ...MASK, kH: 0 }, w1],
    [{ ...MASK, outC: -1 }, w1],
    [MASK, null],
  ],
  convTranspose2dForward: [
    [],
    [convT({ outputPadW: undefined }), f32, w1, null, y4],
    [CONV, f32, w1, null, y4],
    [CONVT, f32, w1, "bias", y4],
    [convT({ outputPadH: 1 }), f32, w1, null, y4],
    [convT({ outputPadW: -1 }), f32, w1, null, y4],
    [convT({ strideH: 0 }), f32, w1, null, y4],
    [convT({ outC: 2 ** 40 }), f32, w1, null, y4],
    [convT({ outC: 2 ** 41 }), f32, w1, null, y4],
    [CONVT, f32, w1, null, f32],
  ],
  convTranspose2dBackwardData: [[], [CONVT, y4, w1, new Int32Array(4)], [convT({ padW: -3 }), y4, w1, f32], [CONVT, y4, w1, y4]],
  convTranspose2dBackwardWeight: [
    [],
    [CONVT, f32, y4, w1, null],
    [CONVT, f32, y4, w1, null, null],
    [convT({ kH: 0 }), f32, y4, w1, null, true],
    [CONVT, f32, y4, f32.subarray(0, 1), null, true],
  ],
  // activation group: (kind, ..., slope) with kind 0..5, slope finite >= 0
  activationForward: [
    [],
    [0, f32, f32],
    [6, f32, f32, 0],
    [-1, f32, f32, 0],
    [0.5, f32, f32, 0],
    [0, new Float64Array(4), f32, 0],
    [0, f32, null, 0],
    [0, f32, f32, -1],
    [0, f32, f32, NaN],
    [0, f32, f32, "0"],
  ],
  activationBackward: [[], [0, f32, f32, f32], [7, f32, f32, f32, 0], [0, f32, f32, [1, 2, 3, 4], 0], [0, f32, f32, f32, Infinity]],
  biasActivationForward: [
    [],
    [0, f32, f32, f32, 1, 2, 2],
    [0, f32, f32, f32, -1, 2, 2, 0],
    [0, f32, f32, f32, 1, 2.5, 2, 0],
    [0, f32, new Int32Array(2), f32, 1, 2, 2, 0],
    [9, f32, f32, f32, 1, 2, 2, 0],
    [0, f32, f32, f32, 1, 2, 2, -0.5],
  ],
  biasActivationBackward: [
    [],
    [0, f32, f32, f32, f32, 1, 2, 2],
    [0, f32, f32, f32, "db", 1, 2, 2, 0],
    [0, f32, f32, f32, f32, 1, 2, NaN, 0],
    [0, f32, f32, f32, f32, 2 ** 50, 2, 2, 0],
  ],
  vexp: [[], [f32], [f32, new Float64Array(4)], [null, f32]],
  vlog: [[], [f32], [new Uint8Array(4), f32], [f32, undefined]],
  // norm group
  batchNormForwardTrain: [
    [],
    [...bn8, 2, 2, 1, 1e-5],
    [...bn8, 2, 2, 1, 0, 0.1],
    [...bn8, 2, 2, 1, -1, 0.1],
    [...bn8, 2, 2, 1, 1e-50, 0.1],
    [...bn8, 2, 2, 1, NaN, 0.1],
    [...bn8, 2, 2, 1, 1e-5, 1.5],
    [...bn8, -2, 2, 1, 1e-5, 0.1],
    [...bn8, 2, 2, 0.5, 1e-5, 0.1],
    [new Float64Array(4), ...bn8.slice(1), 2, 2, 1, 1e-5, 0.1],
  ],
  batchNormForwardEval: [
    [],
    [...bn8.slice(0, 6), 2, 2, 1],
    [...bn8.slice(0, 6), 2, 2, 1, 0],
    [...bn8.slice(0, 6), 2, -1, 1, 1e-5],
    [...bn8.slice(0, 5), "y", 2, 2, 1, 1e-5],
  ],
  batchNormBackward: [[], [...bn8, 2, 2], [...bn8, 2, 2, -1], [...bn8.slice(0, 7), null, 2, 2, 1]],
  layerNormForward: [
    [],
    [...bn8.slice(0, 6), 2, 2],
    [...bn8.slice(0, 6), 2, 2, 0],
    [...bn8.slice(0, 6), 2.5, 2, 1e-5],
    [...bn8.slice(0, 6), 2, 2, "1e-5"],
  ],
  layerNormBackward: [[], [...bn8, 2], [...bn8, -2, 2], [...bn8.slice(0, 7), {}, 2, 2]],
  // reparamForward(z, eps, mu, logvar, rows, cols, k, key0, key1, stream, firstSample)
  reparamForward: [
    [],
    [f32, f32, f32, f32, 2, 2, 1, 0, 0, 0],
    [f32, f32, f32, f32, 2, 2, 0, 0, 0, 0, 0],
    [f32, f32, f32, f32, -1, 2, 1, 0, 0, 0, 0],
    [f32, f32, f32, f32, 2, 2, 1, -1, 0, 0, 0],
    [f32, f32, f32, f32, 2, 2, 1, 0, 0, 1.5, 0],
    [f32, f32, f32, f32, 2, 2, 1, 0, 0, 0, 2 ** 32],
    [f32, new Float64Array(4), f32, f32, 2, 2, 1, 0, 0, 0, 0],
    [f32, f32, null, f32, 2, 2, 1, 0, 0, 0, 0],
  ],
  // reparamBackward(dmu, dlogvar, dz, eps, logvar, rows, cols, k, accumulate)
  reparamBackward: [
    [],
    [f32, f32, f32, f32, f32, 2, 2, 1],
    [f32, f32, f32, f32, f32, 2, 2, 1, 0],
    [f32, f32, f32, f32, f32, 2, 2, 0, false],
    [f32, f32, f32, f32, f32, 2, NaN, 1, false],
    [f32, f32, "dz", f32, f32, 2, 2, 1, false],
  ],
  convBlockForward: [
    [],
    cbForward().slice(0, 11),
    cbForward({}, { 0: null }),
    cbForward({ transposed: "no" }),
    cbForward({ norm: 3 }),
    cbForward({ activation: 6 }),
    cbForward({ slope: -1 }),
    cbForward({ eps: 0 }),
    cbForward({ eps: 1e-50 }), // rounds to 0 in float
    cbForward({ momentum: 2 }),
    cbForward({ momentum: undefined }),
    cbForward({}, { 1: new Int32Array(4) }),
    cbForward({}, { 8: sharedY, 11: sharedY }),
    cbForward({ norm: 1 }), // train without gamma / beta / running stats / mean / rstd
    cbForward({ outputPadH: 1 }), // output padding on a plain conv
    cbForward({ kH: 0 }),
    cbForward({ transposed: true, outputPadH: 1 }), // output padding >= stride
  ],
  cudaConvBlockForward: [[], cbForward({ transposed: "no" }), cbForward({ norm: 3 })],
  cudaConvBlockBackward: [[], cbBackward({ norm: 2 }), cbBackward({}, { 14: "yes" })],
  convBlockBackward: [
    [],
    cbBackward().slice(0, 14),
    cbBackward({ norm: 2 }), // eval mode has no backward
    cbBackward({ slope: NaN }),
    cbBackward({}, { 14: "yes" }),
    cbBackward({}, { 7: sharedY, 8: sharedY }),
    cbBackward({}, { 10: null }),
    cbBackward({ norm: 1 }), // train without gamma / mean / rstd / dgamma / dbeta
    cbBackward({}, { 8: sharedY, 9: sharedY }), // dx overlaps dy
  ],
};

// Arguments of the right types whose sizes exceed the arrays: must be E_SHAPE, never a read
// out of bounds.
const OUT_OF_BOUNDS: Partial<Record<keyof typeof BAD_CALLS, unknown[][]>> = {
  rnadeLogProb: [
    [2, 2, 2, ...rnadeArrays, f32, 1, f32],
    [1, 1, 1, ...rnadeArrays, f32, 5, f32],
  ],
  rnadeSample: [
    [1, 1, 1, ...rnadeArrays, 5, 0, 0, 0, 0, 0, f32, null],
    [1, 1, 1, ...rnadeArrays, 1, 0, 0, 0, 0, 0, f32, new Uint32Array(3)],
  ],
  pixelRnnLogProb: [
    [0, 1, 1, 1, 1, new Float32Array(52), f32, 1, f32],
    [...prnnModel, f32, 5, f32],
    [0, 1, 1, 2, 2, prnnParams, f32, 2, f32],
  ],
  pixelRnnBackward: [
    [...prnnModel, f32, 1, 1, null, new Float32Array(52)],
    [...prnnModel, f32, 1, 1, new Float32Array(0), prnnParams.slice()],
  ],
  pixelRnnSample: [
    [...prnnModel, 5, 0, 0, 0, 0, 0, true, f32, null, null, 0],
    [...prnnModel, 1, 0, 0, 0, 0, 0, false, f32, new Float32Array(0), null, 0],
    [...prnnModel, 1, 0, 0, 0, 0, 0, true, f32, null, new Uint32Array(3), 0],
  ],
  activationForward: [[0, f32, new Float32Array(3), 0]],
  activationBackward: [[0, f32, f32, new Float32Array(5), 0]],
  biasActivationForward: [
    [0, f32, f32, f32, 1, 2, 3, 0],
    [0, f32, new Float32Array(1), f32, 1, 2, 2, 0],
  ],
  biasActivationBackward: [
    [0, f32, f32, f32, f32, 2, 2, 2, 0],
    [0, f32, f32, f32, new Float32Array(1), 1, 2, 2, 0],
  ],
  vexp: [[f32, new Float32Array(5)]],
  vlog: [[new Float32Array(3), f32]],
  batchNormForwardTrain: [
    [...bn8, 2, 2, 2, 1e-5, 0.1],
    [f32, new Float32Array(1), ...bn8.slice(2), 2, 2, 1, 1e-5, 0.1],
    [...bn8, 1, 2, 1, 1e-5, 0.1], // one value per channel: no batch statistics
  ],
  batchNormForwardEval: [[...bn8.slice(0, 6), 1, 2, 3, 1e-5]],
  batchNormBackward: [
    [...bn8, 2, 2, 2],
    [...bn8.slice(0, 7), new Float32Array(1), 2, 2, 1],
  ],
  layerNormForward: [
    [...bn8.slice(0, 6), 2, 4, 1e-5],
    [...bn8.slice(0, 6), 1, 0, 1e-5],
  ],
  layerNormBackward: [[...bn8, 4, 2]],
  nadeLogProb: [[2, 2, f32, f32, f32, f32, ord2, f32, 3, f32]],
  nadeSample: [
    [2, 2, f32, f32, f32, f32, ord2, 3, 0, 0, 0, 0, 0, 0, f32, null, null],
    [2, 2, f32, f32, f32, f32, ord2, 1, 0, 0, 0, 0, 0, 0, f32, null, new Uint32Array(3)],
  ],
  nadeBackward: [[2, 2, f32, f32, f32, f32, ord2, f32, 2, 1, null, f32, f32, f32, new Float32Array(1)]],
  gemm: [gemmWith({ m: 3 }), gemmWith({ batch: 2 }), gemmWith({ transA: true, transB: true, ldb: 9 })],
  lstmGatesForward: [[f32, f32, f32, f32, f32, 1, 2]],
  lstmGatesBackward: [
    [f32, f32, f32, null, f32, f32, f32, 2, 1],
    [new Float32Array(8), f32, f32, new Float32Array(1), new Float32Array(8), f32, f32, 2, 1],
  ],
  bceWithLogitsForward: [[null, f32, f32, 2, 3]],
  bceWithLogitsBackward: [[f32, f32, f32, 2, 2, 1, new Float32Array(1)]],
  continuousBernoulliNllForward: [
    [null, f32, f32, 2, 3],
    [new Float32Array(1), f32, f32, 2, 2],
  ],
  continuousBernoulliNllBackward: [[f32, f32, f32, 2, 2, 1, new Float32Array(1)]],
  gaussianKlForward: [
    [new Float32Array(1), f32, f32, 2, 2],
    [null, f32, f32, 2 ** 40, 2 ** 40],
  ],
  gaussianKlBackward: [[f32, f32, f32, f32, 1, 5, 1, null]],
  gaussianLogProbForward: [[null, f32, f32, f32, 4, 2]],
  gaussianLogProbBackward: [[new Float32Array(1), null, null, f32, f32, f32, 2, 2, 1, null]],
  softmaxCrossEntropyForward: [
    [null, f32, f32, 2, 3],
    [new Float32Array(1), f32, f32, 2, 2],
  ],
  softmaxCrossEntropyBackward: [
    [f32, f32, f32, 2, 2, 1, new Float32Array(1)],
    [new Float32Array(3), f32, f32, 2, 2, 1, null],
  ],
  logSumExpForward: [[new Float32Array(1), f32, 2, 2]],
  logSumExpBackward: [[f32, f32, new Float32Array(1), f32, 2, 2]],
  reduceMean: [[new Float32Array(0)]],
  adamStep: [[f32, new Float32Array(3), f32, f32, 1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.001]],
  cudaAdamStep: [[f32, new Float32Array(3), f32, f32, 1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.001]],
  cudaActivationForward: [[0, f32, new Float32Array(3), 0]],
  cudaBiasActivationForward: [[0, f32, f32, f32, 1, 2, 3, 0]],
  cudaBatchNormForwardTrain: [[...bn8, 2, 2, 2, 1e-5, 0.1]], // (one value per channel is the kernel's check: test/native/cuda)
  cudaBatchNormForwardEval: [[...bn8.slice(0, 6), 1, 2, 3, 1e-5]],
  cudaGemm: [gemmWith({ m: 3 })],
  cudaNadeUpload: [[2, 2, f32, f32, f32, new Float32Array(1), ord2]],
  cudaPixelRnnUpload: [[0, 1, 1, 1, 1, new Float32Array(52)]],
  sgdStep: [[f32, f32, new Float32Array(2), 0.1, 0.9, false, 0]],
  conv2dForward: [
    [conv({ batch: 2 }), f32, w1, null, y4],
    [CONV, f32, w1, w1, new Float32Array(3)],
  ],
  reparamForward: [
    [new Float32Array(3), f32, f32, f32, 2, 2, 1, 0, 0, 0, 0],
    [f32, f32, new Float32Array(3), f32, 2, 2, 1, 0, 0, 0, 0],
    [f32, f32, f32, f32, 2, 2, 2, 0, 0, 0, 0], // k = 2: z and eps need 8
    [f32, f32, f32, f32, 2 ** 32, 2 ** 32, 2 ** 32, 0, 0, 0, 0],
  ],
  reparamBackward: [
    [f32, f32, f32, f32, new Float32Array(1), 2, 2, 1, false],
    [f32, f32, f32, f32, f32, 1, 2, 3, true],
  ],
  conv2dBackwardData: [[conv({ outC: 2 }), y4, w1, f32]],
  conv2dBackwardWeight: [[CONV, f32, y4, w1, new Float32Array(2), false]],
  conv2dMaskWeights: [[{ ...MASK, kH: 3, kW: 3 }, w1]],
  convTranspose2dForward: [
    [convT({ strideH: 2 }), f32, w1, null, y4],
    [convT({ inH: 0 }), f32, w1, null, y4],
  ],
  convTranspose2dBackwardData: [[convT({ inC: 2 }), y4, w1, f32]],
  convTranspose2dBackwardWeight: [[CONVT, f32, y4, new Float32Array(9), null, false]],
  convBlockForward: [
    cbForward({ batch: 2 }),
    cbForward({}, { 3: new Float32Array(2) }),
    cbForward({ norm: 1, inH: 1, inW: 1 }, { 1: c1(), 4: c1(), 5: c1(), 6: c1(), 7: c1(), 8: c1(), 9: c1(), 10: c1(), 11: c1() }), // one value per channel
  ],
  convBlockBackward: [cbBackward({}, { 9: new Float32Array(3) }), cbBackward({ outC: 2 })],
  cudaConvBlockForward: [cbForward({ batch: 2 }), cbForward({}, { 3: new Float32Array(2) })],
  preparedNetCreate: [
    [[pnLayer({ weight: new Float32Array(3) })]],
    [[pnLayer({ bias: new Float32Array(3) })]],
    [[pnLayer({ height: 2 })]],
    [[PN_LAYER, pnLayer({ inChannels: 3, weight: new Float32Array(6) })]],
  ],
  preparedNetForward: [
    [pnHandle, new Float32Array(1), 1, f32, 0, 0, 1],
    [pnHandle, f32, 1, new Float32Array(1), 0, 0, 1],
  ],
  preparedNetForwardAsync: [[pnHandle, new Float32Array(1), 1, f32, 0, 0, 1, cancel]],
  cudaConvBlockBackward: [cbBackward({}, { 9: new Float32Array(3) })],
};

for (const [name, calls] of Object.entries(OUT_OF_BOUNDS)) {
  test(`native ${name} refuses sizes past the end of its arrays with E_SHAPE`, (t) => {
    for (const args of calls) {
      const err = t.throws(() => addon[name]!(...args));
      t.is((err as { code?: string }).code, "E_SHAPE", `${name}(${args.map(shown).join(", ")}): ${err?.message}`);
    }
  });
}

for (const [name, calls] of Object.entries(BAD_CALLS)) {
  if (calls.length === 0) continue;
  test(`native ${name} refuses bad arguments with E_ARG`, (t) => {
    t.is(typeof addon[name], "function");
    for (const args of calls) {
      const err = t.throws(() => addon[name]!(...args), undefined, `${name}(${args.map(shown).join(", ")})`);
      t.is((err as { code?: string }).code, "E_ARG", `${name}(${args.map(shown).join(", ")}): ${err?.message}`);
    }
  });
}

test("every native export is covered by this test", (t) => {
  const exported = Object.keys(addon)
    .filter((k) => k !== "abiVersion")
    .sort();
  t.deepEqual(exported, Object.keys(BAD_CALLS).sort());
});

test("native calls without device or build fail cleanly, never crash", (t) => {
  const info = nativeAddon().info();
  if (info.cuda.devices === 0) {
    const err = t.throws(() => addon["cudaPhiloxFill"]!(new Float32Array(8), 1, 2, 3, 0));
    t.is((err as { code?: string }).code, "E_BACKEND");
    // Well-formed calls of every CUDA entry point: E_BACKEND with the reason, never a crash.
    const wellFormed: Array<[string, unknown[]]> = [
      ["cudaNadeUpload", nadeModel],
      ["cudaPixelRnnUpload", prnnModel],
      ["cudaGemm", gemmWith()],
      ["cudaAdamStep", [f32, f32, f32, f32, 1e-3, 0.9, 0.999, 1e-8, 0, 0.1, 0.001]],
      ["cudaActivationForward", [1, f32, new Float32Array(4), 0]],
      ["cudaClipGradNorm", [[f32], 1]],
      ["cudaConvBlockForward", cbForward()],
      ["cudaConvBlockBackward", cbBackward()],
      ["cudaBatchNormForwardEval", [...bn8.slice(0, 6), 2, 2, 1, 1e-5]],
    ];
    for (const [name, args] of wellFormed) {
      const e = t.throws(() => addon[name]!(...args), undefined, name);
      t.is((e as { code?: string }).code, "E_BACKEND", `${name}: ${e?.message}`);
      t.regex(e!.message, /CUDA|cuda/, name);
    }
    t.is(info.cuda.residentBytes, 0);
  } else {
    t.notThrows(() => addon["cudaPhiloxFill"]!(new Float32Array(8), 1, 2, 3, 0));
  }
});

test("a bad spec field is refused naming the function and the field", (t) => {
  const cases: Array<[string, unknown[], string, RegExp]> = [
    ["gemm", gemmWith({ m: -1 }), "E_ARG", /^gemm: argument 'spec\.m' must be an integer in \[0, /],
    ["gemm", gemmWith({ strideC: undefined }), "E_ARG", /^gemm: argument 'spec\.strideC' must be a number/],
    ["gemm", [null, f32, f32, f32], "E_ARG", /^gemm: argument 'spec' must be an object/],
    ["gemm", gemmWith({ m: 3 }), "E_SHAPE", /^gemm: a has 4 elements, the shapes need 6/],
    ["cudaGemm", gemmWith({ alpha: Infinity }), "E_ARG", /^cudaGemm: argument 'spec\.alpha' must be a finite number/],
    ["cudaGemm", gemmWith({ m: 3 }), "E_SHAPE", /^cudaGemm: a has 4 elements/],
    ["conv2dForward", [conv({ strideW: "1" }), f32, w1, null, y4], "E_ARG", /^conv2dForward: argument 'spec\.strideW' must be a number/],
    ["conv2dForward", [CONV, f32, w1, w1, new Float32Array(3)], "E_SHAPE", /^conv2dForward: y has 3 elements, expected 4/],
    [
      "convTranspose2dBackwardWeight",
      [convT({ kH: 0 }), f32, y4, w1, null, true],
      "E_ARG",
      /^convTranspose2dBackwardWeight: argument 'spec\.kH' must be an integer in \[1, /,
    ],
    ["conv2dMaskWeights", [{ ...MASK, mask: 3 }, w1], "E_ARG", /^conv2dMaskWeights: argument 'spec\.mask' must be an integer in \[0, 2\]/],
    [
      "convBlockForward",
      cbForward({ slope: -1 }),
      "E_ARG",
      /^convBlockForward: argument 'spec\.slope' must be a finite number in \[0, 1e\+30\]/,
    ],
    [
      "convBlockForward",
      cbForward({ eps: 1e-50 }),
      "E_ARG",
      /^convBlockForward: argument 'spec\.eps' must be a finite number in \(0, 1e\+30\] \(in float\)/,
    ],
    [
      "cudaConvBlockBackward",
      cbBackward({ transposed: "no" }),
      "E_ARG",
      /^cudaConvBlockBackward: argument 'spec\.transposed' must be a boolean/,
    ],
  ];
  for (const [name, args, code, message] of cases) {
    const err = t.throws(() => addon[name]!(...args), undefined, name) as { code?: string; message: string };
    t.is(err.code, code, `${name}: ${err.message}`);
    t.regex(err.message, message);
  }
});
