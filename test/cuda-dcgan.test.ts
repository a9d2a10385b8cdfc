/**
 * CudaDcganTrainer (lib/kernels/ops/dcgan.ts). Without a usable device: argument errors first,
 * then a clean E_BACKEND. With one: three device steps against the same steps composed in TS
 * from the networks and Adam on the native backend (the body of Gan.fit's training batch), the
 * parameters compared with the tolerance of test/native/cuda/test_cuda_dcgan.cc.
 */
import test from "ava";

import { getKernels } from "../lib/kernels/backend.js";
import { cudaStatus } from "../lib/kernels/cuda.js";
import { CudaDcganTrainer, type CudaDcganSpec, dcganTensorLayout } from "../lib/kernels/ops/dcgan.js";
import { Gan } from "../lib/models/gan.js";
import { Adam } from "../lib/nn/adam.js";
import type { Net } from "../lib/nn/conv-nets.js";
import { randomNormal, randomUniform } from "./helpers/numeric.js";

const status = cudaStatus();
const gpuTest = status.available ? test : test.skip;
const cpuOnlyTest = status.available ? test.skip : test;

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

const spec: CudaDcganSpec = { height: 8, width: 12, zdim: 5, channels: [6, 4], discChannels: [3, 5], discNorm: false };

function smallGan(): Gan {
  return Gan.create({ arch: "dcgan", dim: 96, height: 8, width: 12, zdim: 5, channels: [6, 4], discChannels: [3, 5], initSeed: 3 });
}

function buffers(net: Net): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(net.buffers?.() ?? {}).map(([k, b]) => [k, b.data]));
}

cpuOnlyTest("without a usable device CudaDcganTrainer refuses with E_BACKEND, after the argument checks", (t) => {
  const gan = smallGan();
  const state = { gen: gan.generator.params(), disc: gan.discriminator.params(), genBuffers: buffers(gan.generator) };
  t.is(
    code(() => CudaDcganTrainer.upload(spec, state)),
    "E_BACKEND",
  );
  t.is(
    code(() => CudaDcganTrainer.upload({ ...spec, height: 10 }, state)),
    "E_ARG",
  );
  t.is(
    code(() => CudaDcganTrainer.upload({ ...spec, discNorm: true }, state)),
    "E_BACKEND",
  );
  t.is(
    code(() => CudaDcganTrainer.upload({ ...spec, discStddev: true }, state)),
    "E_BACKEND",
  );
  const { ["disc.1.w"]: _, ...missing } = state.disc;
  t.is(
    code(() => CudaDcganTrainer.upload(spec, { ...state, disc: missing })),
    "E_FORMAT",
  );
  t.is(
    code(() => CudaDcganTrainer.upload(spec, { ...state, disc: { ...state.disc, "disc.1.w": new Float32Array(3) } })),
    "E_SHAPE",
  );
  t.is(
    code(() => CudaDcganTrainer.upload(spec, { ...state, genAdam: { m: state.gen, v: state.gen, step: -1 } })),
    "E_ARG",
  );
});

test("the TS tensor layout names the networks' own parameters and buffers, in order", (t) => {
  const gan = smallGan();
  const layout = dcganTensorLayout(spec);
  const sizes = (r: Record<string, Float32Array>) => Object.entries(r).map(([name, a]) => ({ name, size: a.length }));
  t.deepEqual(layout.gen, sizes(gan.generator.params()));
  t.deepEqual(layout.disc, sizes(gan.discriminator.params()));
  t.deepEqual(layout.genBuffers, sizes(buffers(gan.generator)));
});

// ---- with a GPU -----------------------------------------------------------------------------

/** One Gan.fit training batch (nonsaturating, one batch of 2m through D) on the native kernels. */
function nativeStep(gan: Gan, genAdam: Adam, discAdam: Adam, real: Float32Array, z: Float32Array, m: number): void {
  const k = getKernels("native");
  const D = 96;
  gan.generator.setTraining?.(true);
  gan.discriminator.setTraining?.(true);
  const fake = gan.generator.forward(k, z, m).slice();
  const xb = new Float32Array(2 * m * D);
  xb.set(real.subarray(0, m * D));
  xb.set(fake, m * D);
  const lab = new Float32Array(2 * m).fill(1, 0, m);
  const out = gan.discriminator.forward(k, xb, 2 * m);
  const dd = new Float32Array(2 * m);
  k.bceWithLogitsBackward(dd, out, lab, 2 * m, 1, 1 / (2 * m));
  gan.discriminator.backward(k, dd, 2 * m, false);
  discAdam.update(k, gan.discriminator.grads());
  const g = gan.generatorLossGradient(k, fake, m, "nonsaturating");
  gan.generator.backward(k, g.dfake, m, false);
  genAdam.update(k, gan.generator.grads());
}

gpuTest("three CudaDcganTrainer steps match the same steps on the native backend", (t) => {
  const gan = smallGan();
  const lr = 1e-3;
  const trainer = CudaDcganTrainer.upload(spec, {
    gen: gan.generator.params(),
    disc: gan.discriminator.params(),
    genBuffers: buffers(gan.generator),
  });
  const genAdam = new Adam(gan.generator.params(), { lr, beta1: 0.5 });
  const discAdam = new Adam(gan.discriminator.params(), { lr, beta1: 0.5 });
  const m = 6;
  try {
    for (let s = 1; s <= 3; s++) {
      const real = randomUniform(m * 96, 20 + s, -1, 1);
      const z = randomNormal(m * 5, 30 + s, 1);
      const r = trainer.step(real, z, m, { genLr: lr, discLr: lr });
      t.true(r.discUpdated && r.genUpdated);
      nativeStep(gan, genAdam, discAdam, real, z, m);
    }
    const gpu = {
      gen: structuredClone(gan.generator.params()),
      disc: structuredClone(gan.discriminator.params()),
      genBuffers: structuredClone(buffers(gan.generator)),
    };
    t.deepEqual(trainer.download(gpu), { genStep: 3, discStep: 3 });
    for (const [part, cpu] of [
      ["gen", gan.generator.params()],
      ["disc", gan.discriminator.params()],
      ["genBuffers", buffers(gan.generator)],
    ] as const) {
      let far = 0;
      let total = 0;
      for (const [name, c] of Object.entries(cpu)) {
        const g = gpu[part][name]!;
        for (let i = 0; i < c.length; i++) {
          const d = Math.abs(g[i]! - c[i]!);
          t.true(d <= 6 * lr * 3, `${name}[${i}]: ${g[i]} vs ${c[i]}`);
          far += d <= 1e-5 + 1e-4 * Math.abs(c[i]!) ? 0 : 1;
        }
        total += c.length;
      }
      t.true(far * 200 <= total, `${part}: ${far} of ${total} entries beyond 1e-5 + 1e-4 |cpu|`);
    }
  } finally {
    trainer.dispose();
  }
  t.is(
    code(() => trainer.generate(new Float32Array(5), 1)),
    "E_ARG",
  );
});
