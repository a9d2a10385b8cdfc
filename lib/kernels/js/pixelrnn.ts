/**
 * JS twin of native/kernels/cpu/pixelrnn{,_sample}.cc: PixelRNN (Row LSTM, Diagonal BiLSTM)
 * log-likelihood, gradients (BPTT) and sampling (cached and naive), one image at a time in
 * plain loops, with the same parameter layout, the same cell arithmetic order and the same
 * Philox counters as the native sampler. Generic over FloatArray, so gradient checks run
 * in float64. See pixelrnn.h for the network.
 */
import { philox4x32, uniformF64 } from "../../core/philox.js";
import { rowDraw, type StreamSpec } from "./row-streams.js";
import type { FloatArray } from "./types.js";

export type PixelRnnKindName = "rowlstm" | "diagbilstm";

export interface PixelRnnSpec {
  kind: PixelRnnKindName;
  layers: number;
  hidden: number;
  rows: number;
  cols: number;
}

interface Direction {
  is: Array<[number, number]>;
  ss: Array<[number, number]>;
  cp: [number, number];
  shift: number;
}

export function pixelRnnDirections(kind: PixelRnnKindName): Direction[] {
  if (kind === "rowlstm")
    return [
      {
        is: [
          [0, -1],
          [0, 0],
        ],
        ss: [
          [-1, -1],
          [-1, 0],
          [-1, 1],
        ],
        cp: [-1, 0],
        shift: 0,
      },
    ];
  return [
    {
      is: [[0, 0]],
      ss: [
        [-1, 0],
        [0, -1],
      ],
      cp: [0, -1],
      shift: 0,
    },
    {
      is: [[0, 0]],
      ss: [
        [-1, 0],
        [0, 1],
      ],
      cp: [0, 1],
      shift: 1,
    },
  ];
}

export const MASK_A_TAPS = 24;
/** Offset of mask-A tap t: rows -3..-1 with columns -3..3, then row 0 columns -3..-1. */
export function maskATap(t: number): [number, number] {
  return t < 21 ? [-3 + Math.floor(t / 7), -3 + (t % 7)] : [0, t - 24];
}

export interface PixelRnnLayout {
  inW: number; // [24, H]
  inB: number; // [H]
  wis: number[]; // per (layer, direction): [nis*H, 4H]
  wss: number[]; // [nss*H, 4H]
  bias: number[]; // [4H]
  out1W: number; // [H, H] (input-major)
  out1B: number;
  out2W: number;
  out2B: number;
  total: number;
}

export function pixelRnnLayout(s: PixelRnnSpec): PixelRnnLayout {
  const h = s.hidden;
  let at = 0;
  const take = (n: number): number => {
    const o = at;
    at += n;
    return o;
  };
  const inW = take(MASK_A_TAPS * h);
  const inB = take(h);
  const wis: number[] = [];
  const wss: number[] = [];
  const bias: number[] = [];
  const dirs = pixelRnnDirections(s.kind);
  for (let l = 0; l < s.layers; l++) {
    for (const d of dirs) {
      wis.push(take(d.is.length * h * 4 * h));
      wss.push(take(d.ss.length * h * 4 * h));
      bias.push(take(4 * h));
    }
  }
  const out1W = take(h * h);
  const out1B = take(h);
  const out2W = take(h);
  const out2B = take(1);
  return { inW, inB, wis, wss, bias, out1W, out1B, out2W, out2B, total: at };
}

