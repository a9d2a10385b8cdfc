/**
 * The Kernels interface: every numeric operation the models use, implemented once per
 * backend (native CPU, pure JS, CUDA). Model code is written against this interface only.
 * It is the union of kernel groups, one file each under ops/ (the group's interface, its
 * argument checks and the three implementations); backends.ts assembles them.
 */
import type { ActivationKernels } from "./ops/activation.js";
import type { ConvKernels } from "./ops/conv.js";
import type { ConvBlockKernels } from "./ops/convblock.js";
import type { GemmKernels } from "./ops/gemm.js";
import type { LossKernels } from "./ops/loss.js";
import type { LstmKernels } from "./ops/lstm.js";
import type { NadeKernels } from "./ops/nade.js";
import type { RnadeKernels } from "./ops/rnade.js";
import type { PixelRnnKernels } from "./ops/pixelrnn.js";
import type { NormKernels } from "./ops/norm.js";
import type { OptimKernels } from "./ops/optim.js";
import type { RandomKernels } from "./ops/random.js";
import type { ReparamKernels } from "./ops/reparam.js";

export type BackendName = "native" | "js" | "cuda";
export const BACKEND_NAMES: readonly BackendName[] = ["native", "js", "cuda"];

export type { Distribution } from "./ops/random.js";

export interface Kernels
  extends RandomKernels,
    GemmKernels,
    ConvKernels,
    ConvBlockKernels,
    ActivationKernels,
    NormKernels,
    LstmKernels,
    LossKernels,
    OptimKernels,
    NadeKernels,
    RnadeKernels,
    PixelRnnKernels,
    ReparamKernels {
  readonly backend: BackendName;
}
