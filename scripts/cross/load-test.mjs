// Load test of a prebuilt addon on a foreign architecture (run by scripts/cross-arm64.sh
// with an arm64 Node under qemu): node-gyp-build must find prebuilds/<platform>-<arch> in a
// folder that holds only the prebuild, the library (dist/) must load it, and its kernels
// must agree with their JS twins. Plain JS on the compiled dist/, so it needs neither tsx
// nor ava (both spawn helpers that a qemu-run Node cannot start without binfmt_misc).
//   node scripts/cross/load-test.mjs <folder with prebuilds/>
// Prints one line per check and a closing "N passed, N failed"; exits 1 on any failure.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(path.join(root, "package.json"));
const prebuildRoot = path.resolve(process.argv[2] ?? root);

let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${detail ? `: ${detail}` : ""}`);
}

// node-gyp-build picks the prebuild for this platform and arch (build/ is absent there).
let addonPath;
try {
  addonPath = require("node-gyp-build").path(prebuildRoot);
  check("node-gyp-build finds the prebuild", addonPath.includes(`${process.platform}-${process.arch}`), addonPath);
} catch (e) {
  check("node-gyp-build finds the prebuild", false, e.message);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}
process.env.DEEPGEN_ADDON_PATH = addonPath;

const { getKernels } = await import(path.join(root, "dist/kernels/backend.js"));
const { runtimeInfo } = await import(path.join(root, "dist/kernels/runtime-info.js"));

const info = runtimeInfo();
check("runtimeInfo: addon loaded", info.addon.loaded === true, info.addon.path ?? info.addon.reason);
check("runtimeInfo: arch", info.arch === process.arch, `${info.platform}-${info.arch}`);
if (!info.addon.loaded) {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(1);
}
console.log(`     cpu: ${JSON.stringify(info.cpu)}, threads ${info.threads}`);
if (process.arch === "arm64") {
  // No AVX paths; the GEMM micro-kernel is NEON, every other kernel the portable C++.
  check("runtimeInfo: arm64 kernel path", info.cpu.simdKernels === false && info.cpu.avx2 === false && info.cpu.simdPath === "neon");
}

const native = getKernels("native");
const js = getKernels("js");

// A small deterministic generator for inputs (not Philox: independent of the code under test).
function randomNormal(n, seed, scale = 1) {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(next())) * Math.cos(2 * Math.PI * next());
  return out;
}
function maxAbsDiff(a, b) {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// Philox draws: bit-identical on every path.
for (const dist of ["uniform", "normal"]) {
  const a = new Float32Array(10007);
  const b = new Float32Array(10007);
  native.philoxFill(a, 42, 3, dist);
  js.philoxFill(b, 42, 3, dist);
  check(`philoxFill ${dist} is bit-identical to JS`, maxAbsDiff(a, b) === 0);
}

// GEMM on the blocked, small and row-dot paths, all transposes, alpha/beta, padded strides.
{
  let worst = 0;
  let seed = 1;
  for (const [m, n, k] of [
    [3, 17, 33],
    [33, 65, 129],
    [100, 37, 300],
    [6, 16, 256],
    [2, 1100, 100],
  ]) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const lda = (transA ? m : k) + 2;
        const ldb = (transB ? k : n) + 1;
        const ldc = n + 3;
        const a = randomNormal((transA ? k : m) * lda, seed++);
        const b = randomNormal((transB ? n : k) * ldb, seed++);
        const c0 = randomNormal(m * ldc, seed++);
        const cn = c0.slice();
        const cj = c0.slice();
        const p = { m, n, k, transA, transB, lda, ldb, ldc, alpha: 0.75, beta: -0.5 };
        native.gemm({ ...p, a, b, c: cn });
        js.gemm({ ...p, a, b, c: cj });
        worst = Math.max(worst, maxAbsDiff(cn, cj) / Math.sqrt(k));
      }
    }
  }
  check("gemm matches JS (20 shapes x transposes)", worst < 1.2e-5, `max |diff| / sqrt(k) = ${worst.toExponential(2)}`);
}

// Elementwise activations through the vectorized math (exp, tanh, softplus, ...).
for (const kind of ["relu", "leakyRelu", "tanh", "sigmoid", "softplus"]) {
  const x = randomNormal(4099, 7, 4);
  const yn = new Float32Array(x.length);
  const yj = new Float32Array(x.length);
  native.activationForward(kind, x, yn, 0.2);
  js.activationForward(kind, x, yj, 0.2);
  const d = maxAbsDiff(yn, yj);
  check(`activationForward ${kind} matches JS`, d < 1e-5, `max |diff| = ${d.toExponential(2)}`);
}

// Convolution (im2col + GEMM), with padding and stride.
{
  const shape = { batch: 2, inChannels: 3, height: 11, width: 9, outChannels: 5, kernelH: 3, kernelW: 3, strideH: 2, strideW: 1, padH: 1, padW: 1 };
  const ho = Math.floor((11 + 2 - 3) / 2) + 1;
  const wo = 9;
  const x = randomNormal(2 * 3 * 11 * 9, 21);
  const w = randomNormal(5 * 3 * 9, 22, 0.3);
  const bias = randomNormal(5, 23);
  const yn = new Float32Array(2 * 5 * ho * wo);
  const yj = new Float32Array(yn.length);
  native.conv2dForward(shape, x, w, bias, yn);
  js.conv2dForward(shape, x, w, bias, yj);
  const d = maxAbsDiff(yn, yj);
  check("conv2dForward matches JS", d < 1e-4, `max |diff| = ${d.toExponential(2)}`);
}

// Adam: one step on the same state.
{
  const n = 1031;
  const p0 = randomNormal(n, 31);
  const g = randomNormal(n, 32);
  const m0 = randomNormal(n, 33, 0.1);
  const v0 = randomNormal(n, 34, 0.1).map(Math.abs);
  const s = { p: p0.slice(), m: m0.slice(), v: v0.slice() };
  const t = { p: p0.slice(), m: m0.slice(), v: v0.slice() };
  const opts = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, step: 3, weightDecay: 0.01 };
  native.adamStep(s.p, g, s.m, s.v, opts);
  js.adamStep(t.p, g, t.m, t.v, opts);
  const d = Math.max(maxAbsDiff(s.p, t.p), maxAbsDiff(s.m, t.m), maxAbsDiff(s.v, t.v));
  check("adamStep matches JS", d < 1e-6, `max |diff| = ${d.toExponential(2)}`);
}

// NADE: the fused log-likelihood and sampling kernels. The same seed draws the same samples
// as the JS path (a draw can flip only where a probability rounds across its uniform).
{
  const d = 200;
  const h = 40;
  const order = new Int32Array(d);
  for (let i = 0; i < d; i++) order[i] = d - 1 - i;
  const model = { d, h, wt: randomNormal(d * h, 41), c: randomNormal(h, 42), v: randomNormal(d * h, 43), b: randomNormal(d, 44), order };
  const n = 40;
  const xn = new Float32Array(n * d);
  const xj = new Float32Array(n * d);
  native.nadeSample(model, { n, seed: 1234 }, xn);
  js.nadeSample(model, { n, seed: 1234 }, xj);
  let identical = 0;
  for (let i = 0; i < n; i++) if (maxAbsDiff(xn.subarray(i * d, (i + 1) * d), xj.subarray(i * d, (i + 1) * d)) === 0) identical++;
  check("nadeSample: same seed, same samples as JS", identical >= 0.99 * n, `${identical}/${n} identical`);
  const ln = new Float32Array(n);
  const lj = new Float32Array(n);
  native.nadeLogProb(model, xn, n, ln);
  js.nadeLogProb(model, xn, n, lj);
  let rel = 0;
  for (let i = 0; i < n; i++) rel = Math.max(rel, Math.abs(ln[i] - lj[i]) / Math.max(1, Math.abs(lj[i])));
  check("nadeLogProb matches JS", rel < 1e-5, `max rel diff = ${rel.toExponential(2)}`);
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
