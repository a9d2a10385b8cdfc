/** deepgen eval MODEL: exact test NLL (nats per image, bits per dimension) and parameter count. */
import type { Command } from "commander";

import type { BackendName } from "../kernels/kernels.js";
import { fullJointParamCount } from "../models/baselines.js";
import { testLikelihood } from "../models/evaluate.js";
import { loadModel } from "../models/registry.js";
import { type DataOptions, dataKindOf, loadData } from "./common.js";
import { printJson } from "./output.js";

interface EvalOptions extends DataOptions {
  backend?: BackendName;
  json?: boolean;
}

export function registerEval(program: Command, run: (json: boolean, fn: () => Promise<void>) => Promise<void>): void {
  program
    .command("eval")
    .description("test-set NLL of a model file (or a shipped model name, e.g. nade)")
    .argument("<model>", "model file or shipped model name")
    .option("--backend <name>", "native, js or cuda")
    .option("--idx-images <path>", "evaluate on an IDX images file instead of the canonical test split")
    .option("--idx-labels <path>", "IDX labels file for --idx-images")
    .option("--json", "print one JSON object")
    .action((modelArg: string, opts: EvalOptions) =>
      run(Boolean(opts.json), async () => {
        const model = await loadModel(modelArg, { backend: opts.backend });
        const kind = dataKindOf(model.kind);
        const data = loadData(opts, kind);
        const t0 = performance.now();
        const likelihood = await testLikelihood(model, data.test.x, kind === "dequantized", { backend: opts.backend });
        const seconds = (performance.now() - t0) / 1000;
        const result = {
          model: model.kind,
          ...likelihood,
          param_count: model.paramCount(),
          full_joint_param_count: fullJointParamCount(model.dim).toString(),
          test_size: data.test.n,
          data: data.source,
          seconds,
        };
        if (opts.json) printJson(result);
        else process.stdout.write(`${model.kind}: test NLL ${likelihood.test_nll_nats.toFixed(2)} nats (${likelihood.bits_per_dim.toFixed(4)} bits/dim) on ${data.test.n} images, ${result.param_count} parameters\n`);
      }),
    );
}
