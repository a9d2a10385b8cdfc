/**
 * The objective of the conditional VAE of captions (lib/models/text-cvae.ts) on binary
 * canvases x [m, 3600] and caption token ids [m, L]:
 *
 *   e = e(t),  [mu, logvar] = MLP_enc([x, e]),  z = mu + exp(logvar / 2) eps,  l = MLP_dec([z, e])
 *   -ELBO = sum_d BCE(l_d, x_d) + KL(N(mu, diag exp(logvar)) || N(0, I))
 *
 * one reparameterized draw per canvas (the reparam kernels) and the KL in closed form (the
 * gaussianKl kernels), and the gradient of the batch mean back through both networks into the
 * caption encoder. The batch buffers are kept between calls, sized for the largest batch yet.
 */
import type { Seed } from "../core/philox.js";
import { CANVAS_DIM } from "../data/mnist-captions.js";
import type { BackendName, Kernels } from "../kernels/kernels.js";
import type { Mlp } from "../nn/dense.js";
import type { TokenEmbedding } from "../nn/token-embedding.js";
import type { TextCvaeElbo } from "./text-cvae-trainer.js";

/** The Philox stream of elbo()'s draws ("CVE0"; sample index = row). */
export const CVAE_ELBO_STREAM = 0x4356_4530;

/** Options of TextCvae.elbo(). */
export interface TextCvaeElboOptions {
  seed?: Seed;
  /** Canvases per forward pass (default 500). */
  batchSize?: number;
  backend?: BackendName;
  /** false skips the check that x is binary (data the caller has binarized). */
  checkInput?: boolean;
}

/** out [n, a + b] = [A_i, B_i] of A [n, a] and B [n, b]. */
export function joinColumns(A: Float32Array, a: number, B: Float32Array, b: number, n: number, out: Float32Array): Float32Array {
  for (let i = 0; i < n; i++) {
    out.set(A.subarray(i * a, (i + 1) * a), i * (a + b));
    out.set(B.subarray(i * b, (i + 1) * b), i * (a + b) + a);
  }
  return out;
}

/** out [n, cols] = columns [from, from + cols) of src [n, stride]. */
function takeColumns(src: Float32Array, n: number, stride: number, from: number, cols: number, out: Float32Array): Float32Array {
  for (let i = 0; i < n; i++) out.set(src.subarray(i * stride + from, i * stride + from + cols), i * cols);
  return out;
}

interface Buffers {
  rows: number;
  e: Float32Array;
  encIn: Float32Array;
  mu: Float32Array;
  lv: Float32Array;
  z: Float32Array;
  eps: Float32Array;
  decIn: Float32Array;
  dlogits: Float32Array;
  dz: Float32Array;
  dmu: Float32Array;
  dlv: Float32Array;
  dh: Float32Array;
  de: Float32Array;
}

export class CvaeObjective {
  private buf: Buffers | undefined;

  constructor(
    private readonly text: TokenEmbedding,
    private readonly encoder: Mlp,
    private readonly decoder: Mlp,
    private readonly latent: number,
    private readonly textDim: number,
  ) {}

  private buffers(m: number): Buffers {
    if (this.buf === undefined || this.buf.rows < m) {
      const { latent: L, textDim: E } = this;
      const f = (w: number) => new Float32Array(m * w);
      this.buf = {
        rows: m,
        e: f(E),
        encIn: f(CANVAS_DIM + E),
        mu: f(L),
        lv: f(L),
        z: f(L),
        eps: f(L),
        decIn: f(L + E),
        dlogits: f(CANVAS_DIM),
        dz: f(L),
        dmu: f(L),
        dlv: f(L),
        dh: f(2 * L),
        de: f(E),
      };
    }
    return this.buf;
  }

