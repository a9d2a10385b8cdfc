#!/usr/bin/env bash
# Packs deepgen with the prebuilds now under prebuilds/ and installs the tarball into an empty
# app with no working compiler: the install must find the prebuild for this platform and
# build nothing, and the library must load it and run a kernel. The release workflow runs it
# on every platform (under bash on macOS, Windows and Alpine too); scripts/install-check.sh,
# which .ci/run runs on linux-x64, checks much more but uses GNU tools and the untagged name.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
npm pack --pack-destination "$dir" >/dev/null
tgz=$(ls "$dir"/deepgen-*.tgz)
# Windows' npm wants a Windows path.
if command -v cygpath >/dev/null 2>&1; then tgz=$(cygpath -w "$tgz"); fi
mkdir "$dir/app"
cd "$dir/app"
npm init -y >/dev/null
# Allow deepgen's install script (npm 11 runs no dependency scripts unless allowed).
node -e '
  const fs = require("fs");
  const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
  p.allowScripts = { deepgen: true };
  fs.writeFileSync("package.json", JSON.stringify(p, null, 2));
'
CC=false CXX=false npm install --no-audit --no-fund "$tgz"
if [ -d node_modules/deepgen/build ]; then
  echo "the tarball install compiled the addon" >&2
  exit 1
fi
npx deepgen info
npx deepgen info --json >info.json
node -e '
  const i = JSON.parse(require("fs").readFileSync("info.json", "utf8"));
  if (!i.addon.loaded || !i.addon.prebuilt) { console.error("prebuild not used:", i.addon); process.exit(1); }
  console.log("prebuild used:", i.addon.path, "kernels:", i.cpu.simdPath ?? (i.cpu.simdKernels ? "simd" : "portable"));
'
node --input-type=module -e '
  import { getKernels } from "deepgen";
  const out = new Float32Array(4);
  getKernels("native").philoxFill(out, 0, 0, "uniform");
  if (Math.abs(out[0] - 0x6627e8d5 / 2 ** 32) > 1e-6) throw new Error("unexpected first draw " + out[0]);
  console.log("library import works:", Array.from(out).join(" "));
'
