/**
 * NADE's exact log-likelihood as one ONNX graph, x [N, D] -> logp [N] (nats), with the
 * cumulative-sum formulation instead of NADE's sequential loop. With o = ordering and x_o the
 * binarized input in model order (x > 0.5, as the kernels read it):
 *
 *   A[n, d, :] = c + sum_{d' < d} x_o[n, d'] W_o[d', :]      = c + CumSum_exclusive(x_o (.) W_o, axis 1)
 *   l[n, d]    = b_o[d] + V_o[d, :] . sigmoid(A[n, d, :])
 *   log p(x_n) = sum_d log Bern(x_o[n, d]; sigmoid(l)) = -sum_d softplus(-(2 x_o - 1) l)
 *
 * where W_o, V_o, b_o are the kernel arrays' rows in model order (W_o[d] = W^T[o_d]). softplus is
 * the stable max(t, 0) + log(1 + exp(-|t|)). The graph holds [N, D, H] intermediates (4 N D H
 * bytes: 100 MB for a batch of 64 at D = 784, H = 500): feed it moderate batches.
 */
import { packageVersion } from "../core/package-root.js";
import type { Nade } from "../models/nade.js";
import type { RunInfo } from "./export-vae.js";
import { GraphBuilder } from "./graph-builder.js";
import { onnx } from "./proto.js";
import { onnxMetadata } from "./metadata.js";

/** Rows of a [D, H] array in model order. */
function ordered(a: Float32Array, order: Int32Array, d: number, h: number): Float32Array {
  const out = new Float32Array(d * h);
  for (let i = 0; i < d; i++) out.set(a.subarray(order[i]! * h, (order[i]! + 1) * h), i * h);
  return out;
}

export function exportNadeLogProb(model: Nade, run: RunInfo = {}): Uint8Array {
  const { d: D, h: H, wt, c, v, b, order } = model.arrays;
  const g = new GraphBuilder("nade-logprob");
  const x = g.input("x", ["N", D]);
  const xb = g.node("Cast", [g.node("Greater", [x, g.scalar("half", 0.5)])], { to: onnx.TensorProto.DataType.FLOAT });
  const xo = g.node("Gather", [xb, g.int64s("order", Array.from(order))], { axis: 1 });
  const contrib = g.node("Mul", [g.unsqueeze(xo, [2]), g.weight("W_ordered", ordered(wt, order, D, H), [D, H])]);
  const a = g.node("Add", [g.node("CumSum", [contrib, g.int64Scalar("axis", 1)], { exclusive: 1 }), g.weight("c", c, [H])]);
  const hs = g.sigmoid(a);
  const bo = Float32Array.from(order, (o) => b[o]!);
  const logits = g.node("Add", [
    g.reduceSum(g.node("Mul", [hs, g.weight("V_ordered", ordered(v, order, D, H), [D, H])]), [2], false),
    g.weight("b_ordered", bo, [D]),
  ]);
  const sign = g.node("Sub", [g.node("Mul", [xo, g.scalar("two", 2)]), g.scalar("one", 1)]);
  const nll = g.softplus(g.node("Neg", [g.node("Mul", [sign, logits])]));
  g.output(g.node("Neg", [g.reduceSum(nll, [1], false)], {}, "logp"), ["N"]);
  return g.toBytes(onnxMetadata({ model: "nade", graph: "density", config: model.config, ...run }), packageVersion);
}
