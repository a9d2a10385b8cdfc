/**
 * The CUDA backend's availability. It is usable only when the addon was built with
 * DEEPGEN_CUDA (`npm run build:cuda`) and the CUDA runtime sees at least one device;
 * otherwise asking for it throws DeepgenError(E_BACKEND) with the reason.
 *
 * Kernel groups without a CUDA mirror yet throw E_BACKEND on the cuda backend (see
 * `noCudaKernel`) rather than quietly running on the CPU.
 */
import { DeepgenError } from "../core/errors.js";
import type { NativeAddon } from "./addon-types.js";
import { nativeAddon, nativeAddonStatus } from "./native.js";

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

/** The addon, after checking that CUDA is built and a device is present. */
export function cudaAddon(): NativeAddon {
  requireCuda();
  return nativeAddon();
}

/** Stand-ins for a kernel group that has no CUDA mirror yet: each method throws E_BACKEND. */
export function noCudaKernel<T extends object>(group: string, methods: readonly (keyof T & string)[]): T {
  const out: Record<string, () => never> = {};
  for (const m of methods) {
    out[m] = () => {
      throw new DeepgenError("E_BACKEND", `${m} (${group}) has no CUDA kernel yet; use backend 'native' for it`);
    };
  }
  return out as unknown as T;
}
