import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

import test from "ava";

import { nativeAddon } from "../lib/kernels/native.js";
import { kernelDigest } from "./helpers/kernel-digest.js";

// The AVX-512 kernels keep each element's arithmetic of the AVX2 ones (the same FMA chain per
// lane): they may change speed and nothing else. On a CPU without AVX-512 both sides run AVX2.
test("the AVX-512 and AVX2 paths give the same gemm, NADE and convolution results bit for bit", (t) => {
  const script = fileURLToPath(new URL("./helpers/kernel-digest.ts", import.meta.url));
  const avx2 = spawnSync(process.execPath, ["--import=tsx", script], {
    encoding: "utf8",
    env: { ...process.env, DEEPGEN_NO_AVX512: "1" },
  });
  t.is(avx2.status, 0, avx2.stderr);
  t.log(`this process runs the ${nativeAddon().info().cpu.simdPath} kernels`);
  t.is(kernelDigest(), avx2.stdout.trim());
});
