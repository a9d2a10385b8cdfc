/**
 * A caption encoder learned from token ids: one embedding per (position, token), summed over
 * the caption's positions, plus a bias:
 *
 *   e(t) = b + sum_i T[i, t_i]        t [n, L] token ids in 0..V-1, e [n, E]
 *
 * It is a linear layer over the one-hot tokens of each position, so word order is seen
 * (position i's words have their own rows) and a caption's embedding is the sum of its
 * words-in-place: a digit seen in some templates and a template seen with other digits add
 * up to the embedding of a caption never seen whole, the compositional case the held-out
 * captions of MNIST-Captions-60 test. Padding (id 0) is a token like any other.
 *
 * Parameters: `${name}.table` [L * V, E] (row i * V + v), `${name}.b` [E].
 */
import { DeepgenError } from "../core/errors.js";
import { uniformInit } from "./init.js";

export class TokenEmbedding {
  readonly table: Float32Array;
  readonly b: Float32Array;
  readonly dtable: Float32Array;
  readonly db: Float32Array;

  constructor(
    readonly name: string,
    readonly length: number,
    readonly vocabulary: number,
    readonly dim: number,
    init: { seed: number; stream: number },
  ) {
    // Variance 1 / (L E) per entry: a caption's sum over L positions starts as a vector of
    // norm about 1, so a projection discriminator's caption term starts as small as its other.
    this.table = uniformInit(length * vocabulary * dim, init.seed, init.stream, Math.sqrt(3 / (length * dim)));
    this.b = new Float32Array(dim);
    this.dtable = new Float32Array(this.table.length);
    this.db = new Float32Array(dim);
  }

  /** Checks token ids [n, L]; returns n. */
  rows(ids: Int32Array): number {
    if (ids.length % this.length !== 0)
      throw new DeepgenError("E_SHAPE", `${this.name}: ${ids.length} token ids are not rows of ${this.length}`);
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i]!;
      if (!(v >= 0 && v < this.vocabulary))
        throw new DeepgenError("E_ARG", `${this.name}: token id ${v} is outside the vocabulary of ${this.vocabulary}`);
    }
    return ids.length / this.length;
  }

  /** e [n, E] of token ids [n, L] (written into `out` when given). */
  forward(ids: Int32Array, out?: Float32Array): Float32Array {
    const n = this.rows(ids);
    const { length: L, vocabulary: V, dim: E } = this;
    const e = out ?? new Float32Array(n * E);
    for (let r = 0; r < n; r++) {
      const row = e.subarray(r * E, (r + 1) * E);
      row.set(this.b);
      for (let i = 0; i < L; i++) {
        const t = (i * V + ids[r * L + i]!) * E;
        for (let c = 0; c < E; c++) row[c] = row[c]! + this.table[t + c]!;
      }
    }
    return e;
  }

  /** Sets the parameter gradients from de [n, E] of the rows `ids` [n, L] (no input gradient: ids are discrete). */
  backward(ids: Int32Array, de: Float32Array): void {
    const n = this.rows(ids);
    const { length: L, vocabulary: V, dim: E } = this;
    if (de.length < n * E) throw new DeepgenError("E_SHAPE", `${this.name}: gradient has ${de.length} values, expected ${n} x ${E}`);
    this.dtable.fill(0);
    this.db.fill(0);
    for (let r = 0; r < n; r++) {
      const g = de.subarray(r * E, (r + 1) * E);
      for (let c = 0; c < E; c++) this.db[c] = this.db[c]! + g[c]!;
      for (let i = 0; i < L; i++) {
        const t = (i * V + ids[r * L + i]!) * E;
        for (let c = 0; c < E; c++) this.dtable[t + c] = this.dtable[t + c]! + g[c]!;
      }
    }
  }

  params(): Record<string, Float32Array> {
    return { [`${this.name}.table`]: this.table, [`${this.name}.b`]: this.b };
  }

  grads(): Record<string, Float32Array> {
    return { [`${this.name}.table`]: this.dtable, [`${this.name}.b`]: this.db };
  }

  shapes(): Record<string, number[]> {
    return { [`${this.name}.table`]: [this.length * this.vocabulary, this.dim], [`${this.name}.b`]: [this.dim] };
  }

  paramCount(): number {
    return this.table.length + this.b.length;
  }
}
