import type { Command } from "commander";

import { modelsPackageInfo } from "../core/models-package.js";
import { runtimeInfo } from "../kernels/runtime-info.js";
import { onnxRuntimeVersion } from "../onnx/runtime.js";
import { measureFmaPeak, type PeakResult } from "../kernels/peak.js";
import { fullJointParamCount } from "../models/baselines.js";
import { intOption } from "./common.js";
import { printJson } from "./output.js";

interface InfoOptions {
  json?: boolean;
  peak?: boolean;
  params?: number;
}

/** Parameter counts of the model families over D binary pixels (NADE with H = 500). */
function paramCounts(d: number): Record<string, string> {
  const h = 500;
  return {
    bernoulli: String(d),
    markov: String(2 * d - 1),
    [`nade_h${h}`]: String(2 * d * h + d + h),
    full_joint: fullJointParamCount(d).toString(),
  };
}

function yesNo(b: boolean | undefined): string {
  return b ? "yes" : "no";
}

export function registerInfo(program: Command, run: (json: boolean, fn: () => Promise<void> | void) => Promise<void>): void {
  program
    .command("info")
    .description("version, backends, CPU features, threads and CUDA devices")
    .option("--json", "print one JSON object")
    .option("--peak", "also measure this machine's FMA peak (GFLOP/s, about a second)")
    .option("--params <D>", "parameter counts of the model families over D binary pixels", intOption("--params", 1))
    .action((opts: InfoOptions) =>
      run(Boolean(opts.json), () => {
        const info = runtimeInfo();
        const peak: PeakResult | undefined = opts.peak && info.addon.loaded ? measureFmaPeak() : undefined;
        const params = opts.params === undefined ? undefined : paramCounts(opts.params);
        const ortVersion = onnxRuntimeVersion();
        const onnxruntime = { installed: ortVersion !== undefined, version: ortVersion ?? null };
        const models = modelsPackageInfo();
        if (opts.json) {
          printJson({
            ...info,
            onnxruntime,
            models_package: models,
            ...(peak ? { peak } : {}),
            ...(params ? { param_counts: params } : {}),
          });
          return;
        }
        const lines = [
          `deepgen ${info.version} (node ${info.node}, ${info.platform}-${info.arch})`,
          `default backend: ${info.defaultBackend}`,
          `native addon: ${info.addon.loaded ? `${info.addon.path}${info.addon.prebuilt ? " (prebuilt)" : ""}` : `not loaded: ${info.addon.reason}`}`,
          `backends: native ${info.backends.native.available ? "yes" : "no"}, js yes, cuda ${info.backends.cuda.available ? `yes (${info.backends.cuda.devices} devices)` : "no"}`,
        ];
        if (info.cpu) {
          lines.push(
            `cpu: avx2 ${yesNo(info.cpu.avx2)}, fma ${yesNo(info.cpu.fma)}, avx512f ${yesNo(info.cpu.avx512f)}; kernels: ${info.cpu.simdPath}`,
            `threads: ${info.threads}`,
          );
        }
        if (info.cuda) {
          lines.push(
            `cuda: built ${yesNo(info.cuda.built)}, ${info.cuda.devices} devices${info.cuda.reason ? ` (${info.cuda.reason})` : ""}`,
          );
          for (const d of info.cuda.deviceList) {
            const gib = (bytes: number | undefined): string => ((bytes ?? 0) / 2 ** 30).toFixed(1);
            lines.push(
              `  ${d.name ?? "?"} sm_${(d.computeCapability ?? "?").replace(".", "")}, ${gib(d.totalMemory)} GiB, ${gib(d.freeMemory)} GiB free`,
            );
          }
          if (info.cuda.devices > 0) lines.push(`  held by deepgen models: ${((info.cuda.residentBytes ?? 0) / 2 ** 20).toFixed(1)} MiB`);
        }
        lines.push(`onnxruntime-node (runs ONNX models): ${ortVersion ?? "not installed (npm install onnxruntime-node)"}`);
        lines.push(
          `shipped models and MNIST: ${models.installed ? `${models.name} ${models.version} (${models.path})` : `not installed (npm install ${models.name})`}`,
        );
        if (peak) lines.push(`peak: ${peak.gflops.toFixed(1)} GFLOP/s fp32 FMA (${peak.simd}) on ${peak.threads} threads`);
        if (params) {
          lines.push(`parameters over D = ${opts.params} binary pixels:`);
          for (const [k, v] of Object.entries(params)) lines.push(`  ${k}: ${v}`);
        }
        process.stdout.write(`${lines.join("\n")}\n`);
      }),
    );
}