/** The order a direction visits its cells (raster indices): rows, or diagonals (mirrored for right-to-left). */
function cellOrder(d: Direction, rows: number, cols: number): number[] {
  const order: number[] = [];
  if (d.cp[0] === -1) {
    for (let p = 0; p < rows * cols; p++) order.push(p);
    return order;
  }
  const mirror = d.cp[1] === 1;
  for (let s = 0; s < rows + cols - 1; s++) {
    for (let r = Math.max(0, s - cols + 1); r <= Math.min(rows - 1, s); r++) order.push(r * cols + (mirror ? cols - 1 - (s - r) : s - r));
  }
  return order;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** One image's activations, raster layout; cells are computed one at a time (as in pixelrnn_sample.cc). */
class Net<T extends FloatArray> {
  readonly d: number;
  readonly h: number;
  readonly dirs: Direction[];
  readonly orders: number[][];
  readonly lay: PixelRnnLayout;
  readonly pix: Uint8Array;
  readonly xs: T[];
  readonly hs: T[];
  readonly cs: T[];
  readonly gates: T[]; // per (layer, dir) [D, 4H] activated o, f, i, g (for backward)
  readonly y: T; // [D, H] post-ReLU output layer
  readonly pre: T;
  private readonly make: (n: number) => T;

  constructor(
    readonly s: PixelRnnSpec,
    readonly w: T,
  ) {
    this.make = (n) => (w instanceof Float64Array ? new Float64Array(n) : new Float32Array(n)) as T;
    this.d = s.rows * s.cols;
    this.h = s.hidden;
    this.dirs = pixelRnnDirections(s.kind);
    this.orders = this.dirs.map((d) => cellOrder(d, s.rows, s.cols));
    this.lay = pixelRnnLayout(s);
    this.pix = new Uint8Array(this.d);
    const nld = s.layers * this.dirs.length;
    this.xs = Array.from({ length: s.layers + 1 }, () => this.make(this.d * this.h));
    this.hs = Array.from({ length: nld }, () => this.make(this.d * this.h));
    this.cs = Array.from({ length: nld }, () => this.make(this.d * this.h));
    this.gates = Array.from({ length: nld }, () => this.make(this.d * 4 * this.h));
    this.y = this.make(this.d * this.h);
    this.pre = this.make(4 * this.h);
  }

  inside(r: number, c: number): boolean {
    return r >= 0 && r < this.s.rows && c >= 0 && c < this.s.cols;
  }

  x0(p: number): void {
    const { h, w, lay } = this;
    const r = Math.floor(p / this.s.cols);
    const c = p % this.s.cols;
    const o = this.xs[0]!;
    for (let j = 0; j < h; j++) o[p * h + j] = w[lay.inB + j]!;
    for (let t = 0; t < MASK_A_TAPS; t++) {
      const [dr, dc] = maskATap(t);
      if (!this.inside(r + dr, c + dc) || !this.pix[(r + dr) * this.s.cols + c + dc]) continue;
      for (let j = 0; j < h; j++) o[p * h + j] = o[p * h + j]! + w[lay.inW + t * h + j]!;
    }
  }

  private addTap(v: T, vOff: number, wOff: number): void {
    const { h, w, pre } = this;
    const g4 = 4 * h;
    for (let k = 0; k < h; k++) {
      const vk = v[vOff + k]!;
      const row = wOff + k * g4;
      for (let j = 0; j < g4; j++) pre[j] = pre[j]! + vk * w[row + j]!;
    }
  }

  cell(l: number, di: number, p: number): void {
    const { h, w, lay, pre } = this;
    const dir = this.dirs[di]!;
    const ld = l * this.dirs.length + di;
    const cols = this.s.cols;
    const r = Math.floor(p / cols);
    const c = p % cols;
    for (let j = 0; j < 4 * h; j++) pre[j] = w[lay.bias[ld]! + j]!;
    dir.ss.forEach(([dr, dc], t) => {
      if (this.inside(r + dr, c + dc)) this.addTap(this.hs[ld]!, ((r + dr) * cols + c + dc) * h, lay.wss[ld]! + t * h * 4 * h);
    });
    dir.is.forEach(([dr, dc], t) => {
      if (this.inside(r + dr, c + dc)) this.addTap(this.xs[l]!, ((r + dr) * cols + c + dc) * h, lay.wis[ld]! + t * h * 4 * h);
    });
    const hasCp = this.inside(r + dir.cp[0], c + dir.cp[1]);
    const cpOff = ((r + dir.cp[0]) * cols + c + dir.cp[1]) * h;
    const cs = this.cs[ld]!;
    const hs = this.hs[ld]!;
    const gt = this.gates[ld]!;
    for (let j = 0; j < h; j++) {
      const o = sigmoid(pre[j]!);
      const f = sigmoid(pre[h + j]!);
      const i = sigmoid(pre[2 * h + j]!);
      const g = Math.tanh(pre[3 * h + j]!);
      gt[p * 4 * h + j] = o;
      gt[p * 4 * h + h + j] = f;
      gt[p * 4 * h + 2 * h + j] = i;
      gt[p * 4 * h + 3 * h + j] = g;
      cs[p * h + j] = (hasCp ? f * cs[cpOff + j]! : 0) + i * g;
      hs[p * h + j] = o * Math.tanh(cs[p * h + j]!);
    }
  }

  nextX(l: number, p: number): void {
    const { h } = this;
    const cols = this.s.cols;
    const r = Math.floor(p / cols);
    const c = p % cols;
    const xl = this.xs[l]!;
    const o = this.xs[l + 1]!;
    for (let j = 0; j < h; j++) o[p * h + j] = xl[p * h + j]!;
    this.dirs.forEach((dir, di) => {
      const rr = r - dir.shift;
      if (!this.inside(rr, c)) return;
      const hd = this.hs[l * this.dirs.length + di]!;
      for (let j = 0; j < h; j++) o[p * h + j] = o[p * h + j]! + hd[(rr * cols + c) * h + j]!;
    });
  }

  logit(p: number): number {
    const { h, w, lay, y } = this;
    const xl = this.xs[this.s.layers]!;
    for (let j = 0; j < h; j++) y[p * h + j] = w[lay.out1B + j]!;
    for (let k = 0; k < h; k++) {
      const v = xl[p * h + k]!;
      for (let j = 0; j < h; j++) y[p * h + j] = y[p * h + j]! + v * w[lay.out1W + k * h + j]!;
    }
    let acc = 0;
    for (let j = 0; j < h; j++) {
      y[p * h + j] = Math.max(y[p * h + j]!, 0);
      acc += y[p * h + j]! * w[lay.out2W + j]!;
    }
    return acc + w[lay.out2B]!;
  }

  fullForward(): void {
    for (let p = 0; p < this.d; p++) this.x0(p);
    for (let l = 0; l < this.s.layers; l++) {
      this.dirs.forEach((_, di) => {
        for (const p of this.orders[di]!) this.cell(l, di, p);
      });
      for (let p = 0; p < this.d; p++) this.nextX(l, p);
    }
  }

  setImage(x: FloatArray, off: number): void {
    for (let p = 0; p < this.d; p++) this.pix[p] = x[off + p]! > 0.5 ? 1 : 0;
  }
}

function logBernoulli(l: number, one: boolean): number {
  const z = one ? -l : l;
  return -(Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z))));
}

