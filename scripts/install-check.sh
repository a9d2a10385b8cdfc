#!/usr/bin/env bash
# Installs deepgen as a user would and checks the result: packs the library and the models
# package, installs both tarballs into an empty folder with every compiler call failing, runs
# the main job from the CLI, from ESM and from TypeScript (types resolve), then installs the
# library alone with --omit=optional and checks that only the shipped models are missing, with
# an error that names the install command. Needs prebuilds/ (npm run prebuildify). The installs
# prefer the npm cache: an earlier npm ci leaves the dependencies' tarballs there, but not
# always their registry metadata, which an install by version range needs (a fresh machine's
# cache has none), so that is fetched when missing.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
max_bytes=$((3 * 1024 * 1024))

cd "$repo"
ls prebuilds/*/deepgen.node >/dev/null
npm pack --pack-destination "$work" >/dev/null
npm pack --workspace packages/models-mnist --pack-destination "$work" >/dev/null
lib_tgz=$(ls "$work"/deepgen-[0-9]*.tgz)
models_tgz=$(ls "$work"/deepgen-models-mnist-*.tgz)
size=$(stat -c %s "$lib_tgz")
echo "deepgen tarball: $size bytes (limit $max_bytes); models package: $(stat -c %s "$models_tgz") bytes"
[ "$size" -le "$max_bytes" ] || { echo "the deepgen tarball is over 3 MB" >&2; exit 1; }

new_app() {
  mkdir -p "$1"
  (cd "$1" && npm init -y >/dev/null && node -e '
    const fs = require("fs");
    const p = JSON.parse(fs.readFileSync("package.json", "utf8"));
    p.type = "module";
    p.allowScripts = { deepgen: true }; // npm 11 runs no dependency scripts unless allowed
    fs.writeFileSync("package.json", JSON.stringify(p, null, 2));
  ')
}

# No compiler: every compiler invocation fails, so the install must use the prebuild.
no_compiler() { CC=/bin/false CXX=/bin/false npm install --prefer-offline --no-audit --no-fund "$@"; }

echo "== full install (library + models package)"
app="$work/app"
new_app "$app"
cd "$app"
no_compiler "$lib_tgz" "$models_tgz"
test ! -d node_modules/deepgen/build || { echo "the install compiled the addon" >&2; exit 1; }
npx deepgen info --json > info.json
node -e '
  const i = JSON.parse(require("fs").readFileSync("info.json", "utf8"));
  if (!i.addon.loaded || !i.addon.prebuilt) { console.error("prebuild not used:", i.addon); process.exit(1); }
  console.log("prebuild used:", i.addon.path);
'
npx deepgen sample dcgan -n 16 --seed 1 --out cli.png
test -s cli.png
cat > main.mjs <<'JS'
import { load, writeImageGrid } from "deepgen";
import { canonicalSplit } from "deepgen/data";
const model = await load("nade");
const { x, n } = await model.sample(8, { seed: 1 });
await writeImageGrid("api.png", x, { height: 28, width: 28 });
const nll = -(await model.logProb(canonicalSplit({ binarized: true }).test.x.subarray(0, 784)))[0];
if (!(nll > 20 && nll < 400)) throw new Error(`unexpected NLL ${nll}`);
console.log(`ESM: ${model.kind} sampled ${n} images; NLL of the first test digit ${nll.toFixed(2)} nats; card: ${model.card?.command}`);
JS
node main.mjs
test -s api.png
cat > main.ts <<'TS'
import { DeepgenError, load, type Model, type Sampler } from "deepgen";
import { canonicalSplit, type Dataset } from "deepgen/data";
import { fid } from "deepgen/metrics";
export async function firstPixels(name: string): Promise<number> {
  const model: Model = await load(name);
  if (model.kind === "classifier" || model.kind === "caption-judge" || model.kind === "text2image" || model.kind === "text-cvae")
    throw new DeepgenError("E_ARG", `${name} is not a sampler`);
  const sampler: Sampler = model;
  const test: Dataset = canonicalSplit().test;
  return (await sampler.sample(1, { seed: 0 })).x[0]! + test.n + fid(new Float32Array(4), new Float32Array(4), { dim: 2 });
}
TS
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true, "noEmit": true, "skipLibCheck": false }, "files": ["main.ts"] }
JSON
mkdir -p node_modules/@types && cp -r "$repo/node_modules/@types/node" node_modules/@types/
"$repo/node_modules/.bin/tsc" -p tsconfig.json
echo "TypeScript: the API's types resolve"

echo "== library alone (--omit=optional)"
bare="$work/bare"
new_app "$bare"
cd "$bare"
no_compiler --omit=optional "$lib_tgz"
test ! -e node_modules/@deepgen/models-mnist || { echo "--omit=optional installed the models package" >&2; exit 1; }
npx deepgen info --json > info.json
node -e '
  const m = JSON.parse(require("fs").readFileSync("info.json", "utf8")).models_package;
  if (m.installed) { console.error("deepgen info says the omitted models package is installed:", m); process.exit(1); }
'
set +e
npx deepgen sample nade --json > err.json
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "deepgen sample nade without the models package exited $rc, expected 1" >&2; exit 1; }
node -e '
  const e = JSON.parse(require("fs").readFileSync("err.json", "utf8")).error;
  if (e.code !== "E_IO" || !e.message.includes("npm install @deepgen/models-mnist")) { console.error("unexpected error:", e); process.exit(1); }
  console.log("missing models package:", e.message);
'
cat > bare.mjs <<'JS'
import { Nade } from "deepgen";
const x = Float32Array.from({ length: 64 * 16 }, (_, i) => ((i * 7) % 5 === 0 ? 1 : 0));
const nade = Nade.create({ dim: 16, hidden: 4, height: 4, width: 4, initSeed: 1 });
await nade.fit(x, { epochs: 2, batchSize: 16, lr: 0.01, seed: 0 });
const lp = await nade.logProb(x.subarray(0, 16));
if (!Number.isFinite(lp[0])) throw new Error("NADE trained without the models package gave a non-finite log-probability");
console.log(`without the models package: a NADE trains and scores (log p ${lp[0].toFixed(3)} nats)`);
JS
node bare.mjs
echo "install check passed"
