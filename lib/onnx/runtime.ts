/**
 * onnxruntime-node, loaded on first use (dynamic import): it is an optional peer dependency,
 * so deepgen installs and runs without it, and only the ONNX runners need it. When it is
 * missing they throw E_BACKEND with the install command.
 *
 * The module specifier can be changed with env DEEPGEN_ONNXRUNTIME_MODULE (e.g. a fork or a
 * local build) and the loader replaced with setOnnxRuntimeLoader (tests use both to play
 * "not installed" without uninstalling anything).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

import { DeepgenError } from "../core/errors.js";

/** What deepgen uses of onnxruntime-node (typed loosely: the package may be absent at compile time for users). */
export interface OrtTensor {
  readonly data: unknown;
  readonly dims: readonly number[];
  readonly type: string;
}

export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
  release(): Promise<void>;
}

export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: "float32" | "int64", data: Float32Array | BigInt64Array, dims: readonly number[]) => OrtTensor;
}

export const INSTALL_HINT =
  'npm install onnxruntime-node (CPU only: add "allowScripts": { "onnxruntime-node": false } to package.json on npm 11, or set ONNXRUNTIME_NODE_INSTALL=skip, to skip its CUDA download)';

function moduleName(): string {
  return process.env.DEEPGEN_ONNXRUNTIME_MODULE || "onnxruntime-node";
}

const defaultLoader = async (): Promise<OrtModule> => {
  const name = moduleName();
  let mod: Record<string, unknown>;
  try {
    mod = (await import(name)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new DeepgenError(
        "E_BACKEND",
        `ONNX models need onnxruntime-node, which is not installed (module '${name}' not found). Install it: ${INSTALL_HINT}`,
        { cause: e },
      );
    }
    throw new DeepgenError("E_BACKEND", `onnxruntime-node ('${name}') failed to load: ${(e as Error).message}`, { cause: e });
  }
  const ort = (mod.InferenceSession !== undefined
    ? mod
    : ((mod.default as Record<string, unknown> | undefined) ?? {})) as unknown as OrtModule;
  if (typeof ort.InferenceSession?.create !== "function" || typeof ort.Tensor !== "function") {
    throw new DeepgenError("E_BACKEND", `'${name}' does not look like onnxruntime-node (no InferenceSession / Tensor)`);
  }
  return ort;
};

let loader: () => Promise<OrtModule> = defaultLoader;
let cached: Promise<OrtModule> | undefined;

/** Whether setOnnxRuntimeLoader replaced the loader (its module object cannot move to a worker thread). */
export function onnxRuntimeLoaderIsCustom(): boolean {
  return loader !== defaultLoader;
}

/** The file that loading onnxruntime-node (or DEEPGEN_ONNXRUNTIME_MODULE) would run; undefined when it is not installed. */
export function resolveOnnxRuntime(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve(moduleName());
  } catch {
    return undefined;
  }
}

/** The onnxruntime module, or E_BACKEND saying how to install it. */
export function loadOnnxRuntime(): Promise<OrtModule> {
  if (cached === undefined) {
    cached = loader();
    // A failed load is not cached: installing the package (or fixing the env) and retrying works.
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}

/** Replaces how onnxruntime is loaded (null: back to the dynamic import of onnxruntime-node). */
export function setOnnxRuntimeLoader(fn: (() => Promise<OrtModule>) | null): void {
  loader = fn ?? defaultLoader;
  cached = undefined;
}

/** Whether onnxruntime-node can be loaded here (never throws). */
export async function onnxRuntimeAvailable(): Promise<boolean> {
  try {
    await loadOnnxRuntime();
    return true;
  } catch {
    return false;
  }
}

/** The installed onnxruntime-node's version, found without loading it (for `deepgen info`); undefined when absent. */
export function onnxRuntimeVersion(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve(`${moduleName()}/package.json`);
    return (JSON.parse(readFileSync(pkg, "utf8")) as { version?: string }).version ?? "unknown";
  } catch {
    return undefined;
  }
}
