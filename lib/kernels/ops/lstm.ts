/**
 * Kernel group "lstm": the fused gate step of PixelRNN's Row LSTM and Diagonal BiLSTM
 * (native/kernels/cpu/lstm_gates.cc, js/lstm-gates.ts). The matrix products that produce the
 * pre-activations are gemm/conv; this is the elementwise rest of one step, forward and back.
 */
import { checkInteger } from "../../core/check.js";
import { noCudaKernel } from "../cuda.js";
import { lstmGatesBackward, lstmGatesForward } from "../js/lstm-gates.js";
import { callNative } from "../native.js";
import { checkDisjointArrays } from "../validate.js";

export interface LstmKernels {
  /**
   * One LSTM step's gates, fused. Shapes (B cells of H units; B is batch x width for a Row
   * LSTM row):
   *   pre [B, 4H]: pre-activations in four blocks of H per row, in the order o, f, i, g;
   *   cPrev [B, H]: the previous cell state.
   * Writes h [B, H], c [B, H] and gates [B, 4H] (the activated o, f, i, g, kept for backward):
   *   o, f, i = sigmoid(pre_o, pre_f, pre_i), g = tanh(pre_g), c = f cPrev + i g, h = o tanh(c).
   * Outputs must not overlap any other argument (E_ARG). B = 0 or H = 0 does nothing.
   */
  lstmGatesForward(
    h: Float32Array,
    c: Float32Array,
    gates: Float32Array,
    pre: Float32Array,
    cPrev: Float32Array,
    batch: number,
    hidden: number,
  ): void;
  /**
   * Backward of lstmGatesForward. dh [B, H] is the gradient of h; dc [B, H] the gradient
   * reaching c from later steps (null: none, as at the last step). gates, cPrev, c are the
   * forward's. Overwrites dpre [B, 4H] (blocks o, f, i, g) and dcPrev [B, H].
   */
  lstmGatesBackward(
    dpre: Float32Array,
    dcPrev: Float32Array,
    dh: Float32Array,
    dc: Float32Array | null,
    gates: Float32Array,
    cPrev: Float32Array,
    c: Float32Array,
    batch: number,
    hidden: number,
  ): void;
}

function checkDims(fn: string, batch: unknown, hidden: unknown): number {
  const b = checkInteger(`${fn} batch`, batch, 0);
  const h = checkInteger(`${fn} hidden`, hidden, 0);
  return b * h;
}

function checkForward(
  h: Float32Array,
  c: Float32Array,
  gates: Float32Array,
  pre: Float32Array,
  cPrev: Float32Array,
  batch: number,
  hidden: number,
): void {
  const n = checkDims("lstmGatesForward", batch, hidden);
  checkDisjointArrays(
    "lstmGatesForward",
    [
      ["h", h, n],
      ["c", c, n],
      ["gates", gates, 4 * n],
    ],
    [
      ["pre", pre, 4 * n],
      ["cPrev", cPrev, n],
    ],
  );
}

function checkBackward(
  dpre: Float32Array,
  dcPrev: Float32Array,
  dh: Float32Array,
  dc: Float32Array | null,
  gates: Float32Array,
  cPrev: Float32Array,
  c: Float32Array,
  batch: number,
  hidden: number,
): void {
  const n = checkDims("lstmGatesBackward", batch, hidden);
  checkDisjointArrays(
    "lstmGatesBackward",
    [
      ["dpre", dpre, 4 * n],
      ["dcPrev", dcPrev, n],
    ],
    [
      ["dh", dh, n],
      ["dc", dc, n],
      ["gates", gates, 4 * n],
      ["cPrev", cPrev, n],
      ["c", c, n],
    ],
  );
}

export const jsLstm: LstmKernels = {
  lstmGatesForward(h, c, gates, pre, cPrev, batch, hidden) {
    checkForward(h, c, gates, pre, cPrev, batch, hidden);
    lstmGatesForward(h, c, gates, pre, cPrev, batch, hidden);
  },
  lstmGatesBackward(dpre, dcPrev, dh, dc, gates, cPrev, c, batch, hidden) {
    checkBackward(dpre, dcPrev, dh, dc, gates, cPrev, c, batch, hidden);
    lstmGatesBackward(dpre, dcPrev, dh, dc, gates, cPrev, c, batch, hidden);
  },
};

export const nativeLstm: LstmKernels = {
  lstmGatesForward(h, c, gates, pre, cPrev, batch, hidden) {
    checkForward(h, c, gates, pre, cPrev, batch, hidden);
    callNative((addon) => addon.lstmGatesForward(h, c, gates, pre, cPrev, batch, hidden));
  },
  lstmGatesBackward(dpre, dcPrev, dh, dc, gates, cPrev, c, batch, hidden) {
    checkBackward(dpre, dcPrev, dh, dc, gates, cPrev, c, batch, hidden);
    callNative((addon) => addon.lstmGatesBackward(dpre, dcPrev, dh, dc, gates, cPrev, c, batch, hidden));
  },
};

export const cudaLstm: LstmKernels = noCudaKernel<LstmKernels>("lstm", ["lstmGatesForward", "lstmGatesBackward"]);
