/**
 * Backend selection: an explicit `backend` option wins, then env DEEPGEN_BACKEND, then
 * 'native'. A backend that is not usable throws E_BACKEND; the js path is never chosen
 * silently in place of another.
 */
import { cudaKernels, jsKernels, nativeKernels } from "./backends.js";
import { requireCuda } from "./cuda.js";
import { BACKEND_NAMES, type BackendName, type Kernels } from "./kernels.js";
import { nativeAddon } from "./native.js";
import { checkThreadsEnv } from "./threads.js";
import { checkOneOf } from "../core/check.js";

export type { BackendName, Kernels };

export function resolveBackendName(requested?: BackendName | string): BackendName {
  if (requested !== undefined) return checkOneOf("backend", requested, BACKEND_NAMES);
  const env = process.env["DEEPGEN_BACKEND"];
  if (env !== undefined && env !== "") return checkOneOf("DEEPGEN_BACKEND", env, BACKEND_NAMES);
  return "native";
}

/** The kernels of the requested (or configured) backend; throws E_BACKEND if unusable. */
export function getKernels(requested?: BackendName | string): Kernels {
  const name = resolveBackendName(requested);
  switch (name) {
    case "js":
      return jsKernels;
    case "native":
      checkThreadsEnv();
      nativeAddon(); // throws with build instructions if missing
      return nativeKernels;
    case "cuda":
      checkThreadsEnv();
      requireCuda();
      return cudaKernels;
  }
}
