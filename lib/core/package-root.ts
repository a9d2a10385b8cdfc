import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The deepgen package folder, found by walking up from this file: the same code runs from
 * lib/ (tsx, tests) and from dist/ (the published package).
 */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, "utf8")) as { name?: string };
      if (pkg.name === "deepgen") return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("deepgen: cannot find the package root (package.json)");
    dir = parent;
  }
})();

export const packageVersion: string = (JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as { version: string }).version;
