/**
 * Every export of the native addon called with random arguments: numbers (NaN, infinities,
 * huge, negative, fractional), typed arrays of random kinds and lengths, spec objects with
 * random fields, strings, null, functions, in random numbers. Each call must return, or throw
 * (or reject with) an error carrying a stable E_* code: the argument readers are the last line
 * that keeps a bad call from reading out of bounds. scripts/sanitize.sh runs this under ASan.
 *
 * `DEEPGEN_FUZZ_RUNS=1000000 npx ava --timeout=3h test/fuzz-native-args.test.ts` is the long run.
 */
import test from "ava";
import fc from "fast-check";

import { nativeAddon } from "../lib/kernels/native.js";

const RUNS = Number(process.env["DEEPGEN_FUZZ_RUNS"] ?? 3000);
/** An async call that has not settled after this long is a hang. */
const HANG_MS = 10_000;
/** Left out: the FMA probe's iteration count is the work itself (any count is valid). */
const SKIP = new Set(["abiVersion", "fmaProbe", "fmaProbeAsync"]);

const FIELDS = [
  "m",
  "n",
  "k",
  "lda",
  "ldb",
  "ldc",
  "alpha",
  "beta",
  "transA",
  "transB",
  "batch",
  "strideA",
  "strideB",
  "strideC",
  "inChannels",
  "outChannels",
  "height",
  "width",
  "kernelH",
  "kernelW",
  "strideH",
  "strideW",
  "padH",
  "padW",
  "outputPadH",
  "outputPadW",
  "mask",
  "transposed",
  "norm",
  "activation",
  "slope",
  "eps",
  "momentum",
  "outH",
  "outW",
  "seed",
  "stream",
  "rows",
  "cols",
  "hidden",
  "layers",
  "kind",
  "dim",
  "zdim",
  "channels",
];

const numbers = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: -2, max: 24 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1e300,
      2 ** 53,
      -0,
      0.5,
      2 ** 31,
      2 ** 40,
      -(2 ** 31),
    ),
  },
);
const arrays = fc.oneof(
  fc.integer({ min: 0, max: 96 }).map((n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 2)),
  fc.integer({ min: 0, max: 16 }).map((n) => Int32Array.from({ length: n }, (_, i) => (i * 7) % 5)),
  fc.integer({ min: 0, max: 16 }).map((n) => new Float64Array(n)),
  fc.integer({ min: 0, max: 16 }).map((n) => new Uint8Array(n)),
);
const specs = fc.dictionary(
  fc.constantFrom(...FIELDS),
  fc.oneof(numbers, fc.boolean(), fc.constantFrom("relu", "tanh", "batch", "none", "A")),
  { maxKeys: 14 },
);
const values = fc.oneof(
  { weight: 4, arbitrary: numbers },
  { weight: 4, arbitrary: arrays },
  { weight: 2, arbitrary: specs },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, undefined, true, false, "uniform", "normal", "relu", "x", [], () => undefined) },
);

function isCoded(e: unknown): boolean {
  return typeof e === "object" && e !== null && /^E_[A-Z]+$/.test(String((e as { code?: unknown }).code));
}

test("every native export returns, or throws / rejects with a coded error, on random arguments", async (t) => {
  const addon = nativeAddon() as unknown as Record<string, unknown>;
  const names = Object.keys(addon).filter((name) => typeof addon[name] === "function" && !SKIP.has(name));
  t.true(names.length > 50, `${names.length} exports`);
  const threads = (addon["threadLimit"] as () => number)();
  let calls = 0;
  let refused = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), fc.array(values, { maxLength: 14 }), async (name, args) => {
        calls++;
        let result: unknown;
        try {
          result = (addon[name] as (...a: unknown[]) => unknown)(...args);
        } catch (e) {
          if (!isCoded(e)) throw new Error(`${name}: threw without a code: ${String(e)}`);
          refused++;
          return;
        }
        if (result instanceof Promise) {
          let timer: NodeJS.Timeout | undefined;
          const hang = new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`${name}: still running after ${HANG_MS} ms`)), HANG_MS);
          });
          try {
            await Promise.race([result, hang]);
          } catch (e) {
            if (!isCoded(e)) throw new Error(`${name}: rejected without a code: ${String(e)}`);
            refused++;
          } finally {
            clearTimeout(timer);
          }
        }
      }),
      { numRuns: RUNS },
    );
  } finally {
    (addon["setThreadLimit"] as (n: number) => void)(threads);
  }
  t.log(`${calls} calls over ${names.length} exports, ${refused} refused with a code`);
});
