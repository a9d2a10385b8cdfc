/**
 * Test-set likelihood of any density model, reported the same way by `deepgen eval`, the
 * training model cards and the benchmarks: exact NLL for binary models; for continuous
 * models on dequantized data, the NLL bound of the bytes, -log p(x) + D log 256.
 */
import { discreteNllNats } from "../data/dequantize.js";
import type { DensityModel, InputCallOptions } from "./density.js";
import { meanNll } from "./nade.js";

export interface LikelihoodReport {
  test_nll_nats: number;
  bits_per_dim: number;
  /** Continuous models only: mean log-density of the dequantized test vectors. */
  test_log_density_nats?: number;
  dequantization?: string;
}

export async function testLikelihood(
  model: DensityModel,
  x: Float32Array,
  continuous: boolean,
  opts: InputCallOptions = {},
): Promise<LikelihoodReport> {
  const meanLogLik = -meanNll(await model.logProb(x, opts));
  if (!continuous) return { test_nll_nats: -meanLogLik, bits_per_dim: -meanLogLik / Math.LN2 / model.dim };
  const nll = discreteNllNats(meanLogLik, model.dim);
  return {
    test_nll_nats: nll,
    bits_per_dim: nll / Math.LN2 / model.dim,
    test_log_density_nats: meanLogLik,
    dequantization: "nll = -log p(x) + D log 256 on x = (byte + u) / 256: an upper bound on the NLL of the bytes",
  };
}
