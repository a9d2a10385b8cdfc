/** The three Kernels implementations, each assembled from the kernel groups in ops/. */
import type { Kernels } from "./kernels.js";
import { cudaActivation, jsActivation, nativeActivation } from "./ops/activation.js";
import { cudaConv, jsConv, nativeConv } from "./ops/conv.js";
import { cudaConvBlock, jsConvBlock, nativeConvBlock } from "./ops/convblock.js";
import { cudaGemm, jsGemm, nativeGemm } from "./ops/gemm.js";
import { cudaLoss, jsLoss, nativeLoss } from "./ops/loss.js";
import { cudaLstm, jsLstm, nativeLstm } from "./ops/lstm.js";
import { cudaNade, jsNade, nativeNade } from "./ops/nade.js";
import { cudaPixelRnn, jsPixelRnn, nativePixelRnn } from "./ops/pixelrnn.js";
import { cudaNorm, jsNorm, nativeNorm } from "./ops/norm.js";
import { cudaRnade, jsRnade, nativeRnade } from "./ops/rnade.js";
import { cudaOptim, jsOptim, nativeOptim } from "./ops/optim.js";
import { cudaRandom, jsRandom, nativeRandom } from "./ops/random.js";
import { cudaReparam, jsReparam, nativeReparam } from "./ops/reparam.js";

export const jsKernels: Kernels = {
  backend: "js",
  ...jsRandom,
  ...jsGemm,
  ...jsConv,
  ...jsConvBlock,
  ...jsActivation,
  ...jsNorm,
  ...jsLstm,
  ...jsLoss,
  ...jsOptim,
  ...jsNade,
  ...jsRnade,
  ...jsPixelRnn,
  ...jsReparam,
};

export const nativeKernels: Kernels = {
  backend: "native",
  ...nativeRandom,
  ...nativeGemm,
  ...nativeConv,
  ...nativeConvBlock,
  ...nativeActivation,
  ...nativeNorm,
  ...nativeLstm,
  ...nativeLoss,
  ...nativeOptim,
  ...nativeNade,
  ...nativeRnade,
  ...nativePixelRnn,
  ...nativeReparam,
};

export const cudaKernels: Kernels = {
  backend: "cuda",
  ...cudaRandom,
  ...cudaGemm,
  ...cudaConv,
  ...cudaConvBlock,
  ...cudaActivation,
  ...cudaNorm,
  ...cudaLstm,
  ...cudaLoss,
  ...cudaOptim,
  ...cudaNade,
  ...cudaRnade,
  ...cudaPixelRnn,
  ...cudaReparam,
};