  /** Forward of a batch: summed reconstruction NLL and KL; keeps the buffers for a backward. */
  private forwardTerms(
    k: Kernels,
    x: Float32Array,
    ids: Int32Array,
    m: number,
    noise: { seed: Seed; stream: number; firstSample: number },
  ): { rec: number; kl: number; logits: Float32Array } {
    const { latent: L, textDim: E } = this;
    const b = this.buffers(m);
    const e = this.text.forward(ids, b.e.subarray(0, m * E));
    const h = this.encoder.forward(k, joinColumns(x, CANVAS_DIM, e, E, m, b.encIn.subarray(0, m * (CANVAS_DIM + E))), m);
    const mu = takeColumns(h, m, 2 * L, 0, L, b.mu.subarray(0, m * L));
    const lv = takeColumns(h, m, 2 * L, L, L, b.lv.subarray(0, m * L));
    const z = b.z.subarray(0, m * L);
    k.reparamForward(z, b.eps.subarray(0, m * L), mu, lv, { rows: m, cols: L, ...noise });
    const logits = this.decoder.forward(k, joinColumns(z, L, e, E, m, b.decIn.subarray(0, m * (L + E))), m);
    return { rec: k.bceWithLogitsForward(null, logits, x, m, CANVAS_DIM), kl: k.gaussianKlForward(null, mu, lv, m, L), logits };
  }

  /** TextCvae.lossAndGradients: one batch's loss (sum BCE + sum KL) / m, its gradient into the networks' gradient arrays. */
  lossAndGradients(
    k: Kernels,
    x: Float32Array,
    ids: Int32Array,
    m: number,
    o: { seed: Seed; stream: number },
  ): { rec: number; kl: number; loss: number } {
    const { latent: L, textDim: E } = this;
    const t = this.forwardTerms(k, x, ids, m, { seed: o.seed, stream: o.stream, firstSample: 0 });
    const b = this.buffers(m);
    const dlogits = b.dlogits.subarray(0, m * CANVAS_DIM);
    k.bceWithLogitsBackward(dlogits, t.logits, x, m, CANVAS_DIM, 1 / m);
    const ddec = this.decoder.backward(k, dlogits, m, true)!;
    const dz = takeColumns(ddec, m, L + E, 0, L, b.dz.subarray(0, m * L));
    const de = takeColumns(ddec, m, L + E, L, E, b.de.subarray(0, m * E));
    const mu = b.mu.subarray(0, m * L);
    const lv = b.lv.subarray(0, m * L);
    const dmu = b.dmu.subarray(0, m * L);
    const dlv = b.dlv.subarray(0, m * L);
    k.gaussianKlBackward(dmu, dlv, mu, lv, m, L, 1 / m);
    k.reparamBackward(dmu, dlv, dz, b.eps.subarray(0, m * L), lv, m, L, 1, true);
    const dh = joinColumns(dmu, L, dlv, L, m, b.dh.subarray(0, m * 2 * L));
    const denc = this.encoder.backward(k, dh, m, true)!;
    // e(t) feeds both networks: its gradient is the sum of what each sends back
    for (let i = 0; i < m; i++) for (let c = 0; c < E; c++) de[i * E + c] = de[i * E + c]! + denc[i * (CANVAS_DIM + E) + CANVAS_DIM + c]!;
    this.text.backward(ids, de);
    return { rec: t.rec, kl: t.kl, loss: (t.rec + t.kl) / m };
  }

  /**
   * Mean ELBO terms of n canvases and their token ids ([n, tokens]) in batches of batchSize;
   * canvas r's draw has sample index r of CVAE_ELBO_STREAM, so batching does not change them.
   */
  mean(k: Kernels, x: Float32Array, ids: Int32Array, n: number, tokens: number, batchSize: number, seed: Seed): TextCvaeElbo {
    let rec = 0;
    let kl = 0;
    for (let b = 0; b < n; b += batchSize) {
      const m = Math.min(batchSize, n - b);
      const t = this.forwardTerms(k, x.subarray(b * CANVAS_DIM, (b + m) * CANVAS_DIM), ids.subarray(b * tokens, (b + m) * tokens), m, {
        seed,
        stream: CVAE_ELBO_STREAM,
        firstSample: b,
      });
      rec += t.rec;
      kl += t.kl;
    }
    const d = Math.max(1, n);
    return { reconstruction: rec / d, kl: kl / d, negElbo: (rec + kl) / d };
  }
}