export function pixelRnnLogProb<T extends FloatArray>(s: PixelRnnSpec, params: T, x: FloatArray, n: number, logp: FloatArray): void {
  const net = new Net(s, params);
  for (let i = 0; i < n; i++) {
    net.setImage(x, i * net.d);
    net.fullForward();
    let total = 0;
    for (let p = 0; p < net.d; p++) total += logBernoulli(net.logit(p), net.pix[p] === 1);
    logp[i] = total;
  }
}

/** logits [n, D]: the output logit of every pixel (what the causality tests perturb). */
export function pixelRnnLogits<T extends FloatArray>(s: PixelRnnSpec, params: T, x: FloatArray, n: number, logits: FloatArray): void {
  const net = new Net(s, params);
  for (let i = 0; i < n; i++) {
    net.setImage(x, i * net.d);
    net.fullForward();
    for (let p = 0; p < net.d; p++) logits[i * net.d + p] = net.logit(p);
  }
}

/**
 * Gradients of scale * sum_i -log p(x_i) written into grads (added when `accumulate`);
 * logp (optional) receives log p(x_i). Backpropagation through the cells in reverse order.
 */
export function pixelRnnBackward<T extends FloatArray>(
  s: PixelRnnSpec,
  params: T,
  x: FloatArray,
  n: number,
  scale: number,
  logp: FloatArray | null,
  grads: T,
  accumulate = false,
): void {
  if (!accumulate) grads.fill(0);
  const net = new Net(s, params);
  const { d, h, lay, dirs } = net;
  const cols = s.cols;
  const w = params;
  const g = grads;
  const make = (k: number): Float64Array => new Float64Array(k); // gradient accumulators in double
  const dxn = make(d * h);
  const dx = make(d * h);
  const dh = make(d * h);
  const dc = make(d * h);
  const dpre = make(4 * h);
  for (let i = 0; i < n; i++) {
    net.setImage(x, i * d);
    net.fullForward();
    let total = 0;
    dxn.fill(0);
    for (let p = 0; p < d; p++) {
      const l = net.logit(p);
      const one = net.pix[p] === 1;
      total += logBernoulli(l, one);
      const dl = scale * (sigmoid(l) - (one ? 1 : 0));
      g[lay.out2B] = g[lay.out2B]! + dl;
      const xl = net.xs[s.layers]!;
      for (let j = 0; j < h; j++) {
        const yj = net.y[p * h + j]!;
        g[lay.out2W + j] = g[lay.out2W + j]! + yj * dl;
        if (yj <= 0) continue;
        const dy = dl * w[lay.out2W + j]!;
        g[lay.out1B + j] = g[lay.out1B + j]! + dy;
        for (let k = 0; k < h; k++) {
          g[lay.out1W + k * h + j] = g[lay.out1W + k * h + j]! + xl[p * h + k]! * dy;
          dxn[p * h + k] = dxn[p * h + k]! + w[lay.out1W + k * h + j]! * dy;
        }
      }
    }
    if (logp) logp[i] = total;
    for (let l = s.layers - 1; l >= 0; l--) {
      dx.set(dxn);
      dirs.forEach((dir, di) => {
        const ld = l * dirs.length + di;
        const hs = net.hs[ld]!;
        const cs = net.cs[ld]!;
        const gt = net.gates[ld]!;
        dh.fill(0);
        dc.fill(0);
        for (let p = 0; p < d; p++) {
          const r = Math.floor(p / cols);
          const c = p % cols;
          if (net.inside(r + dir.shift, c)) for (let j = 0; j < h; j++) dh[p * h + j] = dxn[((r + dir.shift) * cols + c) * h + j]!;
        }
        const order = net.orders[di]!;
        for (let oi = order.length - 1; oi >= 0; oi--) {
          const p = order[oi]!;
          const r = Math.floor(p / cols);
          const c = p % cols;
          const hasCp = net.inside(r + dir.cp[0], c + dir.cp[1]);
          const cpP = (r + dir.cp[0]) * cols + c + dir.cp[1];
          for (let j = 0; j < h; j++) {
            const o = gt[p * 4 * h + j]!;
            const f = gt[p * 4 * h + h + j]!;
            const ig = gt[p * 4 * h + 2 * h + j]!;
            const gg = gt[p * 4 * h + 3 * h + j]!;
            const tc = Math.tanh(cs[p * h + j]!);
            const dct = dc[p * h + j]! + dh[p * h + j]! * o * (1 - tc * tc);
            const cprev = hasCp ? cs[cpP * h + j]! : 0;
            dpre[j] = dh[p * h + j]! * tc * o * (1 - o);
            dpre[h + j] = dct * cprev * f * (1 - f);
            dpre[2 * h + j] = dct * gg * ig * (1 - ig);
            dpre[3 * h + j] = dct * ig * (1 - gg * gg);
            if (hasCp) dc[cpP * h + j] = dc[cpP * h + j]! + dct * f;
          }
          for (let j = 0; j < 4 * h; j++) g[lay.bias[ld]! + j] = g[lay.bias[ld]! + j]! + dpre[j]!;
          const back = (src: FloatArray, dsrc: FloatArray, q: number, wOff: number): void => {
            for (let k = 0; k < h; k++) {
              const v = src[q * h + k]!;
              const row = wOff + k * 4 * h;
              let acc = 0;
              for (let j = 0; j < 4 * h; j++) {
                g[row + j] = g[row + j]! + v * dpre[j]!;
                acc += w[row + j]! * dpre[j]!;
              }
              dsrc[q * h + k] = dsrc[q * h + k]! + acc;
            }
          };
          dir.ss.forEach(([dr, dcc], t) => {
            if (net.inside(r + dr, c + dcc)) back(hs, dh, (r + dr) * cols + c + dcc, lay.wss[ld]! + t * h * 4 * h);
          });
          dir.is.forEach(([dr, dcc], t) => {
            if (net.inside(r + dr, c + dcc)) back(net.xs[l]!, dx, (r + dr) * cols + c + dcc, lay.wis[ld]! + t * h * 4 * h);
          });
        }
      });
      dxn.set(dx);
    }
    for (let p = 0; p < d; p++) {
      const r = Math.floor(p / cols);
      const c = p % cols;
      for (let j = 0; j < h; j++) g[lay.inB + j] = g[lay.inB + j]! + dxn[p * h + j]!;
      for (let t = 0; t < MASK_A_TAPS; t++) {
        const [dr, dcc] = maskATap(t);
        if (!net.inside(r + dr, c + dcc) || !net.pix[(r + dr) * cols + c + dcc]) continue;
        for (let j = 0; j < h; j++) g[lay.inW + t * h + j] = g[lay.inW + t * h + j]! + dxn[p * h + j]!;
      }
    }
  }
}

