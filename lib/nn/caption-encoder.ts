/**
 * A caption encoder learned from token ids: the summed position-token embeddings
 * (lib/nn/token-embedding.ts), a LeakyReLU(0.2), and a dense layer:
 *
 *   e(t) = W lrelu(b0 + sum_i T[i, t_i]) + b          t [n, L] ids, e [n, E]
 *
 * The nonlinearity is what lets words interact. A discriminator that scores a caption as
 * v(x) . e(t) with e linear in the tokens scores the sum of one term per word, and such a
 * sum cannot tell "3 on the left of 5" from "3 on the right of 5" on the same image while
 * also telling "5 on the right of 3" from "5 on the left of 3": the word "left" would have to
 * score both higher and lower. With the hidden layer the words combine before the score.
 *
 * Parameters: `${name}.table`, `${name}.b` (the embedding) and `${name}.out.0.w` / `.b`.
 */
import type { Kernels } from "../kernels/kernels.js";
import { Mlp } from "./dense.js";
import { TokenEmbedding } from "./token-embedding.js";

export const CAPTION_LEAKY_SLOPE = 0.2;

export class CaptionEncoder {
  readonly embedding: TokenEmbedding;
  readonly out: Mlp;
  private pre: Float32Array = new Float32Array(0);

  constructor(
    readonly name: string,
    length: number,
    vocabulary: number,
    readonly hidden: number,
    readonly dim: number,
    init: { seed: number; stream: number },
  ) {
    this.embedding = new TokenEmbedding(name, length, vocabulary, hidden, init);
    this.out = new Mlp(
      `${name}.out`,
      { sizes: [hidden, dim], hidden: "identity", output: "identity" },
      { seed: init.seed, stream: init.stream + 1 },
    );
  }

  /** e [n, E] of token ids [n, L]; the activations are kept for backward. */
  forward(k: Kernels, ids: Int32Array): Float32Array {
    const pre = this.embedding.forward(ids);
    this.pre = pre;
    const h = new Float32Array(pre.length);
    for (let i = 0; i < pre.length; i++) h[i] = pre[i]! > 0 ? pre[i]! : CAPTION_LEAKY_SLOPE * pre[i]!;
    return this.out.forward(k, h, pre.length / this.hidden).slice();
  }

  /** Sets the gradients from de [n, E] for the ids of the last forward. */
  backward(k: Kernels, ids: Int32Array, de: Float32Array): void {
    const n = this.pre.length / this.hidden;
    const dh = this.out.backward(k, de, n, true)!;
    const dpre = new Float32Array(dh.length);
    for (let i = 0; i < dh.length; i++) dpre[i] = this.pre[i]! > 0 ? dh[i]! : CAPTION_LEAKY_SLOPE * dh[i]!;
    this.embedding.backward(ids, dpre);
  }

  params(): Record<string, Float32Array> {
    return { ...this.embedding.params(), ...this.out.params() };
  }

  grads(): Record<string, Float32Array> {
    return { ...this.embedding.grads(), ...this.out.grads() };
  }

  shapes(): Record<string, number[]> {
    return { ...this.embedding.shapes(), ...this.out.shapes() };
  }

  paramCount(): number {
    return this.embedding.paramCount() + this.out.paramCount();
  }
}
