/**
 * The platform-independent models package (@deepgen/models-mnist): the shipped weights and
 * cards, the classifier and the caption judge, and the canonical MNIST split. deepgen lists it
 * as an optional dependency, so an install with --omit=optional runs everything else and
 * names the missing package only when a shipped model or the split is asked for.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

import { DeepgenError } from "./errors.js";

export const MODELS_PACKAGE = "@deepgen/models-mnist";

let dir: string | undefined;

/** The installed models package's folder, or E_IO naming the install command. */
export function modelsPackageDir(wanted: string): string {
  if (dir !== undefined) return dir;
  // DEEPGEN_MODELS_DIR points at another copy (a checkout, a mirror); mostly for tests.
  const override = process.env["DEEPGEN_MODELS_DIR"];
  if (override) {
    if (!existsSync(join(override, "package.json")))
      throw new DeepgenError("E_IO", `DEEPGEN_MODELS_DIR=${override} is not a copy of ${MODELS_PACKAGE} (no package.json there)`);
    dir = override;
    return dir;
  }
  try {
    dir = dirname(createRequire(import.meta.url).resolve(`${MODELS_PACKAGE}/package.json`));
  } catch (e) {
    throw new DeepgenError(
      "E_IO",
      `${wanted} comes from the package ${MODELS_PACKAGE}, which is not installed (an install with --omit=optional leaves it out): npm install ${MODELS_PACKAGE}`,
      { cause: e },
    );
  }
  return dir;
}

/** A file of the models package ('models/nade-mnist.safetensors'), checked to exist. */
export function modelsPackageFile(relative: string, wanted: string): string {
  const p = join(modelsPackageDir(wanted), relative);
  if (!existsSync(p)) throw new DeepgenError("E_IO", `${wanted} (${p}) is missing from the installed ${MODELS_PACKAGE}`);
  return p;
}

/** Whether the models package is installed, its version and folder: for `deepgen info`. */
export function modelsPackageInfo(): { name: string; installed: boolean; version: string | null; path: string | null } {
  try {
    const path = modelsPackageDir("the models package");
    const { version } = JSON.parse(readFileSync(join(path, "package.json"), "utf8")) as { version?: string };
    return { name: MODELS_PACKAGE, installed: true, version: version ?? null, path };
  } catch {
    return { name: MODELS_PACKAGE, installed: false, version: null, path: null };
  }
}
