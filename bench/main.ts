/**
 * Benchmarks: `npm run bench -- [suite...] [--json]`. Without suites, runs all. Prints JSON
 * lines `{suite, case, backend, value, unit}` with --json, else a markdown table (stdout)
 * with progress on stderr. Speed is measured here, never asserted in tests.
 */
import { runtimeInfo } from "../lib/kernels/runtime-info.js";
import { runConv } from "./conv.js";
import { runConvBlock } from "./convblock.js";
import { runCore } from "./core.js";
import { runCuda } from "./cuda.js";
import { runGan } from "./gan.js";
import { runGanDiag } from "./gan-diag.js";
import { runGemm } from "./gemm.js";
import { runNade } from "./nade.js";
import { runOnnx } from "./onnx.js";
import { runQuality } from "./quality.js";
import { runPixelRnn } from "./pixelrnn.js";
import { Report } from "./report.js";
import { runServe } from "./serve.js";
import { runText2Image } from "./text2image.js";
import { runVae } from "./vae.js";

const SUITES: Record<string, (r: Report) => void | Promise<void>> = {
  core: runCore,
  kernels: async (r) => {
    await runGemm(r);
    await runConv(r);
  },
  convblock: runConvBlock,
  nade: runNade,
  "gan-diag": runGanDiag,
  pixelrnn: runPixelRnn,
  vae: runVae,
  gan: runGan,
  onnx: runOnnx,
  quality: runQuality,
  cuda: runCuda,
  serve: runServe,
  text2image: runText2Image,
  train: async (r) => (await import("./train.js")).runTrain(r),
};

/** Suites that run only when named: they take minutes and start servers. */
const ON_REQUEST = new Set(["serve"]);

const args = process.argv.slice(2);
const json = args.includes("--json");
const names = args.filter((a) => !a.startsWith("--"));
const unknown = names.filter((n) => !(n in SUITES));
if (unknown.length > 0) {
  process.stderr.write(`unknown suite(s): ${unknown.join(", ")}; available: ${Object.keys(SUITES).join(", ")}\n`);
  process.exit(2);
}
const report = new Report(json);
const info = runtimeInfo();
process.stderr.write(
  `deepgen ${info.version}, node ${info.node}, ${info.platform}-${info.arch}, threads ${info.threads ?? "?"}, avx2 ${info.cpu?.avx2}, fma ${info.cpu?.fma}\n`,
);
for (const name of names.length > 0 ? names : Object.keys(SUITES).filter((s) => !ON_REQUEST.has(s))) {
  process.stderr.write(`suite ${name}\n`);
  await SUITES[name]!(report);
}
if (!json) process.stdout.write(`${report.markdown("native")}\n`);
