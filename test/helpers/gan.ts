/** Shared checks of GAN training runs. */
import type { ExecutionContext } from "ava";

import type { Gan, GanFitOptions, GanFitResult } from "../../lib/models/gan.js";

/**
 * Trains one make() for opts.epochs straight and another for one epoch into `ckpt`, then
 * resumed from it to opts.epochs: a resume is exact when the two end equal (sameGan).
 */
export async function straightAndResumed(
  make: () => Gan,
  x: Float32Array,
  opts: GanFitOptions,
  ckpt: string,
): Promise<{ straight: Gan; resumed: Gan; result: GanFitResult }> {
  const straight = make();
  const result = await straight.fit(x, opts);
  await make().fit(x, { ...opts, epochs: 1, checkpointPath: ckpt });
  const resumed = make();
  await resumed.fit(x, { ...opts, resumeFrom: ckpt });
  return { straight, resumed, result };
}

/** The two GANs have the same discriminator parameters and draw the same samples. */
export function sameGan(t: ExecutionContext, a: Gan, b: Gan): void {
  for (const [name, p] of Object.entries(a.discriminator.params()))
    t.deepEqual(Array.from(b.discriminator.params()[name]!), Array.from(p), name);
  t.deepEqual(b.generateSamples(4, { seed: 1 }), a.generateSamples(4, { seed: 1 }));
}
