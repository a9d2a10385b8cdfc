/**
 * DCGAN-shaped convolution layers at batch 64, forward: native (1 and 2 threads) against
 * onnxruntime-node Conv/ConvTranspose graphs with the same shapes and threads, the JS twin,
 * and tfjs conv2d / conv2dTranspose (cpu on the small layers, wasm on all; NHWC, same sizes).
 */
import { getKernels } from "../lib/kernels/backend.js";
import { getThreads, setThreads } from "../lib/kernels/threads.js";
import { randomNormal } from "../test/helpers/numeric.js";
import { oneNodeModel, ortSession, ortTensor, timeOrt } from "./peers/onnx.js";
import { tfjs, timeTf } from "./peers/tfjs.js";
import { type Report, timeMs } from "./report.js";

interface Layer {
  name: string;
  transposed: boolean;
  cin: number;
  cout: number;
  h: number; // input size (square)
  out: number; // output size
}

const BATCH = 64;
const LAYERS: Layer[] = [
  { name: "dcgan-g-convT-128x7-64x14", transposed: true, cin: 128, cout: 64, h: 7, out: 14 },
  { name: "dcgan-g-convT-64x14-1x28", transposed: true, cin: 64, cout: 1, h: 14, out: 28 },
  { name: "dcgan-d-conv-1x28-64x14", transposed: false, cin: 1, cout: 64, h: 28, out: 14 },
  { name: "dcgan-d-conv-64x14-128x7", transposed: false, cin: 64, cout: 128, h: 14, out: 7 },
];

export async function runConv(report: Report): Promise<void> {
  const maxThreads = getThreads();
  const threadCounts = [...new Set([1, Math.min(2, maxThreads)])];
  for (const L of LAYERS) {
    const x = randomNormal(BATCH * L.cin * L.h * L.h, 1);
    const wShape = L.transposed ? [L.cin, L.cout, 4, 4] : [L.cout, L.cin, 4, 4];
    const w = randomNormal(
      wShape.reduce((a, b) => a * b, 1),
      2,
      0.05,
    );
    const bias = randomNormal(L.cout, 3, 0.1);
    const y = new Float32Array(BATCH * L.cout * L.out * L.out);
    const shape = {
      batch: BATCH,
      inChannels: L.cin,
      height: L.h,
      width: L.h,
      outChannels: L.cout,
      kernelH: 4,
      kernelW: 4,
      strideH: 2,
      strideW: 2,
      padH: 1,
      padW: 1,
    };
    const run = (backend: "native" | "js") => () =>
      L.transposed
        ? getKernels(backend).convTranspose2dForward(shape, x, w, bias, y)
        : getKernels(backend).conv2dForward(shape, x, w, bias, y);
    const model = oneNodeModel(
      L.transposed ? "ConvTranspose" : "Conv",
      [{ name: "X", dims: [BATCH, L.cin, L.h, L.h] }],
      [
        { name: "W", dims: wShape, data: w },
        { name: "B", dims: [L.cout], data: bias },
      ],
      { name: "Y", dims: [BATCH, L.cout, L.out, L.out] },
      { kernel_shape: [4, 4], strides: [2, 2], pads: [1, 1, 1, 1] },
    );
    for (const t of threadCounts) {
      setThreads(t);
      const ms = timeMs(run("native"), 11, 2);
      report.add({ suite: "kernels", case: `${L.name}-b64-t${t}`, backend: "native", value: ms, unit: "ms" });
      const session = await ortSession(model, t);
      const ortMs = await timeOrt(session, { X: ortTensor(x, [BATCH, L.cin, L.h, L.h]) }, 11);
      report.add({ suite: "kernels", case: `${L.name}-b64-t${t}`, backend: "onnxruntime", value: ortMs, unit: "ms" });
    }
    setThreads(maxThreads);
    report.add({ suite: "kernels", case: `${L.name}-b64-t1`, backend: "js", value: timeMs(run("js"), 1, 0), unit: "ms" });
    for (const backend of ["cpu", "wasm"] as const) {
      if (backend === "cpu" && L.cin * L.cout > 1024) continue; // minutes per call
      const tf = await tfjs(backend);
      const tx = tf.randomNormal([BATCH, L.h, L.h, L.cin]);
      const ms = L.transposed
        ? await timeTf(
            tf,
            () =>
              tf.conv2dTranspose(tx as never, tf.randomNormal([4, 4, L.cout, L.cin]) as never, [BATCH, L.out, L.out, L.cout], 2, "same"),
            3,
          )
        : await timeTf(tf, () => tf.conv2d(tx as never, tf.randomNormal([4, 4, L.cin, L.cout]) as never, 2, "same"), 3);
      tx.dispose();
      report.add({ suite: "kernels", case: `${L.name}-b64-t1`, backend: `tfjs-${backend}`, value: ms, unit: "ms" });
    }
  }
}
