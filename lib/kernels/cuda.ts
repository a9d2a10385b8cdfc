/**
 * The CUDA backend. Available only when the addon was built with DEEPGEN_CUDA
 * (`npm run build:cuda`) and the CUDA runtime sees at least one device; otherwise asking
 * for it throws DeepgenError(E_BACKEND) with the reason.
 *
 * For now each call copies its buffers to the device and back; device-resident model
 * handles come with the fused model kernels.
 */
import { DeepgenError } from "../core/errors.js";
import type { Seed } from "../core/philox.js";
import { type JobOptions } from "./job.js";
import type { Distribution, Kernels } from "./kernels.js";
import { callNative, nativeAddon, nativeAddonStatus } from "./native.js";
import { checkPhiloxFill } from "./validate.js";

export type CudaStatus = { available: true; devices: number } | { available: false; reason: string };

export function cudaStatus(): CudaStatus {
  const status = nativeAddonStatus();
  if (!status.available) return { available: false, reason: status.reason };
  const cuda = nativeAddon().info().cuda;
  if (!cuda.built) return { available: false, reason: cuda.reason ?? "built without CUDA" };
  if (cuda.devices === 0) return { available: false, reason: `no usable CUDA device (${cuda.reason ?? "unknown"})` };
  return { available: true, devices: cuda.devices };
}

export function requireCuda(): void {
  const s = cudaStatus();
  if (!s.available) throw new DeepgenError("E_BACKEND", `the cuda backend is not available: ${s.reason}`);
}

export const cudaKernels: Kernels = {
  backend: "cuda",

  philoxFill(out: Float32Array, seed: Seed, stream: number, dist: Distribution): void {
    const a = checkPhiloxFill(out, seed, stream, dist);
    callNative((addon) => addon.cudaPhiloxFill(out, a.key0, a.key1, a.stream, a.distCode));
  },

  // A single fill is one short kernel launch plus copies; it runs synchronously behind the
  // promise until device-resident jobs exist.
  async philoxFillAsync(out: Float32Array, seed: Seed, stream: number, dist: Distribution, opts?: JobOptions) {
    if (opts?.signal?.aborted) throw new DeepgenError("E_ABORTED", "operation aborted");
    this.philoxFill(out, seed, stream, dist);
    opts?.onProgress?.(1);
  },
};
