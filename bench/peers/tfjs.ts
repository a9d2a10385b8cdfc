/**
 * @tensorflow/tfjs as a benchmark peer, on its pure-JS 'cpu' backend and its 'wasm' backend
 * (SIMD, one thread in Node). Loaded lazily: the peers are devDependencies.
 */
import type * as TF from "@tensorflow/tfjs";

import { timeMsAsync } from "../report.js";

export type TfBackend = "cpu" | "wasm";

let tfModule: typeof TF | undefined;

export async function tfjs(backend: TfBackend): Promise<typeof TF> {
  if (tfModule === undefined) {
    // tfjs prints a hint about tfjs-node on first use; it is not installable offline.
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      tfModule = await import("@tensorflow/tfjs");
      await import("@tensorflow/tfjs-backend-wasm");
    } finally {
      console.warn = warn;
    }
  }
  await tfModule.setBackend(backend);
  await tfModule.ready();
  return tfModule;
}

/** Median ms of fn (which must return a tensor, read back to force the work). */
export async function timeTf(tf: typeof TF, fn: () => TF.Tensor, repeats = 5): Promise<number> {
  const run = async (): Promise<void> => {
    const out = tf.tidy(fn);
    await out.data();
    out.dispose();
  };
  return timeMsAsync(run, repeats);
}