/** Row i draws on rowDraw(o, i) (row-streams.ts). */
export interface PixelRnnSampleSpec extends StreamSpec {
  n: number;
  stream: number;
  /** true: each state computed once (linear time); false: the whole network rerun per pixel. */
  cached: boolean;
  /** > 0: the first `known` pixels of each row of x are kept, not drawn (a completion). */
  known?: number;
}

export function pixelRnnSample<T extends FloatArray>(
  s: PixelRnnSpec,
  params: T,
  o: PixelRnnSampleSpec,
  x: FloatArray,
  probs: FloatArray | null,
): void {
  const words = new Uint32Array(4);
  for (let i = 0; i < o.n; i++) {
    const net = new Net(s, params);
    const { lo, hi, key0, key1 } = rowDraw(o, i);
    const known = o.known ?? 0;
    const draw = (p: number, logit: number): void => {
      if ((p & 3) === 0) philox4x32(p >>> 2, lo, o.stream, hi, key0, key1, words);
      const prob = 1 / (1 + Math.exp(-logit));
      if (probs) probs[i * net.d + p] = prob;
      const value = p < known ? x[i * net.d + p]! : uniformF64(words[p & 3]!) < prob ? 1 : 0;
      net.pix[p] = value;
      x[i * net.d + p] = value;
    };
    if (!o.cached) {
      for (let p = 0; p < net.d; p++) {
        net.fullForward();
        draw(p, net.logit(p));
      }
      continue;
    }
    for (let r = 0; r < s.rows; r++) {
      for (let c = 0; c < s.cols; c++) {
        const p = r * s.cols + c;
        net.x0(p);
        for (let l = 0; l < s.layers; l++) {
          net.dirs.forEach((dir, di) => {
            if (dir.shift === 0) net.cell(l, di, p);
          });
          net.nextX(l, p);
        }
        draw(p, net.logit(p));
      }
      for (let l = 0; l < s.layers; l++) {
        net.dirs.forEach((dir, di) => {
          if (dir.shift === 1) for (let c = s.cols - 1; c >= 0; c--) net.cell(l, di, r * s.cols + c);
        });
      }
    }
  }
}
