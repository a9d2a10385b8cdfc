/**
 * A model's prepared copy of its sampling network (generator or decoder), built on first use
 * per backend and dropped whenever the weights change. During fit the weights move every step,
 * so each sampling call inside fit's callbacks packs the current weights afresh (the same
 * arithmetic as after fit, so a hook sees exactly what the finished model gives); fit drops
 * the cache when it ends, and so do recalibrating batch norm and `weightsChanged()`.
 */
import type { Kernels } from "../kernels/kernels.js";
import { type PreparedNet, prepareNet } from "../kernels/ops/prepared-net.js";
import type { Net } from "../nn/conv-nets.js";

export class PreparedNetCache {
  private readonly nets = new Map<string, PreparedNet>();
  private training = 0;

  constructor(private readonly net: Net) {}

  /** The prepared network for these kernels; undefined on CUDA or for a network it cannot express. */
  get(k: Kernels): PreparedNet | undefined {
    if (k.backend === "cuda") return undefined;
    const cached = this.nets.get(k.backend);
    if (cached !== undefined) return cached;
    const layers = this.net.inferenceLayers?.();
    if (layers === undefined) return undefined;
    const prepared = prepareNet(k.backend, layers);
    if (this.training === 0) this.nets.set(k.backend, prepared);
    return prepared;
  }

  invalidate(): void {
    this.nets.clear();
  }

  /** Runs `work` (a fit) with nothing cached while it changes the weights. */
  async whileTraining<T>(work: () => Promise<T>): Promise<T> {
    this.training++;
    this.invalidate();
    try {
      return await work();
    } finally {
      this.training--;
      this.invalidate();
    }
  }
}
