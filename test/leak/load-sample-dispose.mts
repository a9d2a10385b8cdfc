/**
 * A load / sample / log-probability / dispose loop over every shipped model kind, run under
 * LeakSanitizer (scripts/sanitize.sh): native memory the calls allocate must come back, whatever
 * path the work took (sync, async, sampler kernels). Models with a dispose() (those that can
 * hold device memory) are disposed; the others hold only JS arrays and are collected.
 */
import { loadSampler } from "../../lib/models/registry.js";

const KINDS = ["nade", "rnade", "rowlstm", "diagbilstm", "vae", "aae", "dcgan", "dcgan-conditional"];
const ROUNDS = Number(process.env["DEEPGEN_LEAK_ROUNDS"] ?? 3);

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

// The rounds run in their own function: a suspended top-level frame could keep the last
// model alive in a stale register, and with it a native handle that only a collection frees.
async function rounds(): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of KINDS) {
      const model = await loadSampler(kind);
      const drawn = await model.sample(2, { seed: round });
      // Inside every model's input domain: RNADE's real-valued draws clamped to [0, 1), the others' as drawn.
      const x = kind === "rnade" ? drawn.x.map((v) => Math.min(Math.max(v, 0), 0.999)) : drawn.x;
      if ("logProb" in model && typeof model.logProb === "function") await model.logProb(x);
      (model as { dispose?: () => void }).dispose?.();
    }
    // Collected models release their native memory too, not only disposed ones.
    gc();
  }
}

await rounds();
// Node runs the finalizers of native handles (the prepared networks' packed weights) after a
// collection, from the event loop: give them a few turns before exit, so that what is still
// held then is a leak, not a finalizer that had no turn.
for (let i = 0; i < 3; i++) {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 20));
}
console.log(`${ROUNDS} rounds over ${KINDS.length} model kinds`);
