/**
 * Loads the native addon with node-gyp-build: build/Release if present (a local build),
 * else the prebuild for this platform in prebuilds/. DEEPGEN_ADDON_PATH names another .node
 * file instead (a sanitizer or debug build). Nothing else imports the raw addon.
 */
import { createRequire } from "node:module";

import { DeepgenError, fromNativeError } from "../core/errors.js";
import { packageRoot } from "../core/package-root.js";
import { EXPECTED_ABI_VERSION, type NativeAddon } from "./addon-types.js";

const require = createRequire(import.meta.url);

interface NodeGypBuild {
  (dir: string): unknown;
  path(dir: string): string;
}

const REBUILD_HINT =
  "Build it with `npm rebuild deepgen` (needs a C++17 compiler and Python for node-gyp), " +
  "or install a deepgen package that ships a prebuilt binary for this platform; " +
  "select the pure-JS backend explicitly with backend: 'js' or DEEPGEN_BACKEND=js";

type LoadResult = { addon: NativeAddon; path: string } | { error: DeepgenError };
let cached: LoadResult | undefined;

function load(): LoadResult {
  const gypBuild = require("node-gyp-build") as NodeGypBuild;
  let path: string;
  try {
    path = process.env["DEEPGEN_ADDON_PATH"] || gypBuild.path(packageRoot);
  } catch (e) {
    return {
      error: new DeepgenError(
        "E_BACKEND",
        `the deepgen native addon is not built for ${process.platform}-${process.arch} (node ${process.versions.node}). ${REBUILD_HINT}`,
        { cause: e },
      ),
    };
  }
  let addon: NativeAddon;
  try {
    addon = require(path) as NativeAddon;
  } catch (e) {
    return {
      error: new DeepgenError("E_BACKEND", `the deepgen native addon at ${path} failed to load: ${(e as Error).message}. ${REBUILD_HINT}`, {
        cause: e,
      }),
    };
  }
  if (addon.abiVersion !== EXPECTED_ABI_VERSION) {
    return {
      error: new DeepgenError(
        "E_BACKEND",
        `the deepgen native addon at ${path} is stale (ABI ${String(addon.abiVersion)}, this version needs ${EXPECTED_ABI_VERSION}). ${REBUILD_HINT}`,
      ),
    };
  }
  return { addon, path };
}

function loaded(): LoadResult {
  cached ??= load();
  return cached;
}

/** The addon, or throws DeepgenError(E_BACKEND) saying how to build it. */
export function nativeAddon(): NativeAddon {
  const r = loaded();
  if ("error" in r) throw r.error;
  return r.addon;
}

/** Where the addon was loaded from, or why it could not be; never throws. */
export function nativeAddonStatus(): { available: true; path: string } | { available: false; reason: string } {
  const r = loaded();
  return "error" in r ? { available: false, reason: r.error.message } : { available: true, path: r.path };
}

/** Calls a synchronous native function, mapping its errors to DeepgenError. */
export function callNative<T>(fn: (addon: NativeAddon) => T): T {
  const addon = nativeAddon();
  try {
    return fn(addon);
  } catch (e) {
    throw fromNativeError(e);
  }
}
