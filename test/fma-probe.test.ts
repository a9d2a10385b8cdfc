import test from "ava";

import { FMA_PROBE_LANES } from "../lib/kernels/js/fma-probe.js";
import { fmaProbeSync } from "../lib/kernels/peak.js";

test("native FMA probe matches its JS twin to float rounding", (t) => {
  for (const [iters, chunks] of [
    [0, 1],
    [1, 1],
    [37, 3],
    [5000, 2],
  ] as const) {
    const native = fmaProbeSync(iters, chunks, "native");
    const js = fmaProbeSync(iters, chunks, "js");
    t.true(Math.abs(native - js) <= 1e-4 * Math.max(1, Math.abs(js)), `iters ${iters}: ${native} vs ${js}`);
  }
});

test("probe chains converge to the fixed point a / (1 - m) = 1", (t) => {
  t.true(Math.abs(fmaProbeSync(200_000, 2, "native") - 2 * FMA_PROBE_LANES) < 0.05);
});

test("probe rejects bad arguments", (t) => {
  t.is(t.throws(() => fmaProbeSync(-1, 1))?.name, "DeepgenError");
  t.is(t.throws(() => fmaProbeSync(1, 0))?.name, "DeepgenError");
});
