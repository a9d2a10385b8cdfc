/** What `deepgen info` reports: version, backends, CPU features, threads, CUDA devices. */
import type { NativeInfo } from "./addon-types.js";
import { cudaStatus } from "./cuda.js";
import { nativeAddon, nativeAddonStatus } from "./native.js";
import { checkThreadsEnv } from "./threads.js";
import { packageVersion } from "../core/package-root.js";

export interface BackendStatus {
  available: boolean;
  reason?: string;
}

export interface RuntimeInfo {
  version: string;
  node: string;
  platform: string;
  arch: string;
  /** The backend used when none is named (env DEEPGEN_BACKEND or 'native'). */
  defaultBackend: string;
  addon: { loaded: boolean; path?: string; prebuilt?: boolean; reason?: string };
  backends: { native: BackendStatus; js: BackendStatus; cuda: BackendStatus & { devices?: number } };
  cpu?: NativeInfo["cpu"];
  threads?: number;
  cuda?: NativeInfo["cuda"];
}

export function runtimeInfo(): RuntimeInfo {
  checkThreadsEnv();
  const status = nativeAddonStatus();
  const info: RuntimeInfo = {
    version: packageVersion,
    node: process.versions.node,
    platform: process.platform,
    arch: process.arch,
    defaultBackend: process.env["DEEPGEN_BACKEND"] || "native",
    addon: status.available
      ? { loaded: true, path: status.path, prebuilt: /[\\/]prebuilds[\\/]/.test(status.path) }
      : { loaded: false, reason: status.reason },
    backends: {
      native: status.available ? { available: true } : { available: false, reason: status.reason },
      js: { available: true },
      cuda: { available: false },
    },
  };
  const cuda = cudaStatus();
  info.backends.cuda = cuda.available ? { available: true, devices: cuda.devices } : { available: false, reason: cuda.reason };
  if (status.available) {
    const n = nativeAddon().info();
    info.cpu = n.cpu;
    info.threads = n.threads;
    info.cuda = n.cuda;
  }
  return info;
}
