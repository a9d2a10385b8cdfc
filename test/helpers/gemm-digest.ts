/**
 * Prints the SHA-256 of native gemm products over training-like shapes and every transpose,
 * so that a test can compare kernel paths chosen by environment (DEEPGEN_NO_AVX512) bit for bit.
 */
import { createHash } from "node:crypto";

import { getKernels } from "../../lib/kernels/backend.js";
import { randomNormal } from "./numeric.js";

export function gemmDigest(): string {
  const native = getKernels("native");
  const hash = createHash("sha256");
  let seed = 100;
  for (const [m, n, k] of [
    [100, 500, 784],
    [7, 96, 50],
    [64, 200, 1030],
    [13, 33, 9],
  ] as const) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const a = randomNormal(m * k, seed++);
        const b = randomNormal(k * n, seed++);
        const c = randomNormal(m * n, seed++);
        native.gemm({ a, b, c, m, n, k, transA, transB, alpha: 0.5, beta: 1.25 });
        hash.update(Buffer.from(c.buffer, c.byteOffset, c.byteLength));
      }
    }
  }
  return hash.digest("hex");
}

if (process.argv[1]?.endsWith("gemm-digest.ts")) process.stdout.write(`${gemmDigest()}\n`);
